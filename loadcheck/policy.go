package loadcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy is what the configuration allows.
type Policy struct {
	// BaseURL is public.base_url: its host is allowed with its own scheme
	// and port only.
	BaseURL string
	// AllowedHosts is loadcheck.allowed_hosts: exact hosts ("shop.example",
	// IPs too) or domains (".shop.example"), each optionally with a port
	// ("shop.example:8443"). Without a port an entry allows ports 80 (http)
	// and 443 (https); with one, that port only.
	AllowedHosts []string
	MaxRate      float64
	MaxDuration  time.Duration
	// AnyPublicHost allows hosts that are not listed on ports 80 and 443
	// when every address they resolve to is public (postbacks to partners'
	// networks); listed hosts keep their rules, and private or loopback
	// targets still need an exact entry.
	AnyPublicHost bool
	// Resolve looks a host up, when a check starts and at every dial;
	// net.DefaultResolver when nil.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// RefusedError says why a check may not run.
type RefusedError struct{ Why string }

func (e *RefusedError) Error() string { return "loadcheck: refused: " + e.Why }

// rule is one allow-listed host (or domain) with its port and scheme.
type rule struct {
	host   string // lower case; ".shop.example" for a domain
	port   string // "" = the scheme's default port
	scheme string // "" = http or https
	label  string // as configured, for messages
}

func (r rule) domain() bool { return strings.HasPrefix(r.host, ".") }

func (r rule) matchesHost(host string) bool {
	if r.domain() {
		return strings.HasSuffix(host, r.host)
	}
	return host == r.host
}

// matchesPort tells whether scheme://host:port is allowed by the rule; an
// empty scheme (a dial, which knows no scheme) matches either.
func (r rule) matchesPort(scheme, port string) bool {
	if r.scheme != "" && scheme != "" && scheme != r.scheme {
		return false
	}
	if r.port != "" {
		return port == r.port
	}
	switch scheme {
	case "http":
		return port == "80"
	case "https":
		return port == "443"
	}
	return port == "80" || port == "443"
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// rules are the base URL's host and the configured entries.
func (p *Policy) rules() []rule {
	var out []rule
	if u, err := url.Parse(p.BaseURL); err == nil && u.Hostname() != "" {
		port := u.Port()
		if port == "" {
			port = defaultPort(u.Scheme)
		}
		out = append(out, rule{host: strings.ToLower(u.Hostname()), port: port, scheme: u.Scheme, label: u.Scheme + "://" + u.Host + " (public.base_url)"})
	}
	for _, h := range p.AllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		r := rule{host: strings.TrimPrefix(h, "*"), label: h}
		if host, port, err := net.SplitHostPort(r.host); err == nil {
			r.host, r.port = host, port
		}
		r.host = strings.Trim(r.host, "[]")
		out = append(out, r)
	}
	return out
}

func (p *Policy) labels() string {
	var l []string
	for _, r := range p.rules() {
		l = append(l, r.label)
	}
	return strings.Join(l, ", ")
}

// allowed tells whether scheme://host:port may be attacked, and whether the
// host is listed exactly (then it may resolve to a private or loopback
// address: that is how a base URL on 127.0.0.1 works in development).
func (p *Policy) allowed(scheme, host, port string) (exact bool, err error) {
	host = strings.ToLower(strings.Trim(host, "[]"))
	var byName []rule
	for _, r := range p.rules() {
		if r.matchesHost(host) {
			byName = append(byName, r)
		}
	}
	_, ipErr := netip.ParseAddr(host)
	if len(byName) == 0 && p.AnyPublicHost {
		if port != "80" && port != "443" {
			return false, &RefusedError{Why: fmt.Sprintf("port %s of %s is not allowed: a host that is not listed is reached on ports 80 and 443 only", port, host)}
		}
		return false, nil // not exact: its addresses must be public
	}
	switch {
	case len(byName) == 0 && ipErr == nil:
		return false, &RefusedError{Why: fmt.Sprintf("%s is an IP address that is not allow-listed (loadcheck.allowed_hosts; allowed: %s)", host, p.labels())}
	case len(byName) == 0:
		return false, &RefusedError{Why: fmt.Sprintf("host %s is not in loadcheck.allowed_hosts (allowed: %s)", host, p.labels())}
	}
	var ok []string
	for _, r := range byName {
		if r.matchesPort(scheme, port) && (!r.domain() || ipErr != nil) {
			return !r.domain(), nil
		}
		ok = append(ok, r.label)
	}
	what := "port " + port
	if scheme != "" {
		what = scheme + " on port " + port
	}
	return false, &RefusedError{Why: fmt.Sprintf("%s of %s is not allowed: %s allows only %s (an entry without a port allows 80 for http and 443 for https); list %q in loadcheck.allowed_hosts to allow it",
		what, host, host, strings.Join(ok, ", "), net.JoinHostPort(host, port))}
}

func badAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() || a.IsUnspecified()
}

func (p *Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if p.Resolve != nil {
		return p.Resolve(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckTarget refuses a URL whose host, scheme or port is not allow-listed.
// An exactly allow-listed host may be a loopback or private address; a host
// allowed through its domain must not resolve to one: a DNS answer must not
// turn a check into an attack on an internal network. The same rules hold at
// every dial (Dial) and every redirect (checkRedirect).
func (p *Policy) CheckTarget(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return &RefusedError{Why: fmt.Sprintf("%q is not an absolute http(s) URL", raw)}
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	exact, err := p.allowed(u.Scheme, u.Hostname(), port)
	if err != nil || exact {
		return err
	}
	host := strings.ToLower(u.Hostname())
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return &RefusedError{Why: fmt.Sprintf("cannot resolve %s: %v", host, err)}
	}
	for _, a := range addrs {
		if badAddr(a) {
			return &RefusedError{Why: fmt.Sprintf("%s resolves to %s, a private or loopback address; allow-list the exact host to permit it", host, a.Unmap())}
		}
	}
	return nil
}

// Dial connects to addr ("host:port") for the load generator, applying the
// allow-list to the host and port, and to every address the host resolves
// to now: a name that passed when the check started and has since been
// rebound to a loopback or private address is refused. The socket's own
// Control hook checks the address once more just before connecting.
func (p *Policy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	exact, err := p.allowed("", host, port)
	if err != nil {
		return nil, err
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("loadcheck: refused to dial %s: %v", address, err)
			}
			if !exact && badAddr(ap.Addr()) {
				return &RefusedError{Why: fmt.Sprintf("%s resolves to %s, a private or loopback address; allow-list the exact host to permit it", host, ap.Addr().Unmap())}
			}
			return nil
		}}
	var last error
	for _, a := range addrs {
		if !exact && badAddr(a) {
			last = &RefusedError{Why: fmt.Sprintf("%s resolves to %s, a private or loopback address; allow-list the exact host to permit it", host, a.Unmap())}
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	if last == nil {
		last = fmt.Errorf("loadcheck: %s has no address", host)
	}
	return nil, last
}

// errRedirect marks a redirect the load generator refused to follow.
var errRedirect = errors.New("not followed")

// checkRedirect follows a redirect to an allow-listed URL (at most 10) and
// refuses any other, naming it.
func (p *Policy) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	port := req.URL.Port()
	if port == "" {
		port = defaultPort(req.URL.Scheme)
	}
	if _, err := p.allowed(req.URL.Scheme, req.URL.Hostname(), port); err != nil {
		var re *RefusedError
		errors.As(err, &re)
		return fmt.Errorf("redirect to %s %w (not allow-listed: %s)", req.URL, errRedirect, re.Why)
	}
	return nil
}

// client is the load generator's HTTP client: every dial and every
// redirect goes through the policy, and no proxy (one would dial for us).
// 256 keep-alive connections per host: see Run.
func (p *Policy) client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: p.checkRedirect,
		Transport: &http.Transport{DialContext: p.Dial, MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256,
			TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: false}}
}

// Client is an HTTP client whose every dial and redirect goes through the
// policy (no proxy), for other outbound requests under the same rules.
// Each call builds a client with its own connections: keep the one you
// get.
func (p *Policy) Client() *http.Client { return p.outbound(p.checkRedirect) }

// CheckPlan refuses rates that are not positive numbers, and rates or
// durations over the caps.
func (p *Policy) CheckPlan(c *Check) error {
	if !(c.TargetRate > 0) || math.IsInf(c.TargetRate, 0) {
		return &RefusedError{Why: fmt.Sprintf("the target rate must be a number above 0 (got %v)", c.TargetRate)}
	}
	top := 0.0
	for i, s := range c.Steps {
		if !(s > 0) || math.IsInf(s, 0) {
			return &RefusedError{Why: fmt.Sprintf("step %d's share %v gives a rate of %v req/s; every step's rate must be above 0", i+1, s, s*c.TargetRate)}
		}
		top = max(top, c.TargetRate*s)
	}
	if top > p.MaxRate {
		return &RefusedError{Why: fmt.Sprintf("the highest step would send %.0f req/s; loadcheck.max_rate is %.0f", top, p.MaxRate)}
	}
	if total := time.Duration(len(c.Steps)*c.StepSeconds) * time.Second; total > p.MaxDuration {
		return &RefusedError{Why: fmt.Sprintf("%d steps of %d s last %s; loadcheck.max_duration is %s", len(c.Steps), c.StepSeconds, total, p.MaxDuration)}
	}
	return nil
}

// LinkClient is the client that checks single URLs for other packages
// (the SEO audit's links and images, IndexNow): every dial goes through
// the policy like the load generator's, no proxy, and no redirect is
// followed — a 3xx is the answer. Keep the one you get, like Client's.
func (p *Policy) LinkClient() *http.Client {
	return p.outbound(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })
}

// outbound is Client and LinkClient: the policy's dials, a few idle
// connections per host, and the redirect rule given.
func (p *Policy) outbound(redirect func(*http.Request, []*http.Request) error) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: redirect,
		Transport: &http.Transport{DialContext: p.Dial, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second}}
}
