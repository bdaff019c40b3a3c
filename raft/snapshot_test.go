package raft

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Log compaction and InstallSnapshot (Raft §7).

func TestCompactKeepsWhatFollowsAndHandsTheSnapshotOver(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	for i := range 10 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	r := nw.raft(1)
	applied := r.applied
	require.ErrorIs(t, r.Compact(applied+1, nil), ErrCompacted, "not beyond what was applied")
	require.NoError(t, r.Compact(applied-2, []byte("state")))
	rd := nw.drain(1)
	require.NotNil(t, rd.Snapshot)
	assert.Equal(t, applied-2, rd.Snapshot.Index)
	assert.Equal(t, []ID{1, 2, 3}, rd.Snapshot.Voters)
	assert.Equal(t, applied-1, r.FirstIndex())
	_, ok := r.Entry(applied - 2)
	assert.False(t, ok, "compacted")
	_, ok = r.Entry(applied - 1)
	assert.True(t, ok)
	require.ErrorIs(t, r.Compact(applied-3, nil), ErrCompacted, "already compacted")
	// It keeps working: more proposals commit.
	nw.propose(1, put("k", "after"))
	assert.Equal(t, applied+1, r.commit)
}

func TestLaggingFollowerCatchesUpThroughAChunkedSnapshot(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.MaxSnapshotChunk = 10 })
	nw.elect(1)
	nw.isolate(3)
	for i := range 20 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	r := nw.raft(1)
	data := []byte("a state machine image of 45 bytes or so.....")
	require.NoError(t, r.Compact(r.applied, data))
	nw.drain(1)
	nw.heal()
	nw.sent = nil
	nw.heartbeat(1)
	nw.heartbeat(1)
	var chunks int
	for _, m := range nw.sent {
		if m.Type == MsgSnap {
			chunks++
			assert.LessOrEqual(t, len(m.Snap.Data), 10)
		}
	}
	assert.Equal(t, (len(data)+9)/10, chunks, "sent in chunks of at most MaxSnapshotChunk")
	f := nw.nodes[3]
	require.NotEmpty(t, f.snapshots)
	got := f.snapshots[len(f.snapshots)-1]
	assert.Equal(t, data, got.Data, "reassembled whole")
	assert.Equal(t, r.commit, nw.raft(3).commit)
	nw.propose(1, put("k", "next"))
	nw.heartbeat(1)
	nw.requireLogsEqual(1, 2, 3)
	assert.Equal(t, r.commit, nw.raft(3).commit)
}

func TestLostSnapshotChunkIsResent(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.MaxSnapshotChunk = 4 })
	nw.elect(1)
	nw.isolate(3)
	for i := range 5 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	r := nw.raft(1)
	require.NoError(t, r.Compact(r.applied, []byte("0123456789")))
	nw.drain(1)
	nw.heal()
	dropped := false
	nw.drop = func(m Message) bool {
		if m.Type == MsgSnap && m.Snap.Offset == 4 && !dropped {
			dropped = true
			return true
		}
		return false
	}
	for range 4 {
		nw.heartbeat(1)
	}
	require.True(t, dropped)
	require.NotEmpty(t, nw.nodes[3].snapshots, "the snapshot was resent after silent heartbeats")
	assert.Equal(t, []byte("0123456789"), nw.nodes[3].snapshots[0].Data)
	assert.Equal(t, r.commit, nw.raft(3).commit)
}

func TestRestartFromSnapshotAndLog(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	for i := range 8 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	r := nw.raft(2)
	nw.heartbeat(1)
	require.NoError(t, r.Compact(r.applied-3, []byte("img")))
	nw.drain(2)
	commit := r.commit
	nw.restart(2)
	r = nw.raft(2)
	assert.Equal(t, commit, r.commit)
	assert.Equal(t, commit, r.Status().LastIndex)
	assert.Equal(t, []ID{1, 2, 3}, r.Status().Voters, "the configuration comes from the snapshot")
	applied := nw.nodes[2].applied
	require.NotEmpty(t, applied)
	assert.Equal(t, commit-2, applied[0].Index, "the host restores up to the snapshot; the log's entries follow")
	nw.propose(1, put("k", "after restart"))
	nw.heartbeat(1)
	nw.requireLogsEqual(1, 2)
}
