// Command bare is bench/landing's third server: a bare fasthttp handler
// answering one page from memory with the headers Rampe sends (type,
// ETag, cache), and 304 on a matching If-None-Match — the ceiling of a
// server built on fasthttp, with no router, middleware or writev.
package main

import (
	"bytes"
	"flag"
	"log"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18183", "address to listen on")
	file := flag.String("file", "", "the page's bytes")
	etag := flag.String("etag", "", "its ETag")
	ctype := flag.String("type", "text/html; charset=utf-8", "its Content-Type")
	cache := flag.String("cache", "", "its Cache-Control")
	flag.Parse()
	page, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	tag := []byte(*etag)
	h := func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("Content-Type", *ctype)
		ctx.Response.Header.Set("ETag", *etag)
		if *cache != "" {
			ctx.Response.Header.Set("Cache-Control", *cache)
		}
		if len(tag) > 0 && bytes.Equal(ctx.Request.Header.Peek("If-None-Match"), tag) {
			ctx.SetStatusCode(fasthttp.StatusNotModified)
			return
		}
		ctx.SetBody(page)
	}
	log.Fatal(fasthttp.ListenAndServe(*addr, h))
}
