package scenarios

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/internal/chromium"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scenarios in real headless Chromium tabs (--world browser), through the
// same runner and checkers as the other worlds.

func runBrowser(t *testing.T, text string) *Result {
	t.Helper()
	if testing.Short() || !longTests {
		t.Skip("browser world through the runner: with -tags long (netmodel/browserworld's own tests run without)")
	}
	chromium.Require(t)
	sc, err := Parse("browser.yaml", []byte(text))
	require.NoError(t, err)
	var trace bytes.Buffer
	res, err := Run(sc, 1, RunOptions{World: WorldBrowser, Trace: &trace})
	require.NoError(t, err)
	t.Logf("%s: measures %v, safety %s, liveness %s, lin %s (%d ops), checks %v", sc.Name, measureValues(res), res.Safety,
		res.Liveness, res.Linearizability, res.Operations, res.Checks)
	if !res.OK {
		logTabsEnd(t, trace.Bytes())
	}
	requireTraceOfTabs(t, &trace)
	return res
}

// logTabsEnd logs, for a run that failed, each tab's last term, role and
// event time, and the run's faults, from its trace: what a real-time
// failure that does not repeat leaves to read.
func logTabsEnd(t *testing.T, trace []byte) {
	t.Helper()
	events, err := sim.ReadTrace(bytes.NewReader(trace))
	if err != nil {
		t.Logf("trace unreadable: %v", err)
		return
	}
	type end struct {
		term, terms uint64
		role        string
		last        sim.Time
	}
	tabs := map[uint64]*end{}
	for _, e := range events {
		if e.Kind == sim.KindFault && !strings.HasPrefix(e.Detail, "conn ") {
			t.Logf("%v: fault %s (tab %d)", e.Time, e.Detail, e.Node)
		}
		if e.Node == 0 {
			continue
		}
		s := tabs[e.Node]
		if s == nil {
			s = &end{}
			tabs[e.Node] = s
		}
		s.last = e.Time
		switch e.Kind {
		case sim.KindTerm:
			s.term, s.terms = e.Term, s.terms+1
		case sim.KindRole:
			s.role = e.Detail
		}
	}
	for _, id := range slices.Sorted(maps.Keys(tabs)) {
		s := tabs[id]
		t.Logf("tab %d: term %d (%d term changes), role %q, last event at %v", id, s.term, s.terms, s.role, s.last)
	}
}

// requireTraceOfTabs: the browser world's trace reads back, in time
// order, with the tabs' own events (roles, sends, deliveries), and no
// delivery comes before its send. Messages alike (sender, receiver,
// type, term, index) are interchangeable, and some deliveries may have
// no send at all (a page that closes, or a run that ends, takes the
// events of its last batch with it): deliveries may run ahead of sends
// by that many only.
func requireTraceOfTabs(t *testing.T, r io.Reader) {
	t.Helper()
	events, err := sim.ReadTrace(r)
	require.NoError(t, err)
	sends, delivers := messageCounts(events)
	kinds := map[sim.Kind]int{}
	sent, delivered := map[message]int{}, map[message]int{}
	for i, e := range events {
		kinds[e.Kind]++
		if i > 0 {
			require.GreaterOrEqual(t, e.Time, events[i-1].Time, "event %d goes back in time", i)
		}
		k := messageOf(e)
		switch e.Kind {
		case sim.KindSend:
			sent[k]++
		case sim.KindDeliver:
			delivered[k]++
			require.LessOrEqual(t, delivered[k], sent[k]+max(delivers[k]-sends[k], 0), "event %d: a delivery before its send", i)
		}
	}
	for _, k := range []sim.Kind{sim.KindRole, sim.KindTerm, sim.KindSend, sim.KindDeliver, sim.KindCommit, sim.KindTimerSet, sim.KindTimerFire} {
		assert.Positive(t, kinds[k], "the trace holds %s events", k)
	}
	assert.NotEmpty(t, sim.TimerPeriods(events, raft.TimerHeartbeat.String()), "a leader's heartbeat periods can be read off it")
}

func TestKilledLeadersAreReplacedInBrowserTabs(t *testing.T) {
	for _, tt := range []struct{ name, nodes, kill string }{
		{"kill-leader at 5 tabs", "5", "{leader: true}"},
		{"kill-half at 9 tabs", "9", "{leader: true, count: minority}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runBrowser(t, `
name: kill
cluster: {nodes: `+tt.nodes+`, election_timeout: 500ms, bootstrap: static, membership: static}
faults:
  - {name: kill, when: leader, after: 1s, kill: `+tt.kill+`}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: recovered, from: kill, until: new-leader, mode: exact}
limit: 30s
`)
			require.True(t, res.OK, res.Violation)
			requireMeasured(t, res, "leader", "recovered")
			assert.Less(t, *res.Measures["recovered"], 2.0, "a follower times out within 2 ET")
			assert.NotContains(t, res.Checks, checker.AckedCommit, "off in the browser: the tabs report over separate sockets")
			assert.Contains(t, res.Checks, checker.DurableAck)
		})
	}
}

func TestAReopenedTabRestoresItsLogAndKVStaysLinearizableInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: kv-restart
cluster: {nodes: 3, election_timeout: 300ms, bootstrap: static, membership: static}
faults:
  - {name: kill, at: 1s, kill: {nodes: [1]}}
  - {name: reopen, at: 2s, restart: {killed: true}}
workload:
  kv: {when: leader, after: 100ms, clients: 3, keys: 3, ops: 60, think: 50ms}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: back, from: reopen, until: up, mode: exact}
  - {name: kv-done, from: workload, until: kv-done, mode: exact}
limit: 60s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "leader", "back", "kv-done")
	assert.Greater(t, *res.Measures["kv-done"], 2.0, "the clients ran across the kill and the reopening")
	t.Logf("exercised %v", res.Exercised)
	assert.Positive(t, res.Exercised[checker.DurableAck], "the reopened tab's acknowledgements were checked against what it restored")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.Equal(t, 180, res.Operations)
}

func TestTheBrowserWorldRefusesWhatItCannotRunYet(t *testing.T) {
	for name, text := range map[string]string{
		"a path change": "name: x\ncluster: {nodes: 3}\nfaults: [{at: 1s, path_change: {nodes: [1]}}]\nmeasures: [{name: up, until: up}]\n",
		"a datachannel mode per link": "name: x\ncluster: {nodes: 3, bootstrap: static, membership: static}\n" +
			"world: {links: [{from: 1, to: 2, datachannel: unordered-reliable}]}\nmeasures: [{name: leader, until: leader}]\n",
		"pion's SCTP timers": "name: x\ncluster: {nodes: 3, bootstrap: static, membership: static}\n" +
			"world: {sctp: pion}\nmeasures: [{name: leader, until: leader}]\n",
		"a discarded tab": "name: x\ncluster: {nodes: 3, bootstrap: static, membership: static}\n" +
			"faults: [{at: 1s, visibility: {nodes: [1], state: discarded}}]\nmeasures: [{name: leader, until: leader}]\n",
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := Parse("x.yaml", []byte(text))
			require.NoError(t, err)
			_, err = Run(sc, 1, RunOptions{World: WorldBrowser})
			require.ErrorIs(t, err, ErrNotOnWorld)
			require.ErrorIs(t, err, ErrNotOnBrowser)
		})
	}
}

func TestAFrozenLeaderIsReplacedAndFollowsAfterThawInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: freeze
cluster: {nodes: 5, election_timeout: 500ms, bootstrap: static, membership: static}
faults:
  - {name: freeze, when: leader, after: 1s, visibility: {leader: true, state: frozen}}
  - {name: thaw, when: replaced, after: 2s, visibility: {all: true, state: foreground}}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: replaced, from: freeze, until: new-leader, mode: exact}
  - {name: back, from: thaw, until: up, mode: exact}
limit: 30s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "leader", "replaced", "back")
	assert.Less(t, *res.Measures["replaced"], 2.0, "a follower times out within 2 ET of the freeze")
}

// Through the relay: 5% loss on an unordered reliable channel (PeerJS's
// default), a partition that cuts the cluster in two and its heal, then
// the leader blackholed; KV clients run throughout and their history is
// linearizable, and the cluster recovers from the blackhole.
func TestLossPartitionsAndABlackholeInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: lossy-kv
cluster: {nodes: 5, election_timeout: 500ms, bootstrap: static, membership: static}
world: {datachannel: unordered-reliable, loss: 0.05}
faults:
  - {name: split, at: 2s, partition: {groups: [[1, 2], [3, 4, 5]]}}
  - {name: heal, at: 4s, heal: true}
  - {name: blackhole, at: 6s, blackhole: {leader: true}}
workload:
  kv: {at: 1s, clients: 3, keys: 3, ops: 60, think: 50ms}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: recovered, from: blackhole, until: new-leader, mode: exact}
  - {name: kv-done, from: workload, until: kv-done, mode: exact}
limit: 60s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "leader", "recovered", "kv-done")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.Equal(t, 180, res.Operations)
}

// A hidden leader (its window minimized) keeps its datachannels, but
// Chromium aligns its heartbeat timer to whole seconds: followers at an
// election timeout of 500 ms time out and elect another leader, as the
// model predicts (scenarios/examples/hidden-leader.yaml).
func TestAHiddenLeaderIsReplacedInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: hidden-leader
cluster: {nodes: 5, election_timeout: 500ms, bootstrap: static, membership: static}
faults:
  - {name: hide, when: leader, after: 1s, visibility: {leader: true, state: hidden}}
measures:
  - {name: leader, until: leader, mode: exact}
  - {name: new-leader, from: hide, until: new-leader, mode: exact}
limit: 30s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "leader", "new-leader")
	assert.Less(t, *res.Measures["new-leader"], 2.5, "a follower times out within about 2 s of the hiding")
}

// The paper's own setting in browser tabs: tab 1 bootstraps a one-server
// cluster, its presence loop adds the others as the signaling server
// lists them; the leader's page closes, the rest elect a new leader, and
// the new leader's loop removes the closed tab; the page reopens and is
// added back.
func TestThePapersBootstrapAndPresenceRunInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: paper
cluster: {nodes: 5, election_timeout: 500ms}
faults:
  - {name: kill, when: up, after: 1s, kill: {leader: true}}
  - {name: reopen, when: recovered, after: 500ms, restart: {killed: true}}
measures:
  - {name: up, until: up}
  - {name: recovered, from: kill, until: up}
  - {name: back, from: reopen, until: up}
limit: 30s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "up", "recovered", "back")
	assert.Less(t, *res.Measures["up"], 3.0, "four additions, one at a time")
}

// The paper's chat user lives in a tab's page (host.Chat in the tab
// program): 20 lines from one tab reach every open tab's state machine
// while another tab is discarded and reloads, and the user's seqAppend
// history checks linearizable.
func TestChatLinesPropagateInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: chat
cluster: {nodes: 5, election_timeout: 1000ms}
faults:
  - {name: discard, when: up, after: 1200ms, discard: {nodes: [4], reload_after: 1s}}
workload:
  chat: {lines: 20, when: up, after: 1s}
measures:
  - {name: up, until: up}
  - {name: propagated, from: workload, until: propagated}
limit: 30s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "up", "propagated")
	assert.Equal(t, 1, res.FaultsApplied["discard"])
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.GreaterOrEqual(t, res.Operations, 20)
}

// The real signaling server goes down: chat lines still commit over the
// established datachannels, a tab closed meanwhile stays a member until
// the server is back (the leader cannot read presence), and then it is
// removed; the tabs dial the server again.
func TestASignalingOutageInBrowserTabs(t *testing.T) {
	res := runBrowser(t, `
name: outage
cluster: {nodes: 5, election_timeout: 500ms}
faults:
  - {name: outage, when: up, after: 1s, signaling: down}
  - {name: kill, when: up, after: 2s, kill: {nodes: [5]}}
  - {name: back, when: up, after: 4s, signaling: up}
workload:
  chat: {lines: 5, when: up, after: 1500ms}
measures:
  - {name: up, until: up}
  - {name: committed, from: workload, until: committed, mode: exact}
  - {name: recovered, from: back, until: up}
limit: 30s
`)
	require.True(t, res.OK, res.Violation)
	requireMeasured(t, res, "up", "committed", "recovered")
	assert.Less(t, *res.Measures["committed"], 2.0, "committed during the outage")
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
}

// The pages report their batches to the harness over a socket, a few
// milliseconds late; an exact measure ends when the batch that made its
// condition hold ended on its page, not when the harness heard of it:
// within a millisecond of that page's last event before it, and never
// after the harness traced the measure.
func TestExactMeasuresInBrowserTabsEndWhenThePageChanged(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("browser world through the runner: with -tags long")
	}
	chromium.Require(t)
	sc, err := Parse("exact.yaml", []byte(`
name: exact
cluster: {nodes: 3, election_timeout: 500ms}
faults:
  - {name: kill, when: up, after: 1s, kill: {leader: true}}
measures:
  - {name: up, until: up, mode: exact}
  - {name: recovered, from: kill, until: up, mode: exact}
limit: 20s
`))
	require.NoError(t, err)
	var trace bytes.Buffer
	res, err := Run(sc, 1, RunOptions{World: WorldBrowser, Trace: &trace})
	require.NoError(t, err)
	require.True(t, res.OK, res.Violation)
	events, err := sim.ReadTrace(&trace)
	require.NoError(t, err)
	var start sim.Time // of the measure under way: 0, then the kill
	for i, e := range events {
		switch {
		case e.Kind == sim.KindFault && e.Detail == "kill (page closed)":
			start = e.Time
		case e.Kind == sim.KindMeasure:
			end := start + sim.Time(e.Index)
			assert.LessOrEqual(t, end, e.Time, "%s ends before the harness traced it", e.Msg)
			var last sim.Time // the latest page event up to the end
			for _, p := range events[:i] {
				if p.Node != 0 && p.Kind != sim.KindFault && p.Time <= end {
					last = max(last, p.Time)
				}
			}
			assert.Less(t, end-last, sim.Millisecond, "%s ends %v after the last page event before it (harness: %v)", e.Msg, end-last, e.Time-last)
		}
	}
}
