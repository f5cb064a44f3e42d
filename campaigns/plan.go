package campaigns

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// The plan's version: campaign_plan holds one row whose version every
// change to a campaign that moves the combined forecast bumps (a trigger
// on campaigns: a campaign added or deleted; its status, window, time
// zone, channels, forecast or name changed). The combined curve is cached
// per version, so that a capacity page, a need or a re-check of thousands
// of campaigns reads the campaigns once per change, not once per answer.
// The version lives in the database, so every node sees every change.
const planMigrationSQLite = `CREATE TABLE campaign_plan (id INTEGER PRIMARY KEY, version {{bigint}} NOT NULL);
INSERT INTO campaign_plan (id, version) VALUES (1, 0);
CREATE TRIGGER campaign_plan_insert AFTER INSERT ON campaigns BEGIN UPDATE campaign_plan SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_plan_delete AFTER DELETE ON campaigns BEGIN UPDATE campaign_plan SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER campaign_plan_update AFTER UPDATE OF status, starts_at, ends_at, time_zone, channels, forecast, name ON campaigns
BEGIN UPDATE campaign_plan SET version = version + 1 WHERE id = 1; END`

// On PostgreSQL the trigger runs once per statement: a go-live batch of
// 500 campaigns bumps the version once.
const planMigrationPostgres = `CREATE TABLE campaign_plan (id INTEGER PRIMARY KEY, version {{bigint}} NOT NULL);
INSERT INTO campaign_plan (id, version) VALUES (1, 0);
CREATE FUNCTION campaign_plan_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE campaign_plan SET version = version + 1 WHERE id = 1; RETURN NULL; END $$;
CREATE TRIGGER campaign_plan_change AFTER INSERT OR DELETE OR UPDATE OF status, starts_at, ends_at, time_zone, channels, forecast, name
ON campaigns FOR EACH STATEMENT EXECUTE FUNCTION campaign_plan_bump()`

// planChunkHours is the span of one cached piece of the combined curve: a
// curve of any span is put together from the week-long pieces it touches.
const planChunkHours = 7 * 24

// planMaxChunks bounds the pieces kept for one version (a year and a half
// of weeks); past it the cache starts again.
const planMaxChunks = 80

// planCache holds the combined curve of the open campaigns, in pieces,
// for one plan version.
type planCache struct {
	mu      sync.Mutex
	version int64
	chunks  map[int64]*planChunk
	// views are other computations over the plan (PlanCached).
	views map[string]*shared
	// builds counts the pieces computed, for tests of the cache.
	builds atomic.Int64
}

type planChunk struct {
	once   sync.Once
	points []HourPoint
	err    error
}

func newPlanCache() *planCache { return &planCache{version: -1} }

// PlanVersion reads the plan's version: it changes whenever the combined
// forecast may have.
func (s *Service) PlanVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.DB.WithContext(ctx).Raw("SELECT version FROM campaign_plan WHERE id = 1").Row().Scan(&v); err != nil {
		return 0, fmt.Errorf("campaigns: read the plan version: %w", err)
	}
	return v, nil
}

// PlanCurve is the combined forecast of every open campaign (OpenStatuses)
// hour by hour, for `hours` hours from `from` truncated to the hour: what
// NewCurve and Add give over the same campaigns, computed once per plan
// version and shared by every caller. Points share their Parts, which
// callers must not modify.
func (s *Service) PlanCurve(ctx context.Context, from time.Time, hours int) ([]HourPoint, error) {
	start := from.UTC().Truncate(time.Hour)
	out := make([]HourPoint, max(hours, 0))
	if len(out) == 0 {
		return out, nil
	}
	first := chunkOf(start)
	last := chunkOf(start.Add(time.Duration(len(out)-1) * time.Hour))
	chunks, err := s.planChunks(ctx, first, last)
	if err != nil {
		return nil, err
	}
	for i := range out {
		h := start.Add(time.Duration(i) * time.Hour)
		k := chunkOf(h)
		out[i] = chunks[k-first].points[int(h.Sub(chunkStart(k)).Hours())]
	}
	return out, nil
}

// chunkOf is the piece holding hour h: weeks counted from the Unix epoch.
func chunkOf(h time.Time) int64 {
	return int64(math.Floor(float64(h.Unix()) / 3600 / planChunkHours))
}

func chunkStart(k int64) time.Time {
	return time.Unix(k*planChunkHours*3600, 0).UTC()
}

// renew starts the cache again for version v, or when it holds too much.
// Its caller holds mu.
func (pc *planCache) renew(v int64) {
	if pc.version != v || len(pc.chunks) > planMaxChunks || len(pc.views) > planMaxViews {
		pc.version, pc.chunks, pc.views = v, map[int64]*planChunk{}, map[string]*shared{}
	}
}

// planMaxViews bounds the computations PlanCached keeps for one version.
const planMaxViews = 256

// PlanCached returns what build computes from the plan for key (a name
// and every argument the computation depends on, e.g. the month of a
// calendar and its filter), computed once per plan version: any change
// that moves the plan computes it again. Concurrent callers of one key
// wait for one computation; an error is not kept. What it returns is
// shared between callers: read it, do not change it.
func PlanCached[T any](ctx context.Context, s *Service, key string, build func() (T, error)) (T, error) {
	var zero T
	v, err := s.PlanVersion(ctx)
	if err != nil || s.plan == nil {
		if err != nil {
			return zero, err
		}
		return build()
	}
	pc := s.plan
	pc.mu.Lock()
	pc.renew(v)
	e := pc.views[key]
	if e == nil {
		e = &shared{}
		pc.views[key] = e
	}
	pc.mu.Unlock()
	e.once.Do(func() {
		pc.builds.Add(1)
		e.v, e.err = build()
	})
	if e.err != nil {
		pc.mu.Lock()
		if pc.views[key] == e {
			delete(pc.views, key)
		}
		pc.mu.Unlock()
		return zero, e.err
	}
	out, _ := e.v.(T)
	return out, nil
}

// planChunks returns the pieces first…last of the current version,
// computing those not cached yet.
func (s *Service) planChunks(ctx context.Context, first, last int64) ([]*planChunk, error) {
	v, err := s.PlanVersion(ctx)
	if err != nil {
		return nil, err
	}
	pc := s.plan
	if pc == nil {
		pc = newPlanCache() // a Service made without NewService: no cache
	}
	pc.mu.Lock()
	pc.renew(v)
	list := make([]*planChunk, 0, last-first+1)
	for k := first; k <= last; k++ {
		c := pc.chunks[k]
		if c == nil {
			c = &planChunk{}
			pc.chunks[k] = c
		}
		list = append(list, c)
	}
	pc.mu.Unlock()
	// A piece is computed without the caller's deadline: the callers
	// waiting for the same piece must not fail because one gave up.
	bg := context.WithoutCancel(ctx)
	for i, c := range list {
		k := first + int64(i)
		c.once.Do(func() {
			pc.builds.Add(1)
			c.points, c.err = s.buildChunk(bg, k)
		})
		if c.err != nil {
			pc.mu.Lock()
			if pc.chunks[k] == c {
				delete(pc.chunks, k) // the next caller tries again
			}
			pc.mu.Unlock()
			return nil, c.err
		}
	}
	return list, nil
}

// buildChunk adds up the open campaigns over piece k's hours, reading them
// in batches.
func (s *Service) buildChunk(ctx context.Context, k int64) ([]HourPoint, error) {
	from := chunkStart(k)
	to := from.Add(planChunkHours * time.Hour)
	b := NewCurve(from, planChunkHours)
	err := s.Each(ctx, Filter{From: from, To: to, Statuses: OpenStatuses}, func(list []Campaign) error {
		for i := range list {
			b.Add(&list[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.Points(), nil
}

// PlanBuilds is how many pieces of the combined curve this service has
// computed (tests of the cache).
func (s *Service) PlanBuilds() int64 {
	if s.plan == nil {
		return 0
	}
	return s.plan.builds.Load()
}

// WindowHours is how many hours, from its start truncated to the hour, a
// campaign's window touches.
func (c *Campaign) WindowHours() int {
	return max(1, int(math.Ceil(c.EndsAt.Sub(c.StartsAt.UTC().Truncate(time.Hour)).Hours())))
}
