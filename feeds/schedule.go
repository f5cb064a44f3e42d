package feeds

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rampe/rampe/platform/clock"
	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/validation"
)

// Schedule is when a feed regenerates, as a marketer chooses it: every N
// hours, daily at a time, weekly on a day at a time — in a time zone — or a
// cron expression for anything else. It is stored as the cron expression
// Expr writes (CRON_TZ=Zone prefix included), which the API reads and
// writes as "cron"; ParseSchedule reads one back.
type Schedule struct {
	Every string       // "" (never), "hours", "daily", "weekly" or "cron"
	Hours int          // every Hours hours (1 to 24), for "hours"
	At    string       // "HH:MM", for "daily" and "weekly"
	Day   time.Weekday // for "weekly"
	Zone  string       // IANA zone of At (and of the hours' alignment)
	Cron  string       // for "cron"
}

// Schedule kinds.
const (
	EveryHours  = "hours"
	EveryDay    = "daily"
	EveryWeek   = "weekly"
	EveryCron   = "cron"
	scheduleKey = "schedule_" // form field prefix of the schedule's parts
)

var hhmm = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// Expr is the cron expression of s ("" when it never regenerates), or the
// errors naming the wrong parts (fields schedule_every, schedule_hours,
// schedule_at, schedule_day, schedule_zone, cron).
func (s Schedule) Expr() (string, validation.Errors) {
	var ve validation.Errors
	add := func(field, format string, args ...any) { ve = append(ve, validation.Fieldf(field, format, args...)) }
	prefix := ""
	if s.Every == EveryHours || s.Every == EveryDay || s.Every == EveryWeek {
		zone := strings.TrimSpace(s.Zone)
		if zone == "" {
			zone = "UTC"
		}
		if _, err := clock.Location(zone); err != nil || strings.ContainsAny(zone, " \t") {
			add(scheduleKey+"zone", "%q is not a time zone (e.g. Europe/Paris)", s.Zone)
		}
		prefix = "CRON_TZ=" + zone + " "
	}
	var expr string
	switch s.Every {
	case "":
		return "", nil
	case EveryHours:
		if s.Hours < 1 || s.Hours > 24 {
			add(scheduleKey+"hours", "%d: give a number of hours from 1 to 24", s.Hours)
		}
		expr = fmt.Sprintf("0 */%d * * *", s.Hours)
		if s.Hours == 24 {
			expr = "0 0 * * *"
		}
	case EveryDay, EveryWeek:
		m := hhmm.FindStringSubmatch(strings.TrimSpace(s.At))
		if m == nil {
			add(scheduleKey+"at", "%q: want a time HH:MM, 00:00 to 23:59", s.At)
			break
		}
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		day := "*"
		if s.Every == EveryWeek {
			if s.Day < time.Sunday || s.Day > time.Saturday {
				add(scheduleKey+"day", "%d is not a day of the week (0 Sunday to 6 Saturday)", int(s.Day))
			}
			day = strconv.Itoa(int(s.Day))
		}
		expr = fmt.Sprintf("%d %d * * %s", mi, h, day)
	case EveryCron:
		expr, prefix = strings.TrimSpace(s.Cron), ""
		if expr == "" {
			add("cron", "give a cron expression (e.g. \"0 */2 * * *\")")
		} else if _, err := cron.ParseStandard(expr); err != nil {
			add("cron", "not a cron expression (e.g. \"0 */2 * * *\"): %s", err.Error())
		}
	default:
		add(scheduleKey+"every", "%q: want hours, daily, weekly or cron", s.Every)
	}
	if len(ve) > 0 {
		return "", ve
	}
	return prefix + expr, nil
}

var (
	hoursExpr = regexp.MustCompile(`^0 \*/([0-9]+) \* \* \*$`)
	timeExpr  = regexp.MustCompile(`^([0-9]+) ([0-9]+) \* \* (\*|[0-6])$`)
)

// ParseSchedule reads a stored cron expression back as a schedule: one
// Expr writes (with or without its zone), or "cron" for any other.
func ParseSchedule(expr string, defaultZone string) Schedule {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return Schedule{Zone: defaultZone}
	}
	zone, rest := defaultZone, expr
	if z, r, ok := strings.Cut(expr, " "); ok && strings.HasPrefix(z, "CRON_TZ=") {
		zone, rest = strings.TrimPrefix(z, "CRON_TZ="), r
	} else if !ok || strings.Contains(z, "=") {
		return Schedule{Every: EveryCron, Cron: expr, Zone: defaultZone}
	} else {
		zone = "UTC" // a bare expression runs in the server's UTC
	}
	if m := hoursExpr.FindStringSubmatch(rest); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Schedule{Every: EveryHours, Hours: n, Zone: zone}
	}
	if rest == "0 0 * * *" && strings.HasPrefix(expr, "CRON_TZ=") {
		return Schedule{Every: EveryDay, At: "00:00", Zone: zone}
	}
	if m := timeExpr.FindStringSubmatch(rest); m != nil {
		mi, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		if mi < 60 && h < 24 {
			s := Schedule{Every: EveryDay, At: fmt.Sprintf("%02d:%02d", h, mi), Zone: zone}
			if m[3] != "*" {
				d, _ := strconv.Atoi(m[3])
				s.Every, s.Day = EveryWeek, time.Weekday(d)
			}
			return s
		}
	}
	return Schedule{Every: EveryCron, Cron: expr, Zone: defaultZone}
}

// Say writes the schedule in words: "every 6 hours (Europe/Paris)",
// "daily at 09:30 (Europe/Paris)", "every Monday at 09:30 (Europe/Paris)".
func (s Schedule) Say() i18n.Message {
	switch s.Every {
	case EveryHours:
		return i18n.M("every %d hours (%s)", s.Hours, s.Zone)
	case EveryDay:
		return i18n.M("daily at %s (%s)", s.At, s.Zone)
	case EveryWeek:
		return i18n.M("every %s at %s (%s)", i18n.M(s.Day.String()), s.At, s.Zone)
	case EveryCron:
		return i18n.M("cron %s", s.Cron)
	}
	return i18n.M("only when something changes")
}
