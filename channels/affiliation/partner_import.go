package affiliation

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"gorm.io/gorm"

	"github.com/rampe/rampe/platform/i18n"
	"github.com/rampe/rampe/platform/rowfile"
	"github.com/rampe/rampe/platform/validation"
)

// importColumns are the columns of a partners CSV; name and email and
// commission are required.
var importColumns = []string{"name", "network", "email", "status", "commission", "currency", "overrides", "cookie_days", "time_zone", "postback_url"}

// MaxImportRows bounds a partners file.
const MaxImportRows = 10000

// ImportResult says what an import did.
type ImportResult struct {
	Created int                `json:"created"`
	Updated int                `json:"updated"`
	Errors  []rowfile.RowError `json:"errors,omitempty"`
}

// ImportPartners reads a CSV of partners (comma or semicolon separated,
// a header naming the columns) and creates them, or updates those whose
// name exists. All or nothing: one bad row and nothing changes; every bad
// row is reported by line, column and value.
func (s *Service) ImportPartners(ctx context.Context, in io.Reader) (*ImportResult, error) {
	br := rowfile.Open(in, "file of partners")
	sep := ','
	if head, _ := br.Peek(4096); strings.Count(firstLine(head), ";") > strings.Count(firstLine(head), ",") {
		sep = ';'
	}
	r := csv.NewReader(br)
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = sep, -1, false
	header, err := r.Read()
	if err != nil {
		return nil, rowErr(err, 1, "the file is empty or not CSV")
	}
	idx := map[string]int{}
	res := &ImportResult{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !contains(importColumns, h) {
			res.Errors = append(res.Errors, rowError(rowfile.RowError{Line: 1, Column: h, Value: header[i]}, i18n.M("unknown column; known: %s", strings.Join(importColumns, ", "))))
			continue
		}
		idx[h] = i
	}
	for _, need := range []string{"name", "email", "commission"} {
		if _, ok := idx[need]; !ok {
			res.Errors = append(res.Errors, rowError(rowfile.RowError{Line: 1, Column: need}, i18n.M("required column missing")))
		}
	}
	if len(res.Errors) > 0 {
		return res, nil
	}
	var parts []*Partner
	seen := map[string]int64{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			res.Errors = append(res.Errors, *rowErr(err, int64(line), "not a CSV row"))
			break
		}
		if len(parts)+len(res.Errors) >= MaxImportRows {
			res.Errors = append(res.Errors, rowError(rowfile.RowError{Line: int64(line)}, i18n.M("more than %d partners in one file", MaxImportRows)))
			break
		}
		get := func(col string) string {
			if i, ok := idx[col]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		pin := PartnerInput{Name: get("name"), Network: get("network"), Email: get("email"), Status: get("status"), Commission: get("commission"),
			Currency: get("currency"), Overrides: get("overrides"), CookieDays: get("cookie_days"), TimeZone: get("time_zone"), PostbackURL: get("postback_url")}
		p, err := BuildPartner(ctx, pin, s.DefaultTimeZone, s.Outbound)
		var ve validation.Errors
		if errors.As(err, &ve) {
			for _, fe := range ve {
				res.Errors = append(res.Errors, rowfile.RowError{Line: int64(line), Column: fe.Field, Value: get(fe.Field), Msg: fe.Msg, Message: fe.Message})
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(p.Name)
		if first, dup := seen[key]; dup {
			res.Errors = append(res.Errors, rowError(rowfile.RowError{Line: int64(line), Column: "name", Value: p.Name}, i18n.M("named already on line %d", first)))
			continue
		}
		seen[key] = int64(line)
		parts = append(parts, p)
	}
	if len(res.Errors) > 0 {
		return res, nil
	}
	now := s.now()
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, p := range parts {
			var old Partner
			err := tx.Where("LOWER(name) = LOWER(?)", p.Name).Take(&old).Error
			switch {
			case err == nil:
				p.ID, p.CreatedAt, p.UpdatedAt = old.ID, old.CreatedAt, now
				if err := tx.Save(p).Error; err != nil {
					return err
				}
				res.Updated++
			case errors.Is(err, gorm.ErrRecordNotFound):
				p.CreatedAt, p.UpdatedAt = now, now
				if err := tx.Create(p).Error; err != nil {
					return err
				}
				res.Created++
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("affiliation: import partners: %w", err)
	}
	return res, nil
}

// rowError is e with its message m, in English (Msg) and every language.
func rowError(e rowfile.RowError, m i18n.Message) rowfile.RowError {
	e.Msg, e.Message = m.String(), m
	return e
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func rowErr(err error, line int64, msg string) *rowfile.RowError {
	var re rowfile.RowError
	if errors.As(err, &re) {
		return &re
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &rowfile.RowError{Line: int64(pe.Line), Msg: msg + ": " + pe.Err.Error()}
	}
	return &rowfile.RowError{Line: line, Msg: msg + ": " + err.Error()}
}
