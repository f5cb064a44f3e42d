package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/accounts"
	"github.com/rampe/rampe/catalog"
)

// uploadsLeft counts the files of the upload store (the test's directory).
func uploadsLeft(t *testing.T, a *testApp) int {
	t.Helper()
	var n int
	filepath.Walk(a.uploadDir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestUploadedImportsRunOnAWorker: a catalog uploaded in the UI and a
// contact file sent to the API are put in the upload store and queued; the
// web node imports nothing itself (the imports stay running, untouched,
// their tasks pending in Redis) until a real asynq worker takes them, which
// imports them and removes the uploaded files.
func TestUploadedImportsRunOnAWorker(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	b := a.browser(accounts.Marketer)
	b.get("/products/import")
	res := uploadCatalog(t, b, "cat.csv", "sku;title;price\nQ-1;Chaise;10,00\nQ-2;Table;20,00\n", false)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", res.Status, res.Body)
	}
	r := apiUpload(t, a, accounts.Marketer, "?filename=c.csv", "text/csv", "email,name\nann@shop.example,Ann\n")
	if r.Status != 202 {
		t.Fatalf("contacts upload: %d %s", r.Status, r.Body)
	}
	imps, _ := a.Catalog.Imports(ctx, 1)
	if len(imps) != 1 || imps[0].Status != "running" || imps[0].RowsRead != 0 {
		t.Fatalf("the catalog import before any worker: %+v", imps)
	}
	if n, _ := a.Catalog.Count(ctx); n != 0 {
		t.Fatalf("the web node imported %d products itself", n)
	}
	runs, _ := a.Audience.Imports(ctx, 1)
	if len(runs) != 1 || runs[0].Status != "running" {
		t.Fatalf("the contact import before any worker: %+v", runs)
	}
	pending, err := asynq.NewInspectorFromRedisClient(a.conn.Redis).ListPendingTasks("default")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, p := range pending {
		kinds[p.Type] = true
	}
	if !kinds[catalog.TypeImport] || !kinds["contacts:import"] {
		t.Fatalf("pending tasks: %v", kinds)
	}
	if page := b.get(res.Header.Get("Location")); !strings.Contains(page.Body, "Import queued: waiting for a worker to start it.") {
		t.Fatalf("the import page before any worker does not say it waits: %.2000s", page.Body)
	}
	if n := uploadsLeft(t, a); n != 2 {
		t.Fatalf("%d files in the upload store, want the two uploads", n)
	}

	a.startImportWorker(t)
	body := waitImport(t, b, res.Header.Get("Location"))
	if !strings.Contains(body, "2 products imported") {
		t.Fatalf("import page after the worker: %s", body)
	}
	if m := waitAPIImport(t, a, r.json(t)["id"]); m["status"] != "done" || m["rows_imported"] != float64(1) {
		t.Fatalf("contact import after the worker: %v", m)
	}
	// The worker removes a file once its import is recorded.
	for deadline := time.Now().Add(10 * time.Second); uploadsLeft(t, a) != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d uploaded files left after the imports", uploadsLeft(t, a))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
