package clock

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// One time source: a service takes a Clock, never a `func() time.Time` of
// its own (issue #17). The module's non-test Go files are parsed and every
// struct field of that type outside platform/clock is named, file:line.
func TestNoServiceCarriesItsOwnNowFunc(t *testing.T) {
	root := moduleRoot(t)
	var found []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if path != root && exists(filepath.Join(path, "go.mod")) { // another module
				return filepath.SkipDir
			}
			if filepath.ToSlash(rel) == "platform/clock" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines, err := nowFuncFields(filepath.ToSlash(rel), src)
		if err != nil {
			return err
		}
		files++
		found = append(found, lines...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("only %d Go files parsed under %s: the walk is broken", files, root)
	}
	if len(found) > 0 {
		t.Errorf("struct fields of type func() time.Time: take a clock.Clock instead (nil: clock.System), read with clock.Or(c).Now():\n%s", strings.Join(found, "\n"))
	}
}

// The detector itself: it names what it must, under any name of the time
// package, and leaves the rest.
func TestNowFuncFieldsNamesFileAndLine(t *testing.T) {
	src := `package p

import (
	"context"
	tm "time"
)

type A struct {
	DB  any
	Now func() tm.Time
}

type B struct {
	At    tm.Time
	Until func(context.Context) tm.Time
	Fn    func() (tm.Time, error)
	inner struct {
		clock, other func() tm.Time
	}
}

func f(now func() tm.Time) {}
`
	got, err := nowFuncFields("p/p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "p/p.go:10: field Now|p/p.go:18: field clock, other"
	if strings.Join(got, "|") != want {
		t.Fatalf("found %q, want %q", got, want)
	}
}

// nowFuncFields returns "file:line: field Name" for every struct field of
// type func() time.Time in src.
func nowFuncFields(name string, src []byte) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	timePkg := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
			timePkg = "time"
			if imp.Name != nil {
				timePkg = imp.Name.Name
			}
		}
	}
	if timePkg == "" {
		return nil, nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		st, ok := n.(*ast.StructType)
		if !ok {
			return true
		}
		for _, fld := range st.Fields.List {
			if !isNowFunc(fld.Type, timePkg) {
				continue
			}
			names := make([]string, len(fld.Names))
			for i, id := range fld.Names {
				names[i] = id.Name
			}
			out = append(out, fmt.Sprintf("%s:%d: field %s", name, fset.Position(fld.Pos()).Line, strings.Join(names, ", ")))
		}
		return true
	})
	return out, nil
}

// isNowFunc tells whether e is func() time.Time (time under the name pkg).
func isNowFunc(e ast.Expr, pkg string) bool {
	ft, ok := e.(*ast.FuncType)
	if !ok || (ft.Params != nil && len(ft.Params.List) > 0) || ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 {
		return false
	}
	sel, ok := ft.Results.List[0].Type.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Time" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// moduleRoot is the directory of the go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for !exists(filepath.Join(dir, "go.mod")) {
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
