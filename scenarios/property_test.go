package scenarios

import (
	"fmt"
	"math/rand/v2"
	"testing"

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
		sc.World.Datachannel = "unordered-unreliable"
	}
	at := func(t sim.Time) Trigger { return Trigger{At: &t} }
	loss, dup := r.Float64()*0.3, r.Float64()*0.1
	sc.Faults = append(sc.Faults, Fault{Name: "lossy", Trigger: at(0), Loss: &LossAction{Loss: loss, Duplicate: dup}})
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
			sc.Faults = append(sc.Faults, Fault{Name: "partition", Trigger: at(t), Partition: &PartitionAction{Groups: [][]uint64{a, b}}})
			sc.Faults = append(sc.Faults, Fault{Name: "heal", Trigger: at(end), Heal: true})
		case 1: // one-way cut
			sc.Faults = append(sc.Faults, Fault{Name: "cut", Trigger: at(t), Partition: &PartitionAction{From: uint64(perm[0] + 1), To: uint64(perm[1] + 1)}})
			sc.Faults = append(sc.Faults, Fault{Name: "heal", Trigger: at(end), Heal: true})
		case 2: // crash a minority, restart it
			k := 1 + r.IntN(max(1, (n-1)/2))
			var ids []uint64
			for _, p := range perm[:k] {
				ids = append(ids, uint64(p+1))
			}
			sc.Faults = append(sc.Faults, Fault{Name: "crash", Trigger: at(t), Kill: &Target{Nodes: ids}})
			sc.Faults = append(sc.Faults, Fault{Name: "restart", Trigger: at(end), Restart: &RestartAction{Nodes: ids}})
		}
		t = end + sim.Time(r.IntN(1000))*sim.Millisecond
	}
	// The final heal: links, loss and every closed tab.
	sc.Faults = append(sc.Faults,
		Fault{Name: "heal-links", Trigger: at(faultPhase + sim.Millisecond), Heal: true},
		Fault{Name: "no-loss", Trigger: at(faultPhase + sim.Millisecond), Loss: &LossAction{}},
		Fault{Name: "final-heal", Trigger: at(faultPhase + sim.Millisecond), Restart: &RestartAction{Killed: true}},
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
	seeds := propertySeeds
	if testing.Short() {
		seeds = 50
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		sc := randomFaultScenario(seed)
		require.NoError(t, sc.Validate(), "seed %d", seed)
		res, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		require.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
		require.NotNil(t, res.Measures["leader"], "seed %d: no leader within %v of the final heal (nodes %d, %+v)", seed, propertyLeaderBound, sc.Cluster.Nodes, sc.Cluster)
		require.LessOrEqual(t, *res.Measures["leader"], propertyLeaderBound.Seconds())
		require.NotNil(t, res.Measures["committed"], "seed %d: leader at +%.3fs but no commit within %v (nodes %d, %+v, world %+v)", seed, *res.Measures["leader"], propertyCommitBound, sc.Cluster.Nodes, sc.Cluster, sc.World)
	}
}
