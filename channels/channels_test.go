package channels

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rampe/rampe/campaigns"
	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/queue"
	"github.com/rampe/rampe/platform/testenv"
)

type probe struct{ log []string }

func (p *probe) Name() campaigns.Channel { return campaigns.Email }
func (p *probe) RegisterGates(reg *campaigns.Registry) {
	reg.Register(campaigns.GateFunc{GateName: "probe.ready", ForChannels: []campaigns.Channel{campaigns.Email},
		Fn: func(context.Context, *campaigns.Campaign, time.Time) campaigns.Result {
			return campaigns.Result{Outcome: campaigns.Pass, Message: "ready"}
		}})
}
func (p *probe) Launch(_ context.Context, c *campaigns.Campaign) (string, error) {
	p.log = append(p.log, "launch")
	return "launched", nil
}
func (p *probe) Halt(_ context.Context, c *campaigns.Campaign, reason string) (string, error) {
	p.log = append(p.log, "halt:"+reason)
	return "halted", nil
}
func (p *probe) Resume(_ context.Context, c *campaigns.Campaign) (string, error) {
	p.log = append(p.log, "resume")
	return "resumed", nil
}

func TestRegisterWiresGatesAndMoves(t *testing.T) {
	ctx := context.Background()
	g := testenv.DB(t, db.Migrations, campaigns.Migrations)
	s := campaigns.NewService(g, queue.NewClient(testenv.Redis(t)), clock.System{})
	p := &probe{}
	if err := Register(s, p); err != nil {
		t.Fatal(err)
	}
	if err := Register(s, p); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("a second registration: %v", err)
	}
	c := &campaigns.Campaign{ID: 1}
	rep := s.Gates.Evaluate(ctx, &campaigns.Campaign{ID: 1, ChannelList: ",email,", StartsAt: time.Now(), EndsAt: time.Now().Add(time.Hour), TimeZone: "Europe/Paris"}, time.Now())
	found := false
	for _, r := range rep.Results {
		found = found || r.Gate == "probe.ready"
	}
	if !found {
		t.Fatalf("the channel's gate is not evaluated: %+v", rep.Results)
	}
	a := s.Actors[campaigns.Email]
	for _, m := range []campaigns.Move{campaigns.MoveLaunch, campaigns.MoveHalt, campaigns.MoveResume} {
		if _, err := a.Move(ctx, c, m, "paused"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Move(ctx, c, "explode", ""); err == nil {
		t.Fatal("an unknown move was accepted")
	}
	if got := strings.Join(p.log, ","); got != "launch,halt:paused,resume" {
		t.Fatalf("moves: %s", got)
	}
}
