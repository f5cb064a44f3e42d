package search

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// IndexNow tells search engines that URLs changed
// (https://www.indexnow.org/documentation): a POST of
// {host, key, keyLocation, urlList} to Endpoint; 200 and 202 mean
// accepted. The key is served as text at keyLocation on Rampe's own host
// (/indexnow.txt), which proves the host is ours.
type IndexNow struct {
	// Endpoint is seo.indexnow_endpoint, e.g.
	// https://api.indexnow.org/indexnow; it must be allow-listed like a
	// load-check target.
	Endpoint string
	Key      string
	BaseURL  string
	Client   *http.Client
	Allowed  func(ctx context.Context, rawURL string) error
}

// IndexNowKey derives the key from Rampe's secret when seo.indexnow_key
// is empty: 32 hexadecimal characters (the protocol wants 8 to 128 of
// a-z, A-Z, 0-9 and -), stable across restarts and nodes.
func IndexNowKey(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("rampe indexnow key"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// KeyLocation is where the key file is served.
func (n *IndexNow) KeyLocation() string { return n.BaseURL + "/indexnow.txt" }

// Notify posts urls (at most 10,000, all on BaseURL's host).
func (n *IndexNow) Notify(ctx context.Context, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	if len(urls) > 10000 {
		return fmt.Errorf("search: indexnow takes at most 10,000 URLs a request, not %d", len(urls))
	}
	if n.Allowed != nil {
		if err := n.Allowed(ctx, n.Endpoint); err != nil {
			return fmt.Errorf("seo.indexnow_endpoint: %w", err)
		}
	}
	base, err := url.Parse(n.BaseURL)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{"host": base.Hostname(), "key": n.Key, "keyLocation": n.KeyLocation(), "urlList": urls})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted:
		return nil
	case http.StatusUnprocessableEntity:
		return fmt.Errorf("IndexNow answered 422: the URLs are not on %s or the key does not match", base.Hostname())
	case http.StatusTooManyRequests:
		return fmt.Errorf("IndexNow answered 429: too many requests")
	}
	return fmt.Errorf("IndexNow answered %d %s", resp.StatusCode, bytes.TrimSpace(msg))
}
