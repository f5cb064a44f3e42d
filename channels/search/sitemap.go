package search

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// entry is one campaign's claim on a page in the sitemap: a page stays
// while any campaign keeps it.
type entry struct {
	PageID     uint64 `gorm:"primaryKey"`
	CampaignID uint64 `gorm:"primaryKey"`
	AddedAt    time.Time
}

func (entry) TableName() string { return "sitemap_entries" }

// Sitemaps.org limits (https://www.sitemaps.org/protocol.html): at most
// 50,000 URLs and 50 MB (52,428,800 bytes) uncompressed per sitemap file,
// at most 50,000 sitemaps per index.
const (
	MaxURLsPerSitemap = 50000
	MaxSitemapBytes   = 50 << 20
)

// batch is how many pages a sitemap reads at a time: a file of 50,000 URLs
// is written without ever holding them all.
const batch = 1000

// Sitemap writes /sitemap.xml and /sitemaps/N.xml from the pages in the
// sitemap. PerFile is the number of pages per file (MaxURLsPerSitemap
// when 0; tests lower it).
type Sitemap struct {
	Ch      *Channel
	PerFile int
}

func (s *Sitemap) perFile() int {
	if s.PerFile <= 0 || s.PerFile > MaxURLsPerSitemap {
		return MaxURLsPerSitemap
	}
	return s.PerFile
}

// Count is the number of distinct pages in the sitemap.
func (s *Sitemap) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.Ch.DB.WithContext(ctx).Model(&entry{}).Distinct("page_id").Count(&n).Error
	return n, err
}

// Files is the number of sitemap files (at least 1: an empty one).
func (s *Sitemap) Files(ctx context.Context) (int, error) {
	n, err := s.Count(ctx)
	if err != nil {
		return 0, err
	}
	return max(1, int((n+int64(s.perFile())-1)/int64(s.perFile()))), nil
}

// WriteIndex writes the sitemap index: one <sitemap> per file.
func (s *Sitemap) WriteIndex(ctx context.Context, w io.Writer) error {
	files, err := s.Files(ctx)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header + `<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for i := 1; i <= files; i++ {
		bw.WriteString("<sitemap><loc>")
		xml.EscapeText(bw, []byte(fmt.Sprintf("%s/sitemaps/%d.xml", s.Ch.BaseURL, i)))
		bw.WriteString("</loc></sitemap>\n")
	}
	bw.WriteString("</sitemapindex>\n")
	return bw.Flush()
}

// ErrNoSuchFile is returned for a sitemap number past the last file.
var ErrNoSuchFile = fmt.Errorf("search: no such sitemap file: %w", ErrNotFound)

// WriteFile writes sitemap file n (1-based): the pages from the
// (n-1)·PerFile-th on, in page id order, each with the publish time of
// its version as lastmod. A page unpublished since it entered is left
// out.
func (s *Sitemap) WriteFile(ctx context.Context, n int, w io.Writer) error {
	files, err := s.Files(ctx)
	if err != nil {
		return err
	}
	if n < 1 || n > files {
		return ErrNoSuchFile
	}
	var after uint64
	if n > 1 {
		var ids []uint64
		if err := s.Ch.DB.WithContext(ctx).Model(&entry{}).Distinct("page_id").Order("page_id").Offset((n-1)*s.perFile()-1).Limit(1).Pluck("page_id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return ErrNoSuchFile
		}
		after = ids[0]
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(xml.Header + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	left := s.perFile()
	for left > 0 {
		var ids []uint64
		if err := s.Ch.DB.WithContext(ctx).Model(&entry{}).Distinct("page_id").Where("page_id > ?", after).Order("page_id").
			Limit(min(batch, left)).Pluck("page_id", &ids).Error; err != nil {
			return fmt.Errorf("search: sitemap %d: %w", n, err)
		}
		if len(ids) == 0 {
			break
		}
		after, left = ids[len(ids)-1], left-len(ids)
		refs, err := s.Ch.Pages.PublishedRefs(ctx, ids)
		if err != nil {
			return err
		}
		for _, r := range refs {
			bw.WriteString("<url><loc>")
			xml.EscapeText(bw, []byte(s.Ch.BaseURL+"/l/"+r.Slug))
			bw.WriteString("</loc><lastmod>")
			bw.WriteString(r.PublishedAt.UTC().Format(time.RFC3339))
			bw.WriteString("</lastmod></url>\n")
		}
	}
	bw.WriteString("</urlset>\n")
	return bw.Flush()
}

// Robots is /robots.txt: the configured rules (seo.robots_rules, one
// directive a line; "User-agent: *\nAllow: /" when empty) and the sitemap
// line.
func Robots(baseURL, rules string) string {
	rules = strings.TrimSpace(strings.ReplaceAll(rules, "\r\n", "\n"))
	if rules == "" {
		rules = "User-agent: *\nAllow: /l/\nDisallow: /api/\nDisallow: /r/\nDisallow: /u/"
	}
	return rules + "\n\nSitemap: " + baseURL + "/sitemap.xml\n"
}
