package scenarios

import (
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/outfile"
	"github.com/raftsim/raftsim/sim"
)

// Shrinking: a failing swarm scenario is made smaller while it keeps
// failing the same check with the same seed, in the spirit of delta
// debugging (Zeller and Hildebrandt, 2002): fewer nodes, fewer fault steps
// (halves, then quarters, down to single steps), shorter fault windows and
// an earlier final heal, fewer client operations, and options set back to
// their defaults. Each pass keeps what still fails and repeats until
// nothing more can go or the budget of runs is spent.

// DefaultShrinkRuns bounds the runs one shrink may make.
const DefaultShrinkRuns = 2000

// shrinkLinTimeout bounds the linearizability check of a shrink candidate:
// one the checker cannot decide quickly is not kept (an undecided history
// is not a failure).
const shrinkLinTimeout = time.Second

// Shrunk is a minimized failure.
type Shrunk struct {
	Failure *Failure // the minimal scenario's failure
	Runs    int      // runs the shrink made
	Removed []string // what was removed, for the report
}

// Shrink minimizes f's scenario (with f's seed) within maxRuns runs (0:
// DefaultShrinkRuns). The result fails the same check as f.
func Shrink(f *Failure, maxRuns int) (*Shrunk, error) {
	if maxRuns <= 0 {
		maxRuns = DefaultShrinkRuns
	}
	s := &shrinker{best: f, maxRuns: maxRuns}
	orig := f.Scenario
	for progress := true; progress && s.runs < s.maxRuns; {
		progress = false
		for _, pass := range []func() (bool, error){s.nodes, s.faults, s.windows, s.clients, s.options} {
			ok, err := pass()
			if err != nil {
				return nil, err
			}
			progress = progress || ok
		}
	}
	return &Shrunk{Failure: s.best, Runs: s.runs, Removed: describeShrink(orig, s.best.Scenario, s.reset)}, nil
}

type shrinker struct {
	best    *Failure
	runs    int
	maxRuns int
	reset   []string // options set back to their defaults
}

// try runs a candidate and keeps it if it fails the same way.
func (s *shrinker) try(sc *Scenario) (bool, error) {
	if s.runs >= s.maxRuns || sc.Validate() != nil {
		return false, nil
	}
	s.runs++
	f, _, err := check(sc, s.best.Seed, shrinkLinTimeout)
	if err != nil {
		return false, err
	}
	if f == nil || f.Kind != s.best.Kind {
		return false, nil
	}
	s.best = f
	return true, nil
}

func (s *shrinker) cur() *Scenario { return s.best.Scenario }

// nodes tries smaller clusters: 1, then a quarter, a half, and one less.
func (s *shrinker) nodes() (bool, error) {
	any := false
	for {
		n := s.cur().Cluster.Nodes
		var tried bool
		for _, k := range []int{1, 2, 3, n / 4, n / 2, n - 1} {
			if k < 1 || k >= n {
				continue
			}
			ok, err := s.try(withNodes(s.cur(), k))
			if err != nil {
				return any, err
			}
			if ok {
				any, tried = true, true
				break
			}
		}
		if !tried {
			return any, nil
		}
	}
}

// faults removes fault steps, in chunks from halves down to single steps
// (the final heal stays).
func (s *shrinker) faults() (bool, error) {
	any := false
	for chunk := max(1, len(s.cur().Faults)/2); ; chunk /= 2 {
		for i := 0; ; {
			fs := s.cur().Faults
			if i >= len(fs) || isFinal(fs[i]) {
				break
			}
			j := min(i+chunk, len(fs))
			for j > i && isFinal(fs[j-1]) {
				j--
			}
			sc := clone(s.cur())
			sc.Faults = slices.Delete(sc.Faults, i, j)
			ok, err := s.try(sc)
			if err != nil {
				return any, err
			}
			if ok {
				any = true
				continue // the same i now names the next steps
			}
			i = j
		}
		if chunk == 1 {
			return any, nil
		}
	}
}

// windows moves fault steps earlier: each halfway to the step before it
// (shorter windows and gaps), and the final heal to just after the last
// step.
func (s *shrinker) windows() (bool, error) {
	any := false
	for i := 1; i < len(s.cur().Faults); i++ {
		fs := s.cur().Faults
		if fs[i].At == nil || fs[i-1].At == nil || isFinal(fs[i]) {
			continue
		}
		prev, at := *fs[i-1].At, *fs[i].At
		if at-prev < 2*sim.Millisecond {
			continue
		}
		sc := clone(s.cur())
		t := prev + (at-prev)/2
		sc.Faults[i].At = &t
		ok, err := s.try(sc)
		if err != nil {
			return any, err
		}
		if ok {
			any = true
			i-- // try halving again
		}
	}
	// The final heal right after the last other step.
	sc := clone(s.cur())
	last := sim.Time(0)
	for _, f := range sc.Faults {
		if !isFinal(f) && f.At != nil {
			last = max(last, *f.At)
		}
	}
	heal := last + sim.Millisecond
	moved := false
	for i := range sc.Faults {
		if f := &sc.Faults[i]; isFinal(*f) && f.At != nil && *f.At > heal {
			d := *f.At - heal
			t := heal
			f.At = &t
			if !moved {
				sc.Limit -= d
			}
			moved = true
		}
	}
	if moved {
		ok, err := s.try(sc)
		if err != nil {
			return any, err
		}
		any = any || ok
	}
	return any, nil
}

// clients removes the KV workload, or makes it smaller.
func (s *shrinker) clients() (bool, error) {
	any := false
	if s.cur().Workload.KV != nil {
		sc := clone(s.cur())
		sc.Workload.KV = nil
		ok, err := s.try(sc)
		if err != nil || ok {
			return ok, err
		}
	}
	for _, step := range []func(*KVWorkload) bool{
		func(k *KVWorkload) bool { k.Ops /= 2; return k.Ops >= 1 },
		func(k *KVWorkload) bool { k.Ops--; return k.Ops >= 1 },
		func(k *KVWorkload) bool { k.Clients--; return k.Clients >= 1 },
		func(k *KVWorkload) bool { k.Keys--; return k.Keys >= 1 },
	} {
		for s.cur().Workload.KV != nil {
			sc := clone(s.cur())
			if !step(sc.Workload.KV) {
				break
			}
			ok, err := s.try(sc)
			if err != nil {
				return any, err
			}
			if !ok {
				break
			}
			any = true
		}
	}
	return any, nil
}

// options sets options back to their defaults, one at a time.
func (s *shrinker) options() (bool, error) {
	def := Default()
	any := false
	for _, o := range []struct {
		name string
		set  func(sc *Scenario)
	}{
		{"prevote", func(sc *Scenario) { sc.Cluster.PreVote = def.Cluster.PreVote }},
		{"check_quorum", func(sc *Scenario) { sc.Cluster.CheckQuorum = def.Cluster.CheckQuorum }},
		{"naive_backtrack", func(sc *Scenario) { sc.Cluster.NaiveBacktrack = def.Cluster.NaiveBacktrack }},
		{"heartbeat_on_propose", func(sc *Scenario) { sc.Cluster.HeartbeatOnPropose = def.Cluster.HeartbeatOnPropose }},
		{"catch_up", func(sc *Scenario) { sc.Cluster.CatchUp = def.Cluster.CatchUp }},
		{"defer_commit_notice", func(sc *Scenario) { sc.Cluster.DeferCommitNotice = def.Cluster.DeferCommitNotice }},
		{"max_inflight", func(sc *Scenario) { sc.Cluster.MaxInflight = def.Cluster.MaxInflight }},
		{"max_entries_per_append", func(sc *Scenario) { sc.Cluster.MaxEntriesPerAppend = def.Cluster.MaxEntriesPerAppend }},
		{"snapshot_every", func(sc *Scenario) { sc.Cluster.SnapshotEvery = def.Cluster.SnapshotEvery }},
		{"snapshot_at_quota", func(sc *Scenario) { sc.Cluster.SnapshotAtQuota = def.Cluster.SnapshotAtQuota }},
		{"world.profile", func(sc *Scenario) { sc.World.Profile = def.World.Profile }},
		{"world.latency", func(sc *Scenario) {
			sc.World.Latency, sc.World.PathCorrelation = def.World.Latency, def.World.PathCorrelation
		}},
		{"world.datachannel", func(sc *Scenario) { sc.World.Datachannel = def.World.Datachannel }},
		{"world.sctp", func(sc *Scenario) { sc.World.SCTP = def.World.SCTP }},
		{"world.max_message_size", func(sc *Scenario) { sc.World.MaxMessageSize = def.World.MaxMessageSize }},
		{"browser.timer_lateness", func(sc *Scenario) { sc.Browser.TimerLateness = def.Browser.TimerLateness }},
		{"world.wake_cost and the page costs", func(sc *Scenario) {
			sc.World.Cores, sc.World.WakeCost = def.World.Cores, def.World.WakeCost
			sc.World.BatchCost, sc.World.WarmupCosts = def.World.BatchCost, def.World.WarmupCosts
			sc.World.SendCost = def.World.SendCost
		}},
		{"browser", func(sc *Scenario) { sc.Browser = def.Browser }},
		{"storage", func(sc *Scenario) { sc.Storage = def.Storage }},
	} {
		sc := clone(s.cur())
		o.set(sc)
		if sameOptions(sc, s.cur()) {
			continue
		}
		ok, err := s.try(sc)
		if err != nil {
			return any, err
		}
		if ok {
			any = true
			s.reset = append(s.reset, o.name)
		}
	}
	return any, nil
}

func sameOptions(a, b *Scenario) bool {
	x, y := *a, *b
	x.Faults, y.Faults, x.Workload, y.Workload, x.Measures, y.Measures = nil, nil, Workload{}, Workload{}, nil, nil
	x.pos, y.pos = nil, nil
	return reflect.DeepEqual(x, y)
}

// isFinal reports a step of the final heal, which liveness is measured
// from: shrinking keeps it.
func isFinal(f Fault) bool { return strings.HasPrefix(f.Name, swarmFinal) }

// clone copies a scenario deeply enough for the shrinker to change it:
// the fault list and the KV workload.
func clone(sc *Scenario) *Scenario {
	c := *sc
	c.Faults = slices.Clone(sc.Faults)
	for i := range c.Faults {
		if at := c.Faults[i].At; at != nil {
			t := *at
			c.Faults[i].At = &t
		}
	}
	if sc.Workload.KV != nil {
		kv := *sc.Workload.KV
		c.Workload.KV = &kv
	}
	return &c
}

// withNodes is sc on k nodes: fault steps lose the nodes above k, and a
// step left with nothing to act on goes (FaultAction.Shrink).
func withNodes(sc *Scenario, k int) *Scenario {
	c := clone(sc)
	c.Cluster.Nodes = k
	c.Faults = shrinkFaults(c.Faults, k)
	return c
}

// describeShrink says what shrinking removed.
func describeShrink(from, to *Scenario, reset []string) []string {
	var out []string
	if a, b := from.Cluster.Nodes, to.Cluster.Nodes; a != b {
		out = append(out, fmt.Sprintf("nodes %d -> %d", a, b))
	}
	steps := func(sc *Scenario) (n int, span sim.Time) {
		var first, last sim.Time = -1, 0
		for _, f := range sc.Faults {
			if isFinal(f) || f.At == nil {
				continue
			}
			n++
			if first < 0 {
				first = *f.At
			}
			last = max(last, *f.At)
		}
		if n == 0 {
			return 0, 0
		}
		return n, last - first
	}
	na, sa := steps(from)
	nb, sb := steps(to)
	if na != nb || sa != sb {
		out = append(out, fmt.Sprintf("fault steps %d -> %d (spanning %v -> %v)", na, nb, sa, sb))
	}
	ops := func(sc *Scenario) string {
		if k := sc.Workload.KV; k != nil {
			return fmt.Sprintf("%d clients x %d ops on %d keys", k.Clients, k.Ops, k.Keys)
		}
		return "none"
	}
	if a, b := ops(from), ops(to); a != b {
		out = append(out, fmt.Sprintf("KV clients %s -> %s", a, b))
	}
	if len(reset) > 0 {
		out = append(out, "options back to their defaults: "+strings.Join(reset, ", "))
	}
	if len(out) == 0 {
		out = append(out, "nothing (every part is needed)")
	}
	return out
}

// WriteReproducer writes f's scenario to dir as a standalone scenario file
// that `raftsim run FILE` replays exactly (its seed is in the file), with
// a header saying what failed and, if shrunk, what was removed. It returns
// the file's path. The file goes inside dir (created if need be), under a
// safe name, through a temporary file renamed into place; an existing file
// of that name is replaced only if it is a reproducer (it begins
// "# raftsim").
func WriteReproducer(dir string, f *Failure, removed []string) (string, error) {
	sc := clone(f.Scenario)
	sc.Seed, sc.Seeds = f.Seed, 1
	name := fmt.Sprintf("fuzz-%d", f.Seed)
	if b := sc.Cluster.PlantedBug; b != "" {
		name += "-" + b
	}
	sc.Name = name
	data, err := sc.Marshal()
	if err != nil {
		return "", err
	}
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "# raftsim fuzz reproducer: seed %d fails %s.\n", f.Seed, f.Kind)
	fmt.Fprintf(&hdr, "# %s\n", oneLine(f.Detail))
	fmt.Fprintf(&hdr, "# Swarm scenario: %s\n", f.Scenario.Description)
	for _, r := range removed {
		fmt.Fprintf(&hdr, "# Shrunk: %s\n", r)
	}
	d, err := outfile.Open(dir)
	if err != nil {
		return "", fmt.Errorf("fuzz: writing the reproducer: %w", err)
	}
	defer d.Close()
	file := outfile.SafeName(name) + ".yaml"
	fmt.Fprintf(&hdr, "# Replay: raftsim run %s\n", filepath.Join(dir, file))
	path, err := d.Write(file, outfile.Reproducer, func(w io.Writer) error {
		_, err := io.WriteString(w, hdr.String()+string(data))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("fuzz: writing the reproducer: %w", err)
	}
	return path, nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
