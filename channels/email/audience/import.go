package audience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/rowfile"
	"github.com/rampe/rampe/platform/validation"
)

// ImportOptions of a contact import.
type ImportOptions struct {
	Format string // "csv" or "json"; see FormatFor
	// Partial imports the valid rows and reports the others; by default
	// one invalid row means nothing is imported.
	Partial bool
	ListID  uint64 // the list every imported contact joins (0: none)
	// DefaultStatus of new contacts whose row has no status (opted_in
	// when empty).
	DefaultStatus string
	Progress      func(Progress) // called every few thousand rows
	// Note goes with the consent events the import records ("import" when empty).
	Note string
}

// Progress of a running import.
type Progress struct{ BytesRead, Rows, Invalid int64 }

// ImportResult of an import. Suppressed counts the rows of suppressed
// addresses that asked for a mailable status: they were imported but stay
// suppressed, and the report names their lines.
type ImportResult struct {
	Rows, Imported, Invalid, Suppressed int64
	Errors                              []RowError // invalid rows and kept suppressions, by line (at most MaxReportedErrors)
	Committed                           bool
}

// MaxReportedErrors bounds the problems kept for a report.
const MaxReportedErrors = 10000

// ErrInvalidRows is returned by an all-or-nothing import that found an
// invalid row: nothing was imported.
var ErrInvalidRows = errors.New("audience: invalid rows; nothing imported")

// FormatFor guesses a file's format from its name.
func FormatFor(name string) string { return rowfile.FormatFor(name) }

// stagedContact is a valid row waiting for the final merge: staging in the
// database keeps memory flat at a million rows and lets SQL find
// duplicates and suppressed addresses.
type stagedContact struct {
	ID                                     uint64 `gorm:"primaryKey"`
	ImportID                               uint64
	Line                                   int64
	Email, EmailKey, Name, Locale, Country string
	TimeZone, Attrs, Status                string
}

func (stagedContact) TableName() string { return "staged_contacts" }

// rowErrors converts a row's validation errors, naming the value.
func rowErrors(rec record, in Input, ve validation.Errors) []RowError {
	var out []RowError
	for _, f := range ve {
		val := ""
		switch f.Field {
		case "email":
			val = in.Email
		case "name":
			val = in.Name
		case "locale":
			val = in.Locale
		case "country":
			val = in.Country
		case "time_zone":
			val = in.TimeZone
		case "status":
			val = in.Status
		case "attributes":
			b, _ := json.Marshal(in.Attributes)
			val = string(b)
		}
		out = append(out, RowError{Line: rec.line, Column: f.Field, Value: truncate(val, 500), Msg: f.Msg})
	}
	return out
}

// Import reads contacts from r and merges them by address (compared
// without case). By default it is all-or-nothing; with Partial the valid
// rows are imported (the first of duplicate addresses wins) and the
// others reported. A suppressed address stays suppressed whatever its row
// says, and the report names the line.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (*ImportResult, error) {
	if opt.DefaultStatus == "" {
		opt.DefaultStatus = OptedIn
	}
	res := &ImportResult{}
	if !validStatus(opt.DefaultStatus) {
		return res, fmt.Errorf("audience: unknown default status %q", opt.DefaultStatus)
	}
	if opt.ListID != 0 {
		if _, err := s.GetList(ctx, opt.ListID); err != nil {
			return res, fmt.Errorf("audience: list %d: %w", opt.ListID, err)
		}
	}
	stage := uint64(time.Now().UnixNano())
	cr := &rowfile.Counter{R: r}
	var rd reader
	var err error
	if opt.Format == "json" {
		rd, err = newJSONReader(cr)
	} else {
		rd, err = newCSVReader(cr)
	}
	if err != nil {
		var re RowError
		if errors.As(err, &re) {
			res.Invalid, res.Errors = 1, []RowError{re}
			return res, fmt.Errorf("%w: %v", ErrInvalidRows, re)
		}
		return res, err
	}
	defer s.DB.WithContext(context.WithoutCancel(ctx)).Where("import_id = ?", stage).Delete(&stagedContact{})
	if err := s.stage(ctx, rd, cr, stage, opt, res); err != nil {
		return res, err
	}
	if err := s.review(ctx, stage, res); err != nil {
		return res, err
	}
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Line < res.Errors[j].Line })
	if opt.Progress != nil {
		opt.Progress(Progress{BytesRead: cr.N(), Rows: res.Rows, Invalid: res.Invalid})
	}
	if res.Invalid > 0 && !opt.Partial {
		first := res.Errors[0]
		for _, e := range res.Errors {
			if !strings.HasPrefix(e.Msg, keptSuppressed) {
				first = e
				break
			}
		}
		return res, fmt.Errorf("%w: %d of %d rows, first: %v", ErrInvalidRows, res.Invalid, res.Rows, first)
	}
	n, err := s.merge(ctx, stage, opt)
	if err != nil {
		return res, err
	}
	res.Imported, res.Committed = n, true
	return res, nil
}

func (res *ImportResult) report(errs ...RowError) {
	for _, e := range errs {
		if len(res.Errors) < MaxReportedErrors {
			res.Errors = append(res.Errors, e)
		}
	}
}

// stage reads, validates and stages every row.
func (s *Service) stage(ctx context.Context, rd reader, cr *rowfile.Counter, stage uint64, opt ImportOptions, res *ImportResult) error {
	batch := make([]stagedContact, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.DB.WithContext(ctx).CreateInBatches(batch, db.InsertBatch).Error
		batch = batch[:0]
		if err != nil {
			return fmt.Errorf("audience: stage rows: %w", err)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rd.next()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			res.Rows++
			res.Invalid++
			res.report(re)
			if _, isJSON := rd.(*jsonReader); (isJSON && rec.values == nil) || strings.Contains(re.Msg, "longer than") {
				break // a JSON stream cannot resume after a syntax error
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("audience: read: %w", err)
		}
		res.Rows++
		in := rec.toInput()
		c, ve := in.normalize()
		if len(ve) > 0 {
			res.Invalid++
			res.report(rowErrors(rec, in, ve)...)
		} else {
			attrs, _ := json.Marshal(c.Attrs)
			batch = append(batch, stagedContact{ImportID: stage, Line: rec.line, Email: c.Email, EmailKey: c.EmailKey, Name: c.Name,
				Locale: c.Locale, Country: c.Country, TimeZone: c.TimeZone, Attrs: string(attrs), Status: c.Status})
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if opt.Progress != nil && res.Rows%2000 == 0 {
			opt.Progress(Progress{BytesRead: cr.N(), Rows: res.Rows, Invalid: res.Invalid})
		}
	}
	return flush()
}

const keptSuppressed = "kept suppressed"

// review reports duplicates within the file (invalid) and suppressed
// addresses whose row would make them mailable (notices).
func (s *Service) review(ctx context.Context, stage uint64, res *ImportResult) error {
	var dups []struct {
		Email string
		First int64
		Line  int64
	}
	err := s.DB.WithContext(ctx).Raw(`SELECT d.email, f.first, d.line FROM staged_contacts d
		JOIN (SELECT email_key, MIN(line) AS first FROM staged_contacts WHERE import_id = ? GROUP BY email_key HAVING COUNT(*) > 1) f ON f.email_key = d.email_key
		WHERE d.import_id = ? AND d.line > f.first ORDER BY d.line`, stage, stage).Scan(&dups).Error
	if err != nil {
		return fmt.Errorf("audience: find duplicates: %w", err)
	}
	res.Invalid += int64(len(dups))
	for _, d := range dups {
		res.report(RowError{Line: d.Line, Column: "email", Value: d.Email, Msg: fmt.Sprintf("duplicate address, first seen on line %d (addresses are compared without case)", d.First)})
	}
	var sup []struct {
		Email  string
		Line   int64
		Reason string
	}
	err = s.DB.WithContext(ctx).Raw(`SELECT s.email, s.line, x.reason FROM staged_contacts s JOIN email_suppressions x ON x.email_key = s.email_key
		WHERE s.import_id = ? AND s.status NOT IN ?  ORDER BY s.line`, stage, SuppressReasons).Scan(&sup).Error
	if err != nil {
		return fmt.Errorf("audience: find suppressed addresses: %w", err)
	}
	res.Suppressed = int64(len(sup))
	for _, x := range sup {
		res.report(RowError{Line: x.Line, Column: "email", Value: x.Email,
			Msg: fmt.Sprintf("%s: the address is on the suppression list (%s); its other fields are imported, it is never mailed", keptSuppressed, x.Reason)})
	}
	return nil
}
