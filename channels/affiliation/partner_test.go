package affiliation

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/loadcheck"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
	"github.com/rampe/rampe/platform/validation"
)

// policy is the outbound allow-list of the tests: public hosts, and
// 127.0.0.1 on one listed port; names resolve through a fixed table.
func policy(listed ...string) *loadcheck.Policy {
	names := map[string]string{"postback.awin.example": "93.184.216.34", "rebind.example": "10.0.0.8", "meta.example": "169.254.169.254"}
	return &loadcheck.Policy{AnyPublicHost: true, AllowedHosts: listed,
		Resolve: func(_ context.Context, host string) ([]netip.Addr, error) {
			if a, ok := names[host]; ok {
				return []netip.Addr{netip.MustParseAddr(a)}, nil
			}
			return nil, errors.New("no such host")
		}}
}

func newService(t *testing.T) *Service {
	t.Helper()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations, catalog.Migrations, landing.Migrations, clicks.Migrations, Migrations)
	return &Service{DB: g, Outbound: policy(), DefaultTimeZone: "Europe/Paris", Clock: clock.System{}}
}

func fieldOf(err error) string {
	var ve validation.Errors
	if errors.As(err, &ve) && len(ve) > 0 {
		return ve[0].Field
	}
	return ""
}

func good() PartnerInput {
	return PartnerInput{Name: "Ma Reduc", Network: "awin", Email: "team@mareduc.example", Commission: "8 %", CookieDays: "30",
		PostbackURL: "https://postback.awin.example/conv?cid={click_id}&oid={order_id}&amt={amount}"}
}

func TestPartnersAreValidatedFieldByField(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	p, err := s.CreatePartner(ctx, good())
	if err != nil {
		t.Fatal(err)
	}
	if p.CommissionKind != CommissionPercent || p.CommissionValue != 800 || p.CookieDays != 30 || p.TimeZone != "Europe/Paris" || p.Slug() != "ma-reduc" {
		t.Fatalf("%+v", p)
	}
	cases := []struct {
		edit  func(*PartnerInput)
		field string
	}{
		{func(in *PartnerInput) { in.Name = "" }, "name"},
		{func(in *PartnerInput) { in.Name = strings.Repeat("é", 101) }, "name"},
		{func(in *PartnerInput) { in.Name = "Evil\r\nBcc: x@y.example" }, "name"},
		{func(in *PartnerInput) { in.Name = "ma reduc" }, "name"}, // exists, case aside
		{func(in *PartnerInput) { in.Network = "myspace" }, "network"},
		{func(in *PartnerInput) { in.Email = "team@mareduc.example\r\nBcc: all@evil.example" }, "email"},
		{func(in *PartnerInput) { in.Email = "Team <team@mareduc.example>" }, "email"},
		{func(in *PartnerInput) { in.Status = "gone" }, "status"},
		{func(in *PartnerInput) { in.Commission = "" }, "commission"},
		{func(in *PartnerInput) { in.Commission = "150 %" }, "commission"},
		{func(in *PartnerInput) { in.Commission = "-5" }, "commission"},
		{func(in *PartnerInput) { in.Commission = "1e400" }, "commission"},
		{func(in *PartnerInput) { in.Overrides = "Mode" }, "overrides"},
		{func(in *PartnerInput) { in.Overrides = "Mode=5%; Mode=3%" }, "overrides"},
		{func(in *PartnerInput) { in.CookieDays = "0" }, "cookie_days"},
		{func(in *PartnerInput) { in.CookieDays = "99999999999999999999" }, "cookie_days"},
		{func(in *PartnerInput) { in.TimeZone = "Mars/Olympus" }, "time_zone"},
		{func(in *PartnerInput) { in.Currency = "EURO" }, "currency"},
	}
	for _, tc := range cases {
		in := good()
		tc.edit(&in)
		if _, err := s.CreatePartner(ctx, in); fieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want an error on %s", in, err, tc.field)
		}
	}
	var n int64
	s.DB.Model(&Partner{}).Count(&n)
	if n != 1 {
		t.Fatalf("refused inputs stored partners: %d", n)
	}
	// A hostile name is kept as typed (pages escape it) and its UTM source is tame.
	in := good()
	in.Name = `<script>alert("x")</script> & Co`
	h, err := s.CreatePartner(ctx, in)
	if err != nil || h.Name != in.Name || h.Slug() != "script-alert-x-script-co" {
		t.Fatalf("%+v %v", h, err)
	}
	in = good()
	in.Name, in.Commission, in.Overrides = "Cashback", "5.00", "Mode > Robes=10%; Mode=2.50"
	c, err := s.CreatePartner(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.RuleFor("Mode > Robes > Longues"); r.Kind != CommissionPercent || r.Value != 1000 {
		t.Errorf("nearest override: %+v", r)
	}
	if r := c.RuleFor("Mode > Chaussures"); r.Kind != CommissionFixed || r.Value != 250 {
		t.Errorf("parent override: %+v", r)
	}
	if r := c.RuleFor("Maison"); r.Kind != CommissionFixed || r.Value != 500 {
		t.Errorf("base rule: %+v", r)
	}
}

// Postback templates: only known placeholders, never in the host, and
// no private, loopback or metadata target unless listed exactly.
func TestPostbackTemplatesRefuseSSRFTargets(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, bad := range []string{
		"http://127.0.0.1/x?c={click_id}", "http://localhost/x", "http://[::1]/x", "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/",
		"http://meta.example/x", "http://rebind.example/x", "http://192.168.1.1:8080/x", "https://postback.awin.example:22/x",
		"file:///etc/passwd", "gopher://postback.awin.example/x", "ftp://postback.awin.example/", "//postback.awin.example/x",
		"https://user:pw@postback.awin.example/x", "https://{click_id}.evil.example/", "https://postback.awin.example/?x={password}",
		"https://postback.awin.example/" + strings.Repeat("a", 3000), "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
	} {
		in := good()
		in.PostbackURL = bad
		if _, err := s.CreatePartner(ctx, in); fieldOf(err) != "postback_url" {
			t.Errorf("%.60s: %v", bad, err)
		}
	}
	s.Outbound = policy("127.0.0.1:19250")
	in := good()
	in.PostbackURL = "http://127.0.0.1:19250/pb?c={click_id}"
	if _, err := s.CreatePartner(ctx, in); err != nil {
		t.Errorf("an exactly listed loopback target was refused: %v", err)
	}
}

func TestPartnersCSVImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	bad := "\xEF\xBB\xBFname;email;commission;cookie_days;postback_url\n" +
		"Ma Reduc;team@mareduc.example;8 %;30;\n" +
		"Evil;not-an-address;8 %;30;\n" +
		"SSRF;x@ssrf.example;5.00;30;http://169.254.169.254/\n" +
		"ma reduc;other@mareduc.example;3%;;\n"
	res, err := s.ImportPartners(ctx, strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"line 3, column email", "line 4, column postback_url", "line 5, column name"}
	if len(res.Errors) != len(want) || res.Created != 0 {
		t.Fatalf("%+v", res)
	}
	for i, w := range want {
		if !strings.HasPrefix(res.Errors[i].Error(), w) {
			t.Errorf("error %d: %s, want %s", i, res.Errors[i].Error(), w)
		}
	}
	var n int64
	s.DB.Model(&Partner{}).Count(&n)
	if n != 0 {
		t.Fatalf("a refused file stored %d partners", n)
	}
	if res, _ := s.ImportPartners(ctx, strings.NewReader("name,email,commision\nx,y,z\n")); len(res.Errors) != 2 {
		t.Errorf("unknown and missing columns: %+v", res)
	}
	if _, err := s.CreatePartner(ctx, good()); err != nil {
		t.Fatal(err)
	}
	okFile := "name,network,email,commission,overrides\n\"Ma Reduc\",cj,new@mareduc.example,9%,\"Mode=5%\"\nCashback World,rakuten,cb@cbw.example,2.50,\n"
	res, err = s.ImportPartners(ctx, strings.NewReader(okFile))
	if err != nil || res.Created != 1 || res.Updated != 1 || len(res.Errors) != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	ps, _ := s.Partners(ctx)
	if len(ps) != 2 || ps[1].Email != "new@mareduc.example" || ps[1].Network != "cj" || ps[1].Overrides != "Mode=5.00%" {
		t.Fatalf("%+v", ps)
	}
}
