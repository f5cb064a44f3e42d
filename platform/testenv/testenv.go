// Package testenv gives tests real services: SQLite in a temp dir and an
// in-process Redis by default, or PostgreSQL and Redis when
// RAMPE_TEST_POSTGRES_DSN and RAMPE_TEST_REDIS_URL are set. When they are set
// and the service does not answer, the test fails: it never silently skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
)

// Engine names the database engine tests run on.
func Engine() string {
	if os.Getenv("RAMPE_TEST_POSTGRES_DSN") != "" {
		return "postgres"
	}
	return "sqlite"
}

// DSN returns a fresh, empty database for one test and registers its removal:
// a SQLite file in t.TempDir, or a PostgreSQL schema of its own.
func DSN(t testing.TB) string {
	t.Helper()
	pg := os.Getenv("RAMPE_TEST_POSTGRES_DSN")
	if pg == "" {
		return filepath.Join(t.TempDir(), "rampe.db")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := db.Open(pg)
	if err != nil {
		t.Fatalf("testenv: RAMPE_TEST_POSTGRES_DSN is set but PostgreSQL is unreachable: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("testenv: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close(admin)
	})
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatalf("testenv: RAMPE_TEST_POSTGRES_DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DB opens a fresh database with the given migrations applied.
func DB(t testing.TB, migrations ...[]db.Migration) *gorm.DB {
	t.Helper()
	return Open(t, DSN(t), migrations...)
}

// Open opens dsn and applies migrations.
func Open(t testing.TB, dsn string, migrations ...[]db.Migration) *gorm.DB {
	t.Helper()
	g, err := db.Open(dsn)
	if err != nil {
		t.Fatalf("testenv: open %s: %v", Engine(), err)
	}
	t.Cleanup(func() { db.Close(g) })
	if _, err := db.Migrate(context.Background(), g, migrations...); err != nil {
		t.Fatalf("testenv: migrate: %v", err)
	}
	return g
}

// RedisURL returns the configured test Redis URL, or "" for in-process.
func RedisURL() string { return os.Getenv("RAMPE_TEST_REDIS_URL") }

// Redis connects to the test Redis (flushed) or starts an in-process one.
func Redis(t testing.TB) *queue.Conn {
	t.Helper()
	conn, err := queue.Connect(context.Background(), RedisURL())
	if err != nil {
		t.Fatalf("testenv: RAMPE_TEST_REDIS_URL is set but Redis is unreachable: %v", err)
	}
	if !conn.Embedded {
		if err := conn.Redis.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("testenv: flush redis: %v", err)
		}
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
