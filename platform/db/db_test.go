package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

var extra = []db.Migration{
	{ID: "2026112299_widgets", SQL: `CREATE TABLE widgets (id {{id}}, made_at {{ts}} NOT NULL, n {{bigint}} NOT NULL)`},
}

func TestMigrateIsOrderedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	g := testenv.DB(t) // schema_migrations only
	pending, err := db.Pending(ctx, g, db.Migrations, extra)
	if err != nil || len(pending) != 2 || pending[0] != "2026112200_settings" {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	n, err := db.Migrate(ctx, g, extra, db.Migrations)
	if err != nil || n != 2 {
		t.Fatalf("first run applied %d: %v", n, err)
	}
	if n, err := db.Migrate(ctx, g, db.Migrations, extra); err != nil || n != 0 {
		t.Fatalf("second run applied %d: %v", n, err)
	}
	if err := g.Exec("INSERT INTO widgets (made_at, n) VALUES (CURRENT_TIMESTAMP, 9007199254740993)").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx, g, db.Migrations, db.Migrations); err == nil {
		t.Fatal("a migration declared twice must be refused")
	}
}

func TestBrokenMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	g := testenv.DB(t)
	bad := []db.Migration{{ID: "2026112298_bad", SQL: `CREATE TABLE half (id {{id}}); CREATE TABLE broken (`}}
	if _, err := db.Migrate(ctx, g, bad); err == nil {
		t.Fatal("a broken migration must fail")
	}
	if g.Migrator().HasTable("half") {
		t.Fatal("a failed migration left a table behind")
	}
}

func TestSecretIsStoredOnce(t *testing.T) {
	ctx := context.Background()
	g := testenv.DB(t, db.Migrations)
	a, err := db.EnsureSecret(ctx, g)
	if err != nil || len(a) != 64 {
		t.Fatalf("secret %q: %v", a, err)
	}
	if b, _ := db.EnsureSecret(ctx, g); b != a {
		t.Fatal("the secret changed on second start")
	}
}

// TestTakeMapsNoRowToTheDomainsError: Take returns the row, or the error
// the caller names when there is none.
func TestTakeMapsNoRowToTheDomainsError(t *testing.T) {
	g := testenv.DB(t, []db.Migration{{ID: "1_things", SQL: "CREATE TABLE things (id {{id}}, name VARCHAR(20) NOT NULL)"}})
	type thing struct {
		ID   uint64
		Name string
	}
	if err := g.Table("things").Create(&thing{Name: "lamp"}).Error; err != nil {
		t.Fatal(err)
	}
	errNone := errors.New("no such thing")
	got, err := db.Take[thing](g.Table("things").Where("name = ?", "lamp"), errNone)
	if err != nil || got.Name != "lamp" {
		t.Fatalf("Take = %+v, %v", got, err)
	}
	if got, err := db.Take[thing](g.Table("things"), errNone, 999); got != nil || !errors.Is(err, errNone) {
		t.Fatalf("missing row: %+v, %v", got, err)
	}
}
