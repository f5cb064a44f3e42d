package display

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/rampe/rampe/platform/i18n"
	"image"
	_ "image/gif" // decoders image.DecodeConfig dispatches to
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	_ "golang.org/x/image/webp"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
)

// Size is a width and height in CSS pixels.
type Size struct{ W, H int }

func (z Size) String() string { return fmt.Sprintf("%d×%d", z.W, z.H) }

// Key is the size as forms send it, "300x250".
func (z Size) Key() string { return fmt.Sprintf("%dx%d", z.W, z.H) }

// IABSizes are the IAB standard units Rampe accepts (2017 portfolio and the
// legacy sizes still sold), in the order forms list them.
var IABSizes = []Size{{300, 250}, {728, 90}, {160, 600}, {300, 600}, {320, 50}, {970, 250}, {336, 280}, {468, 60}}

// IsIAB tells whether z is an accepted size.
func (z Size) IsIAB() bool {
	for _, s := range IABSizes {
		if s == z {
			return true
		}
	}
	return false
}

func sizeList() string {
	parts := make([]string, len(IABSizes))
	for i, z := range IABSizes {
		parts[i] = z.String()
	}
	return strings.Join(parts, ", ")
}

// ParseSize reads "300x250" (or 300×250) into an IAB size.
func ParseSize(v string) (Size, error) {
	var z Size
	v = strings.ReplaceAll(strings.TrimSpace(v), "×", "x")
	if _, err := fmt.Sscanf(v, "%dx%d", &z.W, &z.H); err != nil || !z.IsIAB() || z.Key() != v {
		return Size{}, &FieldError{"size", i18n.M("%q is not one of the IAB sizes %s", v, sizeList())}
	}
	return z, nil
}

// CreativeInput is an upload: the file's bytes and the form's fields.
type CreativeInput struct {
	Data     []byte
	Filename string
	Name     string
	Alt      string
	ClickURL string // empty: the campaign's landing page with UTM
	Rotation int    // weight in the rotation, 1–100 (0: 1)
}

// CheckImage reads an upload's type from its bytes (never its name) and
// its dimensions from the file: PNG, JPEG, GIF or WebP of an IAB size,
// within the weight limit. SVG is refused (it can carry script).
func (s *Service) CheckImage(data []byte) (mime string, z Size, err error) {
	if len(data) == 0 {
		return "", z, &FieldError{"file", i18n.M("choose an image file (PNG, JPEG, GIF or WebP)")}
	}
	if looksSVG(data) {
		return "", z, &FieldError{"file", i18n.M("SVG is refused: an SVG file can carry script; upload a PNG, JPEG, GIF or WebP")}
	}
	mime = http.DetectContentType(data)
	if extOf[mime] == "" {
		return "", z, &FieldError{"file", i18n.M("the file is %s, not an image Rampe takes (PNG, JPEG, GIF or WebP); its type is read from its content, not its name", mime)}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || "image/"+format != mime {
		return "", z, &FieldError{"file", i18n.M("the %s image does not decode: %v", extOf[mime], err)}
	}
	// DecodeConfig reads the header only: a truncated image is caught by
	// decoding it whole.
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", z, &FieldError{"file", i18n.M("the %s image is damaged: %v", extOf[mime], err)}
	}
	z = Size{cfg.Width, cfg.Height}
	if !z.IsIAB() {
		return "", z, &FieldError{"file", i18n.M("the image is %s px; accepted sizes are the IAB units %s", z, sizeList())}
	}
	if len(data) > s.maxBytes() {
		return "", z, &FieldError{"file", i18n.M("the image weighs %s, over the %s limit (display.max_weight_kb)", kb(len(data)), kb(s.maxBytes()))}
	}
	return mime, z, nil
}

func kb(n int) i18n.Message { return i18n.M("%.1f KB", float64(n)/1024) }

// looksSVG tells an SVG (or any XML) document from its first bytes.
func looksSVG(data []byte) bool {
	head := bytes.ToLower(data[:min(len(data), 1024)])
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	return bytes.HasPrefix(head, []byte("<?xml")) || bytes.Contains(head, []byte("<svg"))
}

func checkText(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", &FieldError{field, i18n.M("required")}
	}
	if len([]rune(v)) > max {
		return "", &FieldError{field, i18n.M("at most %d characters", max)}
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", &FieldError{field, i18n.M("holds a control character")}
	}
	return v, nil
}

func absoluteURL(field, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return "", &FieldError{field, i18n.M("%q is not an absolute http(s) URL", raw)}
	}
	return u.String(), nil
}

// AddCreative checks and stores a creative of campaign c (nil: a house
// creative, shown where no campaign is live, whose click URL is required).
// A campaign creative's click goes through /r/{token} to its click URL,
// by default the campaign's landing page with UTM.
func (s *Service) AddCreative(ctx context.Context, c *campaigns.Campaign, in CreativeInput, by string) (*Creative, error) {
	mime, z, err := s.CheckImage(in.Data)
	if err != nil {
		return nil, err
	}
	alt, err := checkText("alt", in.Alt, 150, true)
	if err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = in.Filename
	}
	name, err := checkText("name", in.Name, 100, false)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = z.Key()
	}
	rot := in.Rotation
	if rot == 0 {
		rot = 1
	}
	if rot < 1 || rot > 100 {
		return nil, &FieldError{"rotation_weight", i18n.M("%d is outside 1–100", rot)}
	}
	sum := sha256.Sum256(in.Data)
	cr := &Creative{Name: name, Alt: alt, Width: z.W, Height: z.H, MIME: mime, Size: len(in.Data), SHA: hex.EncodeToString(sum[:]),
		Data: in.Data, Rotation: rot, CreatedBy: by, CreatedAt: s.now()}
	if c == nil {
		if cr.ClickURL, err = absoluteURL("click_url", in.ClickURL); err != nil {
			return nil, err
		}
	} else {
		if !c.Has(campaigns.Display) {
			return nil, &FieldError{"channel", i18n.M("the campaign is not on the display channel")}
		}
		if err := s.campaignClick(ctx, c, cr, in.ClickURL, by); err != nil {
			return nil, err
		}
		cr.CampaignID = &c.ID
	}
	if err := s.DB.WithContext(ctx).Create(cr).Error; err != nil {
		return nil, fmt.Errorf("display: save creative: %w", err)
	}
	if c != nil && s.CreativesChanged != nil {
		s.CreativesChanged(ctx, c.ID)
	}
	return cr, s.Changed(ctx)
}

// campaignClick sets the creative's click URL and its tracked link. The
// UTM content names the image, so each creative has a link of its own and
// its clicks are told apart.
func (s *Service) campaignClick(ctx context.Context, c *campaigns.Campaign, cr *Creative, raw, by string) error {
	dest := strings.TrimSpace(raw)
	if dest == "" {
		land, err := s.LandingURL(ctx, c)
		if err != nil {
			return err
		}
		if land == "" {
			return &FieldError{"click_url", i18n.M("the campaign has no landing page: choose one on the campaign, or give a click URL")}
		}
		dest = land
	}
	dest, err := absoluteURL("click_url", dest)
	if err != nil {
		return err
	}
	dest = landing.UTM{Source: "rampe", Medium: "display", Campaign: fmt.Sprintf("campaign-%d", c.ID), Content: cr.Dim().Key() + "-" + cr.SHA[:8]}.Apply(dest)
	l, err := s.Clicks.Link(ctx, c, campaigns.Display, dest, "display "+cr.Name, by)
	if err != nil {
		return err
	}
	cr.ClickURL, cr.LinkID = dest, &l.ID
	return nil
}

// Creatives lists a campaign's creatives (nil: the house creatives),
// without their bytes.
func (s *Service) Creatives(ctx context.Context, campaignID *uint64) ([]Creative, error) {
	q := s.DB.WithContext(ctx).Omit("data").Order("width, height, id")
	if campaignID == nil {
		q = q.Where("campaign_id IS NULL")
	} else {
		q = q.Where("campaign_id = ?", *campaignID)
	}
	var out []Creative
	return out, q.Find(&out).Error
}

// Creative returns one creative with its bytes.
func (s *Service) Creative(ctx context.Context, id uint64) (*Creative, error) {
	return takeOr[Creative](s.DB.WithContext(ctx), id)
}

// Image returns the bytes of the creative served under file name f (its
// hash and extension).
func (s *Service) Image(ctx context.Context, f string) (*Creative, error) {
	if sn := s.snap.Load(); sn != nil {
		if cr, ok := sn.images[f]; ok {
			return cr, nil
		}
	}
	sha, _, _ := strings.Cut(f, ".")
	if len(sha) != 32 || strings.Trim(sha, "0123456789abcdef") != "" {
		return nil, ErrNotFound
	}
	var cr Creative
	err := s.DB.WithContext(ctx).Where("sha LIKE ?", sha+"%").Take(&cr).Error
	if err != nil || cr.File() != f {
		return nil, ErrNotFound
	}
	return &cr, nil
}

// DeleteCreative removes a creative of a campaign (nil: a house one).
func (s *Service) DeleteCreative(ctx context.Context, campaignID *uint64, id uint64) error {
	q := s.DB.WithContext(ctx).Where("id = ?", id)
	if campaignID == nil {
		q = q.Where("campaign_id IS NULL")
	} else {
		q = q.Where("campaign_id = ?", *campaignID)
	}
	res := q.Delete(&Creative{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	if campaignID != nil && s.CreativesChanged != nil {
		s.CreativesChanged(ctx, *campaignID)
	}
	return s.Changed(ctx)
}
