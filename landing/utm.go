package landing

import (
	"net/url"
	"strings"
)

// UTM are the campaign-tracking parameters appended to links to the shop.
type UTM struct{ Source, Medium, Campaign, Content, Term string }

// Apply appends the non-empty parameters to link, keeping its existing query
// and never duplicating a utm_* the link already carries. A link that does
// not parse is returned unchanged.
func (u UTM) Apply(link string) string { return u.Applier()(link) }

// Applier is Apply with the parameters encoded once, for the million links
// of a feed.
func (u UTM) Applier() func(string) string {
	if u == (UTM{}) {
		return func(link string) string { return link }
	}
	q := "?" + u.query()
	return func(link string) string {
		// A plain link without query or fragment takes the parameters as
		// they are: no parsing on the hot path.
		if !strings.ContainsAny(link, "?#") && (strings.HasPrefix(link, "https://") || strings.HasPrefix(link, "http://")) {
			return link + q
		}
		return u.merge(link)
	}
}

// merge adds the parameters a link with a query or fragment lacks.
func (u UTM) merge(link string) string {
	parsed, err := url.Parse(link)
	if err != nil || parsed.Host == "" {
		return link
	}
	q := parsed.Query()
	for _, kv := range u.pairs() {
		if kv[1] != "" && q.Get(kv[0]) == "" {
			q.Set(kv[0], kv[1])
		}
	}
	parsed.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return parsed.String()
}

// pairs are the parameters' names and values.
func (u UTM) pairs() [][2]string {
	return [][2]string{{"utm_source", u.Source}, {"utm_medium", u.Medium}, {"utm_campaign", u.Campaign}, {"utm_content", u.Content}, {"utm_term", u.Term}}
}

// query is the encoded parameters, in the order url.Values.Encode gives.
func (u UTM) query() string {
	q := url.Values{}
	for _, kv := range u.pairs() {
		if kv[1] != "" {
			q.Set(kv[0], kv[1])
		}
	}
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}
