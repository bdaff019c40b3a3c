package netmodel

import (
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
)

// fakeLeader is a leader's status and its followers' match indices.
type fakeLeader struct {
	st    raft.Status
	match map[raft.ID]uint64
}

func (l *fakeLeader) Status() raft.Status { return l.st }

func (l *fakeLeader) Progress(id raft.ID) *raft.Progress {
	m, ok := l.match[id]
	if !ok {
		return nil
	}
	return &raft.Progress{Match: m}
}

// One change per round: promotions of caught-up learners first, then
// adds, then removes, each the lowest id; pending counts them all.
func TestMembershipChange(t *testing.T) {
	present := []bool{false, true, true, true, false, true, false, true}
	lead := &fakeLeader{
		st:    raft.Status{ID: 1, Commit: 10, Voters: []raft.ID{1, 4, 2}, Learners: []raft.ID{5, 3, 6}},
		match: map[raft.ID]uint64{3: 9, 5: 10},
	}
	// 5 caught up; 7 to add; 4 and 6 to remove.
	cc, pending := MembershipChange(lead, present, true)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfAddNode, Node: 5}, cc)
	assert.Equal(t, 4, pending)

	lead.match[5] = 9
	cc, pending = MembershipChange(lead, present, true)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfAddLearner, Node: 7}, cc)
	assert.Equal(t, 3, pending)
	cc, _ = MembershipChange(lead, present, false)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfAddNode, Node: 7}, cc)

	present[7] = false
	cc, pending = MembershipChange(lead, present, true)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfRemoveNode, Node: 4}, cc)
	assert.Equal(t, 2, pending)

	lead.st.Learners = nil
	present = []bool{false, false, true, false, true, false, false, false} // the leader never removes itself
	cc, pending = MembershipChange(lead, present, true)
	assert.Equal(t, raft.ConfChange{}, cc)
	assert.Zero(t, pending)

	assert.Zero(t, testing.AllocsPerRun(10, func() { MembershipChange(lead, present, true) }))
	big := make([]bool, 300)
	big[299] = true
	cc, pending = MembershipChange(lead, big, true)
	assert.Equal(t, raft.ConfChange{Type: raft.ConfAddLearner, Node: 299}, cc)
	assert.Equal(t, 3, pending, "299 to add; 2 and 4 to remove, not the leader")
}
