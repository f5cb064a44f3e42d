package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampe/rampe/catalog"
	"github.com/rampe/rampe/platform/db"
	"github.com/rampe/rampe/platform/i18n"
)

func catalogCmd(cfgf cfgFunc) *cobra.Command {
	c := &cobra.Command{Use: "catalog", Short: "Manage the product catalog"}
	var skip bool
	var report, cur, format string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import products from CSV (; or , separated) or JSON, upserting by SKU; all-or-nothing unless --skip-invalid",
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
				format = catalog.FormatFor(args[0])
			}
			bar := importBar(cmd, args[0], st.Size())
			store := &catalog.Store{DB: g}
			res, err := store.Import(cmd.Context(), f, catalog.Options{Format: format, DefaultCurrency: cur, SkipInvalid: skip,
				Progress: func(p catalog.Progress) { bar.Set64(p.BytesRead) }})
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
			if werr := reportRows(cmd, report, res.Errors); werr != nil {
				return werr
			}
			if errors.Is(err, catalog.ErrInvalidRows) {
				return fail("nothing imported: %d invalid row(s) of %d; report written to %s (use --skip-invalid to import the rest)", res.Invalid, res.Rows, report)
			}
			if err != nil {
				return fail("import failed, nothing imported: %v", err)
			}
			lang := cliLang()
			said := []any{i18n.M("%d products imported or updated from %d rows", res.Imported, res.Rows)}
			if res.Invalid > 0 {
				said = append(said, i18n.M("%d invalid rows skipped, listed in %s", res.Invalid, report))
			}
			if len(res.Ignored) > 0 {
				said = append(said, i18n.M("ignored columns: %s", strings.Join(res.Ignored, ", ")))
			}
			fmt.Fprintln(cmd.OutOrStdout(), i18n.Text(lang, i18n.Join{Parts: said, Sep: "; "}))
			if title := res.FeedGaps.Title(); title != nil {
				fmt.Fprintln(cmd.OutOrStdout(), i18n.Text(lang, title))
				for _, l := range res.FeedGaps.Lines() {
					fmt.Fprintln(cmd.OutOrStdout(), "  "+i18n.Text(lang, l))
				}
			}
			return nil
		},
	}
	imp.Flags().BoolVar(&skip, "skip-invalid", false, "import the valid rows and report the invalid ones")
	imp.Flags().StringVar(&report, "report", "import-report.csv", "where to write the CSV report of invalid rows")
	imp.Flags().StringVar(&cur, "currency", "EUR", "currency of rows without one")
	imp.Flags().StringVar(&format, "format", "", "csv or json (default: from the file name)")
	c.AddCommand(imp)
	return c
}
