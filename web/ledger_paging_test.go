package web

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/channels/affiliation"
)

// seedCommissions stores n pending commissions of one partner, three
// orders a minute, CMD-(n-1) the newest.
func seedCommissions(t *testing.T, aff *affiliation.Service, n int) {
	t.Helper()
	p, err := aff.CreatePartner(context.Background(), affiliation.PartnerInput{Name: "Ma Reduc", Email: "team@mareduc.example", Commission: "8 %"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	convs := make([]affiliation.Conversion, n)
	for i := range convs {
		convs[i] = affiliation.Conversion{OrderID: fmt.Sprintf("CMD-%05d", i), Amount: 10000, Currency: "EUR", Status: "approved", PartnerID: p.ID, CampaignID: 7,
			At: at.Add(time.Duration(i/3) * time.Minute), Source: "api", CreatedAt: at, UpdatedAt: at}
	}
	if err := aff.DB.CreateInBatches(convs, 200).Error; err != nil {
		t.Fatal(err)
	}
	coms := make([]affiliation.Commission, n)
	for i, c := range convs {
		coms[i] = affiliation.Commission{ConversionID: c.ID, PartnerID: p.ID, Amount: 800, Currency: "EUR", Status: affiliation.CommissionPending, ApproveAfter: at, UpdatedAt: at}
	}
	if err := aff.DB.CreateInBatches(coms, 200).Error; err != nil {
		t.Fatal(err)
	}
}

// The ledger API answered at most 10,000 lines and the page 500, saying
// nothing of the rest. Both now page by keyset: the API's next_after and
// the page's "Older →" reach every commission once, newest first.
func TestLedgerPagesInTheAPIAndThePage(t *testing.T) {
	var aff *affiliation.Service
	a := newTestApp(t, withAffiliation(&aff))
	n := ledgerAPIPage + 37
	seedCommissions(t, aff, n)

	seen := map[string]bool{}
	path := "/api/v1/commissions"
	for pages := 0; ; pages++ {
		m := a.api("GET", path, accounts.Viewer, "").json(t)
		lines := m["commissions"].([]any)
		if pages == 0 && (len(lines) != ledgerAPIPage || lines[0].(map[string]any)["order_id"] != fmt.Sprintf("CMD-%05d", n-1)) {
			t.Fatalf("first page: %d lines, first %v", len(lines), lines[0])
		}
		for _, l := range lines {
			id := l.(map[string]any)["order_id"].(string)
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		if m["more"] != true {
			break
		}
		path = fmt.Sprintf("/api/v1/commissions?after=%d", int64(m["next_after"].(float64)))
	}
	if len(seen) != n {
		t.Fatalf("the API paged %d of %d commissions", len(seen), n)
	}
	for q, field := range map[string]string{"limit=10001": "limit", "limit=0": "limit", "after=-1": "after", "after=99999999": "after"} {
		if res := a.api("GET", "/api/v1/commissions?"+q, accounts.Viewer, ""); res.Status != 400 || !strings.Contains(res.Body, `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", q, res.Status, res.Body)
		}
	}

	b := a.browser(accounts.Viewer)
	b.acceptLanguage = "fr"
	rowRE, nextRE := regexp.MustCompile(`<tr><td>(CMD-\d+)<br>`), regexp.MustCompile(`href="([^"]+)" rel="next"`)
	seen = map[string]bool{}
	path = "/commissions"
	for pages := 0; pages < 10; pages++ {
		body := html.UnescapeString(b.get(path).Body)
		if pages == 0 && !strings.Contains(body, fmt.Sprintf("Les %d commissions les plus récentes sur 1\u00a0037 ; « Plus anciennes → » montre les suivantes", ledgerShown)) {
			t.Errorf("the first page does not say it shows the newest %d of %d: %s", ledgerShown, n, body)
		}
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("page %d: %s twice", pages+1, m[1])
			}
			seen[m[1]] = true
		}
		m := nextRE.FindStringSubmatch(body)
		if m == nil {
			if pages == 0 || !strings.Contains(body, "« Plus récentes") {
				t.Fatalf("page %d: no link back to the newest", pages+1)
			}
			break
		}
		path = m[1]
	}
	if len(seen) != n {
		t.Fatalf("the pages showed %d of %d commissions", len(seen), n)
	}
	body := html.UnescapeString(b.get("/commissions?status=pending&after=99999999").Body)
	if !strings.Contains(body, "Page : aucune commission pour la conversion 99999999") {
		t.Errorf("a stale page link is not explained in French: %s", body)
	}
	body = html.UnescapeString(b.get("/commissions?after=abc").Body)
	if !strings.Contains(body, `Page : attendu : l'identifiant de la dernière ligne de la page précédente`) {
		t.Errorf("a malformed page link is not explained in French")
	}
	body = html.UnescapeString(b.get("/commissions?from=hier").Body)
	if !strings.Contains(body, `De : "hier" n'est pas une date (2026-12-31)`) {
		t.Errorf("a wrong date is not explained in French")
	}
}
