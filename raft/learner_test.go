package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Catch-up before voting (Raft dissertation §4.2.1): a new server joins as
// a learner, receives the log without voting or counting for commits, and
// is promoted once it has caught up.

func TestLearnerReceivesTheLogButDoesNotCountOrCampaign(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil) // a joiner
	nw.elect(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddLearner, Node: 4}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	st := nw.raft(1).Status()
	assert.Equal(t, []ID{1, 2, 3}, st.Voters)
	assert.Equal(t, []ID{4}, st.Learners)
	nw.propose(1, put("k", "v"))
	nw.heartbeat(1)
	assert.Equal(t, nw.raft(1).commit, nw.raft(4).commit, "the learner has the log")
	// With two voters cut off, the learner's ack does not make a quorum.
	nw.isolate(2)
	nw.isolate(3)
	commit := nw.raft(1).commit
	nw.propose(1, put("k", "w"))
	assert.Equal(t, commit, nw.raft(1).commit, "a learner does not count for commit")
	// A learner never campaigns.
	nw.sent = nil
	nw.fire(4, TimerElection)
	assert.Equal(t, Follower, nw.raft(4).role)
	assert.Empty(t, msgsOfSent(nw.sent, MsgVote))
}

func TestPromotedLearnerVotesAndCounts(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	nw.elect(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddLearner, Node: 4}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	assert.ErrorIs(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddLearner, Node: 4}), ErrInvalidConfChange)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	st := nw.raft(4).Status()
	assert.Equal(t, []ID{1, 2, 3, 4}, st.Voters)
	assert.Empty(t, st.Learners)
	// Now 4 counts: with 2 cut off, 1 + 3 + 4 make a quorum of 4.
	nw.isolate(2)
	nw.propose(1, put("k", "x"))
	assert.Equal(t, nw.raft(1).log.lastIndex(), nw.raft(1).commit)
}
