package affiliation

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// The conversion pixel (/t/conv.gif) is for shops that cannot post to the
// API: their thank-you page shows an image whose URL carries the order
// and an HMAC-SHA256 signature made on the shop's server with the shop's
// pixel key, so a visitor cannot invent or alter an order.

// PixelKey is the shop's pixel key, derived from the deployment's secret.
func PixelKey(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("rampe-conversion-pixel"))
	return hex.EncodeToString(m.Sum(nil))
}

// PixelMessage is what the signature covers: order_id, amount (minor
// units), currency and code, joined by "|".
func PixelMessage(orderID string, amount int64, currency, code string) string {
	return strings.Join([]string{orderID, strconv.FormatInt(amount, 10), strings.ToUpper(currency), code}, "|")
}

// PixelSignature is the hex HMAC-SHA256 of the message under the key.
func PixelSignature(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrForgedPixel is a pixel whose signature does not match.
var ErrForgedPixel = errors.New("affiliation: the pixel's signature does not match")

// RecordPixel checks a pixel's signature and records its conversion.
func (s *Service) RecordPixel(ctx context.Context, in ConversionInput, sig string) (*Conversion, error) {
	want := PixelSignature(s.PixelKey, PixelMessage(strings.TrimSpace(in.OrderID), in.Amount, strings.TrimSpace(in.Currency), strings.TrimSpace(in.Code)))
	if s.PixelKey == "" || !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return nil, ErrForgedPixel
	}
	c, _, err := s.RecordConversion(ctx, in, "pixel")
	return c, err
}
