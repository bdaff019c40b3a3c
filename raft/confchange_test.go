package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Membership changes and the rule that a leader appends none before it
// has committed an entry of its own term (committedInTerm; Ongaro's
// raft-dev post of 2015, the dissertation's errata).

// partition cuts every link between the two groups (both ways) and heals
// every other link.
func (nw *network) partition(a, b []ID) {
	nw.heal()
	for _, x := range a {
		for _, y := range b {
			nw.cut[[2]ID{x, y}] = true
			nw.cut[[2]ID{y, x}] = true
		}
	}
}

// conflictingCommit returns the first index at which two servers hold
// different committed entries (0: none). Committed entries are compared
// by term: log matching makes (index, term) identify an entry.
func conflictingCommit(nw *network) uint64 {
	first := map[uint64]uint64{} // index -> term of the first server seen
	for _, id := range ids(len(nw.nodes)) {
		r := nw.raft(id)
		for i := r.log.offset + 1; i <= r.commit; i++ {
			term, _ := r.log.term(i)
			if t, ok := first[i]; ok && t != term {
				return i
			}
			first[i] = term
		}
	}
	return 0
}

// playOngaroMembershipBug plays the interleaving of the raft-dev report
// with raft/'s test network: it returns the error of server 2's proposal
// to remove server 1 (made before 2 committed an entry of its term) and
// the first index committed twice with different entries.
func playOngaroMembershipBug(t *testing.T, bugs BugSet) (proposeErr error, conflict uint64) {
	t.Helper()
	// 1. Servers 1-4 with {1,2,3,4}, 5 a joiner; 1 leads and commits.
	nw := newNetwork(t, 4, withBugs(bugs))
	nw.add(5, nil, withBugs(bugs))
	nw.elect(1)
	nw.propose(1, put("k", "a"))
	nw.heartbeat(1)
	require.Equal(t, uint64(3), nw.raft(1).commit)

	// 2. 1 adds 5; only 5 hears of it. Index 4 = the change, term 2.
	nw.partition([]ID{1, 5}, []ID{2, 3, 4})
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 5}))
	nw.drain(1)
	nw.deliver()
	for i := 0; i < 4 && nw.raft(5).log.lastIndex() < 4; i++ {
		nw.heartbeat(1)
	}
	require.Equal(t, uint64(4), nw.raft(5).log.lastIndex())
	require.Equal(t, uint64(3), nw.raft(1).commit, "the addition is not committed")

	// 3. 2 wins term 3 with 2, 3 and 4; its appends never reach 4.
	nw.partition([]ID{1, 5}, []ID{2, 3, 4})
	nw.isolate(5)
	nw.drop = func(m Message) bool { return m.From == 2 && m.To == 4 && m.Type == MsgApp }
	nw.elect(2)
	require.Equal(t, uint64(3), nw.raft(2).term)

	// 4. 2 proposes removing 1 at once.
	proposeErr = nw.raft(2).ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1})
	nw.drain(2)
	nw.deliver()

	// 5. 1 restarts and, with 4 and 5, wins term 4 (the second election;
	// 4 voted for 2 in term 3) and commits its no-op.
	nw.drop = nil
	nw.partition([]ID{1, 4, 5}, []ID{2, 3})
	nw.restart(1)
	nw.fire(1, TimerElection)
	nw.fire(1, TimerElection)
	require.Equal(t, Leader, nw.raft(1).role, "\n%v", nw)
	require.Equal(t, uint64(4), nw.raft(1).term)
	nw.heartbeat(1)
	require.GreaterOrEqual(t, nw.raft(1).commit, uint64(5))
	return proposeErr, conflictingCommit(nw)
}

func TestLeaderAppendsNoConfChangeBeforeCommittingInItsTerm(t *testing.T) {
	err, conflict := playOngaroMembershipBug(t, 0)
	require.ErrorIs(t, err, ErrNoCommitInTerm)
	assert.ErrorIs(t, err, ErrPendingConfChange, "hosts that wait for a pending change wait for this too")
	assert.Zero(t, conflict, "no index is committed with two different entries")
}

// The same interleaving with the old rule breaks State Machine Safety:
// 2 committed its no-op (term 3) at index 4 and "remove 1" at 5, 1 the
// addition of 5 (term 2) at 4 and its own no-op (term 4) at 5.
func TestOngaroMembershipBugCommitsTwoEntriesAtOneIndex(t *testing.T) {
	err, conflict := playOngaroMembershipBug(t, NewBugSet(BugConfBeforeOwnTermCommit))
	require.NoError(t, err)
	assert.Equal(t, uint64(4), conflict)
}

// electWithoutCommit makes id the leader while its appends are dropped,
// so its no-op stays uncommitted; it returns a function that lets the
// appends through and commits the no-op.
func electWithoutCommit(nw *network, id ID) (commit func()) {
	nw.drop = func(m Message) bool { return m.From == id && m.Type == MsgApp }
	nw.elect(id)
	nw.dropQueued()
	return func() {
		nw.drop = nil
		nw.heartbeat(id)
		nw.heartbeat(id)
		t, _ := nw.raft(id).log.term(nw.raft(id).commit)
		require.Equal(nw.t, nw.raft(id).term, t, "the leader committed its no-op")
	}
}

func TestNewLeaderTakesConfChangesOnceItsNoopCommits(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	commit := electWithoutCommit(nw, 1)
	add4 := ConfChange{Type: ConfAddNode, Node: 4}
	assert.ErrorIs(t, nw.raft(1).ProposeConfChange(add4), ErrNoCommitInTerm)
	assert.Equal(t, []ID{1, 2, 3}, nw.raft(1).Status().Voters, "nothing was appended")
	commit()
	require.NoError(t, nw.raft(1).ProposeConfChange(add4))
	assert.Equal(t, []ID{1, 2, 3, 4}, nw.raft(1).Status().Voters)
}

func TestLearnerPromotionWaitsForTheNewLeadersCommit(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	nw.elect(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddLearner, Node: 4}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	require.Equal(t, []ID{4}, nw.raft(2).Status().Learners)

	nw.isolate(1)
	commit := electWithoutCommit(nw, 2)
	promote := ConfChange{Type: ConfAddNode, Node: 4}
	assert.ErrorIs(t, nw.raft(2).ProposeConfChange(promote), ErrNoCommitInTerm)
	commit()
	require.NoError(t, nw.raft(2).ProposeConfChange(promote))
	assert.Equal(t, []ID{1, 2, 3, 4}, nw.raft(2).Status().Voters)
}

func TestTransferTargetWaitsForItsCommitAndTheOldLeaderTakesNoChange(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	nw.elect(1)
	nw.isolate(2)
	require.NoError(t, nw.raft(1).TransferLeadership(2))
	assert.ErrorIs(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}), ErrTransferring,
		"the transfer target may not have the change when it takes over")
	nw.heal()
	nw.drop = func(m Message) bool { return m.From == 2 && m.Type == MsgApp }
	for i := 0; i < 3 && nw.raft(2).role != Leader; i++ {
		nw.heartbeat(1)
	}
	require.Equal(t, Leader, nw.raft(2).role)
	assert.ErrorIs(t, nw.raft(2).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}), ErrNoCommitInTerm)
	nw.drop = nil
	nw.heartbeat(2)
	require.NoError(t, nw.raft(2).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
}

func TestLeaderRestoredFromASnapshotWaitsForItsCommit(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	for range 5 {
		nw.propose(1, put("k", "v"))
	}
	nw.heartbeat(1)
	r := nw.raft(2)
	require.NoError(t, r.Compact(r.applied, []byte("img")))
	nw.drain(2)
	nw.restart(2)
	require.Equal(t, nw.raft(2).log.offset, nw.raft(2).commit, "the log is all snapshot")
	require.Equal(t, []ID{1, 2, 3}, nw.raft(2).Status().Voters, "the configuration comes from the snapshot")

	nw.isolate(1)
	commit := electWithoutCommit(nw, 2)
	assert.ErrorIs(t, nw.raft(2).ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1}), ErrNoCommitInTerm)
	commit()
	require.NoError(t, nw.raft(2).ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1}))
	assert.Equal(t, []ID{2, 3}, nw.raft(2).Status().Voters)
}

func TestLeaderRestartedInTheMiddleOfAChangeFinishesItFirst(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	nw.elect(1)
	nw.isolate(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
	nw.drain(1)
	change := nw.raft(1).log.lastIndex()

	nw.restart(1)
	require.Equal(t, []ID{1, 2, 3, 4}, nw.raft(1).Status().Voters, "the stored change is in effect after the restart")
	nw.heal()
	nw.isolate(4)
	commit := electWithoutCommit(nw, 1)
	remove3 := ConfChange{Type: ConfRemoveNode, Node: 3}
	err := nw.raft(1).ProposeConfChange(remove3)
	assert.ErrorIs(t, err, ErrPendingConfChange, "the earlier change is not committed")
	assert.NotErrorIs(t, err, ErrNoCommitInTerm, "the pending change is named first")
	commit()
	require.GreaterOrEqual(t, nw.raft(1).commit, change+1, "the change and the new no-op are committed")
	require.NoError(t, nw.raft(1).ProposeConfChange(remove3))
}

// A leader that appended its own removal and crashed before replicating
// it holds the only log with the change; the remaining voter's log is
// behind, so that voter cannot win. The removed server must campaign
// (counting the votes of the configuration without it), lead until the
// removal commits, and step down; then the remaining voter takes over.
func TestAServerWhoseRemovalIsPendingCampaignsAndCompletesIt(t *testing.T) {
	nw := newNetwork(t, 2, nil)
	nw.elect(1)
	nw.isolate(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1}))
	nw.drain(1)
	nw.dropQueued()
	nw.restart(1)
	require.Equal(t, []ID{2}, nw.raft(1).Status().Voters, "the stored removal is in effect")
	nw.heal()

	removal := nw.raft(1).log.lastIndex()
	nw.fire(2, TimerElection)
	require.NotEqual(t, Leader, nw.raft(2).role, "2's log lacks the removal: 1 refuses its vote")
	// 1 campaigns with {2}'s vote (2 voted for itself in term 3: 1 wins
	// term 4), replicates its removal and its no-op, commits them with
	// 2's acknowledgement, and steps down: all within the delivery.
	for i := 0; i < 3 && nw.raft(1).commit < removal; i++ {
		nw.fire(1, TimerElection)
	}
	assert.GreaterOrEqual(t, nw.raft(1).commit, removal, "1 committed its removal")
	assert.NotEqual(t, Leader, nw.raft(1).role, "and stepped down")
	assert.Equal(t, []ID{2}, nw.raft(2).Status().Voters)
	assert.Equal(t, nw.raft(1).log.lastIndex(), nw.raft(2).log.lastIndex(), "2 holds the log")
	nw.fire(2, TimerElection)
	assert.Equal(t, Leader, nw.raft(2).role, "the remaining voter leads")
	assert.GreaterOrEqual(t, nw.raft(2).commit, removal)
}
