package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/browserworld"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/spf13/cobra"
)

type benchFlags struct {
	world    string
	nodes    int
	duration time.Duration
	inflight int
	runs     int
}

func newBenchCmd(stdout io.Writer) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure speed: writes/s on a real stack, or the simulator's speed",
		Long: `bench --world pion starts a cluster over pion datachannels on vnet, in
real time, and measures committed writes per second at the leader: one
outstanding write at a time (as WRaft's benchmark) and then --inflight
outstanding. bench --world browser does the same in real headless
Chromium tabs (Debian's chromium; WRaft's own setting). bench --world
model runs kill-half at 41 nodes --runs times and reports the
simulator's virtual/wall ratio.`,
		Example: `  raftsim bench --world pion
  raftsim bench --world browser
  raftsim bench --world model --runs 20`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return runBench(&f, stdout) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.world, "world", "pion", "`WORLD`: pion, browser or model")
	fl.IntVar(&f.nodes, "nodes", 3, "cluster size, 1..101 (pion, browser)")
	fl.DurationVar(&f.duration, "duration", 2*time.Second, "how long each measurement runs, 10ms..1h (pion, browser)")
	fl.IntVar(&f.inflight, "inflight", 64, "writes outstanding in the pipelined measurement, 1..100000 (pion, browser)")
	fl.IntVar(&f.runs, "runs", 20, "runs, 1..100000 (model)")
	return cmd
}

// checkBenchFlags refuses flag values out of their bounds (usage errors).
func checkBenchFlags(f *benchFlags) error {
	switch {
	case f.nodes < 1 || f.nodes > 101:
		return &usageError{fmt.Errorf("--nodes must be in 1..101, got %d", f.nodes)}
	case f.duration < 10*time.Millisecond || f.duration > time.Hour:
		return &usageError{fmt.Errorf("--duration must be in 10ms..1h, got %v", f.duration)}
	case f.inflight < 1 || f.inflight > 100_000:
		return &usageError{fmt.Errorf("--inflight must be in 1..100000, got %d", f.inflight)}
	case f.runs < 1 || f.runs > 100_000:
		return &usageError{fmt.Errorf("--runs must be in 1..100000, got %d", f.runs)}
	}
	return nil
}

func runBench(f *benchFlags, stdout io.Writer) error {
	if err := checkBenchFlags(f); err != nil {
		return err
	}
	switch f.world {
	case "pion":
		for _, inflight := range []int{1, f.inflight} {
			c, err := pionworld.New(pionworld.Options{Nodes: f.nodes, Raft: netmodel.RaftOptions{ElectionTimeout: 300 * sim.Millisecond}, Ordered: true, MaxRetransmits: -1, Seed: 1})
			if err != nil {
				return &exitError{exitFailed, err}
			}
			if err := c.Start(); err != nil {
				c.Close()
				return &exitError{exitFailed, err}
			}
			res, err := c.Bench(inflight, f.duration, 0)
			c.Close()
			if err != nil {
				return &exitError{exitFailed, err}
			}
			fmt.Fprintln(stdout, res)
		}
		return nil
	case "browser":
		return benchBrowser(f, stdout)
	case "model":
		return benchModel(f, stdout)
	}
	return &usageError{fmt.Errorf("--world wants pion, browser or model, got %q", f.world)}
}

// benchModel measures the simulator: kill-half at 41 tabs, f.runs seeds,
// one after the other on one goroutine, the first run's warm-up counted.
// It reports virtual time over wall time, events a second, and the heap
// allocations (objects and bytes) a run makes, all of them: the runs'
// own and the checkers', as the benchmark counts them.
func benchModel(f *benchFlags, stdout io.Writer) error {
	sc, err := scenarios.Load("scenarios/kill-half.yaml")
	if err != nil {
		return &exitError{exitUsage, err}
	}
	n := 41
	if err := sc.Apply(scenarios.Overrides{Nodes: &n}); err != nil {
		return &exitError{exitUsage, err}
	}
	var virt, wall float64
	var events uint64
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range f.runs {
		res, err := scenarios.Run(sc, uint64(i+1), scenarios.RunOptions{})
		if err != nil {
			return &exitError{exitFailed, err}
		}
		if res.Panic != "" {
			return &exitError{exitInternal, fmt.Errorf("seed %d panicked: %s\n%s", i+1, res.Panic, res.PanicStack)}
		}
		virt += res.VirtualSeconds
		wall += res.WallSeconds
		events += res.Events
	}
	runtime.ReadMemStats(&after)
	runs := float64(f.runs)
	fmt.Fprintf(stdout, "kill-half, 41 nodes, %d runs: %.1f virtual s in %.3f wall s = %.0fx real time, %.2f M events/s, %.0f allocations and %.2f MB a run\n",
		f.runs, virt, wall, virt/wall, float64(events)/wall/1e6,
		float64(after.Mallocs-before.Mallocs)/runs, float64(after.TotalAlloc-before.TotalAlloc)/runs/1e6)
	return nil
}

// benchBrowser measures writes per second in real Chromium tabs: one
// cluster, serialized then pipelined.
func benchBrowser(f *benchFlags, stdout io.Writer) error {
	c, err := browserworld.New(browserworld.Options{Nodes: f.nodes, Raft: netmodel.RaftOptions{ElectionTimeout: 300 * sim.Millisecond}, Seed: 1})
	if err != nil {
		return &exitError{exitFailed, err}
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		return &exitError{exitFailed, err}
	}
	for _, inflight := range []int{1, f.inflight} {
		res, err := c.Bench(inflight, f.duration, 0)
		if err != nil {
			return &exitError{exitFailed, err}
		}
		fmt.Fprintln(stdout, "browser:", res)
		if err := printPageCosts(c, stdout); err != nil {
			return &exitError{exitFailed, err}
		}
	}
	return nil
}

// printPageCosts prints the distribution of how long the tabs' thread
// was held during the measurement, at the leader and at the followers:
// handling a datachannel message (the model's world.handler_cost is one
// such time) and reporting a task's batches to the harness.
func printPageCosts(c *browserworld.Cluster, stdout io.Writer) error {
	var lead raft.ID
	if ls := c.Leaders(); len(ls) == 1 {
		lead = ls[0]
	}
	for _, kind := range []struct {
		what string
		read func(raft.ID) ([]float64, error)
	}{{"handling a message", c.HandlerCosts}, {"reporting a batch", c.ReportCosts}} {
		var atLeader, atFollowers []float64
		for id := raft.ID(1); int(id) <= c.Nodes(); id++ {
			costs, err := kind.read(id)
			if err != nil {
				return err
			}
			if id == lead {
				atLeader = append(atLeader, costs...)
			} else {
				atFollowers = append(atFollowers, costs...)
			}
		}
		printCostLine(stdout, kind.what, "leader", atLeader)
		printCostLine(stdout, kind.what, "followers", atFollowers)
	}
	return nil
}

// printCostLine prints one distribution of durations (ms) in us.
func printCostLine(stdout io.Writer, what, who string, costs []float64) {
	x := slices.Sorted(slices.Values(costs))
	if len(x) == 0 {
		return
	}
	q := func(p float64) float64 { return x[int(p*float64(len(x)-1))] * 1000 }
	fmt.Fprintf(stdout, "  %s at the %s: %d times, median %.0f us, 90th %.0f us, 99th %.0f us, max %.0f us\n",
		what, who, len(x), q(0.5), q(0.9), q(0.99), q(1))
}
