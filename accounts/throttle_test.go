package accounts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/testenv"
)

func TestSigninLocksAccountThenDoublesThenForgets(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= AccountFreeFailures; i++ {
		l, err := s.SigninFailed(ctx, "Ana@shop.example", "192.0.2.1", now)
		if err != nil || l != nil {
			t.Fatalf("failure %d: lock %v err %v", i, l, err)
		}
	}
	l, err := s.SigninFailed(ctx, "ana@shop.example", "192.0.2.2", now)
	if err != nil || l == nil || l.Kind != "account" || !l.Until.Equal(now.Add(time.Minute)) {
		t.Fatalf("sixth failure: want the account locked a minute, got %+v %v", l, err)
	}
	if got, _ := s.SigninLock(ctx, "ANA@shop.example", "198.51.100.9", now.Add(30*time.Second)); got == nil || got.Kind != "account" {
		t.Fatalf("the account lock holds from any address: %+v", got)
	} else if !strings.Contains(got.Error(), "try again in 30 seconds") {
		// The wait is counted from the caller's now, not the wall clock.
		t.Errorf("lock in words 30 s into it: %s", got.Error())
	}
	if got, _ := s.SigninLock(ctx, "bob@shop.example", "192.0.2.1", now); got != nil {
		t.Fatalf("another account is not locked: %+v", got)
	}
	if !strings.Contains(l.Error(), "this e-mail address") || !strings.Contains(l.Error(), "try again in 1 minute,") || !strings.Contains(l.Error(), "lift") {
		t.Errorf("lock in words: %s", l.Error())
	}
	// After the lock, the next failure locks twice as long.
	later := now.Add(2 * time.Minute)
	if l, _ = s.SigninFailed(ctx, "ana@shop.example", "192.0.2.1", later); l == nil || !l.Until.Equal(later.Add(2*time.Minute)) {
		t.Fatalf("seventh failure: want 2 minutes, got %+v", l)
	}
	// A success clears the account; an admin can lift a lock.
	if err := s.SigninSucceeded(ctx, "ana@shop.example"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SigninLock(ctx, "ana@shop.example", "203.0.113.1", later); got != nil {
		t.Fatalf("lock after success: %+v", got)
	}
	// Counts are forgotten a day after the last failure.
	for i := 0; i < AccountFreeFailures; i++ {
		s.SigninFailed(ctx, "cy@shop.example", "203.0.113.7", now)
	}
	if l, _ := s.SigninFailed(ctx, "cy@shop.example", "203.0.113.8", now.Add(25*time.Hour)); l != nil {
		t.Fatalf("a day later the count starts again: %+v", l)
	}
	if lockFor(1) != time.Minute || lockFor(3) != 4*time.Minute || lockFor(40) != time.Hour {
		t.Errorf("lockFor: %v %v %v", lockFor(1), lockFor(3), lockFor(40))
	}
}

func TestSigninLocksAddressAcrossAccountsAndAdminLiftsIt(t *testing.T) {
	ctx := context.Background()
	s := &Store{DB: testenv.DB(t, db.Migrations, Migrations)}
	now := time.Now().UTC()
	var wg sync.WaitGroup
	// Failures counted at once (two web nodes) are all counted.
	for i := 0; i < AddressFreeFailures; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s.SigninFailed(ctx, "user"+string(rune('a'+i))+"@shop.example", "192.0.2.50", now); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	l, err := s.SigninFailed(ctx, "zed@shop.example", "192.0.2.50", now)
	if err != nil || l == nil || l.Kind != "address" {
		t.Fatalf("21st failure from one address: %+v %v", l, err)
	}
	if !strings.Contains(l.Error(), "network address") {
		t.Errorf("lock in words: %s", l.Error())
	}
	list, err := s.SigninFailures(ctx, now, 50)
	if err != nil || len(list) == 0 || list[0].Subject != "ip:192.0.2.50" || !list[0].Locked(now) || list[0].Failures != AddressFreeFailures+1 {
		t.Fatalf("admin's list: %+v %v", list, err)
	}
	if err := s.LiftSigninLock(ctx, "ip:192.0.2.50"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SigninLock(ctx, "new@shop.example", "192.0.2.50", now); got != nil {
		t.Fatalf("lifted lock still holds: %+v", got)
	}
	if err := s.LiftSigninLock(ctx, "ip:192.0.2.50"); err != ErrNotFound {
		t.Fatalf("lifting nothing: %v", err)
	}
	// Any text as an e-mail fits the table.
	if _, err := s.SigninFailed(ctx, strings.Repeat("é", 2000), "192.0.2.60", now); err != nil {
		t.Fatal(err)
	}
}
