package web

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// apiDocPath writes a route's path as the README's API section does:
// `{id}` for a parameter, `a\|b` for a parameter limited to alternatives.
func apiDocPath(route string) string {
	alt := regexp.MustCompile(`:\w+<regex\(\^\(([^)]*)\)\$\)>`)
	route = alt.ReplaceAllStringFunc(route, func(m string) string {
		return strings.ReplaceAll(alt.FindStringSubmatch(m)[1], "|", `\|`)
	})
	return regexp.MustCompile(`:(\w+)(<\w+>)?`).ReplaceAllString(route, "{$1}")
}

// Every route of the JSON API has a line of its own in the README's API
// section, `METHOD /api/v1/…`, which says what it answers.
func TestEveryAPIRouteIsInTheREADME(t *testing.T) {
	a := newTestApp(t)
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "\n## API\n")
	if start < 0 {
		t.Fatal("README has no ## API section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	seen := map[string]bool{}
	var missing []string
	for _, r := range a.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" {
			continue
		}
		line := "`" + r.Method + " " + apiDocPath(r.Path) + "`"
		if seen[line] {
			continue
		}
		seen[line] = true
		if !strings.Contains(section, "| "+line+" |") {
			missing = append(missing, line)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d API routes have no row `| `METHOD path` | … |` in the README's API section:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(seen) < 50 {
		t.Fatalf("only %d API routes found: the route walk is broken", len(seen))
	}
}
