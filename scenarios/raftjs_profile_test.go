package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

// startupTrace runs figure 5's start-up at 3 tabs under the paper's
// profile, changed by mod, and returns its trace.
func startupTrace(t *testing.T, mod func(*Scenario)) []sim.Event {
	t.Helper()
	sc := load(t, "startup.yaml", 3)
	require.NoError(t, sc.UseProfile("slimerjs-2015"))
	mod(sc)
	events, _ := tracedRun(t, sc, 1)
	return events
}

// tracedRun runs seed of sc, requires it to pass its checks, and returns
// its trace and result.
func tracedRun(t *testing.T, sc *Scenario, seed uint64) ([]sim.Event, *Result) {
	t.Helper()
	var buf strings.Builder
	res, err := Run(sc, seed, RunOptions{Trace: &buf})
	require.NoError(t, err)
	require.True(t, res.OK, res.Violation)
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	return events, res
}

// secondServerAdded returns when the leader appended the configuration
// {1 2} and when it committed it.
func secondServerAdded(t *testing.T, events []sim.Event) (appended, committed sim.Time) {
	t.Helper()
	var index uint64
	for i, e := range events {
		if e.Kind == sim.KindConfig && e.Node == 1 && e.Detail == "1 2" {
			appended = e.Time
			for _, a := range events[:i] {
				if a.Kind == sim.KindAppend && a.Node == 1 {
					index = a.Index // the last append before it
				}
			}
			break
		}
	}
	require.NotZero(t, index, "the leader never added server 2")
	for _, e := range events {
		if e.Kind == sim.KindCommit && e.Node == 1 && e.Index >= index {
			return appended, e.Time
		}
	}
	t.Fatal("the leader never committed the addition of server 2")
	return 0, 0
}

func TestThePaperProfileCommitsTheSecondServersAdditionWithoutIt(t *testing.T) {
	appended, committed := secondServerAdded(t, startupTrace(t, func(*Scenario) {}))
	// Half of two servers is the leader (Raft.js's getMajorityIndex): it
	// commits at the heartbeat the change brought forward, 1 ms and a
	// handler's cost later.
	assert.Less(t, committed-appended, 5*sim.Millisecond)

	appended, committed = secondServerAdded(t, startupTrace(t, func(sc *Scenario) { sc.Cluster.HalfCommitQuorum = false }))
	assert.Greater(t, committed-appended, 100*sim.Millisecond, "with Raft's majority it waits for server 2 to catch up")
}

func TestThePaperProfileStartsWithThePagesMeshed(t *testing.T) {
	events := startupTrace(t, func(*Scenario) {})
	opened := 0
	for _, e := range events {
		if e.Kind != sim.KindFault || !strings.HasPrefix(e.Detail, "conn ") {
			continue
		}
		assert.Zero(t, e.Time, "every connection opened at the start: %s", e.Detail)
		assert.True(t, strings.HasSuffix(e.Detail, " open"), e.Detail)
		opened++
	}
	assert.Equal(t, 3, opened, "three pairs")
}

// Raft.js's commit rule is not safe across membership changes: the
// swarm, with it switched on, finds committed entries lost (139 of its
// first 2,000 seeds). This is one such run, shrunk; the checkers must
// catch it. (The paper's figures never hit it: their runs pass.)
func TestRaftJSsHalfCommitQuorumLosesACommittedEntry(t *testing.T) {
	sc, err := Load("testdata/findings/raftjs-half-commit-lost.yaml")
	require.NoError(t, err)
	res, err := Run(sc, sc.Seed, RunOptions{})
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Contains(t, res.Violation, "leader completeness violated")

	sc.Cluster.HalfCommitQuorum = false
	res, err = Run(sc, sc.Seed, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ok", res.Safety, "with Raft's majority the same run is safe: %s", res.Violation)
}

// The measured environments give the model a real world's path and
// timers: its messages take as long as that world's did.
func TestMeasuredEnvironmentsGiveTheModelARealWorldsPathAndTimers(t *testing.T) {
	for _, c := range []struct {
		env            string
		meanLo, meanHi sim.Time
	}{
		{"pion-vm", 600 * sim.Microsecond, 1100 * sim.Microsecond},
		{"chromium-vm-9-tabs", 4 * sim.Millisecond, 9 * sim.Millisecond},
	} {
		t.Run(c.env, func(t *testing.T) {
			sc := load(t, "kill-leader.yaml", 5)
			require.NoError(t, sc.UseProfile(c.env))
			require.NoError(t, sc.Validate())
			require.NotNil(t, sc.Browser.TimerLateness)
			requireMeanMessageDelay(t, sc, c.meanLo, c.meanHi)
		})
	}
}

// In pion-vm a leader's heartbeat period runs over its interval by its
// timer's lateness (0.67 ms) and 39 us for each message its broadcast
// sends, as pion's did (BenchmarkHeartbeatOnTheRealStack): about 1 ms
// with 8 followers, less in start-up while the cluster grows.
func TestPionVMHeartbeatsRunOverByTheirBroadcast(t *testing.T) {
	sc := load(t, "kill-leader.yaml", 9)
	require.NoError(t, sc.UseProfile("pion-vm"))
	var sends, over, full []float64
	for seed := uint64(1); seed <= 20; seed++ {
		events, res := tracedRun(t, sc, seed)
		require.True(t, res.OK, "the run passes its checks")
		for _, p := range sim.TimerPeriods(events, raft.TimerHeartbeat.String()) {
			us := float64(p.Late+p.Work) / float64(sim.Microsecond)
			sends, over = append(sends, float64(p.Sends)), append(over, us)
			if p.Sends == 8 {
				full = append(full, us)
			}
		}
	}
	fixed, perSend := stat.LinearRegression(sends, over, nil, false)
	assert.InDelta(t, 39, perSend, 15, "each message sent adds its cost to the period")
	assert.InDelta(t, 670, fixed, 150, "the rest is the timer's lateness")
	meanFull := stat.Mean(full, nil)
	assert.InDelta(t, 670+8*39, meanFull, 100, "with 8 followers")
}

// In chromium-vm the pages take turns on the VM's 2 cores, so a message
// waits longer the more pages a burst wakes, as in Chromium (2.4, 6.1
// and 16.8 ms mean at 3, 9 and 21 tabs, results/compare): the delay is
// not set per size, it follows from the turns.
func TestTurnsOnTheCoresMakeTheDelayGrowWithThePages(t *testing.T) {
	for _, c := range []struct {
		nodes          int
		meanLo, meanHi sim.Time
	}{
		{3, 1 * sim.Millisecond, 3 * sim.Millisecond},
		{9, 5 * sim.Millisecond, 7 * sim.Millisecond},
		{21, 11 * sim.Millisecond, 17 * sim.Millisecond},
	} {
		t.Run(fmt.Sprint(c.nodes, " tabs"), func(t *testing.T) {
			sc := load(t, "kill-leader.yaml", c.nodes)
			require.NoError(t, sc.UseProfile("chromium-vm"))
			require.NoError(t, sc.Validate())
			requireMeanMessageDelay(t, sc, c.meanLo, c.meanHi)
		})
	}
}

// requireMeanMessageDelay runs sc's seed 1, which must pass its checks,
// and requires its messages' mean delay in [lo, hi] and the same trace
// from a second run.
func requireMeanMessageDelay(t *testing.T, sc *Scenario, lo, hi sim.Time) {
	t.Helper()
	events, res := tracedRun(t, sc, 1)
	require.True(t, res.OK, "the run passes its checks")
	delays := sim.MessageDelays(events)
	require.NotEmpty(t, delays)
	var sum sim.Time
	for _, d := range delays {
		sum += d
	}
	mean := sum / sim.Time(len(delays))
	assert.True(t, mean >= lo && mean <= hi, "mean message delay %v", mean)
	again, err := Run(sc, 1, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, res.TraceHash, again.TraceHash, "same seed, same run")
}
