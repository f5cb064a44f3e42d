// Package sheet writes delimited files meant for people, who open them in a
// spreadsheet. A spreadsheet runs a cell that starts with =, +, -, @, a tab
// or a carriage return as a formula (=HYPERLINK(…) leaks data, +cmd|… ran
// programs): such a cell is written with a leading apostrophe, which
// spreadsheets read as "this is text" and do not show. Plain numbers
// (-12.5, +3) are left alone: they are no formula.
package sheet

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// Safe returns v as a spreadsheet shows it without running it.
func Safe(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) || number(v) {
		return v
	}
	return "'" + v
}

// number tells whether v is a plain signed decimal number.
func number(v string) bool {
	if v[0] != '+' && v[0] != '-' {
		return false
	}
	digits, sep := 0, false
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case (c == '.' || c == ',') && !sep && digits > 0 && i < len(v)-1:
			sep = true
		default:
			return false
		}
	}
	return digits > 0
}

// Writer is a csv.Writer whose every cell goes through Safe.
type Writer struct {
	*csv.Writer
	rec []string
}

// NewWriter returns a Writer on w with a comma separator.
func NewWriter(w io.Writer) *Writer { return &Writer{Writer: csv.NewWriter(w)} }

// Write writes one record, each cell made safe.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, v := range record {
		w.rec = append(w.rec, Safe(v))
	}
	return w.Writer.Write(w.rec)
}

// CopyCSV copies a CSV file with separator sep from src to dst, each cell
// made safe, as a stream.
func CopyCSV(dst io.Writer, src io.Reader, sep rune) error {
	r := csv.NewReader(src)
	r.Comma, r.FieldsPerRecord, r.ReuseRecord = sep, -1, true
	bw := bufio.NewWriterSize(dst, 64<<10)
	w := &Writer{Writer: csv.NewWriter(bw)}
	w.Comma = sep
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// CopyTSV copies a tab-separated file without quoting (Google's TSV: values
// hold no tab nor line break) from src to dst, each cell made safe.
func CopyTSV(dst io.Writer, src io.Reader) error {
	br := bufio.NewReaderSize(src, 64<<10)
	bw := bufio.NewWriterSize(dst, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			body, nl := strings.CutSuffix(line, "\n")
			for i, cell := range strings.Split(body, "\t") {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(Safe(cell))
			}
			if nl {
				bw.WriteByte('\n')
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}
