package scenarios

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests hold each realistic-world scenario to the outcome its
// description promises.

// traced runs sc with seed and returns the result and the trace.
func traced(t *testing.T, sc *Scenario, seed uint64) (*Result, []sim.Event) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Run(sc, seed, RunOptions{Trace: &buf})
	require.NoError(t, err)
	events, err := sim.ReadTrace(&buf)
	require.NoError(t, err)
	return res, events
}

// faultAt returns when the first fault event whose detail starts with
// prefix happened.
func faultAt(t *testing.T, events []sim.Event, prefix string) sim.Time {
	t.Helper()
	for _, e := range events {
		if e.Kind == sim.KindFault && strings.HasPrefix(e.Detail, prefix) {
			return e.Time
		}
	}
	require.Failf(t, "fault not in trace", "no fault %q", prefix)
	return 0
}

// roleChanges returns the role events to role after from.
func roleChanges(events []sim.Event, role string, from sim.Time) []sim.Event {
	var out []sim.Event
	for _, e := range events {
		if e.Kind == sim.KindRole && e.Detail == role && e.Time > from {
			out = append(out, e)
		}
	}
	return out
}

func measure(t *testing.T, res *Result, name string) float64 {
	t.Helper()
	v := res.Measures[name]
	require.NotNil(t, v, "seed %d: %s never completed; replay: %s", res.Seed, name, res.Replay)
	return *v
}

func withoutFault(sc *Scenario, name string) *Scenario {
	c := *sc
	c.Faults = slices.DeleteFunc(slices.Clone(sc.Faults), func(f Fault) bool { return f.Name == name })
	return &c
}

func TestBackgroundLeaderAtET2sKeepsLeadingButCommitsSlowly(t *testing.T) {
	sc := load(t, "background-tabs.yaml", 5)
	fg := withoutFault(sc, "hide")
	var hidden, foreground float64
	const seeds = 10
	for seed := uint64(1); seed <= seeds; seed++ {
		res, events := traced(t, sc, seed)
		require.True(t, res.OK, "seed %d: %+v", seed, res)
		hide := faultAt(t, events, "visibility hidden")
		assert.Empty(t, roleChanges(events, "leader", hide), "seed %d: nobody takes over from a hidden leader at ET 2 s", seed)
		hidden += measure(t, res, "propagated")
		foreground += measure(t, requireRunOK(t, fg, seed), "propagated")
	}
	t.Logf("propagating 10 lines: hidden leader %.3fs, foreground %.3fs (means of %d seeds)", hidden/seeds, foreground/seeds, seeds)
	assert.Greater(t, hidden, 3*foreground, "a hidden leader's 1 s timer alignment slows commits several times")
}

func TestBackgroundLeaderAtET500msIsReplaced(t *testing.T) {
	sc := load(t, "background-tabs.yaml", 5)
	et := 500 * sim.Millisecond
	require.NoError(t, sc.Apply(Overrides{ElectionTimeout: &et}))
	for seed := uint64(1); seed <= 10; seed++ {
		res, events := traced(t, sc, seed)
		require.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
		hide := faultAt(t, events, "visibility hidden")
		took := roleChanges(events, "leader", hide)
		require.NotEmpty(t, took, "seed %d: a follower takes over", seed)
		assert.Less(t, took[0].Time-hide, 3*sim.Second, "seed %d: within about 2 s", seed)
	}
}

func TestLossyUnorderedStaysSafeAndCommits(t *testing.T) {
	sc := load(t, "lossy-unordered.yaml", 5)
	for _, loss := range []float64{0.1, 0.2, 0.3} {
		sc.World.Loss = &loss
		for seed := uint64(1); seed <= 10; seed++ {
			res, events := traced(t, sc, seed)
			require.True(t, res.OK, "loss %v seed %d: %+v", loss, seed, res)
			lost := 0
			for _, e := range events {
				if e.Kind == sim.KindDrop && strings.HasPrefix(e.Detail, "lost") {
					lost++
				}
			}
			assert.Positive(t, lost, "loss %v seed %d: messages are lost for good", loss, seed)
		}
	}
}

func TestSignalingOutageKeepsChannelsButDelaysRemoval(t *testing.T) {
	sc := load(t, "signaling-outage.yaml", 5)
	for seed := uint64(1); seed <= 10; seed++ {
		res, events := traced(t, sc, seed)
		require.True(t, res.OK, "seed %d: %+v", seed, res)
		down := faultAt(t, events, "signaling down")
		up := faultAt(t, events, "signaling up")
		// The chat lines start 1 s into the outage and commit over the
		// established channels before it ends.
		assert.Less(t, measure(t, res, "committed"), (up - down - sim.Second).Seconds(), "seed %d", seed)
		// Node 5, closed during the outage, leaves the configuration only
		// after the server is back.
		kill := faultAt(t, events, "kill")
		removed := false
		for _, e := range events {
			if e.Kind == sim.KindConfig && e.Time > kill && !slices.Contains(strings.Fields(e.Detail), "5") {
				assert.GreaterOrEqual(t, e.Time, up, "seed %d: node 5 removed during the outage", seed)
				removed = true
			}
		}
		assert.True(t, removed, "seed %d: node 5 is removed once signaling is back", seed)
		assert.Less(t, measure(t, res, "recovered"), 2.0, "seed %d: removed soon after signaling returns", seed)
	}
}

func TestMobileLTEIsSlowerThanLoopback(t *testing.T) {
	lte := load(t, "mobile-lte.yaml", 5)
	loop := load(t, "mobile-lte.yaml", 5)
	loop.World.Profile = "loopback"
	sums := map[string][2]float64{}
	for seed := uint64(1); seed <= 10; seed++ {
		a, b := requireRunOK(t, lte, seed), requireRunOK(t, loop, seed)
		for _, m := range a.MeasureOrder {
			s := sums[m]
			s[0] += *a.Measures[m]
			s[1] += *b.Measures[m]
			sums[m] = s
		}
	}
	for m, s := range sums {
		t.Logf("%s: lte %.3fs, loopback %.3fs (sums of 10 seeds)", m, s[0], s[1])
		assert.Greater(t, s[0], s[1], "%s is slower on LTE", m)
	}
}

func TestMeshDegradedRecoversAfterHeal(t *testing.T) {
	sc := load(t, "mesh-degraded.yaml", 7)
	for seed := uint64(1); seed <= 10; seed++ {
		res, events := traced(t, sc, seed)
		require.True(t, res.OK, "seed %d: %+v", seed, res)
		measure(t, res, "committed")
		// The 10 s cut makes ICE report "disconnected" (5 s) but not
		// "failed" (30 s): the connections come back with the links.
		var disconnected, again, failed int
		for _, e := range events {
			switch {
			case e.Kind != sim.KindFault:
			case strings.HasSuffix(e.Detail, " disconnected"):
				disconnected++
			case strings.HasSuffix(e.Detail, " open again"):
				again++
			case strings.HasSuffix(e.Detail, "ice failed"):
				failed++
			}
		}
		assert.Equal(t, 12, disconnected, "seed %d: every cut pair (3 x 4) is disconnected", seed)
		assert.Equal(t, 12, again, "seed %d", seed)
		assert.Zero(t, failed, "seed %d", seed)
	}
}

func TestFrozenLeaderIsReplacedAndFollowsAfterThaw(t *testing.T) {
	sc := load(t, "tab-freeze.yaml", 5)
	for seed := uint64(1); seed <= 10; seed++ {
		res, events := traced(t, sc, seed)
		require.True(t, res.OK, "seed %d: %+v", seed, res)
		assert.Less(t, measure(t, res, "new-leader"), 2.0, "seed %d: a new leader within about 2 ET", seed)
		freeze := faultAt(t, events, "visibility frozen")
		var old uint64
		for _, e := range events {
			if e.Kind == sim.KindFault && e.Detail == "visibility frozen" && e.Time == freeze {
				old = e.Node
			}
		}
		require.NotZero(t, old)
		thaw := faultAt(t, events, "visibility foreground")
		// Nothing of the frozen tab runs before the thaw...
		for _, e := range events {
			if e.Node == old && e.Time > freeze && e.Time < thaw {
				require.NotContains(t, []sim.Kind{sim.KindRole, sim.KindTerm, sim.KindAppend, sim.KindCommit, sim.KindSend}, e.Kind,
					"seed %d: frozen tab %d acted at %v: %+v", seed, old, e.Time, e)
			}
		}
		// ...and after it the old leader steps down.
		stepped := false
		for _, e := range roleChanges(events, "follower", thaw) {
			stepped = stepped || e.Node == old
		}
		assert.True(t, stepped, "seed %d: the old leader %d follows after the thaw", seed, old)
	}
}

// A page that hands over leadership before its tab is hidden spares the
// cluster an election timeout: the new leader takes over within a few
// round trips, in the next term, with no candidate but the target.
func TestTransferBeforeHidingHandsOverAtOnce(t *testing.T) {
	sc := load(t, "background-tabs.yaml", 5)
	et := 500 * sim.Millisecond
	require.NoError(t, sc.Apply(Overrides{ElectionTimeout: &et}))
	hide := sc.Faults[0]
	// Hide the tab that led (node 1, the paper's first server), not
	// whoever leads once the transfer is done.
	sc.Faults[0].Action = &VisibilityAction{Target: Target{Nodes: []uint64{1}}, State: "hidden"}
	transfer := Fault{Name: "transfer", Trigger: Trigger{When: hide.When, After: hide.After - 50*sim.Millisecond}, Action: &TransferAction{}}
	sc.Faults = append([]Fault{transfer}, sc.Faults...)
	require.NoError(t, sc.Validate())
	for seed := uint64(1); seed <= 10; seed++ {
		res, events := traced(t, sc, seed)
		require.True(t, res.OK, "seed %d: %+v", seed, res)
		at := faultAt(t, events, "transfer to")
		took := roleChanges(events, "leader", at)
		require.NotEmpty(t, took, "seed %d", seed)
		assert.Less(t, took[0].Time-at, 20*sim.Millisecond, "seed %d: handed over within round trips", seed)
		assert.Len(t, roleChanges(events, "candidate", at), 1, "seed %d: one campaign, the target's", seed)
	}
}
