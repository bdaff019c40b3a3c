package scenarios

import (
	"slices"
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
)

// slowKillWorld is a world whose Kill takes time, as closing a page in
// Chromium does, and in which a follower wins an election while the
// kill step's last page closes (the runner reads only these methods).
type slowKillWorld struct {
	World
	now       sim.Time
	roles     []raft.Role // by tab; index 0 unused
	alive     []bool
	newLead   raft.ID // the survivor elected during the last kill
	killsLeft int
}

func (w *slowKillWorld) Now() sim.Time                          { return w.now }
func (w *slowKillWorld) Nodes() int                             { return len(w.roles) - 1 }
func (w *slowKillWorld) Record(sim.Event)                       {}
func (w *slowKillWorld) Visibility(raft.ID) netmodel.Visibility { return netmodel.Foreground }
func (w *slowKillWorld) Status(id raft.ID) (raft.Status, bool) {
	return raft.Status{ID: id, Role: w.roles[id], Term: 2}, w.alive[id]
}
func (w *slowKillWorld) Leaders() []raft.ID {
	var out []raft.ID
	for id := 1; id <= w.Nodes(); id++ {
		if w.alive[id] && w.roles[id] == raft.Leader {
			out = append(out, raft.ID(id))
		}
	}
	return out
}
func (w *slowKillWorld) Kill(id raft.ID) {
	w.alive[id] = false
	w.now += 100 * sim.Millisecond // the page takes its time to close
	if w.killsLeft--; w.killsLeft > 0 {
		return
	}
	for s := 1; s <= w.Nodes(); s++ {
		if w.alive[s] {
			w.newLead = raft.ID(s)
		}
	}
	w.roles[w.newLead] = raft.Leader
}

// A kill step that takes real time to apply (pages closing one after
// another) must not take the leader the survivors elect meanwhile for
// the leader at the measure's start: new-leader then never holds (CI's
// kill-half at 9 Chromium tabs, twice in ten runs).
func TestNewLeaderCountsALeaderElectedWhileTheKillWasApplied(t *testing.T) {
	sc, err := Parse("kill.yaml", []byte(`
name: kill
cluster: {nodes: 5, bootstrap: static, membership: static}
faults:
  - {name: kill, at: 1s, kill: {leader: true, count: 2}}
measures:
  - {name: recovered, from: kill, until: new-leader, mode: exact}
`))
	require.NoError(t, err)
	w := &slowKillWorld{
		now:       sim.Second,
		roles:     []raft.Role{0, raft.Leader, raft.Follower, raft.Follower, raft.Follower, raft.Follower},
		alive:     []bool{false, true, true, true, true, true},
		killsLeft: 2,
	}
	r := newRunner(sc, 1)
	r.w = w
	r.ms = []*measureState{{Measure: sc.Measures[0]}}
	r.pending = 1
	r.fault(&sc.Faults[0])

	killed := slices.DeleteFunc([]raft.ID{1, 2, 3, 4, 5}, func(id raft.ID) bool { return w.alive[id] })
	require.Len(t, killed, 2)
	require.Equal(t, raft.ID(1), killed[0], "the leader is closed first")
	m := r.ms[0]
	require.True(t, m.started)
	require.Equal(t, sim.Second, m.start, "the clock starts when the step is issued")
	require.True(t, r.holds(m), "tab %d, elected while the pages closed, is a new leader", w.newLead)
}
