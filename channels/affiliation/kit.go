package affiliation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/mailer"
	"github.com/rampe/rampe/platform/sheet"
)

// Kit is what a partner needs to promote a campaign: its links, its code,
// the window in its own time zone, the comparator feeds and creatives.
type Kit struct {
	CampaignID  uint64        `json:"campaign_id"`
	Campaign    string        `json:"campaign"`
	PartnerID   uint64        `json:"partner_id"`
	Partner     string        `json:"partner"`
	TimeZone    string        `json:"time_zone"`
	StartsAt    string        `json:"starts_at"` // in the partner's zone, RFC 3339
	EndsAt      string        `json:"ends_at"`
	FallbackURL string        `json:"fallback_url"`
	Links       []KitLink     `json:"links"`
	Code        string        `json:"code,omitempty"`
	CodeGives   string        `json:"code_gives,omitempty"`
	Feeds       []string      `json:"feeds,omitempty"`
	Creatives   []KitCreative `json:"creatives,omitempty"`
	// codeGivesIn writes what the code gives in a language, for the
	// e-mail (CodeGives is for programs).
	codeGivesIn func(lang string) string
}

// KitCreative is a display creative of the campaign a partner may show:
// its image (served by Rampe) to wrap in the partner's own tracked link.
type KitCreative struct {
	Name     string `json:"name"`
	Size     string `json:"size"` // "300x250"
	Alt      string `json:"alt"`
	ImageURL string `json:"image_url"`
}

// KitLink is one tracked link of a kit.
type KitLink struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Extras gives what other channels add to kits: the comparator feeds a
// campaign links, the display channel's creatives (each may be nil).
type Extras interface {
	FeedURLs(ctx context.Context, c *campaigns.Campaign) ([]string, error)
	Creatives(ctx context.Context, c *campaigns.Campaign) ([]KitCreative, error)
}

// KitRecord is a kit sent (or tried) to a partner.
type KitRecord struct {
	ID         uint64 `gorm:"primaryKey"`
	CampaignID uint64
	PartnerID  uint64
	Hash       string
	Body       string
	Changes    string
	SentAt     *time.Time
	Error      string
	CreatedAt  time.Time
}

// TableName of kit records.
func (KitRecord) TableName() string { return "affiliation_kits" }

// Kits builds the kit of every partner of the campaign.
func (s *Service) Kits(ctx context.Context, c *campaigns.Campaign) ([]Kit, error) {
	ms, err := s.Members(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Kit, 0, len(ms))
	for _, m := range ms {
		k, err := s.kit(ctx, c, m)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, nil
}

// KitOf builds one partner's kit.
func (s *Service) KitOf(ctx context.Context, c *campaigns.Campaign, partnerID uint64) (*Kit, error) {
	var m Member
	if err := s.DB.WithContext(ctx).Where("campaign_id = ? AND partner_id = ?", c.ID, partnerID).Take(&m).Error; err != nil {
		return nil, ErrNotFound
	}
	return s.kit(ctx, c, m)
}

func (s *Service) kit(ctx context.Context, c *campaigns.Campaign, m Member) (*Kit, error) {
	p, err := s.Partner(ctx, m.PartnerID)
	if err != nil {
		return nil, err
	}
	plan, err := s.PlanOf(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	loc, err := clock.Location(p.TimeZone)
	if err != nil {
		loc = c.Location()
	}
	k := &Kit{CampaignID: c.ID, Campaign: c.Name, PartnerID: p.ID, Partner: p.Name, TimeZone: loc.String(),
		StartsAt: c.StartsAt.In(loc).Format(time.RFC3339), EndsAt: c.EndsAt.In(loc).Format(time.RFC3339), FallbackURL: s.Fallback(plan), Code: m.Code}
	links, err := s.PartnerLinks(ctx, c.ID, p.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		k.Links = append(k.Links, KitLink{Label: l.Label, URL: s.TrackedURL(&l)})
	}
	if m.Code != "" {
		if pr, err := s.Promotions.Get(ctx, m.PromotionID); err == nil {
			k.CodeGives, k.codeGivesIn = pr.Label(), pr.LabelIn
		}
	}
	if s.Extras != nil {
		if k.Feeds, err = s.Extras.FeedURLs(ctx, c); err != nil {
			return nil, err
		}
		if k.Creatives, err = s.Extras.Creatives(ctx, c); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// JSON is the kit as a JSON document.
func (k *Kit) JSON() []byte {
	b, _ := json.MarshalIndent(k, "", "  ")
	return b
}

// Hash identifies the kit's content.
func (k *Kit) Hash() string {
	b, _ := json.Marshal(k)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// CSV is the kit as rows of field, label, value (spreadsheet-safe).
func (k *Kit) CSV() []byte {
	var b bytes.Buffer
	w := sheet.NewWriter(&b)
	w.Write([]string{"field", "label", "value"})
	w.Write([]string{"campaign", "", k.Campaign})
	w.Write([]string{"partner", "", k.Partner})
	w.Write([]string{"starts_at", k.TimeZone, k.StartsAt})
	w.Write([]string{"ends_at", k.TimeZone, k.EndsAt})
	for _, l := range k.Links {
		w.Write([]string{"link", l.Label, l.URL})
	}
	if k.Code != "" {
		w.Write([]string{"code", k.CodeGives, k.Code})
	}
	for _, f := range k.Feeds {
		w.Write([]string{"feed", "", f})
	}
	for _, c := range k.Creatives {
		w.Write([]string{"creative", c.Size + " " + c.Alt, c.ImageURL})
	}
	w.Write([]string{"fallback_url", "before and after the campaign", k.FallbackURL})
	w.Flush()
	return b.Bytes()
}

// Changes lists what differs from an earlier kit, for people (written in
// the reader's language).
func (k *Kit) Changes(old *Kit) []i18n.Message {
	if old == nil {
		return nil
	}
	var out []i18n.Message
	if old.StartsAt != k.StartsAt || old.EndsAt != k.EndsAt {
		out = append(out, i18n.M("window: %s – %s (was %s – %s)", kitTime(k.StartsAt), kitTime(k.EndsAt), kitTime(old.StartsAt), kitTime(old.EndsAt)))
	}
	if old.Code != k.Code || old.CodeGives != k.CodeGives {
		out = append(out, i18n.M("code: %q %s (was %q %s)", k.Code, k.CodeGives, old.Code, old.CodeGives))
	}
	if old.FallbackURL != k.FallbackURL {
		out = append(out, i18n.M("fallback: %s (was %s)", k.FallbackURL, old.FallbackURL))
	}
	was := map[string]string{}
	for _, l := range old.Links {
		was[l.Label] = l.URL
	}
	for _, l := range k.Links {
		if u, ok := was[l.Label]; !ok {
			out = append(out, i18n.M("new link %s: %s", linkName(l.Label), l.URL))
		} else if u != l.URL {
			out = append(out, i18n.M("changed link %s: %s", linkName(l.Label), l.URL))
		}
		delete(was, l.Label)
	}
	gone := make([]string, 0, len(was))
	for l := range was {
		gone = append(gone, l)
	}
	sort.Strings(gone)
	for _, l := range gone {
		out = append(out, i18n.M("removed link %s", linkName(l)))
	}
	if strings.Join(old.Feeds, ",") != strings.Join(k.Feeds, ",") {
		out = append(out, i18n.M("feeds: %s", strings.Join(k.Feeds, ", ")))
	}
	if imageURLs(old.Creatives) != imageURLs(k.Creatives) {
		out = append(out, i18n.M("creatives: %s", imageURLs(k.Creatives)))
	}
	if old.Campaign != k.Campaign {
		out = append(out, i18n.M("campaign name: %s", k.Campaign))
	}
	return out
}

func imageURLs(cs []KitCreative) string {
	urls := make([]string, len(cs))
	for i, c := range cs {
		urls[i] = c.ImageURL
	}
	return strings.Join(urls, ", ")
}

// lastSent is the last kit a partner received for a campaign (nil: none).
func (s *Service) lastSent(ctx context.Context, campaignID, partnerID uint64) (*KitRecord, error) {
	var r KitRecord
	err := s.DB.WithContext(ctx).Where("campaign_id = ? AND partner_id = ? AND sent_at IS NOT NULL", campaignID, partnerID).Order("id DESC").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &r, err
}

// KitStatus says where a partner's kit stands.
type KitStatus struct {
	PartnerID uint64
	SentAt    *time.Time // of the last kit received
	Current   bool       // the last kit received is the current plan's
	LastError string
}

// KitStatuses gives the kit status of every partner of the campaign.
func (s *Service) KitStatuses(ctx context.Context, c *campaigns.Campaign) (map[uint64]KitStatus, error) {
	kits, err := s.Kits(ctx, c)
	if err != nil {
		return nil, err
	}
	out := map[uint64]KitStatus{}
	for _, k := range kits {
		st := KitStatus{PartnerID: k.PartnerID}
		last, err := s.lastSent(ctx, c.ID, k.PartnerID)
		if err != nil {
			return nil, err
		}
		if last != nil {
			st.SentAt, st.Current = last.SentAt, last.Hash == k.Hash()
		}
		var failed KitRecord
		if s.DB.WithContext(ctx).Where("campaign_id = ? AND partner_id = ? AND sent_at IS NULL", c.ID, k.PartnerID).Order("id DESC").Take(&failed).Error == nil &&
			(last == nil || failed.ID > last.ID) {
			st.LastError = failed.Error
		}
		out[k.PartnerID] = st
	}
	return out, nil
}

// SendKits e-mails each partner whose last kit is not the current plan's
// the kit, with what changed since the last one. It returns how many were
// sent; a partner whose kit could not be sent is recorded with the error
// and tried again next time.
func (s *Service) SendKits(ctx context.Context, campaignID uint64) (n int, err error) {
	defer func() {
		// The kit gate may be all that held a blocked campaign: it is
		// judged again now, not at its next retry minutes later.
		if n > 0 && err == nil && s.KitsSent != nil {
			s.KitsSent(ctx, campaignID)
		}
	}()
	return s.sendKits(ctx, campaignID)
}

func (s *Service) sendKits(ctx context.Context, campaignID uint64) (int, error) {
	c, err := s.Campaigns.Get(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	if !c.Has(campaigns.Affiliation) {
		return 0, nil
	}
	kits, err := s.Kits(ctx, c)
	if err != nil {
		return 0, err
	}
	sent := 0
	var firstErr error
	for i := range kits {
		k := &kits[i]
		last, err := s.lastSent(ctx, c.ID, k.PartnerID)
		if err != nil {
			return sent, err
		}
		if last != nil && last.Hash == k.Hash() {
			continue
		}
		var old *Kit
		if last != nil {
			old = &Kit{}
			json.Unmarshal([]byte(last.Body), old)
		}
		changes := k.Changes(old)
		p, err := s.Partner(ctx, k.PartnerID)
		if err != nil {
			return sent, err
		}
		rec := KitRecord{CampaignID: c.ID, PartnerID: k.PartnerID, Hash: k.Hash(), Body: string(k.JSON()), Changes: joinText(changes, i18n.EN, "\n"), CreatedAt: s.now()}
		if err := s.mailKit(ctx, p, k, changes, old != nil); err != nil {
			rec.Error = err.Error()
			if firstErr == nil {
				firstErr = err
			}
			slog.Warn("affiliation: kit not sent", "campaign_id", c.ID, "partner_id", p.ID, "err", err)
		} else {
			now := s.now()
			rec.SentAt = &now
			sent++
		}
		if err := s.DB.WithContext(ctx).Create(&rec).Error; err != nil {
			return sent, err
		}
	}
	return sent, firstErr
}

// joinText writes messages in lang, one after the other with sep.
func joinText(ms []i18n.Message, lang, sep string) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Text(lang)
	}
	return strings.Join(parts, sep)
}

// KitLang is the language of the kits e-mailed to partners: the
// merchant's default (DefaultLang, landing.default_lang), English when
// unset. Partners have no language of their own: they work the
// merchant's market, in its language; the CSV and JSON attachments keep
// their field names, which programs read.
func (s *Service) KitLang() string {
	if i18n.Supported(s.DefaultLang) {
		return s.DefaultLang
	}
	return i18n.EN
}

func (s *Service) mailKit(ctx context.Context, p *Partner, k *Kit, changes []i18n.Message, update bool) error {
	if s.Mailer == nil {
		return i18n.Errorf("no SMTP server configured (smtp.url)")
	}
	lang := s.KitLang()
	subject := i18n.T(lang, "Kit for %s: %s", k.Campaign, k.Partner)
	var b strings.Builder
	b.WriteString(i18n.T(lang, "Hello %s,", p.Name) + "\n\n")
	if update {
		subject = i18n.T(lang, "Updated kit for %s: %s", k.Campaign, k.Partner)
		b.WriteString(i18n.T(lang, "The plan of this campaign changed. What changed:") + "\n")
		for _, c := range changes {
			b.WriteString("  - " + c.Text(lang) + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(i18n.T(lang, "Campaign: %s", k.Campaign) + "\n")
	b.WriteString(i18n.T(lang, "From %s to %s (%s)", kitTime(k.StartsAt), kitTime(k.EndsAt), k.TimeZone) + "\n\n")
	for _, l := range k.Links {
		b.WriteString(linkLine(lang, l) + "\n")
	}
	if k.Code != "" {
		gives := k.CodeGives
		if k.codeGivesIn != nil {
			gives = k.codeGivesIn(lang) // "-15,00 €" in French
		}
		b.WriteString("\n" + i18n.T(lang, "Your code: %s (%s), valid while the campaign is live", k.Code, gives) + "\n")
	}
	for _, f := range k.Feeds {
		b.WriteString(i18n.T(lang, "Product feed: %s", f) + "\n")
	}
	for _, c := range k.Creatives {
		b.WriteString(i18n.T(lang, "Creative %s (%s): %s", c.Size, c.Alt, c.ImageURL) + "\n")
	}
	b.WriteString("\n" + i18n.T(lang, "Before and after the campaign the links lead to %s.", k.FallbackURL) + "\n")
	b.WriteString(i18n.T(lang, "The kit is attached as CSV and JSON.") + "\n")
	base := fmt.Sprintf("kit-%d-%s", k.CampaignID, slugify(k.Partner))
	return s.Mailer.Send(ctx, mailer.Message{To: p.Email, Subject: subject, Text: b.String(), Attachments: []mailer.Attachment{
		{Name: base + ".csv", ContentType: "text/csv", Data: k.CSV()}, {Name: base + ".json", ContentType: "application/json", Data: k.JSON()}}})
}

// kitGate: every partner got the kit of the current plan at least the
// notice before starts_at (warn when later, fail when never).
func (ch *Channel) kitGate(ctx context.Context, c *campaigns.Campaign, _ time.Time) campaigns.Result {
	s := ch.Service
	sts, err := s.KitStatuses(ctx, c)
	if err != nil {
		return pending(err)
	}
	notice := ch.Notice
	if notice == 0 {
		notice = 48 * time.Hour
	}
	deadline := c.StartsAt.Add(-notice)
	var never, late []string
	for id, st := range sts {
		p, err := s.Partner(ctx, id)
		if err != nil {
			return pending(err)
		}
		switch {
		case st.SentAt == nil || !st.Current:
			never = append(never, p.Name)
		case st.SentAt.After(deadline):
			late = append(late, p.Name)
		}
	}
	sort.Strings(never)
	sort.Strings(late)
	measured := map[string]any{"partners": len(sts), "without_current_kit": len(never), "late": len(late)}
	switch {
	case len(sts) == 0:
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.M("no partner to send a kit to")}
	case len(never) > 0:
		return campaigns.Result{Outcome: campaigns.Fail, Measured: measured, Msg: i18n.M("%d partners lack the kit of the current plan: %s; send the kits from the Affiliation tab", len(never), strings.Join(never, ", "))}
	case len(late) > 0:
		return campaigns.Result{Outcome: campaigns.Warn, Measured: measured, Msg: i18n.M("%d partners got the kit less than %s before the start: %s", len(late), i18n.Duration(notice), strings.Join(late, ", "))}
	}
	return campaigns.Result{Outcome: campaigns.Pass, Measured: measured, Msg: i18n.M("every partner (%d) got the current kit at least %s before the start", len(sts), i18n.Duration(notice))}
}

// SendDueKits sends the kits of every scheduled or running campaign whose
// partners lack the kit of its current plan; it returns how many.
func (s *Service) SendDueKits(ctx context.Context) (int, error) {
	if s.Mailer == nil {
		return 0, nil
	}
	var ids []uint64
	if err := s.DB.WithContext(ctx).Model(&Member{}).Distinct().Order("campaign_id").Pluck("campaign_id", &ids).Error; err != nil {
		return 0, err
	}
	total := 0
	var firstErr error
	for _, id := range ids {
		c, err := s.Campaigns.Get(ctx, id)
		if err != nil {
			continue
		}
		switch c.Status {
		case campaigns.Scheduled, campaigns.Blocked, campaigns.Live, campaigns.Paused:
		default:
			continue
		}
		n, err := s.SendKits(ctx, id)
		total += n
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return total, firstErr
}
