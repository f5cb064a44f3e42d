package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rampe/rampe/accounts"
)

// TestFeedScheduleIsChosenInWords: the feed form offers every N hours,
// daily or weekly at a time in a zone, or cron; it stores the cron
// expression the API reads, shows the choice again, says it in words on
// the list in either language, and a wrong part is named beside its field
// (in French for a French reader) with nothing saved.
func TestFeedScheduleIsChosenInWords(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	fr := a.frenchBrowser(accounts.Marketer)
	fr.get("/feeds/new")
	form := url.Values{"name": {"google-fr"}, "format": {"google_xml"}, "availability": {"in_stock"}, "title_template": {"{title}"},
		"schedule_every": {"weekly"}, "schedule_day": {"1"}, "schedule_at": {"9h30"}, "schedule_zone": {"Europe/Paris"}}
	res := fr.post("/feeds", form)
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad time was accepted: %d", res.Status)
	}
	wantAll(t, "refused French feed form", res.Body, "&#34;9h30&#34; : attendu une heure HH:MM", `name="schedule_at" type="time" value="9h30" class="invalid"`)
	if list, _ := a.Feeds.List(ctx); len(list) != 0 {
		t.Fatalf("a refused form saved a feed: %+v", list)
	}
	form.Set("schedule_at", "09:30")
	res = fr.post("/feeds", form)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %.2000s", res.Status, res.Body)
	}
	id, _ := strconv.ParseUint(strings.TrimPrefix(res.Header.Get("Location"), "/feeds/"), 10, 64)
	f, err := a.Feeds.Get(ctx, id)
	if err != nil || f.Cron != "CRON_TZ=Europe/Paris 30 9 * * 1" {
		t.Fatalf("stored cron %q, %v", f.Cron, err)
	}
	page := fr.get(res.Header.Get("Location")).Body
	wantAll(t, "French feed page", page, `<option value="weekly" selected>Chaque semaine</option>`, `<option value="1" selected>lundi</option>`, `value="09:30"`)
	wantAll(t, "French feed list", fr.get("/feeds").Body, "chaque lundi à 09:30 (Europe/Paris)")
	en := a.browser(accounts.Viewer)
	en.acceptLanguage = "en-US"
	wantAll(t, "English feed list", en.get("/feeds").Body, "every Monday at 09:30 (Europe/Paris)")
	api := a.api("GET", "/api/v1/feeds/"+strconv.FormatUint(id, 10), accounts.Viewer, "")
	if !strings.Contains(api.Body, `"cron":"CRON_TZ=Europe/Paris 30 9 * * 1"`) {
		t.Errorf("API: %.500s", api.Body)
	}

	edit := url.Values{"name": {"google-fr"}, "format": {"google_xml"}, "availability": {"in_stock"}, "title_template": {"{title}"},
		"schedule_every": {"hours"}, "schedule_hours": {"30"}, "schedule_zone": {"Europe/Paris"}}
	fr.get("/feeds/" + strconv.FormatUint(id, 10))
	res = fr.post("/feeds/"+strconv.FormatUint(id, 10), edit)
	wantAll(t, "refused hours", res.Body, "30 : donnez un nombre d&#39;heures de 1 à 24")
	edit.Set("schedule_hours", "6")
	if res = fr.post("/feeds/"+strconv.FormatUint(id, 10), edit); res.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.Status)
	}
	if f, _ := a.Feeds.Get(ctx, id); f.Cron != "CRON_TZ=Europe/Paris 0 */6 * * *" {
		t.Fatalf("edited cron %q", f.Cron)
	}
	edit.Set("schedule_every", "")
	fr.post("/feeds/"+strconv.FormatUint(id, 10), edit)
	if f, _ := a.Feeds.Get(ctx, id); f.Cron != "" {
		t.Fatalf("no schedule kept cron %q", f.Cron)
	}
}
