package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/rampe/rampe/channels/email/audience"
)

// countsText writes counts by name as "bounced 200, pending 249", in name
// order.
func countsText(counts map[string]int64) string {
	names := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, counts[n])
	}
	return strings.Join(parts, ", ")
}

// seedAudience adds 5,000 demo contacts through the real import (one
// staged, set-based merge: about a second), most opted in to the
// "Newsletter" list, some pending, unsubscribed or bounced (those two
// suppressed), and a "Gold members" segment. It adds nothing once the
// list exists.
func seedAudience(ctx context.Context, st *stack, out io.Writer) error {
	lists, err := st.audience.Lists(ctx)
	if err != nil {
		return err
	}
	for _, l := range lists {
		if l.Name == "Newsletter" {
			return nil
		}
	}
	news, err := st.audience.CreateList(ctx, audience.ListInput{Name: "Newsletter"})
	if err != nil {
		return err
	}
	no := false
	if _, err := st.audience.CreateList(ctx, audience.ListInput{Name: "Flash sales (no double opt-in)", DoubleOptIn: &no}); err != nil {
		return err
	}
	res, err := st.audience.Import(ctx, strings.NewReader(demoContactsCSV(5000)), audience.ImportOptions{ListID: news.ID, Note: "demo data"})
	if err != nil {
		return fmt.Errorf("demo contacts: %w", err)
	}
	seg, err := st.audience.CreateSegment(ctx, audience.SegmentInput{Name: "Gold members", ListID: news.ID,
		Filters: []audience.Filter{{Field: "loyalty", Op: "eq", Value: "gold"}}})
	if err != nil {
		return err
	}
	cnt, err := st.audience.Count(ctx, audience.Spec{ListID: news.ID})
	if err != nil {
		return err
	}
	gold, err := st.audience.Count(ctx, audience.Spec{SegmentID: seg.ID})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo contacts added: %d in “Newsletter”, %d mailable (%d gold members); excluded: %s\n", res.Imported, cnt.Mailable, gold.Mailable, countsText(cnt.Excluded))
	return nil
}

// demoPeople are the varied first and last names, countries, time zones
// and locales of the demo contacts.
var (
	demoFirst = []string{"Camille", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Inès", "Jules", "Zoé", "Noah", "Élodie", "Olivia", "James",
		"Amelia", "Oliver", "Sophie", "Liam", "Emily", "Jack", "Grace", "Thomas", "Siobhán", "Mathéo", "Anaïs"}
	demoLast = []string{"Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Fournier", "Girard", "Smith", "Jones", "Taylor",
		"Brown", "Wilson", "O'Connor", "Tremblay", "Gagnon", "Müller", "Rossi", "Peeters", "Janssens"}
	demoPlaces = []struct{ country, zone, locale string }{
		{"FR", "Europe/Paris", "fr"}, {"FR", "Europe/Paris", "fr-FR"}, {"BE", "Europe/Brussels", "fr-BE"}, {"CH", "Europe/Zurich", "fr-CH"},
		{"CA", "America/Toronto", "fr-CA"}, {"GB", "Europe/London", "en-GB"}, {"IE", "Europe/Dublin", "en"}, {"US", "America/New_York", "en-US"},
		{"FR", "Europe/Paris", "fr"}, {"GB", "Europe/London", "en"},
	}
	demoDomains = []string{"example.com", "example.fr", "example.net", "exämple.fr", "mail.example.org"}
)

// demoContactsCSV writes n contacts: about 84 % opted in, 5 % pending,
// 7 % unsubscribed, 4 % bounced; loyalty gold for one in eight, silver for
// one in four.
func demoContactsCSV(n int) string {
	var b strings.Builder
	b.WriteString("email,first_name,last_name,locale,country,time_zone,loyalty,status\n")
	for i := range n {
		first, last := demoFirst[i%len(demoFirst)], demoLast[(i/len(demoFirst))%len(demoLast)]
		p := demoPlaces[(i*7)%len(demoPlaces)]
		loyalty := "none"
		switch {
		case i%8 == 0:
			loyalty = "gold"
		case i%4 == 1:
			loyalty = "silver"
		}
		status := ""
		switch r := int(uint32(i)*2654435761>>16) % 100; { // spread over names and places
		case r < 5:
			status = audience.Pending
		case r < 12:
			status = audience.Unsubscribed
		case r < 16:
			status = audience.Bounced
		}
		local := strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ï", "i", "á", "a", "ü", "u", "'", "").Replace(strings.ToLower(first + "." + last))
		fmt.Fprintf(&b, "%s.%d@%s,%s,%s,%s,%s,%s,%s,%s\n", local, i, demoDomains[i%len(demoDomains)], first, last, p.locale, p.country, p.zone, loyalty, status)
	}
	return b.String()
}
