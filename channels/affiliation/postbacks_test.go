package affiliation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// A postback the partner refuses is tried again on a fixed schedule, each
// attempt a task of its own due at the NextAttemptAt the log shows, and
// gives up after PostbackAttempts calls; lost tasks are queued again.
func TestPostbackLogAndRetries(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer down.Close()
	e.s.Outbound = policy(strings.TrimPrefix(down.URL, "http://"))
	c, _, _ := planned(t, e)
	in := good()
	in.Name, in.PostbackURL = "Network", down.URL+"/pb?oid={order_id}"
	n, err := e.s.CreatePartner(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	e.s.SetMember(ctx, c, MemberInput{PartnerID: n.ID}, "ana")
	j := &Jobs{Service: e.s, Tasks: e.tasks}
	e.s.Postbacks = j.EnqueuePostback
	click := e.click(t, c, n, time.Date(2026, 12, 11, 9, 0, 0, 0, time.UTC), firefox)
	conv, _, err := e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-7", Amount: 5000, Currency: "EUR", ClickID: click}, "api")
	if err != nil || conv.PartnerID != n.ID {
		t.Fatalf("%+v %v", conv, err)
	}
	log, err := e.s.PostbackLog(ctx, PostbackFilter{PartnerID: n.ID})
	if err != nil || len(log) != 1 || log[0].Status != "queued" || log[0].OrderID != "CMD-7" || log[0].Partner != "Network" || log[0].NextAttemptAt != nil {
		t.Fatalf("%+v %v", log, err)
	}
	mux := asynq.NewServeMux()
	j.Register(mux)
	payload, _ := json.Marshal(map[string]uint64{"postback_id": log[0].ID})
	var waited time.Duration
	for attempt := 1; attempt <= PostbackAttempts; attempt++ {
		err := mux.ProcessTask(ctx, asynq.NewTask(TypePostback, payload))
		if err == nil || !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("attempt %d: %v (want an error asynq does not retry: the next attempt is queued)", attempt, err)
		}
		pb, _ := e.s.PostbackLog(ctx, PostbackFilter{ConversionID: conv.ID})
		got := pb[0]
		if got.Attempts != attempt || got.LastError != "the partner answered 500" || got.ResponseCode != 500 {
			t.Fatalf("attempt %d: %+v", attempt, got)
		}
		if attempt == PostbackAttempts {
			if got.Status != "failed" || got.NextAttemptAt != nil {
				t.Fatalf("after the last attempt: %+v", got)
			}
			break
		}
		if want := e.clk.Now().Add(PostbackDelay(attempt)); got.Status != "queued" || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(want) {
			t.Fatalf("attempt %d: next %v, want %v (%+v)", attempt, got.NextAttemptAt, want, got)
		}
		waited += PostbackDelay(attempt)
		e.clk.Set(*got.NextAttemptAt)
	}
	if PostbackDelay(1) != 30*time.Second || PostbackDelay(2) != 2*time.Minute || PostbackDelay(8) != 6*time.Hour || waited != 20*time.Hour+50*time.Minute+30*time.Second {
		t.Errorf("schedule: %v %v %v, %v in all", PostbackDelay(1), PostbackDelay(2), PostbackDelay(8), waited)
	}
	if l, _ := e.s.PostbackLog(ctx, PostbackFilter{Status: "failed"}); len(l) != 1 {
		t.Errorf("failed: %+v", l)
	}
	if _, err := e.s.PostbackLog(ctx, PostbackFilter{Status: "lost"}); fieldOf(err) != "status" {
		t.Errorf("a bad status: %v", err)
	}
	// A queued attempt whose task was lost is queued again by the sweep.
	conv2, _, err := e.s.RecordConversion(ctx, ConversionInput{OrderID: "CMD-8", Amount: 100, Currency: "EUR", ClickID: click}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeliverPostback(ctx, mustPostback(t, e, conv2.ID).ID, false); err == nil {
		t.Fatal("a 500 counted as delivered")
	}
	var requeued []uint64
	e.s.RetryPostback = func(_ context.Context, pb *Postback) { requeued = append(requeued, pb.ID) }
	if n, _ := e.s.requeueStale(ctx, 10*time.Minute); n != 0 {
		t.Errorf("a postback not yet due was requeued")
	}
	e.clk.Set(e.clk.Now().Add(time.Hour))
	if n, err := e.s.requeueStale(ctx, 10*time.Minute); n != 1 || err != nil || requeued[0] != mustPostback(t, e, conv2.ID).ID {
		t.Errorf("sweep: %d %v %v", n, err, requeued)
	}
}

func mustPostback(t *testing.T, e *env, conversionID uint64) Postback {
	t.Helper()
	pbs, err := e.s.PostbacksOf(context.Background(), conversionID)
	if err != nil || len(pbs) != 1 {
		t.Fatalf("%+v %v", pbs, err)
	}
	return pbs[0]
}
