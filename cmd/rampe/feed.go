package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rampe/rampe/feeds"
)

func feedCmd(cfgf cfgFunc) *cobra.Command {
	c := &cobra.Command{Use: "feed", Short: "Comparator feeds"}
	c.AddCommand(&cobra.Command{
		Use:   "generate NAME",
		Short: "Generate a feed now, with a progress bar",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStack(cmd, cfgf)
			if err != nil {
				return err
			}
			defer st.close()
			// It writes the feed the web nodes serve: it must agree with them.
			if err := st.joinNodes(cmd.Context(), "feed-generate", false); err != nil {
				return err
			}
			cfg := st.cfg
			f, err := st.feeds.ByName(cmd.Context(), args[0])
			if errors.Is(err, feeds.ErrNotFound) {
				return fail("no feed named %q (see `rampe feed list`)", args[0])
			}
			if err != nil {
				return err
			}
			// The bar starts as a spinner; counting a large catalog takes a
			// while on PostgreSQL, so it runs beside the generation.
			bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("generating "+f.FileName()),
				progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
			counted := make(chan struct{})
			go func() {
				defer close(counted)
				if total, err := st.catalog.Count(cmd.Context()); err == nil {
					bar.ChangeMax64(total)
				}
			}()
			run, err := st.feeds.Generate(cmd.Context(), f.ID, "command line", func(p feeds.Progress) { bar.Set64(p.Read) })
			<-counted
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d items written, %d left out, %d warnings, %d bytes in %s\n", f.FileName(), run.Written, run.Skipped, run.Warnings, run.Bytes, run.Duration())
			for _, rc := range run.SortedRules() {
				fmt.Fprintf(cmd.OutOrStdout(), "  %-28s %d\n", rc.Rule, rc.Count)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "URL: %s/feeds/%s/%s\n", cfg.PublicBaseURL, f.Token, f.FileName())
			return nil
		},
	})
	var format, titleTpl string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Define a feed (the UI offers every option; this covers the common ones)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStack(cmd, cfgf)
			if err != nil {
				return err
			}
			defer st.close()
			cfg := st.cfg
			f := &feeds.Feed{Name: args[0], Format: format, TitleTemplate: titleTpl}
			if err := st.feeds.Create(cmd.Context(), f); err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "feed %s created: %s/feeds/%s/%s\n", f.Name, cfg.PublicBaseURL, f.Token, f.FileName())
			return nil
		},
	}
	create.Flags().StringVar(&format, "format", feeds.GoogleXML, "google_xml, google_tsv or idealo_csv")
	create.Flags().StringVar(&titleTpl, "title", "{title}", "title template, e.g. \"{brand} {title}\"")
	c.AddCommand(create)
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List feeds with their URL and last generation",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStack(cmd, cfgf)
			if err != nil {
				return err
			}
			defer st.close()
			cfg := st.cfg
			list, err := st.feeds.List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tFORMAT\tGENERATED\tURL")
			for _, f := range list {
				gen := "never"
				if f.GeneratedAt != nil {
					gen = f.GeneratedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s/feeds/%s/%s\n", f.Name, f.Format, gen, cfg.PublicBaseURL, f.Token, f.FileName())
			}
			return w.Flush()
		},
	})
	return c
}
