package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rampe/rampe/platform/i18n"
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

// cliLang is the language of the user running a command, from the locale
// of the shell (LC_ALL, then LC_MESSAGES, then LANG, as gettext reads
// them): French for fr_FR.UTF-8, English otherwise.
func cliLang() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			lang := strings.ToLower(v)
			if i := strings.IndexAny(lang, "_.@"); i >= 0 {
				lang = lang[:i] // fr_FR.UTF-8, fr.UTF-8
			}
			if i18n.Supported(lang) {
				return lang
			}
			return i18n.EN
		}
	}
	return i18n.EN
}
