package main

import (
	"context"
	"fmt"
	"image/color"
	"io"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/display"
)

// demoDisplayCampaign is the demo campaign that shows the display channel.
const demoDisplayCampaign = "Back-to-work office chairs"

// seedDisplayDemo adds two placements (the shop's home page and a partner
// blog), a house creative for each, and two creatives of the office-chairs
// campaign targeting both: real PNGs drawn here, of IAB sizes.
func seedDisplayDemo(ctx context.Context, st *stack, out io.Writer) error {
	var c campaigns.Campaign
	if err := st.db.WithContext(ctx).Where("name = ?", demoDisplayCampaign).Take(&c).Error; err != nil {
		return fmt.Errorf("demo: display: %w", err)
	}
	d := st.display
	navy, cream, orange := color.RGBA{27, 38, 79, 255}, color.RGBA{250, 246, 238, 255}, color.RGBA{230, 110, 30, 255}
	places := []display.PlacementInput{
		{Key: "home-top", Name: "Home page, top banner", Site: "shop.example", Size: "728x90"},
		{Key: "blog-sidebar", Name: "Partner blog, sidebar", Site: "bureau-malin.example", Size: "300x250"},
	}
	var ids []uint64
	for _, in := range places {
		p, err := d.AddPlacement(ctx, in)
		if err != nil {
			return fmt.Errorf("demo: placement %s: %w", in.Key, err)
		}
		ids = append(ids, p.ID)
		z := p.Size()
		if _, err := d.AddCreative(ctx, nil, display.CreativeInput{Data: display.Banner(z, cream, navy, "Rampe Shop\nfree delivery from 50 EUR"),
			Name: "House " + z.Key(), Alt: "Rampe Shop: free delivery from 50 EUR", ClickURL: st.cfg.PublicBaseURL + "/l/demo"}, demoAdmin); err != nil {
			return fmt.Errorf("demo: house creative: %w", err)
		}
		if _, err := d.AddCreative(ctx, &c, display.CreativeInput{Data: display.Banner(z, navy, orange, "Office chairs -25%\nback to work in comfort"),
			Name: "Office chairs " + z.Key(), Alt: "Office chairs 25 % off: back to work in comfort", Rotation: 1}, demoAdmin); err != nil {
			return fmt.Errorf("demo: creative: %w", err)
		}
	}
	if err := d.SetSettings(ctx, c.ID, display.Settings{Placements: ids, FreqCap: 0}); err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo display placements added: %s/d/home-top.js and %s/d/blog-sidebar.html\n", st.cfg.PublicBaseURL, st.cfg.PublicBaseURL)
	return nil
}
