package affiliation

import (
	"context"
	"errors"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// textOf is the text/plain part of a raw e-mail, decoded, and its subject.
func textOf(t *testing.T, raw string) (subject, text string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := p.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			return subject, b.String()
		}
	}
}

// The channel's sentences read in French: field errors, the gates, and
// the kit e-mail, written in the merchant's language (DefaultLang).
func TestAffiliationSpeaksFrench(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	bad := good()
	bad.Email, bad.Commission = "nope", "abc"
	_, err := e.s.CreatePartner(ctx, bad)
	var ve validation.Errors
	if !errors.As(err, &ve) {
		t.Fatalf("%v", err)
	}
	fr := ve.Text(i18n.FR)
	for _, want := range []string{`email: "nope" n'est pas une adresse e-mail`, `commission: "abc" n'est ni un pourcentage (8 %) ni un montant en EUR`} {
		if !strings.Contains(fr, want) {
			t.Errorf("French field errors %q lack %q", fr, want)
		}
	}
	if en := ve.Text(i18n.EN); !strings.Contains(en, `"nope" is not an e-mail address`) {
		t.Errorf("English: %q", en)
	}

	c := e.campaign(t)
	if r := e.gate(t, c, "affiliation.partners"); r.Text(i18n.FR) != "aucun partenaire actif ne participe : ajoutez des partenaires dans l'onglet Affiliation de la campagne" ||
		!strings.HasPrefix(r.Message, "no active partner takes part") {
		t.Errorf("partners gate: %+v", r)
	}
	p, err := e.s.CreatePartner(ctx, good())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.SetMember(ctx, c, MemberInput{PartnerID: p.ID, Code: "MAREDUC20", PromotionID: c.PromotionIDs[0]}, "ana"); err != nil {
		t.Fatal(err)
	}
	if r := e.gate(t, c, "affiliation.partners"); r.Text(i18n.FR) != "1 partenaire actif participe" {
		t.Errorf("partners gate: %q", r.Text(i18n.FR))
	}
	if r := e.gate(t, c, "affiliation.kit_sent"); r.Outcome != campaigns.Fail || !strings.Contains(r.Text(i18n.FR), "1 partenaire n'a pas le kit du plan actuel : Ma Reduc") {
		t.Errorf("kit gate: %q", r.Text(i18n.FR))
	}
	// The stored answer keeps its French: read back from JSON, without Msg.
	r := e.gate(t, c, "affiliation.codes")
	stored := campaigns.Result{Message: r.Message, Texts: r.Texts}
	if stored.Text(i18n.FR) != "1 code partenaire, sur une promotion publiée qui couvre la période" {
		t.Errorf("codes gate, stored: %q", stored.Text(i18n.FR))
	}

	e.s.DefaultLang = i18n.FR
	if _, err := e.cs.Schedule(ctx, c.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.s.SendKits(ctx, c.ID); err != nil || n != 1 {
		t.Fatalf("kits: %d %v", n, err)
	}
	subject, text := textOf(t, e.smtp.Mails()[0].Data)
	if subject != "Kit pour Soldes d'hiver : Ma Reduc" {
		t.Errorf("subject %q", subject)
	}
	for _, want := range []string{"Bonjour Ma Reduc,", "Campagne : Soldes d'hiver", "Votre code : MAREDUC20", "valable tant que la campagne est en ligne", "Le kit est joint en CSV et en JSON."} {
		if !strings.Contains(text, want) {
			t.Errorf("the kit mail lacks %q:\n%s", want, text)
		}
	}
}
