package clicks

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/db"
)

type storedClick struct {
	LinkID, RecipientID, PartnerID uint64
	At                             time.Time
	AtText                         string
	IPHash, UAClass, ClickID       string
}

func stored(t *testing.T, s *Service, where string, args ...any) []storedClick {
	t.Helper()
	var out []storedClick
	err := s.DB.Table("clicks").Select("link_id, recipient_id, partner_id, at, CAST(at AS TEXT) AS at_text, ip_hash, ua_class, click_id").
		Where(where, args...).Order("recipient_id").Scan(&out).Error
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The batched writer (COPY on PostgreSQL, literal multi-row INSERTs on
// SQLite) stores exactly what gorm's CreateInBatches stores, times
// included to the text SQLite keeps; a value that is not one of ours
// (a quote, say) goes the gorm way and is stored as it is.
func TestFlushWritesClicksAsGormWould(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	l, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/a", "", "ana")
	at := time.Date(2026, 12, 3, 10, 0, 0, 123456000, time.UTC) // PostgreSQL keeps microseconds
	mk := func(tag string) []Click {
		var out []Click
		for i, ua := range []string{"desktop", BotClass, "mobile", ""} {
			out = append(out, Click{LinkID: l.ID, RecipientID: uint64(i), At: at.Add(time.Duration(i) * time.Millisecond), PartnerID: uint64(7 * i),
				IPHash: strings.Repeat("ab", 16), UAClass: ua, ClickID: fmt.Sprintf("%s%031x", tag, i)})
		}
		return out
	}
	if n, err := s.write(ctx, mk("a")); err != nil || n != 4 {
		t.Fatalf("write: %d %v", n, err)
	}
	if n, err := s.writeGorm(ctx, mk("b")); err != nil || n != 4 {
		t.Fatalf("gorm: %d %v", n, err)
	}
	ours, gorms := stored(t, s, "click_id LIKE 'a%'"), stored(t, s, "click_id LIKE 'b%'")
	if len(ours) != 4 || len(gorms) != 4 {
		t.Fatalf("stored %d and %d clicks", len(ours), len(gorms))
	}
	for i := range ours {
		o, g := ours[i], gorms[i]
		if !o.At.Equal(g.At) || o.AtText != g.AtText || !o.At.Equal(at.Add(time.Duration(i)*time.Millisecond)) {
			t.Errorf("click %d: time %v (%q), gorm's %v (%q)", i, o.At, o.AtText, g.At, g.AtText)
		}
		o.At, g.At, o.AtText, g.AtText, o.ClickID, g.ClickID = time.Time{}, time.Time{}, "", "", o.ClickID[1:], g.ClickID[1:]
		if o != g {
			t.Errorf("click %d: %+v, gorm's %+v", i, o, g)
		}
	}
	odd := mk("c")
	odd[2].IPHash = "it's; DROP TABLE clicks; --"
	if n, err := s.write(ctx, odd); err != nil || n != 4 {
		t.Fatalf("write of a value not ours: %d %v", n, err)
	}
	if got := stored(t, s, "click_id LIKE 'c%'"); len(got) != 4 || got[2].IPHash != odd[2].IPHash {
		t.Fatalf("a value not ours: %+v", got)
	}
}

// A statement that fails keeps the clicks it did not write, and only
// those: the next flush writes them once (on SQLite, the chunks before the
// failing one are written; PostgreSQL's COPY writes all or nothing).
func TestAFailedChunkKeepsOnlyWhatWasNotWritten(t *testing.T) {
	ctx := context.Background()
	s, c := setup(t)
	l, _ := s.Link(ctx, c, campaigns.Email, "https://shop.example/a", "", "ana")
	now := time.Now().UTC()
	for i := 0; i < sqliteChunk+5; i++ {
		s.record(Click{LinkID: l.ID, RecipientID: uint64(i + 1), At: now, ClickID: newClickID(now)})
	}
	s.mu.Lock()
	s.pending[sqliteChunk+2].LinkID = l.ID + 1000 // no such link: the foreign key refuses it
	s.mu.Unlock()
	if err := s.Flush(ctx); err == nil {
		t.Fatal("a click of no link was written")
	}
	var n int64
	s.DB.Model(&Click{}).Count(&n)
	s.mu.Lock()
	kept := len(s.pending)
	want := sqliteChunk
	if db.IsPostgres(s.DB) {
		want = 0
	}
	if int(n) != want || kept != sqliteChunk+5-want {
		s.mu.Unlock()
		t.Fatalf("%d written, %d kept; want %d and %d", n, kept, want, sqliteChunk+5-want)
	}
	for i := range s.pending {
		s.pending[i].LinkID = l.ID
	}
	s.mu.Unlock()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var distinct int64
	s.DB.Model(&Click{}).Count(&n)
	s.DB.Model(&Click{}).Distinct("recipient_id").Count(&distinct)
	if n != sqliteChunk+5 || distinct != n {
		t.Fatalf("after the second flush: %d clicks, %d distinct", n, distinct)
	}
}

// Click ids are 32 hex characters, their first 6 bytes the time in
// milliseconds: ids made later sort after, and the time reads back.
func TestClickIDsFollowTime(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		id := newClickID(at)
		if _, err := hex.DecodeString(id); err != nil || len(id) != 32 || id <= prev || seen[id] {
			t.Fatalf("id %d %q after %q", i, id, prev)
		}
		if got, ok := IssuedAt(id); !ok || !got.Equal(at) {
			t.Fatalf("IssuedAt(%q) = %v %v, want %v", id, got, ok, at)
		}
		prev, seen[id] = id, true
	}
	same := newClickID(t0)
	if other := newClickID(t0); same[:12] != other[:12] || same == other {
		t.Errorf("two ids of one millisecond: %s %s", same, other)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("g", 32), strings.Repeat("a", 31)} {
		if _, ok := IssuedAt(bad); ok {
			t.Errorf("IssuedAt(%q) read a time", bad)
		}
	}
}
