// Command adtag sends exactly -n GET requests to -url over -c keep-alive
// connections and prints how many answered 200: bench/adtag compares it
// with the impressions Rampe stored once stopped. wrk cannot say this:
// the requests in flight when its duration ends were served (and
// counted) but never read.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to fetch")
	n := flag.Int64("n", 100000, "requests in all")
	c := flag.Int("c", 32, "connections")
	ua := flag.String("ua", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "User-Agent")
	flag.Parse()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c}}
	var left, ok, failed atomic.Int64
	left.Store(*n)
	var wg sync.WaitGroup
	for i := 0; i < *c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				req, _ := http.NewRequest("GET", *url, nil)
				req.Header.Set("User-Agent", *ua)
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 200 {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		fmt.Fprintf(os.Stderr, "adtag: %d requests failed\n", failed.Load())
	}
	fmt.Println(ok.Load())
}
