// Command redirect is bench/redirect's helper: the tracked URL of a
// partner link of the demo, the count of stored clicks, an exact number of
// requests to a URL, a bare fasthttp server giving the same answer without
// Rampe (the floor of a Go server), and a PostgreSQL schema of the bench's
// own.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"gorm.io/gorm"

	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/db"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: redirect token|count|fire|bare|schema …")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dsn := fs.String("dsn", os.Getenv("RAMPE_DATABASE_DSN"), "database")
	target := fs.String("url", "", "URL to fire at")
	n := fs.Int("n", 20000, "requests")
	c := fs.Int("c", 32, "concurrent connections")
	schema := fs.String("schema", "", "schema name")
	addr := fs.String("addr", "127.0.0.1:19212", "address to serve on (bare)")
	fs.Parse(os.Args[2:])
	ctx := context.Background()
	switch os.Args[1] {
	case "token":
		g := open(*dsn)
		secret, err := db.EnsureSecret(ctx, g)
		check(err)
		var l clicks.Link
		check(g.Where("partner_id <> 0").Order("id").Take(&l).Error)
		fmt.Printf("/r/%s\n", (&clicks.Service{Secret: []byte(secret)}).Token(l.ID, 0))
	case "count":
		var k int64
		check(open(*dsn).Table("clicks").Count(&k).Error)
		fmt.Println(k)
	case "fire":
		fmt.Println(fire(*target, *n, *c))
	case "bare": // bare -addr A -url DEST: the floor of a Go server (below)
		check(bare(*addr, *target))
	case "schema": // schema create|drop: a schema of the bench's own in the DSN's database
		g := open(*dsn)
		switch fs.Arg(0) {
		case "create":
			check(g.Exec("CREATE SCHEMA " + *schema).Error)
			u, err := url.Parse(*dsn)
			check(err)
			q := u.Query()
			q.Set("search_path", *schema)
			u.RawQuery = q.Encode()
			fmt.Println(u.String())
		case "drop":
			check(g.Exec("DROP SCHEMA IF EXISTS " + *schema + " CASCADE").Error)
		}
	default:
		fail("unknown command " + os.Args[1])
	}
}

// fire sends exactly n GETs over c keep-alive connections, never following
// redirects, and returns how many answered 302.
func fire(target string, n, c int) int64 {
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}}
	var next, found atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("GET", target, nil)
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0")
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				res.Body.Close()
				if res.StatusCode == http.StatusFound {
					found.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return found.Load()
}

// bare serves, with fasthttp and nothing else, the answer Rampe gives a
// partner link: the same headers, a new click id in the Location and the
// cookie; no token check, no route, no click stored. Between nginx and it
// lies the cost of Go and fasthttp; between it and Rampe, Rampe's own.
func bare(addr, dest string) error {
	h := func(ctx *fasthttp.RequestCtx) {
		var b [16]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		rh := &ctx.Response.Header
		rh.Set("X-Content-Type-Options", "nosniff")
		rh.Set("X-Frame-Options", "DENY")
		rh.Set("Referrer-Policy", "same-origin")
		rh.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		rh.Set("Cache-Control", "no-store")
		rh.Set("Location", dest+"?rampe_click="+id+"&utm_campaign=black-friday-everything-30&utm_medium=affiliate&utm_source=ma-reduc")
		ck := fasthttp.AcquireCookie()
		ck.SetKey("rampe_click")
		ck.SetValue(id)
		ck.SetPath("/")
		ck.SetMaxAge(365 * 24 * 3600)
		ck.SetHTTPOnly(true)
		ck.SetSameSite(fasthttp.CookieSameSiteLaxMode)
		rh.SetCookie(ck)
		fasthttp.ReleaseCookie(ck)
		ctx.SetStatusCode(fasthttp.StatusFound)
	}
	srv := &fasthttp.Server{Handler: h, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second}
	return srv.ListenAndServe(addr)
}

func open(dsn string) *gorm.DB {
	g, err := db.Open(dsn)
	check(err)
	return g
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "redirect:", msg)
	os.Exit(1)
}
