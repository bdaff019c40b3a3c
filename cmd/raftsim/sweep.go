package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type sweepFlags struct {
	out     string
	workers int
	shard   string
	seeds   int
}

func newSweepCmd(stdout, stderr io.Writer) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep FILE",
		Short: "Run every point of a scenario's sweep, on all cores, into a CSV",
		Long: `sweep runs a scenario at every combination of its sweep axes
(sweep: {nodes: [...], election_timeout: [...]}), for its seeds, on a pool
of workers, and writes one CSV row per run to DIR/NAME.csv. The rows do not
depend on the number of workers. --shard k/n runs a deterministic slice of
the runs, for fanning a big sweep out over machines; raftsim merge joins
the slices.`,
		Example: `  raftsim sweep scenarios/startup.yaml --out results/sweeps
  raftsim sweep scenarios/kill-half.yaml --out out --shard 2/8`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("sweep takes one scenario file, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd, args[0], &f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "write the CSV into `DIR` (required)")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU)")
	fl.StringVar(&f.shard, "shard", "", "run only slice `k/n` of the runs")
	fl.IntVar(&f.seeds, "seeds", 0, "seeds a point (overrides the file)")
	return cmd
}

func parseShard(s string) (k, n int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return 0, 0, &usageError{fmt.Errorf("--shard wants k/n with 1 <= k <= n, got %q", s)}
	}
	return k, n, nil
}

func runSweep(cmd *cobra.Command, path string, f *sweepFlags, stdout, stderr io.Writer) error {
	if f.out == "" {
		return &usageError{fmt.Errorf("sweep needs --out DIR")}
	}
	k, n, err := parseShard(f.shard)
	if err != nil {
		return err
	}
	sc, err := scenarios.Load(path)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if cmd.Flags().Changed("seeds") {
		if err := sc.Apply(scenarios.Overrides{Seeds: &f.seeds}); err != nil {
			return &exitError{exitUsage, err}
		}
	}
	total := len(sc.Jobs(k, n))
	start := time.Now()
	res, err := scenarios.RunSweep(sc, scenarios.SweepOptions{Workers: f.workers, Shard: k, Shards: n, Progress: progress(stderr, total)})
	if err != nil {
		return &exitError{exitFailed, err}
	}
	name := sc.Name
	if n > 1 {
		name = fmt.Sprintf("%s.shard%dof%d", name, k, n)
	}
	file := filepath.Join(f.out, name+".csv")
	if err := writeFile(file, func(w io.Writer) error { return scenarios.WriteCSV(w, sc, res) }); err != nil {
		return &exitError{exitFailed, err}
	}
	failed := 0
	for _, r := range res {
		if !r.OK {
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d runs in %.1f s: %d passed every check, %d did not; wrote %s\n",
		len(res), time.Since(start).Seconds(), len(res)-failed, failed, file)
	if failed > 0 {
		return &exitError{exitFailed, fmt.Errorf("%d of %d runs failed a check (see the CSV's ok column)", failed, len(res))}
	}
	return nil
}

// progress reports sweep progress on stderr: a bar on a terminal, a plain
// line every 10% otherwise (logs, CI).
func progress(stderr io.Writer, total int) func(done, total int) {
	if fh, ok := stderr.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
		bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("runs"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish())
		return func(done, _ int) { _ = bar.Set(done) }
	}
	start := time.Now()
	step := max(total/10, 1)
	return func(done, total int) {
		if done%step == 0 || done == total {
			el := time.Since(start).Seconds()
			left := el / float64(done) * float64(total-done)
			fmt.Fprintf(stderr, "sweep: %d/%d runs, %.1f runs/s, %.0f s left\n", done, total, float64(done)/el, left)
		}
	}
}

// writeFile creates path (and its directory) and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(fh); err != nil {
		fh.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return fh.Close()
}

func newMergeCmd(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "merge FILE.csv...",
		Short:   "Join the CSVs of a sharded sweep into one",
		Example: `  raftsim merge --out startup.csv out/startup.shard*of8.csv`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("merge needs at least one CSV")}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if out == "" {
				return &usageError{fmt.Errorf("merge needs --out FILE")}
			}
			var tables []*scenarios.Table
			for _, p := range args {
				fh, err := os.Open(p)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				t, err := scenarios.ReadCSV(fh, p)
				fh.Close()
				if err != nil {
					return &exitError{exitUsage, err}
				}
				tables = append(tables, t)
			}
			merged, err := scenarios.MergeCSV(tables)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			if err := writeFile(out, merged.Write); err != nil {
				return &exitError{exitFailed, err}
			}
			fmt.Fprintf(stdout, "merged %d files, %d runs, into %s\n", len(tables), len(merged.Rows), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the merged CSV to `FILE` (required)")
	return cmd
}
