package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampe/rampe/channels/search"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/config"
)

// Publishing a landing page audits it in the background, for the page
// editor; IndexNow is wired only when its endpoint is configured, with
// the configured key.
func TestPublishAuditsThePage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAMPE_DATABASE_DSN", filepath.Join(dir, "rampe.db"))
	t.Setenv("RAMPE_REDIS_URL", "")
	t.Setenv("RAMPE_FEEDS_DIR", filepath.Join(dir, "feeds"))
	t.Setenv("RAMPE_SEO_INDEXNOW_ENDPOINT", "http://127.0.0.1:19399/indexnow")
	t.Setenv("RAMPE_SEO_INDEXNOW_KEY", "rampe-test-key")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if st.search.IndexNow == nil || st.search.IndexNow.Key != "rampe-test-key" || st.search.IndexNow.Endpoint != cfg.SEOIndexNowEndpoint {
		t.Fatalf("IndexNow: %+v", st.search.IndexNow)
	}
	p, err := st.pages.Create(ctx, landing.PageInput{Slug: "audit-me", Title: "Short", Body: "# Second h1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.pages.Publish(ctx, p.ID, "test"); err != nil {
		t.Fatal(err)
	}
	var a *search.Audit
	for i := 0; i < 200 && a == nil; i++ {
		time.Sleep(50 * time.Millisecond)
		a, _ = st.search.LatestAudit(ctx, p.ID)
	}
	if a == nil {
		t.Fatal("the publish was not audited")
	}
	rules := map[string]search.Level{}
	for _, f := range a.Findings {
		rules[f.Rule] = f.Level
	}
	if rules["h1"] != search.Fail || rules["title"] != search.Warn {
		t.Fatalf("%+v", a.Findings)
	}
}
