package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/outfile"
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
	world   string
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
the slices.

Output: the CSV goes inside DIR (created if need be), named after the
scenario reduced to a safe file name (letters, digits, '.', '_', '-';
e.g. "../x/y" becomes "x-y"), with .shardKofN for a shard. It is written
to a temporary file in DIR and renamed into place, so it is never seen
half-written; it ends with a line "# raftsim sweep: N rows" that merge
checks. An existing file of that name is replaced only if it is a sweep
CSV (it begins "scenario,"); anything else is refused with an error.`,
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
	fl.StringVar(&f.out, "out", "out", "write the CSV into `DIR`")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU)")
	fl.StringVar(&f.shard, "shard", "", "run only slice `k/n` of the runs")
	fl.IntVar(&f.seeds, "seeds", 0, "seeds a point (overrides the file)")
	fl.StringVar(&f.world, "world", "model", "`WORLD`: model, pion or browser (the real stacks, in real time: use few workers)")
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
		return &usageError{fmt.Errorf("--out needs a directory")}
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
			if oe := (*scenarios.OverrideError)(nil); errors.As(err, &oe) {
				return &usageError{err}
			}
			return &usageError{fmt.Errorf("--seeds %d: %w", f.seeds, err)}
		}
	}
	if f.world != scenarios.WorldModel && f.world != scenarios.WorldPion && f.world != scenarios.WorldBrowser {
		return &usageError{fmt.Errorf("--world wants model, pion or browser, got %q", f.world)}
	}
	total := len(sc.Jobs(k, n))
	start := time.Now()
	res, err := scenarios.RunSweep(sc, scenarios.SweepOptions{World: f.world, Workers: f.workers, Shard: k, Shards: n, Progress: progress(stderr, total)})
	if errors.Is(err, scenarios.ErrNotOnWorld) {
		return &exitError{exitUsage, err}
	}
	if err != nil {
		return &exitError{exitFailed, err}
	}
	file, err := writeSweepCSV(f.out, sweepFileName(sc.Name, k, n), sc, res, k, n)
	if err != nil {
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

// sweepFileName is the CSV's name for scenario name, shard k of n: the
// name reduced to a safe base name, never a path.
func sweepFileName(name string, k, n int) string {
	name = outfile.SafeName(name)
	if n > 1 {
		name = fmt.Sprintf("%s.shard%dof%d", name, k, n)
	}
	return name + ".csv"
}

// writeSweepCSV writes the sweep's CSV (shard k of n; n 1: the whole
// sweep) as name inside dir and returns its path.
func writeSweepCSV(dir, name string, sc *scenarios.Scenario, res []*scenarios.Result, k, n int) (string, error) {
	d, err := outfile.Open(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	if n <= 1 {
		k, n = 0, 0
	}
	return d.Write(name, outfile.SweepCSV, func(w io.Writer) error { return scenarios.WriteShardCSV(w, sc, res, k, n) })
}

// writeFile writes path, a file the user named (viz --out), atomically:
// a temporary file in the same directory, renamed into place. An
// existing file is replaced only if it is an HTML page.
func writeFile(path string, fn func(io.Writer) error) error {
	_, err := outfile.WriteFile(path, outfile.HTML, fn)
	return err
}

func newMergeCmd(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge FILE.csv...",
		Short: "Join the CSVs of a sharded sweep into one",
		Long: `merge joins the CSVs of a sharded sweep (raftsim sweep --shard) into one,
in the order of the whole sweep. It checks every file first and refuses,
naming the file and line: a header that is not a sweep CSV's or differs
between files, a row with the wrong number of columns, a number column
that is not a finite number (a measure may be empty: never reached), a
run (scenario, parameters, seed) present twice, in one file or across
files, and a file without its closing "# raftsim sweep: N rows" line or
with another number of rows (a cut or unfinished file). Shards name
themselves in that closing line ("# raftsim sweep: N rows (shard K of
M)"), and merge refuses shards of different sweep sizes, a shard given
twice, a shard mixed with a whole sweep, and an incomplete set (naming
the missing shards).

Output: --out FILE is written inside FILE's directory (created if need
be), to a temporary file renamed into place. An existing FILE is replaced
only if it is a sweep CSV (it begins "scenario,"); anything else is
refused with an error.`,
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
			return runMerge(out, args, stdout)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the merged CSV to `FILE` (required)")
	return cmd
}

func runMerge(out string, files []string, stdout io.Writer) error {
	var tables []*scenarios.Table
	for _, p := range files {
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
	if _, err := outfile.WriteFile(out, outfile.SweepCSV, merged.Write); err != nil {
		return &exitError{exitFailed, err}
	}
	fmt.Fprintf(stdout, "merged %d files, %d runs, into %s\n", len(tables), len(merged.Rows), out)
	return nil
}
