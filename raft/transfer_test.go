package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Leadership transfer (Raft dissertation §3.10).

func TestTransferToAnUpToDateFollower(t *testing.T) {
	for _, checkQuorum := range []bool{false, true} {
		nw := newNetwork(t, 3, func(c *Config) { c.CheckQuorum = checkQuorum })
		nw.elect(1)
		nw.propose(1, put("k", "v"))
		term := nw.raft(1).term
		require.NoError(t, nw.raft(1).TransferLeadership(2))
		nw.drain(1)
		nw.deliver()
		assert.Equal(t, Leader, nw.raft(2).role, "check quorum %v: no election timeout needed", checkQuorum)
		assert.Equal(t, term+1, nw.raft(2).term)
		assert.Equal(t, Follower, nw.raft(1).role)
		nw.propose(2, put("k", "after"))
		nw.requireLogsEqual(1, 2, 3)
	}
}

func TestTransferCatchesTheTargetUpFirst(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.isolate(3)
	nw.propose(1, put("k", "1"))
	nw.propose(1, put("k", "2"))
	nw.heal()
	require.NoError(t, nw.raft(1).TransferLeadership(3))
	nw.drain(1)
	nw.deliver()
	// The appends lost during the isolation are resent after two silent
	// heartbeats; then the target catches up and is told to campaign.
	for range 3 {
		if nw.raft(1).role == Leader {
			nw.heartbeat(1)
		}
	}
	require.Equal(t, Leader, nw.raft(3).role)
	nw.requireLogsEqual(1, 2, 3)
}

func TestProposalsWaitDuringATransferWhichTimesOut(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.isolate(2)
	r := nw.raft(1)
	require.NoError(t, r.TransferLeadership(2))
	assert.Equal(t, ID(2), r.Transferee())
	assert.ErrorIs(t, r.Propose(put("k", "v")), ErrTransferring)
	// An election timeout of heartbeats later the transfer is abandoned.
	for range 5 {
		nw.heartbeat(1)
	}
	assert.Equal(t, None, r.Transferee())
	assert.NoError(t, r.Propose(put("k", "v")))
}

func TestTransferArguments(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	assert.ErrorIs(t, nw.raft(2).TransferLeadership(3), ErrNotLeader)
	assert.Error(t, nw.raft(1).TransferLeadership(1))
	assert.Error(t, nw.raft(1).TransferLeadership(9))
}
