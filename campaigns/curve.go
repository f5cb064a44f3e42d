package campaigns

import (
	"math"
	"time"
)

// MaxParts is how many campaigns an hour of a curve names, the largest
// first; HourPoint.Campaigns counts them all. Thousands of campaigns can
// overlap one hour: their sum is exact, the list of names is not kept whole.
const MaxParts = 10

// HourPoint is the combined forecast of one hour.
type HourPoint struct {
	Start time.Time
	RPS   float64
	// Parts are the campaigns that make up most of the hour, largest
	// first, at most MaxParts.
	Parts []Part
	// Campaigns is how many campaigns bring traffic in the hour.
	Campaigns int
}

// Others is how many of the hour's campaigns Parts does not name.
func (p HourPoint) Others() int { return p.Campaigns - len(p.Parts) }

// Part is one campaign's share of an hour.
type Part struct {
	Campaign *Campaign
	RPS      float64
}

// CurveBuilder adds up the forecasts of campaigns hour by hour, one
// campaign at a time, so that a computation can stream them: memory holds
// the hours, not the campaigns. Each campaign's forecast is prepared once
// (its curve shaped once, shared with campaigns of the same shape) and
// evaluated only over the hours its window touches.
type CurveBuilder struct {
	start  time.Time
	points []HourPoint
	shapes shapes
	added  int
}

// NewCurve starts a curve of `hours` hours from `from` truncated to the hour.
func NewCurve(from time.Time, hours int) *CurveBuilder {
	start := from.UTC().Truncate(time.Hour)
	pts := make([]HourPoint, max(hours, 0))
	for i := range pts {
		pts[i].Start = start.Add(time.Duration(i) * time.Hour)
	}
	return &CurveBuilder{start: start, points: pts, shapes: shapes{}}
}

// Add adds one campaign's forecast. The curve keeps its own copy of a
// campaign it names, so c may be reused by the caller.
func (b *CurveBuilder) Add(c *Campaign) {
	b.added++
	first := max(0, int(math.Floor(c.StartsAt.Sub(b.start).Hours())))
	last := min(len(b.points), int(math.Ceil(c.EndsAt.Sub(b.start).Hours())))
	if first >= last {
		return
	}
	f := c.prepare(b.shapes)
	var kept *Campaign
	for i := first; i < last; i++ {
		r := f.rps(b.points[i].Start)
		if r <= 0 {
			continue
		}
		p := &b.points[i]
		p.RPS += r
		p.Campaigns++
		if len(p.Parts) == MaxParts && r <= p.Parts[MaxParts-1].RPS {
			continue
		}
		if kept == nil {
			cp := *c
			kept = &cp
		}
		p.Parts = insertPart(p.Parts, Part{Campaign: kept, RPS: r})
	}
}

// insertPart puts part in its place, largest first (after equal ones),
// keeping at most MaxParts.
func insertPart(parts []Part, part Part) []Part {
	i := len(parts)
	for i > 0 && parts[i-1].RPS < part.RPS {
		i--
	}
	if len(parts) < MaxParts {
		parts = append(parts, Part{})
	}
	copy(parts[i+1:], parts[i:])
	parts[i] = part
	return parts
}

// Added is how many campaigns were added, with or without traffic in the
// curve's hours.
func (b *CurveBuilder) Added() int { return b.added }

// Points returns the curve, one point per hour.
func (b *CurveBuilder) Points() []HourPoint { return b.points }

// Curve adds up the forecasts of campaigns hour by hour from `from`
// (truncated to the hour) for `hours` hours.
func Curve(list []Campaign, from time.Time, hours int) []HourPoint {
	b := NewCurve(from, hours)
	for i := range list {
		b.Add(&list[i])
	}
	return b.Points()
}

// Peak returns the busiest hour of a curve.
func Peak(curve []HourPoint) HourPoint {
	var best HourPoint
	for _, p := range curve {
		if p.RPS > best.RPS {
			best = p
		}
	}
	return best
}

// PeakOf is a campaign's own busiest hour over its window.
func (c *Campaign) PeakOf() HourPoint {
	hours := int(math.Ceil(c.EndsAt.Sub(c.StartsAt.Truncate(time.Hour)).Hours()))
	return Peak(Curve([]Campaign{*c}, c.StartsAt, max(hours, 1)))
}
