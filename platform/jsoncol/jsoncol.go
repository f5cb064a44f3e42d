// Package jsoncol keeps a value as JSON text in one database column: NULL
// when it is empty, the JSON otherwise. A type stored this way calls Value
// and Scan from its driver.Valuer and sql.Scanner.
package jsoncol

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Value is v as JSON text, or NULL when empty.
func Value(v any, empty bool) (driver.Value, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Scan decodes into dst a column written by Value. NULL or "" leaves dst
// as it is; a column that is not text is an error naming both types.
func Scan(src, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("cannot read %T from a %T column", dst, src)
	}
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, dst)
}
