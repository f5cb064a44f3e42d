// Command dkimverify checks the DKIM signatures of one raw message (on
// stdin) with go-msgauth, the public key given on the command line in
// place of the DNS lookup: the browser test of the e-mail channel reads
// what Mailpit received and runs it. It prints one JSON object, exits 1
// when the message has no signature or one does not verify.
//
//	go run ./e2e/dkimverify -record "v=DKIM1; k=ed25519; p=…" <message.eml
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

type result struct {
	Domain  string   `json:"domain"`
	Headers []string `json:"headers"`
	Err     string   `json:"error,omitempty"`
}

func main() {
	record := flag.String("record", "", "the TXT record of SELECTOR._domainkey.DOMAIN (v=DKIM1; k=…; p=…)")
	name := flag.String("name", "", "SELECTOR._domainkey.DOMAIN: the only name the lookup answers (empty: any)")
	flag.Parse()
	verifications, err := dkim.VerifyWithOptions(os.Stdin, &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		if *name != "" && domain != *name {
			return nil, fmt.Errorf("no TXT record for %s", domain)
		}
		return []string{*record}, nil
	}})
	out := struct {
		OK         bool     `json:"ok"`
		Err        string   `json:"error,omitempty"`
		Signatures []result `json:"signatures"`
	}{OK: err == nil && len(verifications) > 0}
	if err != nil {
		out.Err = err.Error()
	} else if len(verifications) == 0 {
		out.Err = "the message has no DKIM-Signature"
	}
	for _, v := range verifications {
		r := result{Domain: v.Domain, Headers: v.HeaderKeys}
		if v.Err != nil {
			r.Err, out.OK = v.Err.Error(), false
		}
		out.Signatures = append(out.Signatures, r)
	}
	json.NewEncoder(os.Stdout).Encode(out)
	if !out.OK {
		os.Exit(1)
	}
}
