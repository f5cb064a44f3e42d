package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
)

// Move is what a channel does when its campaign moves: launch when it goes
// live, halt when a live campaign stops (paused, cancelled, ended), resume
// when a paused one goes live again. Outside Rampe, a campaign's status is
// what its channels do.
type Move string

// Moves of a channel.
const (
	MoveLaunch Move = "launch"
	MoveHalt   Move = "halt"
	MoveResume Move = "resume"
)

// moveFor is the channels' move for a lifecycle transition, if any.
func moveFor(from, to Status) (Move, bool) {
	switch {
	case to == Live && from == Paused:
		return MoveResume, true
	case to == Live:
		return MoveLaunch, true
	case from == Live:
		return MoveHalt, true
	}
	return "", false
}

// ChannelActor is one channel's side of the lifecycle, implemented by the
// channels packages and registered by the wiring: campaigns knows only
// this. A move must be idempotent (a retry, or a worker killed after the
// move but before it was recorded, runs it again) and return soon: long
// work (a send) is enqueued, not done inline. detail says in a few words
// what the move did ("1,204 recipients queued", "feeds regenerating").
type ChannelActor interface {
	Move(ctx context.Context, c *Campaign, m Move, reason string) (detail string, err error)
}

// Move states.
const (
	MovePending    = "pending"     // recorded with its transition, not run yet
	MoveRunning    = "running"     // claimed by a worker
	MoveRetrying   = "retrying"    // failed; its job retries it with back-off
	MoveDone       = "done"        // the channel did it
	MoveSuperseded = "superseded"  // a later move of the same channel came first
	MoveNoActor    = "unconnected" // the channel has no actor: nothing happened outside Rampe
)

// ChannelMove records one channel's move for one lifecycle transition: it
// is written in the transaction of the transition, so no move is ever
// lost, and run by a job after the commit.
type ChannelMove struct {
	ID              uint64 `gorm:"primaryKey"`
	CampaignID      uint64
	TransitionID    uint64
	Channel         Channel
	Move            Move
	ScheduleVersion int
	Reason          string
	Status          string
	Attempts        int
	Detail          string
	Error           string
	RequestedAt     time.Time
	UpdatedAt       time.Time
	DoneAt          *time.Time
}

// movesMigration creates the channel moves table.
const movesMigration = `CREATE TABLE channel_moves (id {{id}}, campaign_id {{bigint}} NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  transition_id {{bigint}} NOT NULL, channel VARCHAR(20) NOT NULL, move VARCHAR(10) NOT NULL, schedule_version INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '', status VARCHAR(12) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '', requested_at {{ts}} NOT NULL, updated_at {{ts}} NOT NULL, done_at {{ts}},
  UNIQUE (transition_id, channel));
CREATE INDEX channel_moves_open ON channel_moves (status, campaign_id)`

// recordMoves writes, inside the transition's transaction, the move of
// each of c's channels that the transition implies.
func recordMoves(tx *gorm.DB, c *Campaign, from, to Status, transitionID uint64, reason string, now time.Time) error {
	m, ok := moveFor(from, to)
	if !ok {
		return nil
	}
	rows := movesOf(nil, c, transitionID, m, reason, now)
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Create(&rows).Error; err != nil {
		return fmt.Errorf("campaigns: record channel moves of %d: %w", c.ID, err)
	}
	c.movesPending = true
	return nil
}

// movesOf appends to rows the move m of each of c's channels.
func movesOf(rows []ChannelMove, c *Campaign, transitionID uint64, m Move, reason string, now time.Time) []ChannelMove {
	for _, ch := range c.Channels() {
		rows = append(rows, ChannelMove{CampaignID: c.ID, TransitionID: transitionID, Channel: ch, Move: m, ScheduleVersion: c.ScheduleVersion,
			Reason: reason, Status: MovePending, RequestedAt: now, UpdatedAt: now})
	}
	return rows
}

// TypeChannelMoves runs campaigns' pending channel moves.
const TypeChannelMoves = "campaign:channel_moves"

type movesPayload struct {
	CampaignIDs []uint64 `json:"campaign_ids"`
}

// dispatchMoves enqueues the job that runs c's moves, after the commit
// that recorded them. A lost enqueue is found again by the reconciler
// (ReconcileMoves): the moves wait in the database.
func (s *Service) dispatchMoves(ctx context.Context, c *Campaign) {
	if !c.movesPending {
		return
	}
	c.movesPending = false
	s.enqueueMoves(ctx, []uint64{c.ID}, fmt.Sprintf("moves:%d:t%d", c.ID, c.lastTransition))
}

// enqueueMoves hands the moves of campaigns to one job: a go-live batch
// enqueues one per chunk of campaigns, not one per campaign.
func (s *Service) enqueueMoves(ctx context.Context, campaignIDs []uint64, id string) {
	b, _ := json.Marshal(movesPayload{CampaignIDs: campaignIDs})
	_, err := s.Tasks.Enqueue(ctx, asynq.NewTask(TypeChannelMoves, b), asynq.TaskID(id), asynq.Queue("critical"),
		asynq.Retention(taskRetention), asynq.MaxRetry(50), asynq.Timeout(5*time.Minute))
	if err != nil {
		slog.Warn("campaigns: enqueue channel moves failed; the reconciler will retry", "campaigns", len(campaignIDs), "err", err)
	}
}

// runMovesOf runs the moves of each campaign, all of them even when some
// fail. The moves of channels that have no actor are marked in one
// statement per 500 campaigns: a go-live batch of thousands hands its moves
// to jobs that must not compete with it query by query.
func (s *Service) runMovesOf(ctx context.Context, ids []uint64) error {
	connected := make([]Channel, 0, len(s.Actors))
	for ch := range s.Actors {
		connected = append(connected, ch)
	}
	var failed []error
	for lo := 0; lo < len(ids); lo += 500 {
		part := ids[lo:min(lo+500, len(ids))]
		now := s.now()
		q := s.DB.WithContext(ctx).Model(&ChannelMove{}).Where("campaign_id IN ? AND status IN ?", part, []string{MovePending, MoveRetrying})
		if len(connected) > 0 {
			q = q.Where("channel NOT IN ?", connected)
		}
		if err := q.Updates(map[string]any{"status": MoveNoActor, "detail": noActorDetail, "attempts": gorm.Expr("attempts + 1"),
			"updated_at": now, "done_at": now}).Error; err != nil {
			return err
		}
		var open []uint64
		if err := s.DB.WithContext(ctx).Model(&ChannelMove{}).Where("campaign_id IN ? AND status IN ?", part, []string{MovePending, MoveRetrying}).
			Distinct().Pluck("campaign_id", &open).Error; err != nil {
			return err
		}
		for _, id := range open {
			if err := s.RunMoves(ctx, id); err != nil {
				failed = append(failed, err)
			}
		}
	}
	return errors.Join(failed...)
}

const (
	noActorDetail    = "nothing happens outside Rampe: this channel is not connected yet"
	supersededDetail = "a later move of this channel came first"
)

// RunMoves runs the pending moves of a campaign, channel by channel in
// transition order. Only the newest pending move of a channel runs (a
// launch that a halt followed before it ran is superseded: the channel's
// state is what the campaign's latest move says). A move that fails stays
// retrying with its error and the job fails, so asynq retries it with
// back-off; the campaign page shows it meanwhile.
func (s *Service) RunMoves(ctx context.Context, campaignID uint64) error {
	var open []ChannelMove
	err := s.DB.WithContext(ctx).Where("campaign_id = ? AND status IN ?", campaignID, []string{MovePending, MoveRetrying}).
		Order("transition_id, id").Find(&open).Error
	if err != nil || len(open) == 0 {
		return err
	}
	c, err := s.Get(ctx, campaignID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	latest := map[Channel]ChannelMove{}
	for _, m := range open {
		if prev, ok := latest[m.Channel]; ok {
			s.finishMove(ctx, prev, MoveSuperseded, supersededDetail, "")
		}
		latest[m.Channel] = m
	}
	var failed []error
	for _, ch := range c.Channels() {
		m, ok := latest[ch]
		if !ok {
			continue
		}
		if err := s.runMove(ctx, c, m); err != nil {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

// runMove claims a move (two workers never run the same one), runs it
// and records the outcome.
func (s *Service) runMove(ctx context.Context, c *Campaign, m ChannelMove) error {
	now := s.now()
	res := s.DB.WithContext(ctx).Model(&ChannelMove{}).Where("id = ? AND status = ?", m.ID, m.Status).
		Updates(map[string]any{"status": MoveRunning, "attempts": m.Attempts + 1, "updated_at": now})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	actor, ok := s.Actors[m.Channel]
	if !ok {
		s.finishMove(ctx, m, MoveNoActor, noActorDetail, "")
		return nil
	}
	log := slog.With("campaign_id", c.ID, "channel", m.Channel, "move", m.Move)
	detail, err := actor.Move(ctx, c, m.Move, m.Reason)
	if err != nil {
		log.Warn("campaigns: channel move failed; retrying", "attempt", m.Attempts+1, "err", err)
		s.finishMove(ctx, m, MoveRetrying, detail, err.Error())
		return fmt.Errorf("campaigns: %s %s of campaign %d: %w", m.Channel, m.Move, c.ID, err)
	}
	log.Info("campaigns: channel moved", "detail", detail)
	s.finishMove(ctx, m, MoveDone, detail, "")
	return nil
}

func (s *Service) finishMove(ctx context.Context, m ChannelMove, status, detail, errText string) {
	now := s.now()
	up := map[string]any{"status": status, "detail": detail, "error": errText, "updated_at": now}
	if status == MoveDone || status == MoveSuperseded || status == MoveNoActor {
		up["done_at"] = now
	}
	if err := s.DB.WithContext(ctx).Model(&ChannelMove{}).Where("id = ?", m.ID).Updates(up).Error; err != nil {
		slog.Error("campaigns: record channel move", "move_id", m.ID, "err", err)
	}
}

// staleRunning is how long a claimed move may stay running before the
// reconciler takes its worker for dead and lets it run again.
const staleRunning = 10 * time.Minute

// ReconcileMoves re-enqueues the job of every campaign with moves still
// to run, and releases moves whose worker died while running them.
func (s *Service) ReconcileMoves(ctx context.Context) (int, error) {
	now := s.now()
	if err := s.DB.WithContext(ctx).Model(&ChannelMove{}).Where("status = ? AND updated_at < ?", MoveRunning, now.Add(-staleRunning)).
		Updates(map[string]any{"status": MoveRetrying, "error": "the worker running this move stopped", "updated_at": now}).Error; err != nil {
		return 0, err
	}
	// A move just recorded has its job queued already: only failed ones
	// and ones pending for a while are handed out again.
	var ids []uint64
	if err := s.DB.WithContext(ctx).Model(&ChannelMove{}).
		Where("status = ? OR (status = ? AND requested_at < ?)", MoveRetrying, MovePending, now.Add(-time.Minute)).
		Distinct().Order("campaign_id").Pluck("campaign_id", &ids).Error; err != nil {
		return 0, err
	}
	for lo := 0; lo < len(ids); lo += 500 {
		part := ids[lo:min(lo+500, len(ids))]
		// One job per 500 campaigns and round; the ID lets asynq refuse a
		// second while the first is queued.
		s.enqueueMoves(ctx, part, fmt.Sprintf("moves:reconcile:%d:%d", part[0], now.Truncate(time.Minute).Unix()))
	}
	return len(ids), nil
}

// ChannelState is a channel's latest move, for the campaign page.
type ChannelState struct {
	Channel Channel
	Move    *ChannelMove // nil: never moved
}

// ChannelStates returns each channel of c with its latest move.
func (s *Service) ChannelStates(ctx context.Context, c *Campaign) ([]ChannelState, error) {
	var moves []ChannelMove
	if err := s.DB.WithContext(ctx).Where("campaign_id = ? AND status <> ?", c.ID, MoveSuperseded).Order("transition_id, id").Find(&moves).Error; err != nil {
		return nil, err
	}
	last := map[Channel]ChannelMove{}
	for _, m := range moves {
		last[m.Channel] = m
	}
	out := make([]ChannelState, 0, len(c.Channels()))
	for _, ch := range c.Channels() {
		st := ChannelState{Channel: ch}
		if m, ok := last[ch]; ok {
			st.Move = &m
		}
		out = append(out, st)
	}
	return out, nil
}

var movePast = map[Move]string{MoveLaunch: "launched", MoveHalt: "halted", MoveResume: "resumed"}

// Words says the move's state as the campaign page shows it: "launched",
// "halt pending", "launch failed, retrying (3 attempts)".
func (m ChannelMove) Words() string { return m.State().String() }

// State is Words in the reader's language.
func (m ChannelMove) State() i18n.Message {
	move := i18n.M(string(m.Move))
	switch m.Status {
	case MoveDone:
		return i18n.M(movePast[m.Move])
	case MoveNoActor:
		return i18n.M("not connected")
	case MoveRunning:
		return i18n.M("%s running", move)
	case MoveRetrying:
		if m.Attempts == 1 {
			return i18n.M("%s failed, retrying (1 attempt)", move)
		}
		return i18n.M("%s failed, retrying (%d attempts)", move, m.Attempts)
	}
	return i18n.M("%s pending", move)
}

// When is when the move was done, or last changed.
func (m ChannelMove) When() time.Time {
	if m.DoneAt != nil {
		return *m.DoneAt
	}
	return m.UpdatedAt
}

// moveFormats are the formats channels write their move details with
// (DescribeMoves), so that a detail stored in English reads back in the
// reader's language.
var (
	moveFormatsMu sync.RWMutex
	moveFormats   = []string{noActorDetail, supersededDetail}
)

// DescribeMoves declares the formats a channel writes its move details
// with ("%d feeds regenerating"); each needs its French in the catalogs.
func DescribeMoves(formats ...string) {
	moveFormatsMu.Lock()
	moveFormats = append(moveFormats, formats...)
	moveFormatsMu.Unlock()
}

// Say is the move's detail in the reader's language: read back with the
// formats the channels declared (a detail no format writes reads as it is).
func (m ChannelMove) Say() i18n.Message {
	moveFormatsMu.RLock()
	defer moveFormatsMu.RUnlock()
	return i18n.Parse(m.Detail, moveFormats)
}
