package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Raft.js's append trigger: a proposal or a membership change arms the
// heartbeat 1 ms out and sends nothing; that heartbeat carries the entry
// to every follower, re-arms the full period, and is not counted as a
// beat a follower left unanswered.
func TestHeartbeatOnProposeBringsTheHeartbeatForward(t *testing.T) {
	for _, tt := range []struct {
		name    string
		propose func(r *Raft) error
	}{
		{"command", func(r *Raft) error { return r.Propose(put("k", "v")) }},
		{"membership change", func(r *Raft) error { return r.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRaft(t, 1, ids(3), func(c *Config) { c.HeartbeatOnPropose = true })
			becomeLeaderAt(r, 2)
			for _, id := range []ID{2, 3} { // both hold the no-op: replicating
				r.Step(Message{Type: MsgAppResp, From: id, To: 1, Term: 2, Index: 2})
			}
			r.Ready()
			require.NoError(t, tt.propose(r))
			rd := r.Ready()
			assert.Empty(t, msgsOf(rd, MsgApp), "nothing leaves with the proposal")
			tr, ok := timerOf(rd, TimerHeartbeat)
			require.True(t, ok)
			assert.Equal(t, ProposeHeartbeatDelay, tr.After)

			r.Fire(TimerHeartbeat)
			rd = r.Ready()
			for _, m := range msgsOf(rd, MsgApp) {
				if m.To == 4 {
					// The new server is probed at its configuration
					// entry, as Raft.js's first append to it.
					assert.Equal(t, uint64(3), m.Index)
					assert.Empty(t, m.Entries)
					continue
				}
				require.Len(t, m.Entries, 1, "the heartbeat carries the new entry")
				assert.Equal(t, uint64(3), m.Entries[0].Index)
			}
			tr, ok = timerOf(rd, TimerHeartbeat)
			require.True(t, ok)
			assert.Equal(t, r.heartbeat, tr.After, "then the full period")
			for _, id := range []ID{2, 3} {
				assert.Zero(t, r.prs[id].silentBeats, "a brought-forward beat is not a silent one")
			}
		})
	}
}

func TestWithoutHeartbeatOnProposeAProposalLeavesAtOnce(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), nil)
	becomeLeaderAt(r, 2)
	for _, id := range []ID{2, 3} {
		r.Step(Message{Type: MsgAppResp, From: id, To: 1, Term: 2, Index: 2})
	}
	r.Ready()
	require.NoError(t, r.Propose(put("k", "v")))
	rd := r.Ready()
	assert.Len(t, msgsOf(rd, MsgApp), 2)
	_, armed := timerOf(rd, TimerHeartbeat)
	assert.False(t, armed)
}

// Under HeartbeatOnPropose a one-server leader commits a command at the
// heartbeat the proposal brought forward, as Raft.js's leader_heartbeat
// ends with checkCommits, not when it appends.
func TestHeartbeatOnProposeCommitsAtTheHeartbeat(t *testing.T) {
	r := newTestRaft(t, 1, ids(1), func(c *Config) { c.HeartbeatOnPropose = true })
	becomeLeaderAt(r, 2)
	require.Equal(t, uint64(2), r.commit, "the no-op commits as the leader takes over")
	require.NoError(t, r.Propose(put("k", "v")))
	rd := r.Ready()
	assert.Empty(t, rd.Committed, "not yet: the heartbeat counts")
	r.Fire(TimerHeartbeat)
	rd = r.Ready()
	require.Len(t, rd.Committed, 1)
	assert.Equal(t, uint64(3), rd.Committed[0].Index)
}

// Proposals that come while a brought-forward heartbeat is pending leave
// it where it is: a steady stream of them cannot hold it back.
func TestHeartbeatOnProposeIsNotHeldBackByMoreProposals(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), func(c *Config) { c.HeartbeatOnPropose = true })
	becomeLeaderAt(r, 2)
	for _, id := range []ID{2, 3} { // both hold the no-op: replicating
		r.Step(Message{Type: MsgAppResp, From: id, To: 1, Term: 2, Index: 2})
	}
	r.Ready()
	require.NoError(t, r.Propose(put("k", "1")))
	_, armed := timerOf(r.Ready(), TimerHeartbeat)
	require.True(t, armed)
	require.NoError(t, r.Propose(put("k", "2")))
	_, rearmed := timerOf(r.Ready(), TimerHeartbeat)
	assert.False(t, rearmed, "the pending heartbeat keeps its time")
	r.Fire(TimerHeartbeat)
	apps := msgsOf(r.Ready(), MsgApp)
	require.Len(t, apps, 2)
	for _, m := range apps {
		assert.Len(t, m.Entries, 2, "it carries both")
	}
}
