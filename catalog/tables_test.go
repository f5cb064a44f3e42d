package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// catalogTables are the tables the catalog owns; catalogModels the types
// gorm maps to them.
var (
	catalogTables = []string{"products", "products_fts", "staged_products", "imports", "import_errors"}
	catalogModels = []string{"Product", "Import", "ImportError"}
)

// sqlNamesTable is SQL naming a catalog table: a keyword that a table
// follows, in capitals as Rampe writes SQL (a sentence saying "from
// products" is not SQL), then the table, maybe schema-qualified or quoted.
var sqlNamesTable = regexp.MustCompile(`\b(FROM|JOIN|INTO|UPDATE|TABLE|ON|EXISTS|TRUNCATE|COPY)\s+(ONLY\s+)?(\w+\.)?"?(` +
	strings.Join(catalogTables, "|") + `)\b"?(\s|\(|,|;|\)|$)`)

// gormMethods are the calls that read or write a table given a model or
// a destination.
var gormMethods = []string{"Model", "Find", "Take", "First", "Last", "Create", "CreateInBatches", "Save", "Delete", "Updates", "Update",
	"FirstOrCreate", "FirstOrInit", "FindInBatches", "Scan", "Count"}

// tableUse is one place a file touches a catalog table.
type tableUse struct {
	line int
	what string
}

// catalogTableUses finds where a Go file outside catalog touches the
// catalog's tables: SQL text naming one, gorm's Table/Raw/Exec given one,
// or a gorm call given a catalog model (a literal, or a variable declared
// with a catalog model's type in the same function).
func catalogTableUses(fset *token.FileSet, f *ast.File) []tableUse {
	var out []tableUse
	add := func(n ast.Node, what string) { out = append(out, tableUse{fset.Position(n.Pos()).Line, what}) }
	// The name this file gives the catalog package, if it imports it.
	pkg := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/rampe/rampe/catalog" {
			pkg = "catalog"
			if imp.Name != nil {
				pkg = imp.Name.Name
			}
		}
	}
	// isModel tells whether a type expression is a catalog model, a
	// pointer to one or a slice of them.
	var isModel func(e ast.Expr) bool
	isModel = func(e ast.Expr) bool {
		switch t := e.(type) {
		case *ast.StarExpr:
			return isModel(t.X)
		case *ast.ArrayType:
			return isModel(t.Elt)
		case *ast.SelectorExpr:
			id, ok := t.X.(*ast.Ident)
			return ok && pkg != "" && id.Name == pkg && slices.Contains(catalogModels, t.Sel.Name)
		}
		return false
	}
	// models are the variables of the function being walked whose type is
	// a catalog model's.
	models := map[string]bool{}
	var isModelValue func(e ast.Expr) bool
	isModelValue = func(e ast.Expr) bool {
		switch v := e.(type) {
		case *ast.UnaryExpr:
			return v.Op == token.AND && isModelValue(v.X)
		case *ast.CompositeLit:
			return v.Type != nil && isModel(v.Type)
		case *ast.CallExpr:
			if id, ok := v.Fun.(*ast.Ident); ok && (id.Name == "new" || id.Name == "make") && len(v.Args) > 0 {
				return isModel(v.Args[0])
			}
		case *ast.Ident:
			return models[v.Name]
		}
		return false
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			clear(models)
			if n.Type.Params != nil {
				for _, p := range n.Type.Params.List {
					for _, name := range p.Names {
						models[name.Name] = isModel(p.Type)
					}
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				models[name.Name] = (n.Type != nil && isModel(n.Type)) || (i < len(n.Values) && isModelValue(n.Values[i]))
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						models[id.Name] = isModelValue(n.Rhs[i])
					}
				}
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				break
			}
			if s, err := strconv.Unquote(n.Value); err == nil {
				if m := sqlNamesTable.FindStringSubmatch(s); m != nil {
					add(n, "SQL names the catalog's table "+m[4])
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || len(n.Args) == 0 {
				break
			}
			if slices.Contains([]string{"Table", "Raw", "Exec"}, sel.Sel.Name) {
				if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					if first, _, _ := strings.Cut(strings.TrimSpace(s), " "); slices.Contains(catalogTables, strings.Trim(first, `"`)) {
						add(n, sel.Sel.Name+"("+lit.Value+") names the catalog's table "+first)
					}
				}
			}
			if slices.Contains(gormMethods, sel.Sel.Name) && isModelValue(n.Args[0]) {
				add(n, sel.Sel.Name+" is given a catalog model: gorm reads or writes the catalog's table")
			}
		}
		return true
	})
	return out
}

// TestOnlyCatalogNamesItsTables: no package but catalog runs SQL on the
// catalog's tables; others read the products through its API (Stream,
// the scopes, BySKUs, Version) behind small interfaces of their own.
// Tests may seed and inspect the tables; benchmarks seed a million rows
// and count them in SQL on purpose (their reference is the database).
func TestOnlyCatalogNamesItsTables(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module's root is not %s: %v", root, err)
	}
	skip := map[string]bool{"catalog": true, "bench": true, "node_modules": true, "testdata": true}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (skip[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for _, u := range catalogTableUses(fset, f) {
			t.Errorf("%s:%d: %s; read the catalog through its API instead", rel, u.line, u.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("scanned %d files under %s: not the module", files, root)
	}
}

// TestCatalogTableUses: the scan finds each way of touching the tables,
// and not the word "products" where it is no SQL.
func TestCatalogTableUses(t *testing.T) {
	for _, c := range []struct {
		name, src string
		lines     []int
	}{
		{"COPY", "package p\nvar q = `COPY (SELECT id FROM products WHERE id >= 1) TO STDOUT`", []int{2}},
		{"index DDL", "package p\nvar q = \"CREATE INDEX products_updated ON products (updated_at)\"", []int{2}},
		{"join, quoted", "package p\nvar q = `SELECT 1 FROM feeds JOIN \"products\" ON true`", []int{2}},
		{"FTS table", "package p\nvar q = \"DELETE FROM products_fts\"", []int{2}},
		{"imports", "package p\nvar q = \"UPDATE imports SET status = 'failed'\"", []int{2}},
		{"gorm Table", "package p\nfunc f() { g.Table(\"products\").Count(&n) }", []int{2}},
		{"model literal", "package p\nimport \"github.com/rampe/rampe/catalog\"\nfunc f() { g.Model(&catalog.Product{}).Count(&n) }", []int{3}},
		{"aliased model", "package p\nimport cat \"github.com/rampe/rampe/catalog\"\nfunc f() { g.Create(&cat.Import{}) }", []int{3}},
		{"model variable", "package p\nimport \"github.com/rampe/rampe/catalog\"\nfunc f() {\n\tvar out []catalog.Product\n\tg.Where(\"sku = ?\", s).\n\t\tFind(&out)\n}", []int{5}},
		{"model parameter", "package p\nimport \"github.com/rampe/rampe/catalog\"\nfunc f(p *catalog.Product) { g.Save(p) }", []int{3}},
		{"JSON key", "package p\nvar m = map[string]any{\"products\": list}", nil},
		{"template name", "package p\nvar t = template.New(\"products\").Parse(`{{.products}}`)", nil},
		{"a sentence", "package p\nvar s = \"nothing imported from products; import them again\"", nil},
		{"another table", "package p\nvar q = \"SELECT id FROM contact_imports JOIN products_seen ON true\"", nil},
		{"products in memory", "package p\nimport \"github.com/rampe/rampe/catalog\"\nfunc f(ps []catalog.Product) { sort.Slice(ps, less); out.Find(x) }", nil},
		{"no catalog import", "package p\nfunc f() { g.Model(&Product{}).Count(&n) }", nil},
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, c.name+".go", c.src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var lines []int
		for _, u := range catalogTableUses(fset, f) {
			lines = append(lines, u.line)
		}
		if !slices.Equal(lines, c.lines) {
			t.Errorf("%s: found at lines %v, want %v", c.name, lines, c.lines)
		}
	}
}
