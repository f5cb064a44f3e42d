package affiliation

import (
	"context"
	"strings"
	"testing"

	"github.com/rampe/rampe/channels/clicks"
)

// A link's destination is made once per state of its campaign and the
// click id put in its place: the result is the destination made for each
// click, whatever the URL holds (a query, a fragment, a rampe_click of its
// own, a key that ends like it, escapes, the placeholder's letters).
func TestRouteTemplatesGiveTheDestinationOfEachClick(t *testing.T) {
	s := &Service{}
	s.routes.partners = map[uint64]string{1: "ma-reduc"}
	ctx := context.Background()
	id := "01a23abfaa26df1c5b19e9087df1d233"
	for _, dest := range []string{
		"https://shop.example/",
		"https://shop.example/l/soldes?x=1&y=2#top",
		"https://shop.example/p?rampe_click=old&a=b",
		"https://shop.example/p?myrampe_click=ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ&z=%26rampe_click%3DZZ",
		"https://shop.example/été?q=a+b&q=c#frag?rampe_click=ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
		"https://user:p%40ss@shop.example:8443/a%3Fb?",
		"not a url %zz",
	} {
		for _, live := range []bool{true, false} {
			st := &routeState{live: live, fallback: dest, landing: dest, campaign: "black-friday"}
			l := &clicks.Link{ID: 3, PartnerID: 1, URL: dest, Label: LandingLabel}
			want := s.destination(ctx, st, l, id)
			tpl := s.template(ctx, st, l)
			if got := tpl.with(id); got != want {
				t.Errorf("%q: %q, want %q", dest, got, want)
			}
			if dest != "not a url %zz" && !strings.Contains(tpl.with(id), "rampe_click="+id) {
				t.Errorf("%q: no click id in %q", dest, tpl.with(id))
			}
		}
	}
}
