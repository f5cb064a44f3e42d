package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rampe/rampe/platform/rowfile"
)

// importBar is the progress bar of a file import, in bytes read.
func importBar(cmd *cobra.Command, path string, size int64) *progressbar.ProgressBar {
	return progressbar.NewOptions64(size, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("importing "+filepath.Base(path)), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30), progressbar.OptionShowElapsedTimeOnFinish())
}

// reportRows writes an import's row problems to the report at path and
// shows the first ten.
func reportRows(cmd *cobra.Command, path string, errs []rowfile.RowError) error {
	if len(errs) == 0 {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fail("cannot write the report: %v", err)
	}
	defer f.Close()
	if err := rowfile.WriteReport(f, errs); err != nil {
		return fail("cannot write the report: %v", err)
	}
	shown := min(len(errs), 10)
	for _, e := range errs[:shown] {
		fmt.Fprintln(cmd.ErrOrStderr(), "  "+e.Error())
	}
	if len(errs) > shown {
		fmt.Fprintf(cmd.ErrOrStderr(), "  … %d more in %s\n", len(errs)-shown, path)
	}
	return nil
}
