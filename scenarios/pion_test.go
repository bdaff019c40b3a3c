package scenarios

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenarios on the real stack (pion datachannels on vnet). All but the
// signaling test run inside testing/synctest bubbles: virtual time, so a
// run of tens of virtual seconds takes well under a second or two, and
// the bubble fails the test if a goroutine is left behind.

// runPionInBubble parses a scenario and runs it with runScenarioInBubble.
func runPionInBubble(t *testing.T, text string, seed uint64) *Result {
	t.Helper()
	sc, err := Parse(t.Name()+".yaml", []byte(text))
	require.NoError(t, err)
	return runScenarioInBubble(t, sc, seed)
}

// runScenarioInBubble runs a scenario on the real stack in a synctest
// bubble with in-process signaling, and lets the last closes finish
// inside the bubble (facts: a close in progress otherwise panics).
func runScenarioInBubble(t *testing.T, sc *Scenario, seed uint64) *Result {
	t.Helper()
	var res *Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = RunPionWith(sc, seed, PionOptions{InProcessSignaling: true, LinTimeout: 10 * time.Second})
		require.NoError(t, err)
		time.Sleep(5 * time.Second)
	})
	require.NotNil(t, res)
	t.Logf("%s: measures %v, lin %s %s, ops %d, %.1f s virtual", res.Scenario, measureValues(res), res.Linearizability,
		res.LinDetail, res.Operations, res.VirtualSeconds)
	return res
}

func measureValues(res *Result) map[string]any {
	out := map[string]any{}
	for k, v := range res.Measures {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = *v
		}
	}
	return out
}

// requireMeasured asserts that every named measure completed.
func requireMeasured(t *testing.T, res *Result, names ...string) {
	t.Helper()
	for _, name := range names {
		v, ok := res.Measures[name]
		require.True(t, ok, "measure %s exists", name)
		require.NotNil(t, v, "measure %s completed", name)
		assert.GreaterOrEqual(t, *v, 0.0, name)
	}
}

// TestKVOnTheRealStackIsLinearizable: KV clients in real (virtual) time
// against pion clusters of 3 and 5 tabs, with ReadIndex or the paper's
// local reads, and under loss and a partition: every operation is in the
// history and porcupine finds it linearizable.
func TestKVOnTheRealStackIsLinearizable(t *testing.T) {
	for _, tt := range []struct {
		name, nodes, readMode, faults string
		load                          string
	}{
		{"3 nodes, ReadIndex reads", "3", "readindex", "[]", "think: 50ms"},
		{"3 nodes, an open loop of 20 operations a second per client", "3", "readindex", "[]", "rate: 20"},
		{"5 nodes, the paper's local reads", "5", "local", "[]", "think: 50ms"},
		{"5 nodes, ReadIndex reads under loss and a partition", "5", "readindex", `
  - {at: 0s, loss: {loss: 0.05}}
  - {name: split, when: leader, after: 300ms, partition: {groups: [[1, 2], [3, 4, 5]]}}
  - {name: heal, when: leader, after: 1500ms, heal: true}`, "think: 50ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runPionInBubble(t, `
name: kv-pion
cluster: {nodes: `+tt.nodes+`, election_timeout: 300ms, bootstrap: static, membership: static}
world: {profile: lan}
faults: `+tt.faults+`
workload:
  kv: {when: leader, after: 200ms, clients: 3, keys: 3, ops: 30, `+tt.load+`, read_mode: `+tt.readMode+`}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: kv-done, from: workload, until: kv-done, mode: exact}
limit: 60s
`, 1)
			assert.Equal(t, "ok", res.Safety)
			assert.Equal(t, "ok", res.Liveness)
			assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
			assert.Equal(t, 90, res.Operations, "every call is in the history")
			assert.True(t, res.OK)
			requireMeasured(t, res, "leader", "kv-done")
		})
	}
}

// TestChatPropagatesOnTheRealStack runs the paper's figure 3 scenario
// file: once up, one chat line pushed into the leader's send queue
// reaches every node's state machine.
func TestChatPropagatesOnTheRealStack(t *testing.T) {
	sc, err := Load("propagate-1.yaml")
	require.NoError(t, err)
	sc.Cluster.Nodes = 5 // 9 is the paper's; 5 keeps the test short
	require.NoError(t, sc.Validate())
	res := runScenarioInBubble(t, sc, 1)
	requireMeasured(t, res, "up", "propagated")
	assert.Positive(t, *res.Measures["propagated"])
	assert.Less(t, *res.Measures["propagated"], 1.0, "one line propagates within a flush interval and a few round trips")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.True(t, res.OK)
}

// TestPartitionedLeaderIsReplacedThenHealedOnTheRealStack: the paper's
// bootstrap makes node 1 the first leader; a partition cuts it off; the
// majority elects a new leader (the old one, with CheckQuorum, steps
// down); after the heal it follows and the cluster is up again, with chat
// lines committed across it and safety intact.
func TestPartitionedLeaderIsReplacedThenHealedOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: partition-leader
cluster: {nodes: 5, election_timeout: 300ms, check_quorum: true}
faults:
  - {name: split, when: up, after: 500ms, partition: {groups: [[1], [2, 3, 4, 5]]}}
  - {name: heal, when: new-leader, after: 1s, heal: true}
workload:
  chat: {when: up, after: 200ms, users: 5, lines: 5}
measures:
  - {name: up, until: up}
  - {name: new-leader, from: split, until: new-leader}
  - {name: healed, from: heal, until: up}
  - {name: propagated, from: workload, until: propagated}
limit: 60s
`, 2)
	requireMeasured(t, res, "up", "new-leader", "healed", "propagated")
	assert.Equal(t, "ok", res.Safety)
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
}

// TestOneWayCutAndLossOnTheRealStack: 10% of packets lost and 5%
// duplicated from the start, and a one-way cut from node 2 to node 3:
// reliable channels still deliver, the chat lines all commit and
// propagate, and the history is linearizable.
func TestOneWayCutAndLossOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: lossy-pion
cluster: {nodes: 3, election_timeout: 300ms}
faults:
  - {name: lossy, at: 0s, loss: {loss: 0.1, duplicate: 0.05}}
  - {name: cut, when: up, after: 100ms, partition: {from: 2, to: 3}}
workload:
  chat: {when: up, after: 200ms, users: 3, lines: 5}
measures:
  - {name: up, until: up}
  - {name: committed, from: workload, until: committed, mode: exact}
  - {name: propagated, from: workload, until: propagated}
limit: 120s
`, 3)
	requireMeasured(t, res, "up", "committed", "propagated")
	assert.Equal(t, "ok", res.Safety)
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.Equal(t, "pion", res.World)
}

// TestBlackholedLeaderIsReplacedOnTheRealStack: the leader's tab dies
// uncleanly (no close reaches the peers); the others elect a new leader
// and, following presence, remove it.
func TestBlackholedLeaderIsReplacedOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: blackhole-pion
cluster: {nodes: 5, election_timeout: 300ms}
faults:
  - {name: crash, when: up, after: 300ms, blackhole: {leader: true}}
measures:
  - {name: up, until: up}
  - {name: new-leader, from: crash, until: new-leader}
  - {name: recovered, from: crash, until: up}
limit: 60s
`, 4)
	requireMeasured(t, res, "up", "new-leader", "recovered")
	assert.True(t, res.OK)
}

// TestSignalingOutageOnTheRealStack runs with the real WebSocket
// signaling server (real sockets, real time, about 2 s): while the server
// is down, chat lines still commit over the established channels and the
// follower that closed is not removed; once the server is back and the
// tabs have registered again, the leader removes it.
func TestSignalingOutageOnTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("a signaling outage of seconds in real time: not with -short")
	}
	sc, err := Parse("signaling-outage-short.yaml", []byte(`
name: signaling-outage-short
cluster: {nodes: 3, election_timeout: 300ms}
faults:
  - {name: outage, when: up, after: 200ms, signaling: down}
  - {name: kill, when: up, after: 600ms, kill: {nodes: [3]}}
  - {name: back, when: up, after: 1500ms, signaling: up}
workload:
  chat: {when: up, after: 400ms, lines: 3}
measures:
  - {name: up, until: up}
  - {name: committed, from: workload, until: committed, mode: exact}
  - {name: recovered, from: back, until: up}
limit: 20s
`))
	require.NoError(t, err)
	before := runtime.NumGoroutine()
	res, err := RunPion(sc, 1)
	require.NoError(t, err)
	t.Logf("measures %v, %.2f s", measureValues(res), res.WallSeconds)
	// Outside a bubble nobody else checks: the run leaves no goroutine.
	for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind")
	requireMeasured(t, res, "up", "committed", "recovered")
	assert.Less(t, *res.Measures["committed"], 0.8, "the lines commit during the outage")
	// Had the leader removed node 3 during the outage, the cluster would
	// be up already when the server returns: recovered would be the few
	// milliseconds of reconnecting. It takes a presence round and a
	// commit instead.
	assert.Greater(t, *res.Measures["recovered"], 0.02)
	assert.True(t, res.OK)
}

func TestScenariosThePionWorldRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, text, why string
	}{
		{"path change", `
name: refused
cluster: {nodes: 3}
faults:
  - {at: 1s, path_change: {nodes: [1]}}
measures:
  - {name: up, until: up}
`, "path_change"},
		{"delay outliers", `
name: refused
cluster: {nodes: 3}
faults:
  - {at: 1s, delay: {one_in: 5, extra: 1s}}
measures:
  - {name: up, until: up}
`, "delay"},
		{"replays", `
name: refused
cluster: {nodes: 3}
faults:
  - {at: 1s, replay: {share: 0.1, after: 1s}}
measures:
  - {name: up, until: up}
`, "replay"},
		{"crashes after an answer", `
name: refused
cluster: {nodes: 3}
faults:
  - {at: 1s, crash_after_ack: {vote: true, down: 100ms}}
measures:
  - {name: up, until: up}
`, "crash_after_ack"},
		{"reordering windows", `
name: refused
cluster: {nodes: 3}
faults:
  - {at: 1s, reorder: {window: 100ms}}
measures:
  - {name: up, until: up}
`, "reorder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("refused.yaml", []byte(tt.text))
			require.NoError(t, err)
			_, err = RunPion(sc, 1)
			require.ErrorIs(t, err, ErrNotOnPion)
			assert.Contains(t, err.Error(), tt.why)
		})
	}
}

// TestHiddenLeaderIsThrottledOnTheRealStack runs background-tabs.yaml on
// the real stack: the hidden leader's timers (and its chat user's flush
// timer) align to 1 s, as in the model, so ten lines take seconds, not
// the fraction of a second they take in the foreground.
func TestHiddenLeaderIsThrottledOnTheRealStack(t *testing.T) {
	sc, err := Load("background-tabs.yaml")
	require.NoError(t, err)
	hidden := runScenarioInBubble(t, sc, 1)
	requireMeasured(t, hidden, "up", "propagated")
	assert.Greater(t, *hidden.Measures["propagated"], 5.0, "hidden: about one line a second")
	assert.True(t, hidden.OK)

	sc.Faults = nil
	foreground := runScenarioInBubble(t, sc, 1)
	requireMeasured(t, foreground, "propagated")
	assert.Less(t, *foreground.Measures["propagated"], 1.0, "foreground: one line every few milliseconds")
}

// TestFrozenLeaderIsReplacedThenFollowsOnTheRealStack runs tab-freeze.yaml
// on the real stack: the frozen leader runs nothing, the others elect a
// new leader; thawed, it works through its queue and the cluster is up.
func TestFrozenLeaderIsReplacedThenFollowsOnTheRealStack(t *testing.T) {
	sc, err := Load("tab-freeze.yaml")
	require.NoError(t, err)
	res := runScenarioInBubble(t, sc, 1)
	requireMeasured(t, res, "up", "new-leader", "up-after-thaw")
	assert.Less(t, *res.Measures["new-leader"], 2.0, "within about 2 ET")
	assert.True(t, res.OK, "no safety violation")
}

// TestRestartedAndDiscardedTabsRejoinOnTheRealStack: KV clients run while
// two tabs crash and reload from storage and a third is discarded and
// reloads; tabs compact their logs, so a reloaded tab may need the
// leader's snapshot. The history stays linearizable, every operation
// completes, and the safety checker sees nothing wrong.
func TestRestartedAndDiscardedTabsRejoinOnTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts and reloads in real time: not with -short")
	}
	res := runPionInBubble(t, `
name: restarts
cluster: {nodes: 5, election_timeout: 500ms, snapshot_every: 20}
faults:
  - {name: crash, at: 2s, kill: {count: 2}}
  - {name: reload, at: 4s, restart: {killed: true}}
  - {name: discard, at: 6s, discard: {count: 1, reload_after: 1s}}
  - {name: crash-again, at: 9s, kill: {count: 2}}
workload:
  kv: {at: 1s, clients: 3, keys: 3, ops: 400, think: 20ms}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: kv-done, from: workload, until: kv-done, mode: exact}
limit: 60s
`, 3)
	requireMeasured(t, res, "leader", "kv-done")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.Equal(t, 1200, res.Operations)
	assert.Greater(t, *res.Measures["kv-done"], 8.0, "the clients ran through every fault step")
	assert.True(t, res.OK)
}

// TestLeadershipTransferOnTheRealStack: a transfer step hands leadership
// to the chosen tab.
func TestLeadershipTransferOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: transfer
cluster: {nodes: 5, election_timeout: 1s}
faults:
  - {name: hand-over, at: 3s, transfer: {to: 4}}
measures:
  - {name: new-leader, from: hand-over, until: new-leader, mode: exact}
limit: 10s
`, 1)
	requireMeasured(t, res, "new-leader")
	assert.Less(t, *res.Measures["new-leader"], 0.5, "a transfer takes a round trip, not an election timeout")
	assert.True(t, res.OK)
}

// TestLearnersCatchUpOnTheRealStack: the paper's bootstrap with catch_up:
// tabs join as learners and are promoted, and the cluster comes up.
func TestLearnersCatchUpOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: catch-up
cluster: {nodes: 5, election_timeout: 500ms, bootstrap: paper, membership: presence, catch_up: true}
measures:
  - {name: up, until: up}
limit: 20s
`, 1)
	requireMeasured(t, res, "up")
	assert.True(t, res.OK)
}

// TestPerLinkLatencyOnTheRealStack: the lan profile with one slow link
// (from 1 to 2, 200 ms) and loss on another: the cluster still comes up
// and commits.
func TestPerLinkLatencyOnTheRealStack(t *testing.T) {
	res := runPionInBubble(t, `
name: links
cluster: {nodes: 3, election_timeout: 1s}
world:
  profile: lan
  links:
    - {from: 1, to: 2, latency: {dist: constant, mean: 200ms}}
    - {from: 2, to: 3, loss: 0.2, bandwidth: 100KiB}
workload:
  kv: {at: 1s, clients: 2, keys: 2, ops: 50}
measures:
  - {name: kv-done, from: workload, until: kv-done, mode: exact}
limit: 60s
`, 1)
	requireMeasured(t, res, "kv-done")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.True(t, res.OK)
}
