// Command rampe is the one binary of Rampe: web server, worker, migrations,
// demo data and administration.
package main

import (
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		os.Exit(1)
	}
}
