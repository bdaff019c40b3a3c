package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/internal/outfile"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/spf13/cobra"
)

type runFlags struct {
	nodes            int
	electionTimeout  time.Duration
	seed             uint64
	seeds            int
	trace            string
	history          string
	json             bool
	quiet            bool
	checkDeterminism bool
	viz              bool
	traceTemp        bool // the trace is --viz's temporary file
	world            string
	environment      string  // the model's environment profile (--environment)
	cpuScale         float64 // the model's CPU times × cpuScale (--cpu-scale)
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a scenario file for one or more seeds",
		Long: `run runs a scenario file for one or more seeds and prints each run's
measures and checks.

Output: --trace FILE and --history FILE are written inside FILE's
directory (created if need be), with .seedN before the extension when
several seeds run. Each is written to a temporary file in that directory
and renamed into place when the run ends, so it is never seen
half-written. An existing file is replaced only if it is raftsim's output
of the same kind (a JSON-lines trace; an HTML page); anything else is
refused with an error naming it. --viz without --trace writes the trace
to a temporary directory, removed when the viewer stops.`,
		Example: `  raftsim run scenarios/kill-half.yaml
  raftsim run scenarios/kill-half.yaml --nodes 41 --seed 7 --trace out/kill-half.jsonl
  raftsim run scenarios/startup.yaml --nodes 21 --election-timeout 250ms --seeds 20`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("run takes one scenario file, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScenario(cmd, args[0], &f, stdout)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.nodes, "nodes", 0, "cluster size (overrides the file)")
	fl.DurationVar(&f.electionTimeout, "election-timeout", 0, "election timeout ET; followers wait uniformly in [ET, 2ET) (overrides the file)")
	fl.Uint64Var(&f.seed, "seed", 0, "first seed (overrides the file)")
	fl.IntVar(&f.seeds, "seeds", 0, "number of consecutive seeds to run (overrides the file)")
	fl.StringVar(&f.trace, "trace", "", "write the trace as JSON lines to `FILE` (with several seeds: FILE with .seedN before the extension)")
	fl.StringVar(&f.history, "history", "", "write porcupine's view of the client history, annotated with leader changes and faults, to `FILE.html` (with several seeds: FILE with .seedN before the extension)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per run")
	fl.BoolVar(&f.quiet, "quiet", false, "print only failures and the summary")
	fl.StringVar(&f.world, "world", "model", "`WORLD`: model (the simulator), pion (the real WebRTC stack on vnet, in real time) or browser (real headless Chromium tabs)")
	fl.BoolVar(&f.viz, "viz", false, "serve the run's trace in a step-through page afterwards (one seed; the trace goes to --trace or a temporary file)")
	fl.BoolVar(&f.checkDeterminism, "check-determinism", false, "run every seed twice and fail if the trace hashes differ")
	fl.StringVar(&f.environment, "environment", "", "run the model in environment `PROFILE`: "+strings.Join(scenarios.EnvProfileNames(), ", ")+" (--world model only)")
	fl.Float64Var(&f.cpuScale, "cpu-scale", 1, "the model's CPU times × `X`, 0.1 to 10 (world.cpu_scale; --world model only)")
	return cmd
}

func runScenario(cmd *cobra.Command, path string, f *runFlags, stdout io.Writer) error {
	sc, err := loadWithOverrides(cmd, path, f)
	if err != nil {
		return err
	}
	if err := checkWorldFlags(cmd, f); err != nil {
		return err
	}
	if sc, err = inEnvironment(sc, "--environment", f.environment, f.cpuScale); err != nil {
		return err
	}
	if f.viz {
		if sc.Seeds != 1 {
			return &usageError{fmt.Errorf("--viz shows one run: use --seeds 1")}
		}
		if f.trace == "" {
			dir, err := os.MkdirTemp("", "raftsim-viz")
			if err != nil {
				return &exitError{exitFailed, err}
			}
			// Deferred first, so it runs after the viewer below stops.
			defer os.RemoveAll(dir)
			f.trace = filepath.Join(dir, outfile.SafeName(sc.Name)+".jsonl")
			f.traceTemp = true
		}
		defer func() {
			if err := runViz(cmd.Context(), f.trace, &vizFlags{history: f.history}, stdout); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "raftsim:", err)
			}
		}()
	}
	var results []*scenarios.Result
	var failed *scenarios.Result
	for i := 0; i < sc.Seeds; i++ {
		res, err := runSeed(cmd, sc, sc.Seed+uint64(i), f)
		if err != nil {
			return err
		}
		results = append(results, res)
		if !res.OK && worse(res, failed) {
			failed = res
		}
		switch {
		case f.json:
			b, _ := json.Marshal(res)
			fmt.Fprintln(stdout, string(b))
		case !f.quiet || !res.OK:
			printResult(stdout, res)
		}
	}
	if !f.json && len(results) > 1 {
		if !f.quiet {
			fmt.Fprintln(stdout) // apart from the runs above
		}
		printSummary(stdout, results)
	}
	if !f.json {
		printWritten(stdout, sc, f)
	}
	if failed != nil {
		return &exitError{exitCode(failed), fmt.Errorf("seed %d: %s\nreplay: %s", failed.Seed, failure(failed), failed.Replay)}
	}
	return nil
}

// loadWithOverrides loads the scenario and applies the flags that
// override it.
func loadWithOverrides(cmd *cobra.Command, path string, f *runFlags) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(path)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	var o scenarios.Overrides
	fl := cmd.Flags()
	if fl.Changed("nodes") {
		o.Nodes = &f.nodes
	}
	if fl.Changed("election-timeout") {
		et := sim.FromDuration(f.electionTimeout)
		o.ElectionTimeout = &et
	}
	if fl.Changed("seed") {
		o.Seed = &f.seed
	}
	if fl.Changed("seeds") {
		o.Seeds = &f.seeds
	}
	if err := sc.Apply(o); err != nil {
		if oe := (*scenarios.OverrideError)(nil); errors.As(err, &oe) {
			return nil, &usageError{err}
		}
		return nil, &exitError{exitUsage, fmt.Errorf("%w (after command-line overrides)", err)}
	}
	return sc, nil
}

// runSeed runs one seed (twice, with --check-determinism).
func runSeed(cmd *cobra.Command, sc *scenarios.Scenario, seed uint64, f *runFlags) (*scenarios.Result, error) {
	res, err := runOne(sc, seed, f.world, tracePath(f.trace, seed, sc.Seeds), tracePath(f.history, seed, sc.Seeds), runProgress(cmd.ErrOrStderr(), seed))
	if errors.Is(err, scenarios.ErrNotOnWorld) {
		return nil, &exitError{exitUsage, err}
	}
	if err != nil {
		return nil, &exitError{exitFailed, err}
	}
	if f.checkDeterminism {
		again, err := runOne(sc, seed, f.world, "", "", runProgress(cmd.ErrOrStderr(), seed))
		if err != nil {
			return nil, &exitError{exitFailed, err}
		}
		res.Determinism = "ok"
		if again.TraceHash != res.TraceHash {
			res.OK, res.Determinism = false, "violated"
			res.Violation = fmt.Sprintf("nondeterminism: trace hash %s then %s", res.TraceHash, again.TraceHash)
		}
	}
	return res, nil
}

// printWritten names the files the run wrote (--trace, --history; not
// the temporary trace of --viz).
func printWritten(w io.Writer, sc *scenarios.Scenario, f *runFlags) {
	for _, named := range []string{f.trace, f.history} {
		if named == "" || (named == f.trace && f.traceTemp) {
			continue
		}
		for i := 0; i < sc.Seeds; i++ {
			fmt.Fprintf(w, "wrote %s\n", tracePath(named, sc.Seed+uint64(i), sc.Seeds))
		}
	}
}

// failure says what failed in a run.
func failure(r *scenarios.Result) string {
	switch {
	case r.Panic != "":
		return "the run panicked (a bug in raftsim or raft/): " + r.Panic
	case r.Violation != "":
		return r.Violation
	case r.Linearizability == checker.LinIllegal:
		return "the client history is not linearizable: " + r.LinDetail
	case r.Linearizability == checker.LinUnknown:
		return "the linearizability checker ran out of time"
	case r.Liveness != "ok":
		return "a measured phase did not complete within the run's limit"
	}
	return "a check failed"
}

// tracePath is the file for seed's trace (or history) given the path
// the user named: path itself for one seed, else path with .seedN
// before the extension. It stays in path's directory.
func tracePath(path string, seed uint64, seeds int) string {
	if path == "" || seeds == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s.seed%d%s", strings.TrimSuffix(path, ext), seed, ext)
}

// exitCode is the exit code a failed run calls for: 4 when it panicked,
// 3 when the only failure is a linearizability check that ran out of
// time, else 1.
func exitCode(r *scenarios.Result) int {
	switch {
	case r.Panic != "":
		return exitInternal
	case r.Safety == "ok" && r.Liveness == "ok" && r.Linearizability == checker.LinUnknown:
		return exitUnknown
	}
	return exitFailed
}

// worse reports whether failed run a calls for a more serious exit code
// than b (nil: none yet): internal, then failed, then unknown.
func worse(a, b *scenarios.Result) bool {
	rank := map[int]int{exitUnknown: 1, exitFailed: 2, exitInternal: 3}
	return b == nil || rank[exitCode(a)] > rank[exitCode(b)]
}

// runProgress prints a long run's progress on stderr (scenarios calls it
// every scenarios.ProgressEvery of wall time).
func runProgress(stderr io.Writer, seed uint64) func(scenarios.RunProgress) {
	return func(p scenarios.RunProgress) {
		fmt.Fprintf(stderr, "run: seed %d: virtual %.1f s of the %.0f s limit, %d events, %.0f s wall\n",
			seed, p.Now.Seconds(), p.Limit.Seconds(), p.Events, p.Wall.Seconds())
	}
}

// runOne runs one seed (progress, if set, gets RunOptions.Progress
// reports), writing its trace and history (if named) each to
// a temporary file renamed into place when the run ends.
// checkWorldFlags refuses an unknown world, and a determinism check on a
// world that is not deterministic.
func checkWorldFlags(cmd *cobra.Command, f *runFlags) error {
	if cmd.Flags().Changed("cpu-scale") {
		if err := checkCPUScale("--cpu-scale", f.cpuScale); err != nil {
			return err
		}
	}
	switch f.world {
	case scenarios.WorldModel:
	case scenarios.WorldPion, scenarios.WorldBrowser:
		if f.checkDeterminism {
			return &usageError{fmt.Errorf("--check-determinism needs --world model: a real stack is reproducible in distribution only")}
		}
		for _, flag := range []string{"environment", "cpu-scale"} {
			if cmd.Flags().Changed(flag) {
				return &usageError{fmt.Errorf("--%s needs --world model: a real world is the environment", flag)}
			}
		}
	default:
		return &usageError{fmt.Errorf("--world wants model, pion or browser, got %q", f.world)}
	}
	return nil
}

func runOne(sc *scenarios.Scenario, seed uint64, world, trace, history string, progress func(scenarios.RunProgress)) (*scenarios.Result, error) {
	var res *scenarios.Result
	run := func(opts scenarios.RunOptions) (err error) {
		opts.Progress, opts.World = progress, world
		res, err = scenarios.Run(sc, seed, opts)
		return err
	}
	withHistory := func(opts scenarios.RunOptions) error {
		if history == "" {
			return run(opts)
		}
		_, err := outfile.WriteFile(history, outfile.HTML, func(w io.Writer) error {
			opts.History = w
			return run(opts)
		})
		return err
	}
	if trace == "" {
		return res, withHistory(scenarios.RunOptions{})
	}
	_, err := outfile.WriteFile(trace, outfile.Trace, func(w io.Writer) error {
		return withHistory(scenarios.RunOptions{Trace: w})
	})
	return res, err
}

func printResult(w io.Writer, r *scenarios.Result) {
	fmt.Fprintf(w, "%s  nodes=%d  election-timeout=%gms  seed=%d\n", r.Scenario, r.Nodes, r.ElectionTimeoutMS, r.Seed)
	for _, name := range r.MeasureOrder {
		if v := r.Measures[name]; v != nil {
			fmt.Fprintf(w, "  %-12s %8.3f s\n", name, *v)
		} else {
			fmt.Fprintf(w, "  %-12s    never (not reached by the run's limit)\n", name)
		}
	}
	ratio := math.Inf(1)
	if r.WallSeconds > 0 {
		ratio = r.VirtualSeconds / r.WallSeconds
	}
	speed := fmt.Sprintf("%.0fx real time", ratio)
	if ratio < 10 {
		// A real stack: its clock is real time, the rest set-up.
		speed = fmt.Sprintf("%.2fx real time", ratio)
	}
	fmt.Fprintf(w, "  events %d (%d traced)  virtual %.3f s  wall %.4f s  (%s)\n", r.Events, r.TraceEvents, r.VirtualSeconds, r.WallSeconds, speed)
	hash := r.TraceHash
	if hash == "" {
		hash = "(not hashed: real time)"
	}
	fmt.Fprintf(w, "  trace %s  safety %s  liveness %s", hash, r.Safety, r.Liveness)
	if r.Linearizability != checker.LinNA {
		fmt.Fprintf(w, "  linearizability %s (%d operations)", r.Linearizability, r.Operations)
	}
	fmt.Fprintln(w)
	if r.Determinism == "ok" {
		fmt.Fprintf(w, "  determinism ok: ran twice, the same trace hash both times\n")
	}
	if r.Violation != "" {
		fmt.Fprintf(w, "  VIOLATION %s\n  replay: %s\n", r.Violation, r.Replay)
	}
	if r.Panic != "" {
		fmt.Fprintf(w, "  PANIC %s (a bug in raftsim or raft/)\n%s\n  replay: %s\n", r.Panic, r.PanicStack, r.Replay)
	}
}

func printSummary(w io.Writer, rs []*scenarios.Result) {
	fmt.Fprintf(w, "%d runs: %s nodes=%d election-timeout=%gms\n", len(rs), rs[0].Scenario, rs[0].Nodes, rs[0].ElectionTimeoutMS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "measure\tmean s\tmin s\tmax s\tcompleted\t")
	for _, name := range rs[0].MeasureOrder {
		sum, lo, hi, n := 0.0, math.Inf(1), math.Inf(-1), 0
		for _, r := range rs {
			if v := r.Measures[name]; v != nil {
				sum += *v
				lo, hi = min(lo, *v), max(hi, *v)
				n++
			}
		}
		if n == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t0/%d\t\n", name, len(rs))
			continue
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d/%d\t\n", name, sum/float64(n), lo, hi, n, len(rs))
	}
	tw.Flush()
	ok := 0
	for _, r := range rs {
		if r.OK {
			ok++
		}
	}
	fmt.Fprintf(w, "checks passed: %d/%d\n", ok, len(rs))
}
