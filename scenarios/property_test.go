package scenarios

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
)

// Liveness bounds after the final heal (virtual time): a leader within
// LeaderBound, and a new chat line committed within CommitBound of that.
const (
	propertyLeaderBound = 20 * sim.Second
	propertyCommitBound = 20 * sim.Second
	propertySeeds       = 500
	faultPhase          = 20 * sim.Second
)

// randomFaultScenario builds a scenario from seed: a random cluster (3-9
// nodes, static or paper bootstrap, either datachannel mode), random
// timers, loss 0-30%, duplication 0-10%, partitions that heal, and
// minority crashes that restart; then everything heals at once, and the
// cluster must elect a leader and commit a new chat line.
func randomFaultScenario(seed uint64) *Scenario {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	sc := Default()
	sc.Name = fmt.Sprintf("property-%d", seed)
	n := 3 + r.IntN(7)
	c := &sc.Cluster
	c.Nodes = n
	c.ElectionTimeout = sim.Time(100+r.IntN(400)) * sim.Millisecond
	if r.IntN(2) == 0 {
		c.Bootstrap, c.Membership = "static", "static"
	}
	c.PreVote = r.IntN(4) == 0
	c.CheckQuorum = r.IntN(4) == 0
	c.DeferCommitNotice = r.IntN(2) == 0
	if r.IntN(2) == 0 {
		c.MaxEntriesPerAppend = 1 + r.IntN(4)
	}
	c.MaxInflight = 1 + r.IntN(8)
	if r.IntN(2) == 0 {
		sc.World.Datachannel = Datachannel{Mode: netmodel.UnorderedUnreliable}
	}
	at := func(t sim.Time) Trigger { return Trigger{At: &t} }
	loss, dup := r.Float64()*0.3, r.Float64()*0.1
	sc.Faults = append(sc.Faults, Fault{Name: "lossy", Trigger: at(0), Action: &LossAction{Loss: loss, Duplicate: dup}})
	// Fault windows, one after another: each either a partition or a
	// crash of a minority, healed at the end of its window.
	for t := sim.Time(r.IntN(2000)) * sim.Millisecond; t < faultPhase; {
		length := sim.Time(200+r.IntN(4000)) * sim.Millisecond
		end := min(t+length, faultPhase)
		perm := r.Perm(n)
		switch r.IntN(3) {
		case 0: // two-way partition into two random groups
			k := 1 + r.IntN(n-1)
			var a, b []uint64
			for i, p := range perm {
				if i < k {
					a = append(a, uint64(p+1))
				} else {
					b = append(b, uint64(p+1))
				}
			}
			sc.Faults = append(sc.Faults, Fault{Name: "partition", Trigger: at(t), Action: &PartitionAction{Groups: [][]uint64{a, b}}})
			sc.Faults = append(sc.Faults, Fault{Name: "heal", Trigger: at(end), Action: healAll()})
		case 1: // one-way cut
			sc.Faults = append(sc.Faults, Fault{Name: "cut", Trigger: at(t), Action: &PartitionAction{From: uint64(perm[0] + 1), To: uint64(perm[1] + 1)}})
			sc.Faults = append(sc.Faults, Fault{Name: "heal", Trigger: at(end), Action: healAll()})
		case 2: // crash a minority, restart it
			k := 1 + r.IntN(max(1, (n-1)/2))
			var ids []uint64
			for _, p := range perm[:k] {
				ids = append(ids, uint64(p+1))
			}
			sc.Faults = append(sc.Faults, Fault{Name: "crash", Trigger: at(t), Action: &KillAction{Target{Nodes: ids}}})
			sc.Faults = append(sc.Faults, Fault{Name: "restart", Trigger: at(end), Action: &RestartAction{Nodes: ids}})
		}
		t = end + sim.Time(r.IntN(1000))*sim.Millisecond
	}
	// The final heal: links, loss and every closed tab.
	sc.Faults = append(sc.Faults,
		Fault{Name: "heal-links", Trigger: at(faultPhase + sim.Millisecond), Action: healAll()},
		Fault{Name: "no-loss", Trigger: at(faultPhase + sim.Millisecond), Action: &LossAction{}},
		Fault{Name: "final-heal", Trigger: at(faultPhase + sim.Millisecond), Action: &RestartAction{Killed: true}},
	)
	sc.Workload.Chat = &ChatWorkload{Trigger: Trigger{When: "leader"}, Lines: 1}
	sc.Measures = []Measure{
		{Name: "leader", From: "final-heal", Until: CondLeader, Mode: "exact"},
		{Name: "committed", From: "workload", Until: CondCommitted, Mode: "exact"},
	}
	sc.Limit = faultPhase + propertyLeaderBound + propertyCommitBound
	sc.fillDefaults()
	return sc
}

// TestRandomFaultsKeepRaftSafeAndLive: over 500 seeds of random loss,
// duplication, partitions that heal and minority crashes that restart, no
// safety property is ever violated, and after the final heal a leader is
// elected and a new proposal commits within the stated bounds.
func TestRandomFaultsKeepRaftSafeAndLive(t *testing.T) {
	seeds := sized(50, 150, propertySeeds)
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		sc := randomFaultScenario(seed)
		require.NoError(t, sc.Validate(), "seed %d", seed)
		res, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
		require.NotNil(t, res.Measures["leader"], "seed %d: no leader within %v of the final heal (nodes %d, %+v)", seed, propertyLeaderBound, sc.Cluster.Nodes, sc.Cluster)
		require.LessOrEqual(t, *res.Measures["leader"], propertyLeaderBound.Seconds(), "seed %d", seed)
		require.NotNil(t, res.Measures["committed"], "seed %d: leader at +%.3fs but no commit within %v (nodes %d, %+v, world %+v)", seed, *res.Measures["leader"], propertyCommitBound, sc.Cluster.Nodes, sc.Cluster, sc.World)
	}
}

// randomWorldScenario is randomFaultScenario with every effect of the
// realistic world switched on at random: a random profile and datachannel
// mode (partially reliable ones included), small message sizes, tabs
// hidden, frozen and discarded by fault steps and by the random visibility
// process, signaling outages, path changes and blackholed tabs, storage
// write costs; the final heal also thaws every tab and brings signaling
// back.
func randomWorldScenario(seed uint64) *Scenario {
	sc := randomFaultScenario(seed)
	sc.Name = fmt.Sprintf("world-property-%d", seed)
	r := rand.New(rand.NewPCG(seed, 0x3041d))
	n := sc.Cluster.Nodes
	profiles := swarmProfiles()
	sc.World.Profile = profiles[r.IntN(len(profiles))]
	if r.IntN(2) == 0 || sc.World.Profile == "lte" || sc.World.Profile == "degraded-mesh" {
		// An election timeout well above the path's round trips, as a
		// deployment on such a network would choose.
		sc.Cluster.ElectionTimeout = sim.Time(500+r.IntN(1000)) * sim.Millisecond
	}
	mode := netmodel.ChannelMode{Unordered: r.IntN(2) == 0}
	switch r.IntN(3) {
	case 1:
		mode.Reliability, mode.MaxRetransmits = netmodel.LimitRetransmits, r.IntN(4)
	case 2:
		mode.Reliability, mode.MaxPacketLifeTime = netmodel.LimitLifetime, sim.Time(50+r.IntN(1000))*sim.Millisecond
	}
	sc.World.Datachannel = Datachannel{Mode: mode}
	sc.World.MaxMessageSize = Bytes(1<<10 + r.IntN(16<<10))
	if r.IntN(2) == 0 {
		sc.World.SCTP = "pion"
	}
	if r.IntN(3) == 0 {
		sc.Browser.WebRTCExemption = false
	}
	sc.Cluster.CatchUp = r.IntN(2) == 0
	if r.IntN(2) == 0 {
		// Compact often, so snapshots are sent and installed under faults.
		sc.Cluster.SnapshotEvery = uint64(5 + r.IntN(50))
	}
	// KV clients throughout: their history must check linearizable.
	sc.Workload.KV = &KVWorkload{Trigger: Trigger{At: new(sim.Time)}, Clients: 3, Keys: 3, Ops: 60,
		Reads: 0.4, Cas: 0.2, Think: 100 * sim.Millisecond, Timeout: 700 * sim.Millisecond, Retries: 3}
	if r.IntN(2) == 0 {
		sc.Browser.Visibility = Visibility{MeanForeground: sim.Time(2+r.IntN(20)) * sim.Second, MeanHidden: sim.Time(1+r.IntN(10)) * sim.Second}
	}
	at := func(t sim.Time) Trigger { return Trigger{At: &t} }
	node := func() []uint64 { return []uint64{uint64(1 + r.IntN(n))} }
	var faults []Fault
	for t := sim.Time(r.IntN(3000)) * sim.Millisecond; t < faultPhase; {
		end := min(t+sim.Time(500+r.IntN(8000))*sim.Millisecond, faultPhase)
		switch r.IntN(6) {
		case 0:
			faults = append(faults,
				Fault{Name: "hide", Trigger: at(t), Action: &VisibilityAction{Target: Target{Nodes: node()}, State: "hidden"}},
				Fault{Name: "show", Trigger: at(end), Action: &VisibilityAction{Target: Target{All: true}, State: "foreground"}})
		case 1:
			faults = append(faults,
				Fault{Name: "freeze", Trigger: at(t), Action: &VisibilityAction{Target: Target{Nodes: node()}, State: "frozen"}},
				Fault{Name: "thaw", Trigger: at(end), Action: &VisibilityAction{Target: Target{All: true}, State: "foreground"}})
		case 2:
			faults = append(faults, Fault{Name: "discard", Trigger: at(t), Action: &DiscardAction{Target: Target{Nodes: node()}, ReloadAfter: end - t}})
		case 3:
			faults = append(faults,
				Fault{Name: "outage", Trigger: at(t), Action: signaling("down")},
				Fault{Name: "back", Trigger: at(end), Action: signaling("up")})
		case 4:
			faults = append(faults, Fault{Name: "path-change", Trigger: at(t), Action: &PathChangeAction{Target{Nodes: node()}}})
		case 5:
			faults = append(faults,
				Fault{Name: "blackhole", Trigger: at(t), Action: &BlackholeAction{Target{Nodes: node()}}},
				Fault{Name: "heal", Trigger: at(end), Action: healAll()})
		}
		t = end + sim.Time(r.IntN(2000))*sim.Millisecond
	}
	heal := faultPhase + sim.Millisecond
	faults = append(faults,
		Fault{Name: "signaling-back", Trigger: at(heal), Action: signaling("up")},
		Fault{Name: "all-foreground", Trigger: at(heal), Action: &VisibilityAction{Target: Target{All: true}, State: "foreground"}})
	// The world faults go before the final heal steps, so the heal runs last.
	final := len(sc.Faults) - 3
	sc.Faults = append(append(append([]Fault{}, sc.Faults[:final]...), faults...), sc.Faults[final:]...)
	sc.fillDefaults()
	return sc
}

// TestRealisticWorldKeepsRaftSafeAndLive: with every effect of the
// realistic world on, over 500 seeds, safety holds and, after the final
// heal, a leader is elected and a new proposal commits within the bounds.
func TestRealisticWorldKeepsRaftSafeAndLive(t *testing.T) {
	seeds := sized(50, 150, propertySeeds)
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		sc := randomWorldScenario(seed)
		require.NoError(t, sc.Validate(), "seed %d", seed)
		res, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
		require.NotNil(t, res.Measures["leader"], "seed %d: no leader within %v of the final heal (nodes %d, %+v, world %+v)", seed, propertyLeaderBound, sc.Cluster.Nodes, sc.Cluster, sc.World)
		require.NotNil(t, res.Measures["committed"], "seed %d: leader at +%.3fs but no commit within %v (nodes %d, %+v, world %+v)", seed, *res.Measures["leader"], propertyCommitBound, sc.Cluster.Nodes, sc.Cluster, sc.World)
		require.Equal(t, "ok", res.Linearizability, "seed %d: %s", seed, res.LinDetail)
	}
}

// The realistic world stays deterministic: same seed, same trace hash.
func TestRealisticWorldIsDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		sc := randomWorldScenario(seed)
		a, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		b, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		require.Equal(t, a.TraceHash, b.TraceHash, "seed %d", seed)
	}
}
