package landing

import (
	"context"
	"errors"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/money"
)

// Offer is what other channels show of a campaign's landing page at an
// instant: its address and its products at the price in force then — the
// price rule of /l/{slug} and the feeds.
type Offer struct {
	LandingURL string
	// Lang is the language of the page; prices and badges are written in
	// it, as the page writes them: the e-mail that shows them speaks it.
	Lang     string
	Products []OfferLine
	// Expires is the next promotion boundary, when a price may change
	// (zero: none known).
	Expires time.Time
}

// OfferLine is one product of an offer, prices written for people.
type OfferLine struct {
	SKU, Title, Link, Image, Price, Regular, Badge string
	OnSale                                         bool
}

// Offer reads the published version of a campaign's landing page and
// prices its products at instant at. A campaign without a published page
// has no offer (nil, nil).
func (s *Server) Offer(ctx context.Context, c *campaigns.Campaign, at time.Time) (*Offer, error) {
	if c.LandingPageID == nil {
		return nil, nil
	}
	p, err := s.Pages.Get(ctx, *c.LandingPageID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := s.Pages.PublishedVersion(ctx, p.Slug)
	if errors.Is(err, ErrNotFound) {
		return &Offer{LandingURL: s.BaseURL + "/l/" + p.Slug, Lang: s.LangOf(p)}, nil
	}
	if err != nil {
		return nil, err
	}
	snap := &v.Snapshot
	prods, err := s.Products(ctx, snap)
	if err != nil {
		return nil, err
	}
	promos, err := s.Promotions.Published(ctx, at)
	if err != nil {
		return nil, err
	}
	lang := s.LangOf(snap)
	out := &Offer{LandingURL: s.BaseURL + "/l/" + snap.Slug, Lang: lang, Expires: NextBoundary(promos, at)}
	for i := range prods {
		pr := &prods[i]
		price := EffectivePrice(pr, promos, at)
		line := OfferLine{SKU: pr.SKU, Title: pr.Title, Link: pr.Link, Image: pr.ImageLink, Price: money.FormatIn(lang, price.Effective, pr.Currency),
			Regular: money.FormatIn(lang, price.Regular, pr.Currency), OnSale: price.OnSale()}
		if price.Promotion != nil {
			line.Badge = price.Promotion.LabelIn(lang) // "-15,00 €" beside "237,47 €", as the page writes it
		}
		out.Products = append(out.Products, line)
	}
	return out, nil
}
