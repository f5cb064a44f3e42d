package audience

import (
	"context"
	"strings"
	"testing"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

// The adapter hands the sender the contacts' personalisation fields and
// the audience's exclusions.
func TestForEmailAdapter(t *testing.T) {
	svc := &Service{DB: testenv.DB(t, db.Migrations, Migrations)}
	ctx := context.Background()
	l, _ := svc.CreateList(ctx, ListInput{Name: "News"})
	csv := "email,name,loyalty,status\nana@shop.example,Ana Lima,gold,\nbob@shop.example,Bob,none,bounced\n"
	if _, err := svc.Import(ctx, strings.NewReader(csv), ImportOptions{ListID: l.ID}); err != nil {
		t.Fatal(err)
	}
	a := ForEmail{Service: svc}
	rs, err := a.Mailable(ctx, l.ID, 0, 0, 10)
	if err != nil || len(rs) != 1 || rs[0].Vars["first_name"] != "Ana" || rs[0].Vars["loyalty"] != "gold" {
		t.Fatalf("mailable %+v %v", rs, err)
	}
	c, err := a.Count(ctx, l.ID, 0)
	if err != nil || c.Mailable != 1 || c.Excluded["bounced"] != 1 {
		t.Fatalf("count %+v %v", c, err)
	}
	if err := a.Suppress(ctx, "ana@shop.example", "unsubscribed", "unsubscribe", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if sup, _ := a.Suppressed(ctx, []string{"Ana@Shop.example", "bob@shop.example"}); !sup["Ana@Shop.example"] || !sup["bob@shop.example"] {
		t.Fatalf("suppressed %v", sup)
	}
	if n, _ := a.ListName(ctx, l.ID); n != "News" {
		t.Fatalf("list name %q", n)
	}
}
