// Command rampe is the one binary of Rampe: web server, worker, migrations,
// demo data and administration.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "rampe:", err)
		os.Exit(1)
	}
}
