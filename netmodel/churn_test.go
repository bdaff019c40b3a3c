package netmodel

import (
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The takeover hook runs before the new leader's first batch leaves: a
// partition it makes holds the new leader's no-op, so the others learn of
// it only after the heal. ReconfigureBy has that leader propose at once,
// which it refuses: it has committed nothing of its term.
func TestOnTakeoverActsBeforeTheNewLeadersFirstMessages(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	w, buf := newTestWorld(t, opt, 9)
	w.sim.RunUntil(sim.Second, nil)
	require.Len(t, w.Leaders(), 1)
	old := w.Leaders()[0]
	var took raft.ID
	w.OnTakeover(func(lead raft.ID) bool {
		took = lead
		var others []raft.ID
		for id := raft.ID(1); id <= 3; id++ {
			if id != lead {
				others = append(others, id)
			}
		}
		w.Partition([][]raft.ID{{lead}, others})
		w.ReconfigureBy(lead, old, false)
		return true
	})
	w.Kill(old)
	w.sim.RunUntil(1500*sim.Millisecond, nil)
	require.NotZero(t, took, "another tab took over")
	st, _ := w.Status(took)
	assert.Equal(t, raft.Leader, st.Role)
	assert.Less(t, st.Commit, st.LastIndex, "nothing of its term committed: its appends are held")
	assert.Contains(t, st.Voters, old)
	require.NoError(t, w.Sim().Trace().Flush())
	assert.Contains(t, buf.String(), raft.ErrNoCommitInTerm.Error(), "the removal was proposed and refused")
	for id := raft.ID(1); id <= 3; id++ {
		if f, alive := w.Status(id); alive && id != took {
			assert.NotEqual(t, took, f.Lead, "tab %d has not heard from the new leader", id)
		}
	}
	w.Heal()
	w.sim.RunUntil(3*sim.Second, nil)
	for id := raft.ID(1); id <= 3; id++ {
		if f, alive := w.Status(id); alive && id != took {
			assert.Equal(t, took, f.Lead, "tab %d hears the new leader after the heal", id)
		}
	}
}

// A cancelled hook does not run.
func TestOnTakeoverCancelled(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	w, _ := newTestWorld(t, opt, 9)
	ran := false
	cancel := w.OnTakeover(func(raft.ID) bool { ran = true; return true })
	cancel()
	w.sim.RunUntil(sim.Second, nil)
	require.Len(t, w.Leaders(), 1)
	assert.False(t, ran)
}

// Regroup redraws the partition: a link within a new group works again
// (what it held arrives), a link between groups is cut.
func TestRegroupHealsWithinGroupsAndCutsBetween(t *testing.T) {
	w, buf := newTestWorld(t, testOptions(3), 3)
	w.Partition([][]raft.ID{{1}, {2, 3}})
	w.send(probe(1, 2, 1)) // held
	w.Regroup([][]raft.ID{{1, 2}, {3}})
	w.send(probe(2, 3, 2)) // held now
	w.send(probe(2, 1, 3))
	w.sim.RunUntil(5*sim.Second, nil)
	got, _ := deliveries(t, w, buf)
	var idx []uint64
	for _, a := range got {
		idx = append(idx, a.index)
	}
	assert.ElementsMatch(t, []uint64{1, 3}, idx)
}
