package search

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// bulkPages inserts n published pages (ids 1..n, slugs p-1…) and puts
// them in the sitemap for campaign cid, by plain SQL: 120,000 pages
// through the API would take minutes.
func bulkPages(t *testing.T, e *env, n int, cid uint64) {
	t.Helper()
	ts := t0.Format("2006-01-02 15:04:05")
	exec := func(q string) {
		if err := e.g.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	for from := 1; from <= n; from += 5000 {
		var pg, vs, en strings.Builder
		for i := from; i < from+5000 && i <= n; i++ {
			sep := ","
			if i == from {
				sep = ""
			}
			fmt.Fprintf(&pg, "%s(%d,'p-%d','t','%s','%s')", sep, i, i, ts, ts)
			// Each page's version was published i seconds after t0.
			fmt.Fprintf(&vs, "%s(%d,%d,1,'{}','','%s','x')", sep, i, i, t0.Add(time.Duration(i)*time.Second).Format("2006-01-02 15:04:05"))
			fmt.Fprintf(&en, "%s(%d,%d,'%s')", sep, i, cid, ts)
		}
		exec("INSERT INTO pages (id, slug, title, created_at, updated_at) VALUES " + pg.String())
		exec("INSERT INTO page_versions (id, page_id, number, snapshot, body_html, published_at, published_by) VALUES " + vs.String())
		exec("INSERT INTO sitemap_entries (page_id, campaign_id, added_at) VALUES " + en.String())
	}
	exec("UPDATE pages SET published_version_id = id")
}

type urlset struct {
	URLs []struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod"`
	} `xml:"url"`
}

// 120,000 pages make an index of three files of 50,000, 50,000 and
// 20,000 URLs, each under 50 MB, every page once, lastmod its version's
// publish time, & escaped.
func TestSitemapSplitsAt50000AndEscapes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.campaign(t, 0)
	const n = 120000
	bulkPages(t, e, n, c.ID)
	// An unpublished page in the sitemap is left out of its file.
	if err := e.g.Exec("UPDATE pages SET published_version_id = NULL WHERE id = 7").Error; err != nil {
		t.Fatal(err)
	}
	e.ch.BaseURL = "https://shop.example/a&b"
	sm := &Sitemap{Ch: e.ch}
	var idx bytes.Buffer
	if err := sm.WriteIndex(ctx, &idx); err != nil {
		t.Fatal(err)
	}
	var index struct {
		Locs []string `xml:"sitemap>loc"`
	}
	if err := xml.Unmarshal(idx.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	want := []string{"https://shop.example/a&b/sitemaps/1.xml", "https://shop.example/a&b/sitemaps/2.xml", "https://shop.example/a&b/sitemaps/3.xml"}
	if fmt.Sprint(index.Locs) != fmt.Sprint(want) || !strings.Contains(idx.String(), "a&amp;b/sitemaps/1.xml") || !strings.Contains(idx.String(), `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`) {
		t.Fatalf("index:\n%s", idx.String())
	}
	seen := make(map[string]bool, n)
	sizes := []int{}
	for f := 1; f <= 3; f++ {
		var buf bytes.Buffer
		if err := sm.WriteFile(ctx, f, &buf); err != nil {
			t.Fatal(err)
		}
		if buf.Len() > MaxSitemapBytes {
			t.Fatalf("file %d is %d bytes", f, buf.Len())
		}
		var us urlset
		if err := xml.Unmarshal(buf.Bytes(), &us); err != nil {
			t.Fatalf("file %d: %v", f, err)
		}
		sizes = append(sizes, len(us.URLs))
		for _, u := range us.URLs {
			if seen[u.Loc] {
				t.Fatalf("%s listed twice", u.Loc)
			}
			seen[u.Loc] = true
			var id int
			if _, err := fmt.Sscanf(strings.TrimPrefix(u.Loc, "https://shop.example/a&b/l/p-"), "%d", &id); err != nil {
				t.Fatalf("loc %q", u.Loc)
			}
			if want := t0.Add(time.Duration(id) * time.Second).Format(time.RFC3339); u.LastMod != want {
				t.Fatalf("%s lastmod %s, want %s", u.Loc, u.LastMod, want)
			}
		}
		if !strings.Contains(buf.String(), "<loc>https://shop.example/a&amp;b/l/p-") {
			t.Fatalf("file %d does not escape &", f)
		}
	}
	if fmt.Sprint(sizes) != "[49999 50000 20000]" || seen["https://shop.example/a&b/l/p-7"] || len(seen) != n-1 {
		t.Fatalf("files of %v URLs, %d distinct", sizes, len(seen))
	}
	for _, f := range []int{0, 4, -1} {
		if err := sm.WriteFile(ctx, f, io.Discard); !errors.Is(err, ErrNotFound) {
			t.Errorf("file %d: %v", f, err)
		}
	}
}

// The byte bound holds whatever the slugs: 50,000 of the longest
// possible URLs stay under 50 MB.
func TestLongestSitemapFitsIn50MB(t *testing.T) {
	entry := len("<url><loc></loc><lastmod>2026-11-20T12:00:00Z</lastmod></url>\n")
	base := len("https://a-very-long-shop-domain-name-for-a-merchant.example/some/prefix")
	slug := 100 // landing slugs are at most 100 characters, [a-z0-9-]
	if got := MaxURLsPerSitemap * (entry + base + len("/l/") + slug); got > MaxSitemapBytes {
		t.Fatalf("%d bytes", got)
	}
}

func TestRobots(t *testing.T) {
	got := Robots("https://shop.example", "User-agent: *\r\nDisallow: /private/")
	if got != "User-agent: *\nDisallow: /private/\n\nSitemap: https://shop.example/sitemap.xml\n" {
		t.Fatalf("%q", got)
	}
	if !strings.Contains(Robots("https://s.example", ""), "Allow: /l/") {
		t.Fatal("default rules")
	}
}
