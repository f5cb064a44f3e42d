// Command redirect is bench/redirect's helper: the tracked URL of a
// partner link of the demo, the count of stored clicks, an exact number of
// requests to a URL, and a PostgreSQL schema of the bench's own.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/platform/db"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: redirect token|count|fire|schema …")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	dsn := fs.String("dsn", os.Getenv("RAMPE_DATABASE_DSN"), "database")
	target := fs.String("url", "", "URL to fire at")
	n := fs.Int("n", 20000, "requests")
	c := fs.Int("c", 32, "concurrent connections")
	schema := fs.String("schema", "", "schema name")
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
