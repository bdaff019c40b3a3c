package scenarios

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each fault kind added for the hard interleavings changes what the tabs
// or the network do: the same run without the step does not show it.
func TestNewFaultKindsChangeWhatHappens(t *testing.T) {
	const base = "name: f\ncluster: {nodes: 3, bootstrap: static, membership: static, election_timeout: 200ms}\nlimit: 4s\n"
	tests := []struct {
		name, step, want string
	}{
		{"a paused leader is replaced", "  - {at: 1s, pause: {leader: true, for: 2s}}\n", `"k":"role","n":`},
		{"a removed tab leaves the configuration", "  - {at: 1s, reconfigure: {remove: [3]}}\n", `"k":"config","n":1,"term":2,"d":"1 2"`},
		{"a leader that cannot send is replaced", "  - {at: 1s, partition: {groups: [[LEADER], [OTHERS]], one_way: true}}\n", `"k":"role","n":`},
		{"held heartbeats depose the leader", "  - {at: 1s, delay: {one_in: 2, extra: 2s}}\n", `"k":"role","n":`},
		{"a tab crashed after acknowledging comes back", "  - {at: 1s, crash_after_ack: {down: 500ms}}\n", `"d":"crash after answering"`},
		{"an isolated leader is replaced", "  - {at: 1s, partition: {isolate: {leader: true}}}\n", `"k":"role","n":`},
		{"a wide reordering window deposes the leader", "  - {at: 1s, reorder: {window: 1s}}\n", `"k":"role","n":`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quiet := runTrace(t, base)
			lead, others := leaderAt(quiet)
			step := strings.NewReplacer("LEADER", lead, "OTHERS", others).Replace(tt.step)
			faulty := runTrace(t, base+"faults:\n"+step)
			after := func(tr string) string { // events after the step at 1 s
				i := strings.Index(tr, `{"t":1000000000`)
				if i < 0 {
					return ""
				}
				return tr[i:]
			}
			assert.False(t, strings.Contains(after(quiet), tt.want), "without the step")
			assert.True(t, strings.Contains(after(faulty), tt.want), "with the step")
		})
	}
}

// runTrace runs a scenario's first seed and returns its trace.
func runTrace(t *testing.T, text string) string {
	t.Helper()
	sc, err := Parse("f.yaml", []byte(text))
	require.NoError(t, err)
	var tr strings.Builder
	res, err := Run(sc, 1, RunOptions{Trace: &tr})
	require.NoError(t, err)
	require.Equal(t, "ok", res.Safety, res.Violation)
	return tr.String()
}

// leaderAt returns the leader of the quiet run (term 2) and the others,
// as YAML lists' contents.
func leaderAt(trace string) (lead, others string) {
	for _, id := range []string{"1", "2", "3"} {
		if strings.Contains(trace, `"k":"role","n":`+id+`,"term":2,"d":"leader"`) {
			lead = id
		} else if others == "" {
			others = id
		} else {
			others += ", " + id
		}
	}
	return lead, others
}

// An opt-in kind is drawn only when asked for, and asking for it changes
// nothing else a seed draws.
func TestOptInKindsAreDrawnOnlyWhenAskedFor(t *testing.T) {
	const kind FaultKind = "test-opt-in"
	t.Cleanup(registerSwarmKind(swarmKind{kind: kind, rank: 2000, minNodes: 1, optIn: true,
		window: func(w *swarmWindow) []Fault {
			return []Fault{{Name: "pause", Trigger: w.at(w.t), Action: &PauseAction{Target: Target{Nodes: w.one}, For: sim.Millisecond}}}
		}}))
	asked := 0
	for seed := uint64(1); seed <= 200; seed++ {
		plain := Swarm(seed, SwarmOptions{})
		with := Swarm(seed, SwarmOptions{OptIn: []FaultKind{kind}})
		require.False(t, containsWord(plain.Description, string(kind)), "seed %d", seed)
		if containsWord(with.Description, string(kind)) {
			asked++
			continue
		}
		assert.Equal(t, plain.Description, with.Description, "seed %d: the other draws do not move", seed)
	}
	assert.Positive(t, asked)
}

// Replayed messages arrive again, late: more deliveries than sends.
func TestReplayedMessagesArriveAgainLate(t *testing.T) {
	const base = "name: f\ncluster: {nodes: 3, bootstrap: static, membership: static, election_timeout: 200ms}\nlimit: 4s\n"
	count := func(tr, kind string) int { return strings.Count(tr, `"k":"`+kind+`"`) }
	quiet := runTrace(t, base)
	replayed := runTrace(t, base+"faults:\n  - {at: 1s, replay: {share: 0.5, after: 1s}}\n")
	assert.LessOrEqual(t, count(quiet, "deliver"), count(quiet, "send"))
	assert.Greater(t, count(replayed, "deliver"), count(replayed, "send"), "copies arrive beside the originals")
}
