package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cases the planted-bug hunt showed no unit test covered (issue "Checkers
// that catch what nobody planted").

// A proposal forwarded by a follower during a leadership transfer is
// refused like a local one: the target may already campaign with the log
// it has.
func TestForwardedProposalsAreRefusedDuringATransfer(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.isolate(2) // the transfer waits for 2 to catch up
	last := nw.raft(1).log.lastIndex()
	require.NoError(t, nw.raft(1).TransferLeadership(2))
	nw.raft(1).Step(Message{Type: MsgProp, From: 3, To: 1, Entries: []Entry{{Type: EntryNormal, Data: put("k", "v")}}})
	assert.Equal(t, last, nw.raft(1).log.lastIndex(), "nothing appended while transferring")
	for range 5 { // an election timeout of heartbeats: the transfer is abandoned
		nw.heartbeat(1)
	}
	require.Equal(t, None, nw.raft(1).Transferee())
	nw.raft(1).Step(Message{Type: MsgProp, From: 3, To: 1, Entries: []Entry{{Type: EntryNormal, Data: put("k", "v")}}})
	assert.Equal(t, last+1, nw.raft(1).log.lastIndex(), "accepted again once the transfer is over")
}

// A vote granted in an earlier term does not count for this candidacy
// (Raft §5.2: votes are per term).
func TestCandidateIgnoresAVoteGrantFromAnEarlierTerm(t *testing.T) {
	r := newTestRaft(t, 1, ids(5), nil)
	becomeCandidateAt(r, 5)
	r.Step(Message{Type: MsgVoteResp, From: 2, To: 1, Term: 4})
	r.Step(Message{Type: MsgVoteResp, From: 3, To: 1, Term: 4})
	assert.Equal(t, Candidate, r.role, "two stale grants plus its own vote are not a quorum")
	r.Step(Message{Type: MsgVoteResp, From: 2, To: 1, Term: 5})
	r.Step(Message{Type: MsgVoteResp, From: 3, To: 1, Term: 5})
	assert.Equal(t, Leader, r.role)
}

// A follower's acknowledgement confirms only the read rounds it echoes:
// an answer to an earlier heartbeat does not release a later read.
func TestReadAcknowledgementsAreMatchedToTheirRound(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.propose(1, put("k", "v"))
	r := nw.raft(1)
	r.ReadIndex(1)
	first := msgsOf(nw.drain(1), MsgApp)
	require.NotEmpty(t, first)
	round1 := first[0].Context
	r.ReadIndex(2)
	second := msgsOf(nw.drain(1), MsgApp)
	require.NotEmpty(t, second)
	require.Greater(t, second[0].Context, round1)
	nw.dropQueued()
	// Follower 2 answers only the first round.
	r.Step(Message{Type: MsgAppResp, From: 2, To: 1, Term: r.term, Index: r.log.lastIndex(), Context: round1})
	rd := nw.drain(1)
	require.Len(t, rd.ReadStates, 1, "the first read is confirmed")
	assert.Equal(t, uint64(1), rd.ReadStates[0].Context)
	r.Step(Message{Type: MsgAppResp, From: 2, To: 1, Term: r.term, Index: r.log.lastIndex(), Context: second[0].Context})
	rd = nw.drain(1)
	require.Len(t, rd.ReadStates, 1)
	assert.Equal(t, uint64(2), rd.ReadStates[0].Context)
}

// A snapshot older than what the follower has committed changes nothing:
// the follower keeps its log and says where it is.
func TestSnapshotOlderThanTheCommitIndexIsIgnored(t *testing.T) {
	st := Stored{HardState: HardState{Term: 2, Commit: 5}, Entries: storedLog(ids(3), 1, 2, 2, 2)}
	r := newStoredRaft(t, 2, st, nil)
	r.Step(Message{Type: MsgSnap, From: 1, To: 2, Term: 2,
		Snap: &SnapChunk{Index: 3, Term: 1, Total: 3, Data: []byte("old"), Voters: ids(3)}})
	rd := r.Ready()
	assert.Nil(t, rd.Snapshot, "no snapshot installed")
	assert.Equal(t, uint64(5), r.log.lastIndex(), "the log is kept")
	assert.Equal(t, uint64(5), r.commit)
	resp := msgsOf(rd, MsgAppResp)
	require.Len(t, resp, 1)
	assert.Equal(t, uint64(5), resp[0].Index, "it says where it is")
}

// The target of a transfer still needs an up-to-date log to get a vote:
// the transfer lifts the CheckQuorum lease, not Raft's election rule.
func TestTransferTargetsVoteRequestIsStillCheckedForAnUpToDateLog(t *testing.T) {
	st := Stored{HardState: HardState{Term: 2, Commit: 3}, Entries: storedLog(ids(3), 2, 2)}
	r := newStoredRaft(t, 3, st, func(c *Config) { c.CheckQuorum = true })
	r.Step(Message{Type: MsgVote, From: 2, To: 3, Term: 3, Index: 2, LogTerm: 2, Context: transferContext})
	resp := msgsOf(r.Ready(), MsgVoteResp)
	require.Len(t, resp, 1)
	assert.True(t, resp[0].Reject, "a log ending at (2, term 2) is behind (3, term 2)")
	r.Step(Message{Type: MsgVote, From: 1, To: 3, Term: 3, Index: 3, LogTerm: 2, Context: transferContext})
	resp = msgsOf(r.Ready(), MsgVoteResp)
	require.Len(t, resp, 1)
	assert.False(t, resp[0].Reject)
}
