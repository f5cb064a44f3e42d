package web

import (
	"strings"

	"github.com/rampe/rampe/channels/display"
)

func init() {
	funcs["kb"] = func(n int) float64 { return float64(n) / 1024 }
	funcs["sizes"] = func(zs []display.Size) string {
		parts := make([]string, len(zs))
		for i, z := range zs {
			parts[i] = z.String()
		}
		return strings.Join(parts, ", ")
	}
}
