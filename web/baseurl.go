package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// deploymentHeader names the deployment that answers /healthz: an HMAC of
// the secret every node shares, so a node can tell that public.base_url
// reaches its own deployment (any of its nodes) and not something else.
const deploymentHeader = "X-Rampe-Deployment"

// DeploymentID is the deployment's name in deploymentHeader.
func DeploymentID(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("rampe-deployment"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// BaseURLStatus holds what is wrong with public.base_url, if anything:
// set once the server listens, shown on every readiness checklist.
type BaseURLStatus struct{ problem atomic.Pointer[string] }

// Set records the problem ("" when none).
func (b *BaseURLStatus) Set(p string) { b.problem.Store(&p) }

// Problem is what is wrong, or "".
func (b *BaseURLStatus) Problem() string {
	if b == nil {
		return ""
	}
	if p := b.problem.Load(); p != nil {
		return *p
	}
	return ""
}

// CheckBaseURL asks base/healthz whether it is this deployment. It returns
// "" when it is, else a sentence saying what is wrong and what follows.
func CheckBaseURL(ctx context.Context, base string, secret []byte) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return fmt.Sprintf("public.base_url %s is not a URL Rampe can call: %v", base, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("public.base_url %s does not reach this server (%v): product images, feed and API addresses are wrong, and load checks attack an address nobody serves. Set public.base_url to the address visitors use.", base, err)
	}
	res.Body.Close()
	if res.Header.Get(deploymentHeader) != DeploymentID(secret) {
		return fmt.Sprintf("public.base_url %s answers, but not as this Rampe (status %d, another server or deployment): product images, feed and API addresses are wrong, and load checks attack another server. Set public.base_url to this server's address.", base, res.StatusCode)
	}
	return ""
}
