package signed

import "testing"

// The format is what links already sent carry: it must not change.
func TestTokensKeepTheirFormat(t *testing.T) {
	if got := Token([]byte("k"), "rampe-click", 42, 7); got != "Kgc.g_ev2h-2WsJ8_wcU" {
		t.Fatalf("token %s: links already sent would stop working", got)
	}
	n, ok := Parse([]byte("k"), "rampe-click", "Kgc.g_ev2h-2WsJ8_wcU", 2, 64)
	if !ok || n[0] != 42 || n[1] != 7 {
		t.Fatalf("%v %v", n, ok)
	}
	for _, bad := range []string{"Kgc.g_ev2h-2WsJ8_wcV", "Kwc.g_ev2h-2WsJ8_wcU", "Kgc", "", "Kgc.g_ev2h-2WsJ8_wcU.x"} {
		if _, ok := Parse([]byte("k"), "rampe-click", bad, 2, 64); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, ok := Parse([]byte("k"), "rampe-unsubscribe", "Kgc.g_ev2h-2WsJ8_wcU", 2, 64); ok {
		t.Error("a click token passed for an unsubscribe token")
	}
	if _, ok := Parse([]byte("k"), "rampe-click", Token([]byte("k"), "rampe-click", 1, 2, 3), 2, 64); ok {
		t.Error("three numbers passed for two")
	}
}
