package jsoncol

import (
	"strings"
	"testing"
)

// A value goes in as JSON text and comes back; empty is NULL; NULL and ""
// leave the destination alone; a column of another type names both types.
func TestValueAndScan(t *testing.T) {
	v, err := Value(map[string]string{"fr": "Bonjour"}, false)
	if err != nil || v != `{"fr":"Bonjour"}` {
		t.Fatalf("%v %v", v, err)
	}
	if v, err := Value(map[string]string{}, true); v != nil || err != nil {
		t.Fatalf("empty: %v %v", v, err)
	}
	for _, src := range []any{`{"fr":"Bonjour"}`, []byte(`{"fr":"Bonjour"}`)} {
		var got map[string]string
		if err := Scan(src, &got); err != nil || got["fr"] != "Bonjour" {
			t.Fatalf("%T: %v %v", src, got, err)
		}
	}
	for _, src := range []any{nil, "", []byte{}} {
		got := map[string]string{"kept": "yes"}
		if err := Scan(src, &got); err != nil || got["kept"] != "yes" {
			t.Fatalf("%#v: %v %v", src, got, err)
		}
	}
	var got map[string]string
	if err := Scan(int64(3), &got); err == nil || !strings.Contains(err.Error(), "*map[string]string") || !strings.Contains(err.Error(), "int64") {
		t.Fatalf("int64: %v", err)
	}
	if err := Scan(`{"fr":`, &got); err == nil {
		t.Fatal("cut JSON read without error")
	}
}
