package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Linearizable reads by ReadIndex (Raft dissertation §6.4).

func TestReadIndexAtTheLeaderWaitsForAQuorumOfHeartbeats(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.propose(1, put("x", "1"))
	commit := nw.raft(1).commit
	nw.raft(1).ReadIndex(7)
	nw.drain(1)
	assert.Empty(t, nw.nodes[1].reads, "not before a quorum confirms the leadership")
	require.NotEmpty(t, msgsOfSent(nw.queue, MsgApp), "the read sends a heartbeat round at once")
	nw.deliver()
	assert.Equal(t, []ReadState{{Context: 7, Index: commit}}, nw.nodes[1].reads)
}

func TestReadIndexWaitsForTheLeadersFirstCommit(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	// Elected, but no append is acknowledged yet: the no-op is uncommitted.
	nw.drop = func(m Message) bool { return m.Type == MsgAppResp }
	nw.fire(1, TimerElection)
	require.Equal(t, Leader, nw.raft(1).role)
	require.False(t, nw.raft(1).committedInTerm())
	nw.raft(1).ReadIndex(9)
	nw.drain(1)
	nw.deliver()
	assert.Empty(t, nw.nodes[1].reads, "the commit index is not known to be current before the no-op commits")
	nw.drop = nil
	nw.heartbeat(1)
	require.True(t, nw.raft(1).committedInTerm())
	require.Len(t, nw.nodes[1].reads, 1)
	assert.Equal(t, nw.raft(1).commit, nw.nodes[1].reads[0].Index)
}

func TestReadIndexAtAFollowerAsksTheLeader(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.propose(1, put("x", "1"))
	nw.raft(2).ReadIndex(3)
	nw.drain(2)
	nw.deliver()
	require.Len(t, nw.nodes[2].reads, 1)
	assert.Equal(t, ReadState{Context: 3, Index: nw.raft(1).commit}, nw.nodes[2].reads[0])
	assert.Empty(t, nw.nodes[1].reads, "the answer goes to the follower's host")
}

func TestDeposedLeaderNeverAnswersAReadStale(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.isolate(1)
	nw.elect(2)
	nw.propose(2, put("x", "new"))
	// Leader 1 does not know it was deposed; a read there must not be
	// answered with its old commit index.
	nw.raft(1).ReadIndex(5)
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	assert.Empty(t, nw.nodes[1].reads)
	// Once it hears of the new term it steps down and rejects the read.
	nw.heal()
	nw.heartbeat(2)
	require.Equal(t, Follower, nw.raft(1).role)
	assert.Equal(t, []ReadState{{Context: 5, Rejected: true}}, nw.nodes[1].reads)
}

func TestReadIndexWithoutALeaderIsRejected(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.raft(2).ReadIndex(1)
	nw.drain(2)
	assert.Equal(t, []ReadState{{Context: 1, Rejected: true}}, nw.nodes[2].reads)
}

func TestReadIndexOnASingleServerIsImmediate(t *testing.T) {
	nw := newNetwork(t, 1, nil)
	nw.elect(1)
	nw.raft(1).ReadIndex(4)
	nw.drain(1)
	assert.Equal(t, []ReadState{{Context: 4, Index: nw.raft(1).commit}}, nw.nodes[1].reads)
}

func msgsOfSent(ms []Message, typ MsgType) []Message {
	var out []Message
	for _, m := range ms {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}
