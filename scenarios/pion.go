package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ErrNotOnPion: the scenario uses something the real-stack world does not
// run yet.
var ErrNotOnPion = errors.New("not supported on the pion world yet")

// RunPion runs the scenario once on the real stack (pion datachannels on
// vnet) in real time: the same cluster, kill faults, conditions and
// measures (polled as the paper polled), and the safety checker. Runs are
// reproducible in distribution, not event for event, so there is no trace
// hash.
func RunPion(sc *Scenario, seed uint64) (*Result, error) {
	if err := pionSupported(sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	wallStart := time.Now()
	safety := checker.NewSafety()
	var obsMu sync.Mutex
	mode := sc.World.Datachannel.Mode
	opt := pionworld.Options{Nodes: sc.Cluster.Nodes, ElectionTimeout: time.Duration(sc.Cluster.ElectionTimeout),
		Heartbeat: time.Duration(sc.Cluster.Heartbeat), Ordered: !mode.Unordered, MaxRetransmits: -1, Seed: seed,
		PaperBootstrap: sc.Cluster.Bootstrap == "paper", DeferCommitNotice: sc.Cluster.DeferCommitNotice,
		Observer: func(node raft.ID, prev, cur raft.Status, persisted, applied []raft.Entry, log pionworld.LogReader) error {
			obsMu.Lock()
			defer obsMu.Unlock()
			return safety.Changed(node, prev, cur, persisted, applied, log.(netmodel.LogReader))
		}}
	if mode.Reliability == netmodel.LimitRetransmits {
		opt.MaxRetransmits = mode.MaxRetransmits
	}
	if sc.World.Loss != nil {
		opt.Loss = *sc.World.Loss
	}
	c, err := pionworld.New(opt)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	start := time.Now()
	now := func() sim.Time { return sim.Time(time.Since(start)) }
	type state struct {
		Measure
		started, done bool
		from, end     sim.Time
		leaderAtStart raft.ID
	}
	var ms []*state
	for _, m := range sc.Measures {
		ms = append(ms, &state{Measure: m})
	}
	happened := func(name string, at sim.Time) {
		for _, m := range ms {
			if !m.started && m.From == name {
				m.started, m.from = true, at
				if ls := c.Leaders(); len(ls) == 1 {
					m.leaderAtStart = ls[0]
				}
			}
		}
	}
	// Fault steps: at a time, or after a measure completes.
	type pending struct {
		at sim.Time
		f  *Fault
	}
	var queue []pending
	for i := range sc.Faults {
		if f := &sc.Faults[i]; f.At != nil {
			queue = append(queue, pending{*f.At, f})
		}
	}
	faultRand := sim.NewStream(seed, "faults")
	runFault := func(f *Fault) {
		issued := now() // the paper starts the clock when the kills are issued
		for _, id := range pionPick(c, f.Kill, faultRand) {
			c.Kill(id)
		}
		happened(f.Name, issued)
	}
	happened("start", 0)
	limit := time.Duration(sc.Limit)
	for time.Since(start) < limit {
		t := now()
		for i := 0; i < len(queue); {
			if queue[i].at <= t {
				runFault(queue[i].f)
				queue = slices.Delete(queue, i, i+1)
				continue
			}
			i++
		}
		remaining := 0
		for _, m := range ms {
			if m.done {
				continue
			}
			remaining++
			if m.started && pionHolds(c, m.Until, m.leaderAtStart) {
				m.done, m.end = true, now()
				for i := range sc.Faults {
					if f := &sc.Faults[i]; f.When == m.Name {
						queue = append(queue, pending{m.end + f.After, f})
					}
				}
			}
		}
		if remaining == 0 || c.Violation() != nil {
			break
		}
		time.Sleep(time.Duration(sc.Measures[0].Poll + sc.Measures[0].PollCost))
	}
	res := &Result{Scenario: sc.Name, World: "pion", Nodes: sc.Cluster.Nodes,
		ElectionTimeoutMS: float64(sc.Cluster.ElectionTimeout) / float64(sim.Millisecond), Seed: seed,
		Measures: map[string]*float64{}, VirtualSeconds: time.Since(start).Seconds(), Safety: "ok", Liveness: "ok",
		Linearizability: checker.LinNA, Replay: sc.ReplayCommand(seed) + " --world pion"}
	for _, m := range ms {
		res.MeasureOrder = append(res.MeasureOrder, m.Name)
		if m.done {
			v := (m.end - m.from).Seconds()
			res.Measures[m.Name] = &v
		} else {
			res.Measures[m.Name] = nil
			res.Liveness = "incomplete"
		}
	}
	if v := c.Violation(); v != nil {
		res.Safety, res.Violation = "violated", v.Error()
	}
	res.WallSeconds = time.Since(wallStart).Seconds()
	res.OK = res.Safety == "ok" && res.Liveness == "ok"
	return res, nil
}

// pionSupported reports what the pion world cannot run yet.
func pionSupported(sc *Scenario) error {
	switch {
	case sc.Workload.Chat != nil || sc.Workload.KV != nil:
		return fmt.Errorf("client workloads are %w", ErrNotOnPion)
	case len(sc.Measures) == 0:
		return fmt.Errorf("a run on pion needs a measure")
	}
	for _, f := range sc.Faults {
		if f.Kill == nil {
			return fmt.Errorf("fault %q: only kill steps are %w", f.Name, ErrNotOnPion)
		}
	}
	for _, m := range sc.Measures {
		switch m.Until {
		case CondUp, CondLeader, CondNewLeader:
		default:
			return fmt.Errorf("measure %q: condition %s is %w", m.Name, m.Until, ErrNotOnPion)
		}
	}
	return nil
}

// pionHolds evaluates a condition over the live nodes' published states.
func pionHolds(c *pionworld.Cluster, cond string, leaderAtStart raft.ID) bool {
	var live []raft.ID
	leaders, followers := 0, 0
	var leader raft.ID
	for id := raft.ID(1); int(id) <= c.Nodes(); id++ {
		if !c.Alive(id) {
			continue
		}
		live = append(live, id)
		switch c.Status(id).Role {
		case raft.Leader:
			leaders++
			leader = id
		case raft.Follower:
			followers++
		}
	}
	switch cond {
	case CondLeader:
		return leaders == 1
	case CondNewLeader:
		return leaders == 1 && leader != leaderAtStart
	case CondUp:
		if leaders != 1 || followers != len(live)-1 {
			return false
		}
		for _, id := range live {
			if !slices.Equal(c.Status(id).Voters, live) {
				return false
			}
		}
		return true
	}
	return false
}

// pionPick chooses the tabs a kill acts on: the leader first, the listed
// nodes, then random live others.
func pionPick(c *pionworld.Cluster, k *Target, r interface{ IntN(int) int }) []raft.ID {
	n := c.Nodes()
	chosen := map[raft.ID]bool{}
	var out []raft.ID
	pick := func(id raft.ID) {
		if !chosen[id] && c.Alive(id) {
			chosen[id] = true
			out = append(out, id)
		}
	}
	total := max(k.Count.Of(n), len(k.Nodes))
	if k.Leader {
		total = max(total, 1)
		if ls := c.Leaders(); len(ls) > 0 {
			pick(ls[0])
		}
	}
	for _, id := range k.Nodes {
		pick(raft.ID(id))
	}
	for len(out) < total {
		var cand []raft.ID
		for i := 1; i <= n; i++ {
			if !chosen[raft.ID(i)] && c.Alive(raft.ID(i)) {
				cand = append(cand, raft.ID(i))
			}
		}
		if len(cand) == 0 {
			break
		}
		pick(cand[r.IntN(len(cand))])
	}
	return out
}
