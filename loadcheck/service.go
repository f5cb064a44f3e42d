package loadcheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/landing"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
)

// TypeRun runs one load check, on a queue of its own (NewServer); one check
// runs at a time in the whole deployment (lease.go).
const (
	TypeRun = "loadcheck:run"
	Queue   = "loadcheck"
)

// Enqueuer delivers tasks.
type Enqueuer interface {
	Enqueue(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (created bool, err error)
}

// Service plans, runs and judges load checks.
type Service struct {
	Store        *Store
	Campaigns    CampaignSource
	Pages        PageSource
	Policy       Policy
	Tasks        Enqueuer
	BaseURL      string
	StepSeconds  int
	Validity     time.Duration
	SafetyFactor float64
	Clock        clock.Clock
	// BusyRetry is how soon a check that found another running is tried
	// again; DefaultBusyRetry when 0.
	BusyRetry time.Duration
	// Recheck, when set, asks for a re-check of the campaigns linked to a
	// page after check checkID of it passed (a job, like every re-check of
	// linked campaigns): a campaign blocked on capacity goes live at once.
	Recheck func(ctx context.Context, pageID, checkID uint64)
}

func (s *Service) now() time.Time { return clock.Or(s.Clock).Now() }

func resultsJSON(r []StepResult) string { b, _ := json.Marshal(r); return string(b) }
func liveJSON(l *Live) string           { b, _ := json.Marshal(l); return string(b) }

// Need is the capacity a campaign needs: the combined forecast peak of every
// planned or running campaign over its window, times the safety factor.
type Need struct {
	Peak   campaigns.HourPoint
	Needed float64
}

// Needed computes what a campaign needs: the peak, over the hours its
// window touches, of the combined forecast of every open campaign (the
// plan's curve, computed once per plan version however many campaigns ask).
func (s *Service) Needed(ctx context.Context, c *campaigns.Campaign) (*Need, error) {
	curve, err := s.Campaigns.PlanCurve(ctx, c.StartsAt, c.WindowHours())
	if err != nil {
		return nil, err
	}
	peak := campaigns.Peak(curve)
	return &Need{Peak: peak, Needed: peak.RPS * s.SafetyFactor}, nil
}

// Plan is what a marketer asks for; zero values take the defaults.
type Plan struct {
	CampaignID uint64
	Rate       float64 // target req/s; 0: what the campaign needs
	Extras     []Extra
	Thresholds *Thresholds
	By         string
}

// Start plans a check of a campaign's published landing page, refuses it
// when policy says no, and queues it.
func (s *Service) Start(ctx context.Context, p Plan) (*Check, error) {
	camp, err := s.Campaigns.Get(ctx, p.CampaignID)
	if err != nil {
		return nil, err
	}
	if camp.LandingPageID == nil {
		return nil, &RefusedError{Why: "the campaign has no landing page to check"}
	}
	page, err := s.Pages.Get(ctx, *camp.LandingPageID)
	if err != nil {
		return nil, err
	}
	if !page.Published() {
		return nil, &RefusedError{Why: fmt.Sprintf("/l/%s is not published; publish it before checking it", page.Slug)}
	}
	rate := p.Rate
	if rate == 0 {
		need, err := s.Needed(ctx, camp)
		if err != nil {
			return nil, err
		}
		rate = need.Needed
		if rate < 1 {
			return nil, &RefusedError{Why: "the campaign has no traffic forecast; fill its forecast inputs or give a rate"}
		}
	}
	th := DefaultThresholds
	if p.Thresholds != nil {
		th = *p.Thresholds
	}
	c := &Check{CampaignID: &camp.ID, PageID: page.ID, PageVersionID: *page.PublishedVersionID, URL: s.BaseURL + "/l/" + page.Slug,
		Extras: p.Extras, TargetRate: rate, Steps: DefaultSteps, StepSeconds: s.StepSeconds, Thresholds: th, Status: Queued,
		CreatedBy: p.By, CreatedAt: s.now()}
	for _, u := range append([]string{c.URL}, extraURLs(p.Extras)...) {
		if err := s.Policy.CheckTarget(ctx, u); err != nil {
			return nil, err
		}
	}
	if err := s.Policy.CheckPlan(c); err != nil {
		return nil, err
	}
	if err := s.Store.DB.WithContext(ctx).Create(c).Error; err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// enqueue queues a check's task. Waiting for another check does not count
// as a retry (NewServer); the retries are for errors, and running a check
// that is no longer queued does nothing.
func (s *Service) enqueue(ctx context.Context, c *Check) error {
	b, _ := json.Marshal(map[string]uint64{"check_id": c.ID})
	timeout := time.Duration(len(c.Steps)*c.StepSeconds)*time.Second + time.Minute
	_, err := s.Tasks.Enqueue(ctx, asynq.NewTask(TypeRun, b), asynq.TaskID(fmt.Sprintf("loadcheck:%d", c.ID)), asynq.Queue(Queue),
		asynq.MaxRetry(3), asynq.Timeout(timeout), asynq.Retention(time.Hour))
	return err
}

func extraURLs(ex []Extra) []string {
	out := make([]string, len(ex))
	for i, e := range ex {
		out[i] = e.URL
	}
	return out
}

// Register installs the run handler (on the load-check worker).
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeRun, func(ctx context.Context, t *asynq.Task) error {
		var p struct {
			CheckID uint64 `json:"check_id"`
		}
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.CheckID == 0 {
			return fmt.Errorf("loadcheck: bad payload: %w", asynq.SkipRetry)
		}
		return s.Run(ctx, p.CheckID)
	})
}

// RegisterGate adds landing.load_checked.
func RegisterGate(reg *campaigns.Registry, s *Service) {
	reg.Register(campaigns.GateFunc{GateName: "landing.load_checked", Fn: func(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
		return s.gate(ctx, c, now)
	}})
}

func (s *Service) gate(ctx context.Context, c *campaigns.Campaign, now time.Time) campaigns.Result {
	pending := func(err error) campaigns.Result {
		return campaigns.Answer(campaigns.Pending, i18n.M("could not tell: %s", err), nil)
	}
	if c.LandingPageID == nil {
		return campaigns.Answer(campaigns.Fail, i18n.M("no landing page to check"), nil)
	}
	page, err := landing.SharedPage(ctx, s.Pages, *c.LandingPageID)
	if errors.Is(err, landing.ErrNotFound) {
		return campaigns.Answer(campaigns.Fail, i18n.M("the landing page does not exist"), nil)
	}
	if err != nil {
		return pending(err)
	}
	if !page.Published() {
		return campaigns.Answer(campaigns.Fail, i18n.M("/l/%s is not published, so it cannot be load-checked", page.Slug), nil)
	}
	need, err := s.Needed(ctx, c)
	if err != nil {
		return pending(err)
	}
	m := map[string]any{"needed_rps": round(need.Needed), "forecast_peak_rps": round(need.Peak.RPS), "safety_factor": s.SafetyFactor, "peak_at": need.Peak.Start,
		"peak_campaigns": need.Peak.Campaigns}
	// The latest verdict (passed or failed; an abort is none) on this
	// content decides: a check of an earlier version with the same content
	// hash counts, a newer failure overrides an older pass.
	// Read once per round of evaluations: every campaign of the page
	// shares its checks.
	last, err := campaigns.Shared(ctx, fmt.Sprintf("loadcheck.latest:%d:%d", page.ID, *page.PublishedVersionID), func() (*Check, error) {
		same, err := s.Pages.SameContent(ctx, *page.PublishedVersionID)
		if err != nil {
			return nil, err
		}
		return s.Store.Latest(ctx, page.ID, same)
	})
	if errors.Is(err, ErrNotFound) {
		prev, err := campaigns.Shared(ctx, fmt.Sprintf("loadcheck.last_passed:%d", page.ID), func() (*Check, error) {
			return s.Store.LastPassed(ctx, page.ID)
		})
		if err == nil {
			m["check_id"], m["sustained_rps"], m["checked_at"] = prev.ID, round(prev.SustainedRate), prev.FinishedAt
			return campaigns.Answer(campaigns.Fail, i18n.M("/l/%s was republished with new content after its last passing load check (#%s): check the new version",
				page.Slug, strconv.FormatUint(prev.ID, 10)), m)
		}
		return campaigns.Answer(campaigns.Fail, i18n.M("no passing load check of /l/%s yet; needed %.0f req/s", page.Slug, need.Needed), m)
	}
	if err != nil {
		return pending(err)
	}
	m["check_id"], m["sustained_rps"], m["checked_at"] = last.ID, round(last.SustainedRate), last.FinishedAt
	switch {
	case last.Status == Failed:
		return campaigns.Answer(campaigns.Fail, i18n.M("%s (the latest check of this version of /l/%s, %s ago)", last.Summary(), page.Slug, ago(now, last)), m)
	case now.Sub(*last.FinishedAt) > s.Validity:
		return campaigns.Answer(campaigns.Fail, i18n.M("the last passing load check (#%s) is %s old; it counts for %s",
			strconv.FormatUint(last.ID, 10), ago(now, last), i18n.Duration(s.Validity)), m)
	case last.SustainedRate < need.Needed:
		names := make([]any, 0, gateNames+1)
		for _, p := range need.Peak.Parts[:min(gateNames, len(need.Peak.Parts))] {
			names = append(names, i18n.M("%s %.0f", p.Campaign.Name, p.RPS))
		}
		if more := need.Peak.Campaigns - len(names); more > 0 {
			names = append(names, i18n.M("and %d more", more))
		}
		return campaigns.Answer(campaigns.Fail, i18n.M("sustained %.0f req/s < needed %.0f (combined peak %.0f × %.1f at %s: %s)", last.SustainedRate, need.Needed,
			need.Peak.RPS, s.SafetyFactor, i18n.Time{T: need.Peak.Start.In(c.Location()), Layout: "2 Jan 15:04"}, i18n.Join{Parts: names, Sep: ", "}), m)
	}
	return campaigns.Answer(campaigns.Pass, i18n.M("sustained %.0f req/s ≥ needed %.0f (check #%s of the content in force, %s ago)",
		last.SustainedRate, need.Needed, strconv.FormatUint(last.ID, 10), ago(now, last)), m)
}

// ago is how long ago a check finished, to the minute, as the reader's
// language writes it.
func ago(now time.Time, c *Check) i18n.Duration {
	return i18n.Duration(now.Sub(*c.FinishedAt).Round(time.Minute))
}

// gateNames is how many of the campaigns making the peak the gate's
// message names; it counts the others.
const gateNames = 5

func round(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }
