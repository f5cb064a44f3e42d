// Package signed makes and checks the short signed tokens of public links
// (a tracked click, an unsubscribe): a few numbers as uvarints, base64url,
// a dot, and the first 12 bytes of an HMAC-SHA256 of them under the
// deployment's secret and the token's purpose. A forged or altered token
// does not parse; the purpose keeps one kind of token from passing for
// another.
package signed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

const macBytes = 12

func mac(secret []byte, purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose + ":"))
	m.Write(payload)
	return m.Sum(nil)[:macBytes]
}

// Token signs nums for purpose.
func Token(secret []byte, purpose string, nums ...uint64) string {
	b := make([]byte, 0, len(nums)*binary.MaxVarintLen64)
	for _, n := range nums {
		b = binary.AppendUvarint(b, n)
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(mac(secret, purpose, b))
}

// Parse checks a token of purpose carrying exactly n numbers and returns
// them; ok is false for anything forged, altered, malformed or longer
// than maxLen.
func Parse(secret []byte, purpose, token string, n, maxLen int) (nums []uint64, ok bool) {
	p, m, found := strings.Cut(token, ".")
	if !found || len(token) > maxLen {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(secret, purpose, payload)) {
		return nil, false
	}
	for len(nums) < n {
		v, k := binary.Uvarint(payload)
		if k <= 0 {
			return nil, false
		}
		nums, payload = append(nums, v), payload[k:]
	}
	if len(payload) != 0 {
		return nil, false
	}
	return nums, true
}
