package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/rampe/rampe/channels/email/audience"
	"github.com/rampe/rampe/platform/db"
)

func contactsCmd(cfgf cfgFunc) *cobra.Command {
	c := &cobra.Command{Use: "contacts", Short: "Manage the e-mail contacts"}
	var partial bool
	var list uint64
	var report, format string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import contacts from CSV or JSON, merged by address; all-or-nothing unless --partial; suppressed addresses stay suppressed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := cfgf()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fail("%v", err)
			}
			defer f.Close()
			st, _ := f.Stat()
			g, err := openDB(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close(g)
			if format == "" {
				format = audience.FormatFor(args[0])
			}
			svc := &audience.Service{DB: g}
			if list != 0 {
				if _, err := svc.GetList(cmd.Context(), list); err != nil {
					return fail("--list %d: no such list", list)
				}
			}
			opt := audience.ImportOptions{Format: format, Partial: partial, ListID: list}
			run, err := svc.StartImport(cmd.Context(), filepath.Base(args[0]), format, st.Size(), opt, "cli")
			if err != nil {
				return err
			}
			bar := importBar(cmd, args[0], st.Size())
			opt.Progress = func(p audience.Progress) { bar.Set64(p.BytesRead) }
			res, err := svc.RunImport(cmd.Context(), run, f, opt)
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
			if werr := reportRows(cmd, report, res.Errors); werr != nil {
				return werr
			}
			if errors.Is(err, audience.ErrInvalidRows) {
				return fail("nothing imported: %d invalid row(s) of %d; report written to %s (use --partial to import the rest)", res.Invalid, res.Rows, report)
			}
			if err != nil {
				return fail("import failed, nothing imported: %v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d contacts imported or updated from %d rows", res.Imported, res.Rows)
			if res.Invalid > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; %d invalid rows skipped, listed in %s", res.Invalid, report)
			}
			if res.Suppressed > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "; %d suppressed addresses kept suppressed, listed in %s", res.Suppressed, report)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	imp.Flags().BoolVar(&partial, "partial", false, "import the valid rows and report the invalid ones")
	imp.Flags().Uint64Var(&list, "list", 0, "id of the list every imported contact joins")
	imp.Flags().StringVar(&report, "report", "contacts-import-report.csv", "where to write the CSV report")
	imp.Flags().StringVar(&format, "format", "", "csv or json (default: from the file name)")
	c.AddCommand(imp)
	return c
}
