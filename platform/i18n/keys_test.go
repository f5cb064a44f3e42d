package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
)

// use is one place a key is written: a file and line.
type use struct{ key, where string }

// repoRoot is the module's root, two levels up from this package.
const repoRoot = "../.."

// TestEveryKeyIsTranslated scans every {{t "…"}} of the templates and every
// i18n.Errorf/M/T literal of the Go code, and fails on a key missing in
// French, on a French entry whose verbs differ from its key's, and on a
// French plural whose English has no plural forms.
func TestEveryKeyIsTranslated(t *testing.T) {
	uses := scanRepo(t, repoRoot)
	if len(uses) == 0 {
		t.Fatal("no key found: the scan is broken")
	}
	seen := map[string]bool{}
	for _, u := range uses {
		if seen[u.key] {
			continue
		}
		seen[u.key] = true
		if _, ok := Catalogs[FR][u.key]; !ok {
			t.Errorf("%s: %q has no French translation (add it to platform/i18n/locales/fr/AREA.json)", u.where, u.key)
		}
	}
	for key, e := range Catalogs[FR] {
		if err := checkEntry(key, e); err != "" {
			t.Errorf("fr %q: %s", key, err)
		}
		if e.Plural != nil && Catalogs[EN][key].Plural == nil {
			t.Errorf("fr %q is a plural: give its English forms in locales/en too", key)
		}
	}
	for key, e := range Catalogs[EN] {
		if err := checkEntry(key, e); err != "" {
			t.Errorf("en %q: %s", key, err)
		}
	}
	var unused []string
	for key := range Catalogs[FR] {
		if !seen[key] {
			unused = append(unused, key)
		}
	}
	slices.Sort(unused)
	if len(unused) > 0 {
		t.Logf("%d French entries no template or Go literal uses (keys built at run time?): %q", len(unused), unused)
	}
}

// checkEntry says what is wrong with a translation of key ("" when nothing):
// its verbs must read the same arguments with the same letters; a plural
// form other than "other" may leave out some ("une campagne").
func checkEntry(key string, e Entry) string {
	want := verbSet(key)
	if e.Plural == nil {
		if got := verbSet(e.Text); !maps(got, want) {
			return "verbs " + show(got) + " differ from the key's " + show(want)
		}
		return ""
	}
	for form, s := range e.Plural {
		got := verbSet(s)
		if form == "other" && !maps(got, want) {
			return "plural \"other\": verbs " + show(got) + " differ from the key's " + show(want)
		}
		for v := range got {
			if !want[v] {
				return "plural \"" + form + "\": verb " + show(map[Verb]bool{v: true}) + " is not in the key"
			}
		}
	}
	return ""
}

func verbSet(format string) map[Verb]bool {
	m := map[Verb]bool{}
	for _, v := range Verbs(normalize(format)) {
		m[v] = true
	}
	return m
}

func maps(a, b map[Verb]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func show(m map[Verb]bool) string {
	var parts []string
	for v := range m {
		parts = append(parts, "%["+strconv.Itoa(v.Arg)+"]"+string(v.Verb))
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func scanRepo(t *testing.T, root string) []use {
	t.Helper()
	var uses []use
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "artifacts", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".html"):
			uses = append(uses, templateKeys(t, p)...)
		case strings.HasSuffix(p, ".go") && !strings.HasPrefix(filepath.ToSlash(p), repoRoot+"/platform/i18n/"):
			uses = append(uses, goKeys(t, p)...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses
}

// templateKeys finds the string literal given to t in a template file.
func templateKeys(t *testing.T, file string) []use {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "{{") {
		return nil
	}
	tr := parse.New(file)
	tr.Mode = parse.SkipFuncCheck | parse.ParseComments
	trees := map[string]*parse.Tree{}
	if _, err := tr.Parse(string(b), "{{", "}}", trees); err != nil {
		t.Errorf("%s: %v", file, err)
		return nil
	}
	var out []use
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x != nil {
				for _, c := range x.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(x.Pipe)
		case *parse.PipeNode:
			if x != nil {
				for _, c := range x.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			if len(x.Args) >= 2 {
				if id, ok := x.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
					if s, ok := x.Args[1].(*parse.StringNode); ok {
						line := 1 + strings.Count(string(b[:s.Position()]), "\n")
						out = append(out, use{key: s.Text, where: file + ":" + strconv.Itoa(line)})
					}
				}
			}
			for _, a := range x.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.TemplateNode:
			walk(x.Pipe)
		}
	}
	for _, tree := range trees {
		walk(tree.Root)
	}
	return out
}

// goKeys finds the keys given to i18n.Errorf, i18n.M, i18n.Key, i18n.T and
// validation.Fieldf or validation.Field (second argument), and to a local
// add(field, format…) function or method in a Go file that calls
// validation.Fieldf: string literals, or constants of the same file.
func goKeys(t *testing.T, file string) []use {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s: %v", file, err)
		return nil
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if s, ok := stringLit(vs.Values[i]); ok {
						consts[name.Name] = s
					}
				}
			}
		}
		return true
	})
	// A file that builds field errors may do it through a local
	// add(field, format, args...) helper that calls validation.Fieldf.
	fieldErrors := false
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "validation" && sel.Sel.Name == "Fieldf" {
				fieldErrors = true
			}
		}
		return !fieldErrors
	})
	var out []use
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		arg := -1
		switch fn := call.Fun.(type) {
		case *ast.SelectorExpr:
			pkg, ok := fn.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + fn.Sel.Name {
			case "i18n.Errorf", "i18n.M", "i18n.Key":
				arg = 0
			case "i18n.T", "validation.Fieldf", "validation.Field", "fiber.NewError":
				arg = 1 // fiber.NewError: the error page shows it in the user's language
			case "campaigns.DescribeMoves": // every argument is a format read back in French
				for _, a := range call.Args {
					if key, ok := stringLit(a); ok {
						out = append(out, use{key: key, where: fset.Position(a.Pos()).String()})
					}
				}
				return true
			default:
				if fieldErrors && fn.Sel.Name == "add" { // a builder's add method
					arg = 1
				}
			}
		case *ast.Ident:
			if fieldErrors && fn.Name == "add" {
				arg = 1
			}
		}
		if arg < 0 {
			return true
		}
		if len(call.Args) <= arg {
			return true
		}
		key, ok := stringLit(call.Args[arg])
		if !ok {
			if id, isID := call.Args[arg].(*ast.Ident); isID {
				key, ok = consts[id.Name]
			}
		}
		where := fset.Position(call.Pos()).String()
		if !ok {
			return true // a key built at run time: its catalog entry is checked where it is built
		}
		out = append(out, use{key: key, where: where})
		return true
	})
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
