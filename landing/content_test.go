package landing

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestVersionsOfIdenticalContentShareTheirHash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.pages.Create(ctx, PageInput{Slug: "soldes", Title: "Soldes", Body: "**-50 %**"})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := e.pages.Publish(ctx, p.ID, "a")
	e.clk.Set(t0.Add(time.Hour)) // published later, by someone else: same content
	v2, _ := e.pages.Publish(ctx, p.ID, "b")
	e.pages.Update(ctx, p.ID, PageInput{Slug: "soldes", Title: "Soldes", Body: "**-60 %**"})
	v3, _ := e.pages.Publish(ctx, p.ID, "a")
	if v1.ContentHash == "" || v1.ContentHash != v2.ContentHash || v3.ContentHash == v1.ContentHash {
		t.Fatalf("hashes: %q %q %q", v1.ContentHash, v2.ContentHash, v3.ContentHash)
	}
	if ids, err := e.pages.SameContent(ctx, v2.ID); err != nil || !slices.Equal(ids, []uint64{v1.ID, v2.ID}) {
		t.Fatalf("same content as v2: %v %v", ids, err)
	}
	if ids, _ := e.pages.SameContent(ctx, v3.ID); !slices.Equal(ids, []uint64{v3.ID}) {
		t.Fatalf("same content as v3: %v", ids)
	}
}
