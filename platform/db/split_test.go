package db

import (
	"strings"
	"testing"
)

// Statements split on ';' except inside a trigger's BEGIN … END and a
// $$-quoted body.
func TestSplitStatementsKeepsBodiesWhole(t *testing.T) {
	sql := `CREATE TABLE a (x INT);
CREATE TRIGGER t AFTER INSERT ON a BEGIN
  INSERT INTO b VALUES (1); INSERT INTO b VALUES (2); END;
DO $$
DECLARE s text;
BEGIN
  SELECT 1 INTO s;
END $$;
CREATE INDEX i ON a (x)`
	got := splitStatements(sql)
	if len(got) != 4 || !strings.HasSuffix(got[1], "VALUES (2); END") || !strings.HasPrefix(got[2], "DO $$") || !strings.HasSuffix(got[2], "END $$") {
		t.Fatalf("%d statements: %q", len(got), got)
	}
}
