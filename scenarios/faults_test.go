package scenarios

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// markAction is a fault kind that exists only in this test: it writes a
// note in the trace on the listed tabs. Everything a kind needs is here,
// in one place, as fault_*.go has it for the real kinds.
type markAction struct {
	Label string   `yaml:"label"`
	Nodes []uint64 `yaml:"nodes" bound:"node" maxlen:"10"`
}

func (a *markAction) Key() string { return "mark" }

func (a *markAction) Validate(c *faultCheck) error {
	if a.Label == "" {
		return c.errAt("label", "a mark needs a label")
	}
	return c.nodes("nodes", a.Nodes)
}

func (a *markAction) Apply(r *runner) error {
	for _, id := range a.Nodes {
		r.note(raft.ID(id), "mark "+a.Label)
	}
	return nil
}

func (a *markAction) Shrink(k int) (FaultAction, bool) {
	b := &markAction{Label: a.Label, Nodes: keepNodes(a.Nodes, k)}
	return b, len(b.Nodes) > 0
}

const kindMark FaultKind = "mark"

func registerMark(t *testing.T) {
	t.Cleanup(registerFault(faultKind{key: "mark", new: func() FaultAction { return &markAction{} }}))
	t.Cleanup(registerSwarmKind(swarmKind{kind: kindMark, rank: 1000, minNodes: 1, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "mark", Trigger: w.at(w.t), Action: &markAction{Label: "swarm", Nodes: w.one}}}
	}}))
}

func TestAFaultKindAddedInOneFileIsValidatedAppliedShrunkAndDrawn(t *testing.T) {
	registerMark(t)
	const file = "name: marked\ncluster: {nodes: 3, bootstrap: static, membership: static}\nlimit: 2s\n" +
		"faults:\n  - at: 1s\n    mark: {label: here, nodes: [2, 3]}\nmeasures: [{name: up, until: leader}]\n"

	// Validated, with positioned errors.
	sc, err := Parse("marked.yaml", []byte(file))
	require.NoError(t, err)
	_, err = Parse("bad.yaml", []byte(strings.Replace(file, "label: here", "label: ''", 1)))
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "faults[0].mark.label", pe.Field)
	_, err = Parse("bad.yaml", []byte(strings.Replace(file, "[2, 3]", "[2, 9]", 1)))
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "faults[0].mark.nodes[1]", pe.Field)

	// Applied: the run's trace has its notes.
	sc.Measures = nil // run to the limit, past the step
	var trace strings.Builder
	_, err = Run(sc, 1, RunOptions{Trace: &trace})
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(trace.String(), `"d":"mark here"`))

	// Written and read back.
	data, err := sc.Marshal()
	require.NoError(t, err)
	back, err := Parse("back.yaml", data)
	require.NoError(t, err, string(data))
	assert.Equal(t, sc.Faults[0].Action, back.Faults[0].Action)

	// Shrunk: on 2 tabs it keeps node 2; on 1 it has nothing left.
	two := withNodes(sc, 2)
	require.Len(t, two.Faults, 1)
	assert.Equal(t, []uint64{2}, two.Faults[0].Action.(*markAction).Nodes)
	assert.Empty(t, withNodes(sc, 1).Faults)

	// Drawn by the swarm.
	assert.Contains(t, FaultKinds(), kindMark)
	drawn := 0
	for seed := uint64(1); seed <= 100; seed++ {
		for _, f := range Swarm(seed, SwarmOptions{}).Faults {
			if f.isAction("mark") {
				drawn++
			}
		}
	}
	assert.Positive(t, drawn, "the swarm draws the new kind")
}

// A new network profile is drawn by the swarm without touching it.
func TestTheSwarmDrawsEveryNetworkProfile(t *testing.T) {
	netmodel.Profiles["test-only"] = netmodel.Profiles["lan"]
	t.Cleanup(func() { delete(netmodel.Profiles, "test-only") })
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 300; seed++ {
		seen[Swarm(seed, SwarmOptions{}).World.Profile] = true
	}
	for _, name := range netmodel.ProfileNames() {
		assert.True(t, seen[name], "profile %s never drawn", name)
	}
}

// Coverage marks: the swarm reaches what it claims to test. Every kind
// of fault step the default swarm draws is applied in some run, and every
// world-independent invariant decides real cases.
func TestTheSwarmReachesEveryFaultStepAndInvariant(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	rep, err := Fuzz(FuzzOptions{Seeds: 150})
	require.NoError(t, err)
	for _, key := range FaultKeys() {
		assert.Positive(t, rep.FaultRuns[key], "no run applied a %s step", key)
	}
	for _, inv := range []string{"progress", "durable acknowledgement", "acknowledged commit"} {
		assert.Positive(t, rep.Exercised[inv], "invariant %s never decided a case", inv)
	}
}
