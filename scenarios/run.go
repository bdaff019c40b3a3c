package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Overrides are command-line changes to a scenario (nil: keep the file's).
type Overrides struct {
	Nodes           *int
	ElectionTimeout *sim.Time
	Seed            *uint64
	Seeds           *int
}

// OverrideError is an override value outside its field's bound; Flag
// names the command-line flag that set it.
type OverrideError struct {
	Flag, Msg string
}

func (e *OverrideError) Error() string { return e.Flag + ": " + e.Msg }

// Check refuses override values outside the bounds of the fields they
// set (bounds.go), naming the flag.
func (o Overrides) Check() error {
	for _, c := range []struct {
		flag  string
		owner any
		field string
		value any
	}{
		{"--nodes", Cluster{}, "Nodes", o.Nodes},
		{"--election-timeout", Cluster{}, "ElectionTimeout", o.ElectionTimeout},
		{"--seed", Scenario{}, "Seed", o.Seed},
		{"--seeds", Scenario{}, "Seeds", o.Seeds},
	} {
		v := reflect.ValueOf(c.value)
		if v.IsNil() {
			continue
		}
		f, _ := reflect.TypeOf(c.owner).FieldByName(c.field)
		x, _ := numeric(v.Elem())
		if msg := parseBound(f.Tag.Get("bound"), f.Type).check(x, f.Type); msg != "" {
			return &OverrideError{Flag: c.flag, Msg: msg}
		}
	}
	return nil
}

// Apply applies o and validates the result again (a kill count may no
// longer fit a smaller cluster). Out-of-bound values are refused first,
// as an *OverrideError naming the flag.
func (sc *Scenario) Apply(o Overrides) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Nodes != nil {
		sc.Cluster.Nodes = *o.Nodes
	}
	if o.ElectionTimeout != nil {
		sc.Cluster.ElectionTimeout = *o.ElectionTimeout
	}
	if o.Seed != nil {
		sc.Seed = *o.Seed
	}
	if o.Seeds != nil {
		sc.Seeds = *o.Seeds
	}
	return sc.Validate()
}

// The worlds a scenario runs on.
const (
	WorldModel = "model" // the simulator (netmodel): virtual time, hashed trace
	WorldPion  = "pion"  // the real WebRTC stack on vnet, in real time
	// WorldBrowser: raft/ in real headless Chromium tabs, in real time.
	WorldBrowser = "browser"
)

// ErrUnknownWorld: RunOptions.World names no world.
var ErrUnknownWorld = errors.New("unknown world (want model, pion or browser)")

// Run runs the scenario once with seed on opts.World, through the one
// runner (runner.go). A panic during the run is returned as a failed
// Result with Panic set, not as an error.
func Run(sc *Scenario, seed uint64, opts RunOptions) (*Result, error) {
	switch opts.World {
	case "", WorldModel:
		return runModel(sc, seed, opts)
	case WorldPion:
		return RunPionWith(sc, seed, PionOptions{LinTimeout: opts.LinTimeout, Trace: opts.Trace, History: opts.History})
	case WorldBrowser:
		return RunBrowser(sc, seed, opts)
	}
	return nil, fmt.Errorf("scenario %s: %w: %q", sc.Name, ErrUnknownWorld, opts.World)
}

// MarshalJSON writes the result, with trace_hash null for a world whose
// trace is not hashed (a real stack).
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		TraceHash *string `json:"trace_hash"`
	}{plain: plain(r)}
	if r.TraceHash != "" {
		out.TraceHash = &r.TraceHash
	}
	return json.Marshal(out)
}

// File returns the path the scenario was loaded from.
func (sc *Scenario) File() string { return sc.file }

// Result is the outcome of one run. Its JSON form is the `run --json`
// line; fields are added over time, never renamed.
type Result struct {
	Scenario          string              `json:"scenario"`
	World             string              `json:"world"`
	Nodes             int                 `json:"nodes"`
	ElectionTimeoutMS float64             `json:"election_timeout_ms"`
	Seed              uint64              `json:"seed"`
	Measures          map[string]*float64 `json:"measures"`
	// Events is the work the run did: kernel events in the model, traced
	// events on a real stack; TraceEvents the events its trace holds
	// (what the page steps through).
	Events         uint64  `json:"events"`
	TraceEvents    uint64  `json:"trace_events"`
	VirtualSeconds float64 `json:"virtual_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`
	TraceHash      string  `json:"trace_hash"`
	Safety         string  `json:"safety"`
	Liveness       string  `json:"liveness"`
	// Linearizability is "ok", "illegal", "unknown" (the checker ran out
	// of time) or "n/a" (no client operations).
	Linearizability string `json:"linearizability"`
	LinDetail       string `json:"linearizability_detail,omitempty"`
	Operations      int    `json:"operations,omitempty"`
	OK              bool   `json:"ok"`
	// Determinism, set by a caller that ran the seed twice (raftsim run
	// --check-determinism), is "ok" if both runs had the same trace hash,
	// "violated" if not.
	Determinism string `json:"determinism,omitempty"`
	Violation   string `json:"violation,omitempty"`
	// Panic is the value of a panic that ended the run (contain.go) and
	// PanicStack where it happened; the run then failed every check.
	Panic      string `json:"panic,omitempty"`
	PanicStack string `json:"panic_stack,omitempty"`
	// Checks lists the safety properties the run checked (the ones that
	// need every log at once only where the world can read them).
	Checks []string `json:"checks,omitempty"`
	// Exercised counts the cases the world-independent invariants decided
	// (checker.Safety.Exercised); FaultsApplied the fault steps applied,
	// by kind. Both are the swarm's coverage marks.
	Exercised     map[string]int `json:"exercised,omitempty"`
	FaultsApplied map[string]int `json:"faults_applied,omitempty"`
	Replay        string         `json:"replay"`
	// MeasureOrder lists the measures in the scenario's order.
	MeasureOrder []string `json:"-"`
	// CommitLatencies are the KV workload's answered writes' latencies
	// (seconds from call to answer), in history order: what compare
	// puts side by side as the commit-latency distribution.
	CommitLatencies []float64 `json:"-"`
}

// RunOptions are per-run settings that do not change what happens.
type RunOptions struct {
	// World is the world the run runs on: WorldModel (the default),
	// WorldPion or WorldBrowser.
	World string
	// Trace, if not nil, receives the trace as JSON lines.
	Trace io.Writer
	// History, if not nil, receives porcupine's HTML view of the client
	// history, annotated with leader changes and faults.
	History io.Writer
	// LinTimeout bounds the linearizability check (0: DefaultLinTimeout).
	LinTimeout time.Duration
	// MaxEvents, if not 0, stops the run after that many events, as if
	// its limit had been reached (a budget for fuzzing).
	MaxEvents uint64
	// Progress, if set, is called about every ProgressEvery of wall time
	// while the run goes on, with the virtual time reached.
	Progress func(RunProgress)
}

// RunProgress is where a running scenario stands.
type RunProgress struct {
	Now, Limit sim.Time
	Events     uint64
	Wall       time.Duration
}

// ProgressEvery is how often (in wall time) a long run reports progress.
const ProgressEvery = 2 * time.Second

// progressEvery is ProgressEvery, changed by a test.
var progressEvery = ProgressEvery

// startHook, if set (by tests), is called once the world has started.
var startHook func(sc *Scenario, s *sim.Sim)

// DefaultLinTimeout is how long the linearizability checker may run on one
// history before the answer is "unknown".
const DefaultLinTimeout = 30 * time.Second

// ReplayCommand is the command line that reruns seed of sc exactly.
func (sc *Scenario) ReplayCommand(seed uint64) string {
	file := sc.file
	if file == "" {
		file = sc.Name + ".yaml"
	}
	return fmt.Sprintf("raftsim run %s --nodes %d --election-timeout %s --seed %d",
		file, sc.Cluster.Nodes, sc.Cluster.ElectionTimeout, seed)
}

// WorldOptions returns the netmodel options the scenario describes.
func (sc *Scenario) WorldOptions() netmodel.Options {
	prof, _ := netmodel.LookupProfile(sc.World.Profile)
	if l := sc.World.Latency; l != nil {
		prof.Latency = l.model()
	}
	if sc.World.Loss != nil {
		prof.Loss = *sc.World.Loss
	}
	if sc.World.Duplicate != nil {
		prof.Duplicate = *sc.World.Duplicate
	}
	c := sc.Cluster
	o := netmodel.Options{
		Nodes:                  c.Nodes,
		Profile:                prof,
		Bootstrap:              netmodel.Bootstrap(c.Bootstrap),
		PresenceMembership:     c.Membership == "presence",
		HandlerCost:            sc.World.HandlerCost,
		BatchCost:              sc.World.BatchCost,
		SendCost:               sc.World.SendCost,
		PathCorrelation:        sc.World.PathCorrelation,
		StartCost:              sc.World.StartCost,
		WarmupCosts:            sc.World.WarmupCosts,
		KVClientPath:           sc.World.KVClient.model(),
		Machine:                netmodel.MachineOptions{Cores: sc.World.Cores, TabLoad: sc.World.TabLoad, WakeCost: sc.World.WakeCost, CPUScale: sc.World.CPUScale},
		PresenceCloseDelay:     sc.World.PresenceCloseDelay,
		PresenceJoinDelay:      sc.World.PresenceJoinDelay,
		MembershipInterval:     netmodel.PresenceInterval,
		MembershipFastInterval: netmodel.PresenceFastInterval,
		Raft:                   raftOptions(&c),
	}
	o.SessionTTL = c.SessionTTL
	o.SnapshotEvery, o.SnapshotAtQuota = c.SnapshotEvery, c.SnapshotAtQuota
	sc.tabEnvironmentOptions(&o)
	return o
}

// raftOptions are the Raft settings of the cluster, for every world.
func raftOptions(c *Cluster) netmodel.RaftOptions {
	o := netmodel.RaftOptions{
		ElectionTimeout:     c.ElectionTimeout,
		Heartbeat:           c.Heartbeat,
		PreVote:             c.PreVote,
		CheckQuorum:         c.CheckQuorum,
		MaxInflight:         c.MaxInflight,
		MaxEntriesPerAppend: c.MaxEntriesPerAppend,
		MaxBytesPerAppend:   c.MaxBytesPerAppend,
		DeferCommitNotice:   c.DeferCommitNotice,
		CatchUp:             c.CatchUp,
		NaiveBacktrack:      c.NaiveBacktrack,
		HalfCommitQuorum:    c.HalfCommitQuorum,
		HeartbeatOnPropose:  c.HeartbeatOnPropose,
	}
	if c.PlantedBug != "" {
		b, _ := raft.ParseBug(c.PlantedBug) // validated
		o.Bugs = raft.NewBugSet(b)
	}
	return o
}
