package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type fuzzFlags struct {
	seeds      int
	seed       uint64
	duration   time.Duration
	workers    int
	maxNodes   int
	plantBug   string
	out        string
	noShrink   bool
	shrinkRuns int
	listBugs   bool
	catchRate  bool
	optIn      []string
}

// maxFuzzWorkers bounds --workers: more goroutines than this only share
// the same cores.
const maxFuzzWorkers = 1024

func newFuzzCmd(stdout, stderr io.Writer) *cobra.Command {
	var f fuzzFlags
	cmd := &cobra.Command{
		Use:   "fuzz",
		Short: "Swarm-test Raft with random scenarios; shrink and write what fails",
		Long: `fuzz generates a random scenario per seed, swarm-testing style: a random
subset of fault kinds (loss, duplication, reordering, partitions, one-way
cuts, crashes and restarts, hidden, frozen and discarded tabs, signaling
outages, membership churn, storage pressure, blackholes, leadership
transfers, path changes) at random intensities, a random cluster of 1 to 41
tabs, random timers and Raft options, and KV clients. It runs the seeds on
all cores and checks each run: Raft's safety invariants, linearizability of
the client history (porcupine), and liveness after a final heal (a leader
and a new commit within 60 s; 120 s with pion's SCTP timers, whose
retransmissions back off to a minute).

A failing seed is shrunk (fewer nodes, fault steps, shorter windows, fewer
client operations, options back to their defaults) while it keeps failing
the same check, and written to DIR/fuzz-SEED.yaml: a standalone scenario
that "raftsim run" replays exactly. --plant-bug NAME switches on one of
raft's planted bugs and stops at the first seed that catches it.

A run that panics (a bug in raftsim or raft/, not in the scenario) is a
finding like any other: its kind is "panic", and it is shrunk and written.

Exit status: 0 if every run passed (with --plant-bug: if the bug was
caught), 1 if a run failed (with --plant-bug: if the bug was not caught),
2 on misuse, 4 if a run panicked.`,
		Example: `  raftsim fuzz --seeds 1000
  raftsim fuzz --duration 1h --out fuzz-out
  raftsim fuzz --plant-bug vote-ignores-log --seeds 500`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFuzz(cmd, &f, stdout, stderr) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.seeds, "seeds", 0, "run this many seeds (default 1000 without --duration)")
	fl.Uint64Var(&f.seed, "seed", 1, "first seed")
	fl.DurationVar(&f.duration, "duration", 0, "run seeds until this much wall time has passed (e.g. 1h)")
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU)")
	fl.IntVar(&f.maxNodes, "max-nodes", 41, "largest cluster")
	fl.StringVar(&f.plantBug, "plant-bug", "", "switch on planted bug `NAME` and hunt it (see --list-bugs)")
	fl.BoolVar(&f.listBugs, "list-bugs", false, "print the planted bugs' names and exit")
	fl.BoolVar(&f.catchRate, "catch-rate", false, "with --plant-bug: run every seed and report how many catch the bug (one reproducer, the first)")
	fl.StringSliceVar(&f.optIn, "opt-in", nil, "draw these opt-in fault `KINDS` too (membership)")
	fl.StringVar(&f.out, "out", "out", "write reproducers into `DIR`")
	fl.BoolVar(&f.noShrink, "no-shrink", false, "write failures as found, unshrunk")
	fl.IntVar(&f.shrinkRuns, "shrink-runs", scenarios.DefaultShrinkRuns, "runs one shrink may make")
	return cmd
}

func runFuzz(cmd *cobra.Command, f *fuzzFlags, stdout, stderr io.Writer) error {
	if f.listBugs {
		fmt.Fprintln(stdout, strings.Join(raft.BugNames(), "\n"))
		return nil
	}
	if err := checkFuzzFlags(cmd, f); err != nil {
		return err
	}
	opt := scenarios.FuzzOptions{FirstSeed: f.seed, Seeds: f.seeds, Duration: f.duration, Workers: f.workers,
		Swarm: scenarios.SwarmOptions{MaxNodes: f.maxNodes, PlantedBug: f.plantBug, OptIn: optInKinds(f.optIn)}, StopAtFirst: f.plantBug != "" && !f.catchRate,
		Progress: fuzzProgress(stderr, f.seeds)}
	start := time.Now()
	rep, err := scenarios.Fuzz(opt)
	if err != nil {
		return &exitError{exitFailed, err}
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "%d seeds (%d..%d) in %.1f s, %.0f runs/s: %d failed", rep.Runs, f.seed, f.seed+uint64(rep.Runs)-1,
		el.Seconds(), float64(rep.Runs)/el.Seconds(), len(rep.Failures))
	if rep.Unknown > 0 {
		fmt.Fprintf(stdout, ", %d histories undecided within %v (not failures)", rep.Unknown, scenarios.FuzzLinTimeout)
	}
	fmt.Fprintln(stdout)
	printCoverage(stdout, rep)
	if len(rep.Failures) == 0 {
		if f.plantBug != "" {
			return &exitError{exitFailed, fmt.Errorf("planted bug %s NOT caught in %d seeds", f.plantBug, rep.Runs)}
		}
		return nil
	}
	if f.plantBug != "" {
		fmt.Fprintf(stdout, "planted bug %s caught at seed %d, after %d seeds\n", f.plantBug, rep.Failures[0].Seed, rep.Failures[0].Seed-f.seed+1)
	}
	if f.catchRate {
		fmt.Fprintf(stdout, "planted bug %s caught by %d of %d seeds (%.1f%%)\n", f.plantBug, len(rep.Failures), rep.Runs,
			100*float64(len(rep.Failures))/float64(rep.Runs))
		rep.Failures = rep.Failures[:1]
	}
	for _, fail := range rep.Failures {
		fmt.Fprintf(stdout, "\nseed %d fails %s: %s\n  %s\n", fail.Seed, fail.Kind, oneLine(fail.Detail), fail.Scenario.Description)
		var removed []string
		if !f.noShrink {
			sh, err := scenarios.Shrink(fail, f.shrinkRuns)
			if err != nil {
				return &exitError{exitFailed, err}
			}
			fmt.Fprintf(stdout, "  shrunk in %d runs; still fails %s: %s\n", sh.Runs, sh.Failure.Kind, oneLine(sh.Failure.Detail))
			for _, r := range sh.Removed {
				fmt.Fprintf(stdout, "  removed: %s\n", r)
			}
			fail, removed = sh.Failure, sh.Removed
		}
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return &exitError{exitFailed, err}
		}
		path, err := scenarios.WriteReproducer(f.out, fail, removed)
		if err != nil {
			return &exitError{exitFailed, err}
		}
		fmt.Fprintf(stdout, "  reproducer: %s\n  replay: raftsim run %s\n", path, path)
	}
	if f.plantBug != "" {
		return nil // hunted and caught
	}
	for _, fail := range rep.Failures {
		if fail.Kind == scenarios.FailPanic {
			return &exitError{exitInternal, nil}
		}
	}
	return &exitError{exitFailed, nil}
}

// printCoverage prints the swarm's coverage marks: how many runs applied
// each kind of fault step, and how many cases each world-independent
// invariant decided.
func printCoverage(w io.Writer, rep *scenarios.FuzzReport) {
	var faults, checks []string
	for _, k := range scenarios.FaultKeys() {
		faults = append(faults, fmt.Sprintf("%s %d", k, rep.FaultRuns[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(rep.Exercised)) {
		checks = append(checks, fmt.Sprintf("%s %d", k, rep.Exercised[k]))
	}
	fmt.Fprintf(w, "coverage: runs with each fault step: %s\n", strings.Join(faults, ", "))
	fmt.Fprintf(w, "coverage: cases decided by each invariant: %s\n", strings.Join(checks, ", "))
}

// optInKinds converts --opt-in's names.
func optInKinds(names []string) []scenarios.FaultKind {
	var out []scenarios.FaultKind
	for _, n := range names {
		out = append(out, scenarios.FaultKind(n))
	}
	return out
}

// checkFuzzFlags refuses flag values out of their bounds (usage errors)
// and fills the default number of seeds.
func checkFuzzFlags(cmd *cobra.Command, f *fuzzFlags) error {
	switch {
	case cmd.Flags().Changed("seeds") && (f.seeds < 1 || f.seeds > 100_000_000):
		return &usageError{fmt.Errorf("--seeds must be in 1..100000000, got %d", f.seeds)}
	case f.duration < 0:
		return &usageError{fmt.Errorf("--duration must not be negative, got %v", f.duration)}
	case f.maxNodes < 1 || f.maxNodes > 200:
		return &usageError{fmt.Errorf("--max-nodes must be in 1..200, got %d", f.maxNodes)}
	case f.shrinkRuns < 1 || f.shrinkRuns > 1_000_000:
		return &usageError{fmt.Errorf("--shrink-runs must be in 1..1000000, got %d", f.shrinkRuns)}
	case f.workers < 0 || f.workers > maxFuzzWorkers:
		return &usageError{fmt.Errorf("--workers must be in 0..%d (0: one per CPU), got %d", maxFuzzWorkers, f.workers)}
	case f.seed == 0:
		return &usageError{fmt.Errorf("--seed must be at least 1")}
	}
	if f.catchRate && f.plantBug == "" {
		return &usageError{fmt.Errorf("--catch-rate needs --plant-bug")}
	}
	if f.plantBug != "" {
		if err := scenarios.CheckPlantedBug(f.plantBug); err != nil {
			return &usageError{err}
		}
	}
	for _, k := range f.optIn {
		if !slices.Contains(scenarios.FaultKinds(), scenarios.FaultKind(k)) {
			return &usageError{fmt.Errorf("--opt-in: unknown fault kind %q", k)}
		}
	}
	if f.seeds == 0 && f.duration == 0 {
		f.seeds = 1000
	}
	if f.seeds > 0 && f.seed > math.MaxUint64-uint64(f.seeds-1) {
		return &usageError{fmt.Errorf("--seed %d plus --seeds %d wraps around 2^64", f.seed, f.seeds)}
	}
	return nil
}

func oneLine(s string) string {
	if len(s) > 240 {
		return s[:240] + "..."
	}
	return s
}

// fuzzProgress shows a bar on a terminal, a line every 10% (or every 500
// runs when bounded by time) otherwise.
func fuzzProgress(stderr io.Writer, total int) func(scenarios.FuzzProgress) {
	if fh, ok := stderr.(*os.File); ok && term.IsTerminal(int(fh.Fd())) {
		max := int64(total)
		if total == 0 {
			max = -1 // a spinner: bounded by time
		}
		bar := progressbar.NewOptions64(max, progressbar.OptionSetWriter(stderr), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("seeds"), progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("fuzz"))
		return func(p scenarios.FuzzProgress) {
			bar.Describe(fmt.Sprintf("fuzz (%d failed)", p.Failures))
			_ = bar.Set(p.Done)
		}
	}
	start := time.Now()
	step := 500
	if total > 0 {
		step = max(total/10, 1)
	}
	return func(p scenarios.FuzzProgress) {
		if p.Done%step == 0 || p.Done == p.Total {
			fmt.Fprintf(stderr, "fuzz: %d seeds, %d failed, %.0f runs/s\n", p.Done, p.Failures, float64(p.Done)/time.Since(start).Seconds())
		}
	}
}
