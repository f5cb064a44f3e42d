package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/rampe/rampe/platform/config"
)

// TestBuildClosesWhatItOpenedOnError: when wiring fails half-way (Redis
// unreachable, after the database and the CPU profile were opened), no file
// stays open and the profile is stopped.
func TestBuildClosesWhatItOpenedOnError(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAMPE_DATABASE_DSN", filepath.Join(dir, "rampe.db"))
	t.Setenv("RAMPE_REDIS_URL", "redis://127.0.0.1:1/0") // nothing listens on port 1
	t.Setenv("RAMPE_DEBUG_CPU_PROFILE", filepath.Join(dir, "cpu.prof"))
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	st, err := build(context.Background(), cfg)
	if err == nil {
		st.close()
		t.Fatal("build succeeded with Redis unreachable")
	}
	if !strings.Contains(err.Error(), "redis") {
		t.Fatalf("error %q does not name Redis", err)
	}
	if open := filesUnder(t, dir); len(open) > 0 {
		t.Errorf("still open after the failed build: %v", open)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Errorf("the CPU profile was left running: %v", err)
	} else {
		pprof.StopCPUProfile()
	}
}

// filesUnder lists the files under dir this process holds open.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("this test reads /proc: %v", err)
	}
	var open []string
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, dir) {
			open = append(open, target)
		}
	}
	return open
}
