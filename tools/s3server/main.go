// Command s3server runs the S3 server of the tests (platform/testenv/fakes3:
// gofakes3 in memory) as a process, for .ci/run and for several Rampe
// processes sharing one bucket. Everything is lost when it stops.
//
//	go run ./tools/s3server -addr 127.0.0.1:8333
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/rampe/rampe/platform/testenv/fakes3"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8333", "address to listen on")
	quiet := flag.Bool("quiet", true, "do not log every request")
	flag.Parse()
	log.Printf("s3server: S3 (gofakes3, in memory, no signature check) on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, fakes3.Handler(*quiet)))
}
