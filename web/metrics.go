package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsHandler serves Prometheus metrics to whoever may read them: the
// bearer of token when one is set; otherwise anyone when anyClient (on
// metrics.addr, an address the operator keeps private), or loopback
// clients only (a Prometheus on the same machine). Metrics name routes,
// job types and volumes: not for anyone on the Internet.
func MetricsHandler(token string, anyClient bool) http.Handler {
	prom := promhttp.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="rampe metrics"`)
				http.Error(w, "send the metrics token: Authorization: Bearer …", http.StatusUnauthorized)
				return
			}
		} else if !anyClient && (!loopback(r.RemoteAddr) || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "") {
			// A request relayed by a proxy on this machine comes from
			// loopback too, but from anyone.
			http.Error(w, "metrics are served to this machine only; set metrics.token or metrics.addr to scrape them from elsewhere", http.StatusForbidden)
			return
		}
		prom.ServeHTTP(w, r)
	})
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// metrics is /metrics on the web address, unless metrics.addr serves it.
func (s *Server) metrics() fiber.Handler {
	h := adaptor.HTTPHandler(MetricsHandler(s.MetricsToken, false))
	return func(c *fiber.Ctx) error {
		if s.MetricsElsewhere {
			return noPageAt(c.Path())
		}
		return h(c)
	}
}
