package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampe/rampe/loadcheck"
)

func loadcheckCmd(cfgf cfgFunc) *cobra.Command {
	c := &cobra.Command{Use: "loadcheck", Short: "Load checks of landing pages"}
	var campaignID uint64
	var rate float64
	run := &cobra.Command{
		Use:   "run --campaign ID [--rate R]",
		Short: "Check the campaign's landing page at the rate it needs (or --rate), printing progress every second",
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStack(cmd, cfgf)
			if err != nil {
				return err
			}
			defer st.close()
			if err := st.joinNodes(cmd.Context(), "loadcheck", false); err != nil {
				return err
			}
			chk, err := st.loadcheck.Start(cmd.Context(), loadcheck.Plan{CampaignID: campaignID, Rate: rate, By: "command line"})
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "load check #%d of %s at %s req/s, steps %v × %d s\n", chk.ID, chk.URL, loadcheck.FormatRate(chk.TargetRate), chk.Steps, chk.StepSeconds)
			done := make(chan error, 1)
			go func() { done <- runWhenFree(cmd, st.loadcheck, chk.ID) }()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case err := <-done:
					if err != nil {
						return err
					}
					done = nil // run here, or by a worker that took its task: wait for the verdict
				case <-tick.C:
					if got, err := st.loadcheck.Store.Get(cmd.Context(), chk.ID); err == nil && got.Live != nil {
						l := got.Live
						fmt.Fprintf(cmd.ErrOrStderr(), "  step %d/%d  %s/%s req/s  p95 %.0f ms  p99 %.0f ms  %.1f errors/s\n", l.Step, l.Steps, loadcheck.FormatRate(l.Rate), loadcheck.FormatRate(l.TargetRate), l.P95Ms, l.P99Ms, l.ErrorsPerS)
					}
				}
				if done != nil {
					continue
				}
				got, err := st.loadcheck.Store.Get(cmd.Context(), chk.ID)
				if err != nil {
					return err
				}
				if got.Status == loadcheck.Queued || got.Status == loadcheck.Running {
					continue
				}
				for i, r := range got.Results {
					fmt.Fprintf(cmd.OutOrStdout(), "step %d: %s req/s asked, %s sent, p95 %.0f ms, p99 %.0f ms, errors %.2f %% — %s\n",
						i+1, loadcheck.FormatRate(r.TargetRate), loadcheck.FormatRate(r.AchievedRate), r.P95Ms, r.P99Ms, r.ErrorRatio*100, map[bool]string{true: "held", false: "broke: " + r.Broken}[r.Held])
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s; sustained %s req/s\n", got.Status, got.Reason, loadcheck.FormatRate(got.SustainedRate))
				if got.Status != loadcheck.Passed {
					return fail("the load check did not pass")
				}
				return nil
			}
		},
	}
	run.Flags().Uint64Var(&campaignID, "campaign", 0, "campaign id (required)")
	run.Flags().Float64Var(&rate, "rate", 0, "target req/s (default: the campaign's combined forecast peak × safety factor)")
	run.MarkFlagRequired("campaign")
	c.AddCommand(run)
	return c
}

// runWhenFree runs a check here, waiting its turn while another check runs
// anywhere in the deployment (one at a time).
func runWhenFree(cmd *cobra.Command, svc *loadcheck.Service, id uint64) error {
	for {
		err := svc.Run(cmd.Context(), id)
		var busy *loadcheck.BusyError
		if !errors.As(err, &busy) {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "  waiting: check #%d is running\n", busy.Running)
		select {
		case <-cmd.Context().Done():
			return cmd.Context().Err()
		case <-time.After(2 * time.Second):
		}
	}
}
