package web

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/affiliation"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// clickCookie keeps a visitor's last partner click ids on Rampe's domain,
// for the conversion pixel (newest first, at most maxClickIDs).
const (
	clickCookie = "rampe_click"
	maxClickIDs = 10
)

func (s *Server) rememberClick(rc *fasthttp.RequestCtx, clickID string) {
	var buf [maxClickIDs * 33]byte
	val, n := append(buf[:0], clickID...), 1
	for rest := rc.Request.Header.Cookie(clickCookie); len(rest) > 0 && n < maxClickIDs; {
		var id []byte
		id, rest, _ = bytes.Cut(rest, []byte("."))
		if len(id) == 32 && string(id) != clickID {
			val, n = append(append(val, '.'), id...), n+1
		}
	}
	// As fiber's c.Cookie writes a fiber.Cookie of these fields.
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(clickCookie)
	ck.SetValueBytes(val)
	ck.SetPath("/")
	ck.SetMaxAge(365 * 24 * 3600)
	ck.SetHTTPOnly(true)
	ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
	if s.Secure { // the pixel is a third-party image on the shop's thank-you page
		ck.SetSecure(true)
		ck.SetSameSite(fasthttp.CookieSameSiteNoneMode)
	}
	rc.Response.Header.SetCookie(ck)
}

// planJSON is the API's view of a campaign's affiliation plan.
type planJSON struct {
	CampaignID  uint64       `json:"campaign_id"`
	FallbackURL string       `json:"fallback_url"`
	LinksLive   bool         `json:"links_live"`
	SwitchedAt  *time.Time   `json:"switched_at"`
	SwitchNote  string       `json:"switch_note"`
	Partners    []memberJSON `json:"partners"`
}

type memberJSON struct {
	PartnerID   uint64                `json:"partner_id"`
	Partner     string                `json:"partner"`
	Code        string                `json:"code"`
	PromotionID uint64                `json:"promotion_id"`
	Links       []affiliation.KitLink `json:"links"`
	KitSentAt   *time.Time            `json:"kit_sent_at"`
	KitCurrent  bool                  `json:"kit_current"`
	KitError    string                `json:"kit_error,omitempty"`
}

// affCampaign loads the path's campaign for the affiliation API: 404 when
// there is none, 422 when it is not on the channel.
func (s *Server) affCampaign(c *fiber.Ctx) (*campaigns.Campaign, error) {
	camp, err := s.apiCampaign(c)
	if camp == nil {
		return nil, err
	}
	if !camp.Has(campaigns.Affiliation) {
		return nil, apiFail(c, fiber.StatusUnprocessableEntity, "invalid", "the campaign is not on the affiliation channel", "channels")
	}
	return camp, nil
}

func (s *Server) planOf(c *fiber.Ctx, camp *campaigns.Campaign) (*planJSON, error) {
	ctx := c.UserContext()
	p, err := s.Affiliation.PlanOf(ctx, camp.ID)
	if err != nil {
		return nil, err
	}
	ms, err := s.Affiliation.Members(ctx, camp.ID)
	if err != nil {
		return nil, err
	}
	kits, err := s.Affiliation.KitStatuses(ctx, camp)
	if err != nil {
		return nil, err
	}
	out := &planJSON{CampaignID: camp.ID, FallbackURL: s.Affiliation.Fallback(p), LinksLive: p.LinksLive, SwitchedAt: p.SwitchedAt, SwitchNote: p.SwitchNote, Partners: []memberJSON{}}
	for _, m := range ms {
		pa, err := s.Affiliation.Partner(ctx, m.PartnerID)
		if err != nil {
			return nil, err
		}
		links, err := s.Affiliation.PartnerLinks(ctx, camp.ID, m.PartnerID)
		if err != nil {
			return nil, err
		}
		mj := memberJSON{PartnerID: m.PartnerID, Partner: pa.Name, Code: m.Code, PromotionID: m.PromotionID, Links: []affiliation.KitLink{}}
		for i := range links {
			mj.Links = append(mj.Links, affiliation.KitLink{Label: links[i].Label, URL: s.Affiliation.TrackedURL(&links[i])})
		}
		k := kits[m.PartnerID]
		mj.KitSentAt, mj.KitCurrent, mj.KitError = k.SentAt, k.Current, k.LastError
		out.Partners = append(out.Partners, mj)
	}
	return out, nil
}

func (s *Server) apiGetPlan(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	p, err := s.planOf(c, camp)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiPutPlan(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	var in struct {
		FallbackURL string `json:"fallback_url"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	if err := s.Affiliation.SetFallback(c.UserContext(), camp, in.FallbackURL); err != nil {
		return apiAffiliationError(c, err)
	}
	return s.apiGetPlan(c)
}

func (s *Server) apiSetMember(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	var in affiliation.MemberInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	if _, err := s.Affiliation.SetMember(c.UserContext(), camp, in, currentUser(c).Email); err != nil {
		return apiAffiliationError(c, err)
	}
	return s.apiGetPlan(c)
}

func (s *Server) apiRemoveMember(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	pid, _ := strconv.ParseUint(c.Params("pid"), 10, 64)
	if err := s.Affiliation.RemoveMember(c.UserContext(), camp, pid); err != nil {
		return apiAffiliationError(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) apiDeepLink(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	pid, _ := strconv.ParseUint(c.Params("pid"), 10, 64)
	var in struct {
		SKU string `json:"sku"`
	}
	if decodeStrict(c, &in) != nil {
		return nil
	}
	l, err := s.Affiliation.DeepLink(c.UserContext(), camp, pid, in.SKU, currentUser(c).Email)
	if err != nil {
		return apiAffiliationError(c, err)
	}
	return c.Status(fiber.StatusCreated).JSON(affiliation.KitLink{Label: l.Label, URL: s.Affiliation.TrackedURL(l)})
}

// sendKit answers a partner's kit as CSV or JSON (a download).
func (s *Server) sendKit(c *fiber.Ctx, camp *campaigns.Campaign) error {
	pid, _ := strconv.ParseUint(c.Params("pid"), 10, 64)
	k, err := s.Affiliation.KitOf(c.UserContext(), camp, pid)
	if errors.Is(err, affiliation.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "this partner does not take part in the campaign")
	}
	if err != nil {
		return err
	}
	name := fmt.Sprintf("kit-%d-%d", camp.ID, pid)
	if c.Params("format") == "csv" {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
		return c.Send(k.CSV())
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.json"`)
	return c.Send(k.JSON())
}

func (s *Server) apiKit(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	return s.sendKit(c, camp)
}

func (s *Server) apiSendKits(c *fiber.Ctx) error {
	camp, err := s.affCampaign(c)
	if camp == nil {
		return err
	}
	n, err := s.Affiliation.SendKits(c.UserContext(), camp.ID)
	if err != nil {
		return apiFail(c, fiber.StatusBadGateway, "kits_not_sent", fmt.Sprintf("%d kits sent; the others were not: %v", n, err), "")
	}
	return c.JSON(map[string]int{"sent": n})
}

// conversionJSON is the API's view of a conversion.
type conversionJSON struct {
	ID           uint64    `json:"id"`
	OrderID      string    `json:"order_id"`
	Amount       int64     `json:"amount"`
	Currency     string    `json:"currency"`
	Status       string    `json:"status"`
	At           time.Time `json:"at"`
	PartnerID    uint64    `json:"partner_id"`
	CampaignID   uint64    `json:"campaign_id"`
	AttributedBy string    `json:"attributed_by"`
	ClickID      string    `json:"click_id"`
	Code         string    `json:"code"`
	Source       string    `json:"source"`
}

func toConversionJSON(v *affiliation.Conversion) conversionJSON {
	return conversionJSON{ID: v.ID, OrderID: v.OrderID, Amount: v.Amount, Currency: v.Currency, Status: v.Status, At: v.At, PartnerID: v.PartnerID,
		CampaignID: v.CampaignID, AttributedBy: v.AttributedBy, ClickID: v.ClickID, Code: v.Code, Source: v.Source}
}

// apiPostConversion records an order (server to server): 201 the first
// time, 200 when the order id is known (updated by a refund or a cancel).
func (s *Server) apiPostConversion(c *fiber.Ctx) error {
	var in affiliation.ConversionInput
	if decodeStrict(c, &in) != nil {
		return nil
	}
	v, created, err := s.Affiliation.RecordConversion(c.UserContext(), in, "api")
	if err != nil {
		return apiAffiliationError(c, err)
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(toConversionJSON(v))
}

// pixelGIF is a transparent 1×1 GIF.
var pixelGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// conversionPixel answers /t/conv.gif: a signed order from a thank-you
// page, attributed with the click ids of the visitor's cookie. A forged
// or malformed one records nothing and gets the image with a 403 or 400.
func (s *Server) conversionPixel(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "image/gif")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.Affiliation == nil {
		return c.Status(fiber.StatusNotFound).Send(pixelGIF)
	}
	amount, err := strconv.ParseInt(c.Query("amount"), 10, 64)
	if err != nil {
		return c.Status(fiber.StatusBadRequest).Send(pixelGIF)
	}
	in := affiliation.ConversionInput{OrderID: c.Query("order_id"), Amount: amount, Currency: c.Query("currency"), Code: c.Query("code")}
	for _, id := range strings.Split(c.Cookies(clickCookie), ".") {
		if len(id) == 32 && len(in.ClickIDs) < maxClickIDs {
			in.ClickIDs = append(in.ClickIDs, id)
		}
	}
	_, err = s.Affiliation.RecordPixel(c.UserContext(), in, c.Query("sig"))
	var ve validation.Errors
	switch {
	case errors.Is(err, affiliation.ErrForgedPixel):
		return c.Status(fiber.StatusForbidden).Send(pixelGIF)
	case errors.As(err, &ve):
		return c.Status(fiber.StatusBadRequest).Send(pixelGIF)
	case err != nil:
		return err
	}
	return c.Send(pixelGIF)
}

// apiCheckCode answers whether a code gives a reduction now (the shop's
// checkout asks): a promotion's own code, or a partner's while its
// campaign is live.
func (s *Server) apiCheckCode(c *fiber.Ctx) error {
	chk, err := s.Promotions.CheckCode(c.UserContext(), c.Params("code"), s.now())
	if err != nil {
		return err
	}
	return c.JSON(chk)
}

// ledgerFilter reads partner, campaign, status, from and to (dates,
// YYYY-MM-DD, UTC; to excluded) from the query. A wrong value is a
// *validation.FieldError naming the parameter, in English (Msg, the API)
// and as a message for the pages (Message).
func ledgerFilter(c *fiber.Ctx) (affiliation.LedgerFilter, *validation.FieldError) {
	var f affiliation.LedgerFilter
	var err error
	if v := c.Query("partner"); v != "" {
		if f.PartnerID, err = strconv.ParseUint(v, 10, 64); err != nil {
			return f, validation.Field("partner", msgLedgerPartner, v)
		}
	}
	if v := c.Query("campaign"); v != "" {
		if f.CampaignID, err = strconv.ParseUint(v, 10, 64); err != nil {
			return f, validation.Field("campaign", msgLedgerCampaign, v)
		}
	}
	switch f.Status = c.Query("status"); f.Status {
	case "", affiliation.CommissionPending, affiliation.CommissionApproved, affiliation.CommissionRejected, affiliation.CommissionPaid:
	default:
		return f, validation.Field("status", msgLedgerStatus, f.Status)
	}
	for _, key := range []string{"from", "to"} {
		dst := &f.From
		if key == "to" {
			dst = &f.To
		}
		if v := c.Query(key); v != "" {
			if *dst, err = time.Parse("2006-01-02", v); err != nil {
				return f, validation.Field(key, msgLedgerDate, v)
			}
		}
	}
	return f, nil
}

// The ledger filter's errors, in one place (for translation).
const (
	msgLedgerPartner  = "%q is not a partner id"
	msgLedgerCampaign = "%q is not a campaign id"
	msgLedgerStatus   = "want pending, approved, rejected or paid, got %q"
	msgLedgerDate     = "%q is not a date (2026-12-31)"
	msgLedgerAfter    = "no commission for conversion %s: pass the next_after of the previous page"
)

// ledgerLabels name the ledger's query parameters as its page labels them.
var ledgerLabels = map[string]string{"partner": i18n.Key("Partner"), "campaign": i18n.Key("Campaign"), "status": i18n.Key("Status"),
	"from": i18n.Key("From"), "to": i18n.Key("To (excluded)"), "after": i18n.Key("Page"), "limit": i18n.Key("Page")}

// ledgerPaging reads after (a conversion id, the next_after of the
// previous page) and limit (1 to max; def when absent), and resolves
// after to its line: a wrong value is a *validation.FieldError.
func (s *Server) ledgerPage(c *fiber.Ctx, f affiliation.LedgerFilter, def, max int) ([]affiliation.LedgerLine, bool, *validation.FieldError, error) {
	pg, ferr := parsePaging(c, max)
	if ferr != nil {
		return nil, false, ferr, nil
	}
	if pg.Limit == 0 {
		pg.Limit = def
	}
	lines, more, err := s.Affiliation.LedgerPage(c.UserContext(), f, pg.After, pg.Limit)
	if errors.Is(err, affiliation.ErrNoSuchLine) {
		return nil, false, validation.Field("after", msgLedgerAfter, strconv.FormatUint(pg.After, 10)), nil
	}
	return lines, more, nil, err
}

type ledgerJSON struct {
	ConversionID uint64    `json:"conversion_id"`
	OrderID      string    `json:"order_id"`
	At           time.Time `json:"at"`
	OrderAmount  int64     `json:"order_amount"`
	Commission   int64     `json:"commission"`
	Currency     string    `json:"currency"`
	Status       string    `json:"status"`
	ApproveAfter time.Time `json:"approve_after"`
	PartnerID    uint64    `json:"partner_id"`
	Partner      string    `json:"partner"`
	CampaignID   uint64    `json:"campaign_id"`
	Note         string    `json:"note"`
}

// apiLedger answers a page of the ledger, newest orders first:
// ?partner=&campaign=&status=&from=&to=&after=&limit= (limit 1 to 10,000,
// 1,000 by default), the totals of the whole filter, more, and next_after
// to pass as after when more follow; format=csv streams every line.
func (s *Server) apiLedger(c *fiber.Ctx) error {
	f, fe := ledgerFilter(c)
	if fe != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", fe.Msg, fe.Field)
	}
	if c.Query("format") == "csv" {
		return s.exportLedger(c, f)
	}
	lines, more, fe, err := s.ledgerPage(c, f, ledgerAPIPage, ledgerAPIMax)
	if err != nil {
		return err
	}
	if fe != nil {
		return apiFail(c, fiber.StatusBadRequest, "bad_request", fe.Msg, fe.Field)
	}
	out := make([]ledgerJSON, len(lines))
	for i, l := range lines {
		out[i] = ledgerJSON{ConversionID: l.ConversionID, OrderID: l.OrderID, At: l.At, OrderAmount: l.OrderAmount, Commission: l.Amount, Currency: l.Currency,
			Status: l.Status, ApproveAfter: l.ApproveAfter, PartnerID: l.PartnerID, Partner: l.Partner, CampaignID: l.CampaignID, Note: l.Note}
	}
	totals, err := s.Affiliation.Totals(c.UserContext(), f)
	if err != nil {
		return err
	}
	res := map[string]any{"commissions": out, "totals": totals, "more": more}
	if more {
		res["next_after"] = lines[len(lines)-1].ConversionID
	}
	return c.JSON(res)
}

// A page of the ledger API: 1,000 lines unless limit says otherwise, up to
// 10,000.
const (
	ledgerAPIPage = 1000
	ledgerAPIMax  = 10000
)

func (s *Server) apiDecideCommission(c *fiber.Ctx) error {
	id, ok := parseID(c)
	if !ok {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no such commission", "id")
	}
	var in struct {
		Note string `json:"note"`
	}
	if len(c.Body()) > 0 && decodeStrict(c, &in) != nil {
		return nil
	}
	cm, err := s.Affiliation.Decide(c.UserContext(), id, c.Params("action"), currentUser(c).Email, in.Note)
	if errors.Is(err, affiliation.ErrNotFound) {
		return apiFail(c, fiber.StatusNotFound, "not_found", "no commission for this conversion", "id")
	}
	if err != nil {
		return apiAffiliationError(c, err)
	}
	return c.JSON(map[string]any{"conversion_id": cm.ConversionID, "status": cm.Status, "commission": cm.Amount, "currency": cm.Currency, "note": cm.Note})
}
