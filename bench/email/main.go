// Command email is bench/email's program, in three modes, each its own
// process so that each one's peak RSS is its own:
//
//   - seed: a fresh database (SQLite file or PostgreSQL DSN) with N contacts
//     imported into a list through the audience's CSV import, a campaign on
//     the e-mail channel, live, and its personalised ~10 KB message saved
//     through the message API. It writes what a recipient reads (the
//     preview of the first contact) to -sample, for the go-mail reference.
//   - rampe: the e-mail channel's engine as a worker runs it: Launch, then
//     Sender.Run of the send (freezing the recipients into the ledger,
//     rendering, tracked links, unsubscribe tokens, the SMTP pool, the
//     ledger's group commits), timed, then the ledger's counts.
//   - gomail: the reference: bare go-mail sending the same messages,
//     pre-rendered before the clock starts (the sample personalised per
//     recipient, the same headers), over the same number of connections.
//
// Each prints one line of key=value fields; rss_mib is the process's
// VmHWM.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/channels/clicks"
	"github.com/rampe/rampe/channels/email"
	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/queue"
)

const (
	baseURL  = "https://shop.example"
	fromAddr = "news@shop.example"
	fromName = "Boutique Rampe"
	listName = "Newsletter"
)

func main() {
	mode := flag.String("mode", "", "seed, rampe or gomail")
	dsn := flag.String("dsn", "", "database: a SQLite file or a PostgreSQL DSN")
	n := flag.Int("n", 100000, "recipients")
	smtpAddr := flag.String("smtp", "127.0.0.1:2525", "SMTP server host:port (no TLS)")
	pool := flag.Int("pool", 4, "SMTP connections")
	sample := flag.String("sample", "", "seed writes, gomail reads: the message as the first contact reads it (JSON)")
	eml := flag.String("eml", "", "gomail: write the first pre-rendered message here (smtp-source -F)")
	cpuprofile := flag.String("cpuprofile", "", "rampe: CPU profile of the send")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx := context.Background()
	switch *mode {
	case "seed":
		seed(ctx, *dsn, *n, *sample)
	case "rampe":
		runRampe(ctx, *dsn, *n, *smtpAddr, *pool, *cpuprofile)
	case "gomail":
		runGoMail(*sample, *n, *smtpAddr, *pool, *eml)
	default:
		must(fmt.Errorf("-mode seed, rampe or gomail"))
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench email:", err)
		os.Exit(1)
	}
}

// stack is the part of Rampe a send needs, wired as cmd/rampe wires it.
type stack struct {
	g      *gorm.DB
	cs     *campaigns.Service
	aud    *audience.Service
	sender *email.Sender
	conn   *queue.Conn
}

func open(ctx context.Context, dsn, smtpAddr string, pool int) *stack {
	g, err := db.Open(dsn)
	must(err)
	_, err = db.Migrate(ctx, g, db.Migrations, campaigns.Migrations, clicks.Migrations, email.Migrations, audience.Migrations)
	must(err)
	conn, err := queue.Connect(ctx, "") // in-process: the send's own job is all that is queued
	must(err)
	tasks := queue.NewClient(conn)
	clk := clock.System{} // the one time source of the bench's stack
	cs := campaigns.NewService(g, tasks, clk)
	aud := &audience.Service{DB: g, Secret: []byte("bench-secret"), Clock: clk, BaseURL: baseURL}
	cfg, err := mailer.ParseURL("smtp://" + smtpAddr + "?tls=none")
	must(err)
	s := &email.Sender{DB: g, Campaigns: cs, Messages: &email.Messages{DB: g, Clock: clk}, Audience: audience.ForEmail{Service: aud},
		Offers: offers{}, Clicks: &clicks.Service{DB: g, Secret: []byte("bench-secret"), Clock: clk}, Tasks: tasks, SMTP: cfg,
		BaseURL: baseURL, Secret: []byte("bench-secret"), Pool: pool, Clock: clk}
	return &stack{g: g, cs: cs, aud: aud, sender: s, conn: conn}
}

func (st *stack) close() { st.conn.Close(); db.Close(st.g) }

// offers is the campaign's landing page as the message shows it: its
// address and six products at the price of the instant. (The landing
// domain computes it once per edition of a send, not per recipient.)
type offers struct{}

func (offers) Offer(context.Context, *campaigns.Campaign, time.Time) (*email.Offer, error) {
	o := &email.Offer{LandingURL: baseURL + "/l/soldes-hiver"}
	for i := 1; i <= 6; i++ {
		o.Products = append(o.Products, email.OfferLine{Title: fmt.Sprintf("Manteau laine et cachemire, modèle %d", i),
			Link: fmt.Sprintf("%s/p/manteau-%d", baseURL, i), Image: fmt.Sprintf("%s/img/manteau-%d.jpg", baseURL, i),
			Price: fmt.Sprintf("%d,00 €", 99+i*10), Regular: fmt.Sprintf("%d,00 €", 149+i*10), Badge: "-30 %", OnSale: true})
	}
	return o, nil
}

// body is the message a marketer writes: Markdown with personalisation
// fields, links to the landing page, the product block.
func body() string {
	var b strings.Builder
	b.WriteString("# Bonjour {{.first_name}}, les soldes d'hiver commencent\n\n")
	b.WriteString("Chère cliente, cher client ({{.email}}), comme vous êtes abonné(e) depuis {{or .member_since \"longtemps\"}} à notre lettre, " +
		"vous avez accès aux soldes **avant tout le monde**. Votre boutique la plus proche est celle de {{or .city \"Paris\"}}.\n\n")
	paras := []string{
		"Nos manteaux en laine et cachemire, tissés en Écosse et coupés dans notre atelier de Roubaix, passent à -30 % pendant trois jours seulement. Les tailles partent vite : celles que vous avez déjà commandées sont gardées pour vous jusqu'à demain midi.",
		"La livraison est offerte dès 50 € d'achat, en point relais comme à domicile, et les retours restent gratuits pendant 60 jours : vous essayez chez vous, vous renvoyez ce qui ne vous va pas, sans justification.",
		"Nos conseillers répondent au téléphone et par chat de 9 h à 20 h, six jours sur sept, pour une question de taille, de matière ou d'entretien. Ils connaissent chaque pièce de la collection et savent vous dire comment elle taille.",
		"Pensez aussi aux accessoires : écharpes, bonnets et gants assortis sont à -20 % dès deux articles achetés, et la retouche des manches est offerte en boutique pendant toute la durée des soldes.",
	}
	for i := 0; i < 1; i++ {
		for j, p := range paras {
			fmt.Fprintf(&b, "%s [Découvrir la sélection %d](%s/l/soldes-hiver?section=%d)\n\n", p, i*len(paras)+j+1, baseURL, i*len(paras)+j+1)
		}
	}
	b.WriteString("{{.products}}\n\n")
	b.WriteString("[Voir toutes les offres, {{.first_name}}]({{.landing_url}})\n\nÀ très vite,\n\nL'équipe de la Boutique Rampe\n")
	return b.String()
}

func seed(ctx context.Context, dsn string, n int, sampleFile string) {
	st := open(ctx, dsn, "127.0.0.1:25", 1)
	defer st.close()
	t0 := time.Now()
	list, err := st.aud.CreateList(ctx, audience.ListInput{Name: listName, DoubleOptIn: new(bool)})
	must(err)
	pr, pw := io.Pipe()
	go func() {
		w := bytesWriter{pw}
		w.line("email,name,locale,country,time_zone,city,member_since")
		cities := []string{"Lille", "Lyon", "Nantes", "Bordeaux", "Marseille", "Strasbourg", ""}
		for i := 1; i <= n; i++ {
			loc, tz := "fr", "Europe/Paris"
			if i%5 == 0 {
				loc, tz = "en", "Europe/London"
			}
			w.line(fmt.Sprintf("client%d@mail%d.example.org,Client%d Dupont-%d,%s,FR,%s,%s,%d", i, i%50, i, i, loc, tz, cities[i%len(cities)], 2010+i%15))
		}
		pw.Close()
	}()
	res, err := st.aud.Import(ctx, pr, audience.ImportOptions{Format: "csv", ListID: list.ID})
	must(err)
	if res.Imported != int64(n) {
		must(fmt.Errorf("imported %d contacts of %d", res.Imported, n))
	}
	c, err := st.cs.Create(ctx, campaigns.Input{Name: "Soldes d'hiver", Channels: []string{"email"}, TimeZone: "Europe/Paris",
		StartsAt: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), EndsAt: time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339),
		Currency: "EUR", Budgets: map[string]int64{"email": 100000},
		Forecast: map[string]map[string]float64{"email": {"audience": float64(n), "open_rate": 0.25, "click_rate": 0.05}}}, "bench")
	must(err)
	m := &email.Message{CampaignID: c.ID, FromName: fromName, FromAddr: fromAddr, Subject: "{{.first_name}}, les soldes d'hiver : -30 % avant tout le monde",
		Preheader: "Trois jours d'avant-première, livraison offerte", Format: email.FormatMarkdown, Body: body(), ListID: list.ID}
	must(st.sender.Messages.Save(ctx, m, "bench"))
	// Live: the campaign's gates are not what this bench measures.
	must(st.g.Model(&campaigns.Campaign{}).Where("id = ?", c.ID).Update("status", campaigns.Live).Error)
	c.Status = campaigns.Live
	r, err := st.sender.Preview(ctx, c, m, 0)
	must(err)
	first, err := st.aud.Mailable(ctx, audience.Spec{ListID: list.ID}, 0, 1)
	must(err)
	b, _ := json.Marshal(sampleMsg{To: r.To, Name: first[0].Name, Subject: r.Subject, HTML: r.HTML, Text: r.Text, List: listName, CampaignID: c.ID})
	must(os.WriteFile(sampleFile, b, 0o644))
	fmt.Printf("seeded n=%d campaign=%d list=%d seconds=%.1f\n", n, c.ID, list.ID, time.Since(t0).Seconds())
}

type bytesWriter struct{ w io.Writer }

func (b bytesWriter) line(s string) { io.WriteString(b.w, s+"\n") }

// sampleMsg is the message as the first contact reads it.
type sampleMsg struct {
	To, Name, Subject, HTML, Text, List string
	CampaignID                          uint64
}

func runRampe(ctx context.Context, dsn string, n int, smtpAddr string, pool int, cpuprofile string) {
	st := open(ctx, dsn, smtpAddr, pool)
	defer st.close()
	var c campaigns.Campaign
	must(st.g.Order("id").Take(&c).Error)
	cc, err := st.cs.Get(ctx, c.ID)
	must(err)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	detail, err := st.sender.Launch(ctx, cc)
	must(err)
	sends, err := st.sender.Sends(ctx, c.ID)
	must(err)
	if len(sends) != 1 {
		must(fmt.Errorf("launch %q made %d sends", detail, len(sends)))
	}
	must(st.sender.Run(ctx, sends[0].ID))
	elapsed := time.Since(t0)
	sd, err := st.sender.GetSend(ctx, sends[0].ID)
	must(err)
	p, err := st.sender.Progress(ctx, sd.ID)
	must(err)
	engine := "sqlite"
	if db.IsPostgres(st.g) {
		engine = "postgres"
	}
	fmt.Printf("rampe engine=%s n=%d pool=%d seconds=%.2f msgs_per_s=%.0f ledger_sent=%d ledger_failed=%d ledger_remaining=%d send_status=%s rss_mib=%.1f\n",
		engine, n, pool, elapsed.Seconds(), float64(p.Sent)/elapsed.Seconds(), p.Sent, p.Failed, p.Remaining(), sd.Status, vmHWM())
}

// runGoMail pre-renders n messages (the sample personalised for each
// recipient, with the headers Rampe writes) and sends them with go-mail
// over pool connections, each connection sending its share, a message a
// Client.SendWithSMTPClient call.
func runGoMail(sampleFile string, n int, smtpAddr string, pool int, emlFile string) {
	raw, err := os.ReadFile(sampleFile)
	must(err)
	var s sampleMsg
	must(json.Unmarshal(raw, &s))
	host, port, _ := strings.Cut(smtpAddr, ":")
	portN, err := strconv.Atoi(port)
	must(err)
	msgs := make([]*mail.Msg, n)
	firstName, _, _ := strings.Cut(s.Name, " ")
	for i := range msgs {
		k := i + 1
		name := fmt.Sprintf("Client%d Dupont-%d", k, k)
		addr := fmt.Sprintf("client%d@mail%d.example.org", k, k%50)
		r := strings.NewReplacer(s.To, addr, s.Name, name, firstName, fmt.Sprintf("Client%d", k))
		unsub := fmt.Sprintf("%s/u/%s", baseURL, unsubTokens.UnsubscribeToken(1, uint64(k)))
		// The preview shows links as they lead: the recipient's message
		// has them tracked (/r/{token}), and its own unsubscribe link.
		track := func(part string) string {
			link := uint64(0)
			part = landingLink.ReplaceAllStringFunc(part, func(string) string {
				link++
				return baseURL + "/r/" + clickTokens.Token(link, uint64(k))
			})
			return strings.ReplaceAll(r.Replace(part), baseURL+"/u/preview", unsub)
		}
		m := mail.NewMsg(mail.WithNoDefaultUserAgent())
		must(m.FromFormat(fromName, fromAddr))
		must(m.AddToFormat(name, addr))
		m.Subject(r.Replace(s.Subject))
		m.SetMessageIDWithValue(fmt.Sprintf("rampe.s1.c%d@shop.example", k))
		m.SetDate()
		m.SetGenHeaderPreformatted("List-Unsubscribe", fmt.Sprintf("<%s>, <mailto:%s?subject=unsubscribe%%20%s>", unsub, fromAddr, unsub[len(baseURL)+3:]))
		m.SetGenHeaderPreformatted("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		m.SetGenHeader("List-Id", fmt.Sprintf("%s <c%d.shop.example>", s.List, s.CampaignID))
		m.SetBulk()
		m.SetBodyString(mail.TypeTextPlain, track(s.Text))
		m.AddAlternativeString(mail.TypeTextHTML, track(s.HTML))
		msgs[i] = m
	}
	var size bytes.Buffer
	_, err = msgs[0].WriteTo(&size)
	must(err)
	if emlFile != "" {
		must(os.WriteFile(emlFile, size.Bytes(), 0o644))
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, pool)
	for w := 0; w < pool; w++ {
		lo, hi := w*n/pool, (w+1)*n/pool
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := mail.NewClient(host, mail.WithPort(portN), mail.WithTLSPolicy(mail.NoTLS), mail.WithTimeout(15*time.Second), mail.WithoutNoop())
			if err != nil {
				errs <- err
				return
			}
			sc, err := cl.DialToSMTPClientWithContext(context.Background())
			if err != nil {
				errs <- err
				return
			}
			defer cl.CloseWithSMTPClient(sc)
			// One message a call: each call extends the connection's
			// deadline (WithoutNoop: no NOOP before each).
			for _, m := range msgs[lo:hi] {
				if err := cl.SendWithSMTPClient(sc, m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	must(<-errs)
	fmt.Printf("gomail n=%d pool=%d bytes=%d seconds=%.2f msgs_per_s=%.0f rss_mib=%.1f\n", n, pool, size.Len(), elapsed.Seconds(), float64(n)/elapsed.Seconds(), vmHWM())
}

var (
	landingLink = regexp.MustCompile(`https://shop\.example/[lp]/[^"\s<>]*`)
	clickTokens = &clicks.Service{Secret: []byte("bench-secret")}
	unsubTokens = &email.Sender{Secret: []byte("bench-secret")}
)

// vmHWM is the process's peak resident set, MiB.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
