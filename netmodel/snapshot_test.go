package netmodel

import (
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillLog has the leader's tab propose n puts in batches of 100, 20 ms
// apart, starting at `from`.
func fillLog(w *World, n int, from sim.Time) {
	for b := 0; b < n/100; b++ {
		w.sim.At(from+sim.Time(b)*20*sim.Millisecond, func() {
			ls := w.Leaders()
			if len(ls) == 0 {
				return
			}
			t := w.tabs[ls[0]]
			for i := range 100 {
				k := b*100 + i
				t.Submit(app.Command{Op: app.OpPut, Key: "k" + strconv.Itoa(k%50), Value: strconv.Itoa(k)}, func(app.Result) {})
			}
			t.process()
		})
	}
}

func snapshotEvents(t *testing.T, w *World, buf *strings.Builder, node raft.ID, detail string) int {
	t.Helper()
	n := 0
	for _, e := range traceEvents(t, w, buf) {
		if e.Kind == sim.KindSnapshot && raft.ID(e.Node) == node && e.Detail == detail {
			n++
		}
	}
	return n
}

func TestTabAddedAfter10000EntriesCatchesUpThroughASnapshot(t *testing.T) {
	opt := testOptions(4)
	opt.Bootstrap = BootstrapPaper
	opt.PresenceMembership = true
	opt.Raft.ElectionTimeout = 300 * sim.Millisecond
	opt.SnapshotEvery = 1000
	opt.Channel.MaxMessageSize = 16 << 10
	w, buf := newTestWorld(t, opt, 1)
	w.sim.At(0, func() { w.Kill(4) }) // tab 4 opens later
	fillLog(w, 10000, sim.Second)
	w.sim.At(20*sim.Second, func() { require.NoError(t, w.Restart(4)) })
	w.sim.RunUntil(30*sim.Second, nil)
	ls := w.Leaders()
	require.Len(t, ls, 1)
	lead, _ := w.Status(ls[0])
	require.Greater(t, lead.Commit, uint64(10000))
	st, alive := w.Status(4)
	require.True(t, alive)
	assert.Contains(t, st.Voters, raft.ID(4), "added to the configuration")
	assert.Equal(t, lead.Commit, st.Commit, "caught up")
	assert.Positive(t, snapshotEvents(t, w, buf, 4, "installed"), "through a snapshot")
	assert.Positive(t, snapshotEvents(t, w, buf, ls[0], "compacted"))
	assert.Greater(t, w.tabs[4].host.Raft.FirstIndex(), uint64(9000), "its log starts after the snapshot")
	for k := range 50 {
		key := "k" + strconv.Itoa(k)
		want, _ := w.tabs[ls[0]].host.SM.KV.Get(key)
		got, _ := w.tabs[4].host.SM.KV.Get(key)
		assert.Equal(t, want, got, "key %s", key)
	}
	// Snapshots are sent in chunks that fit a datachannel message.
	for _, e := range traceEvents(t, w, buf) {
		if e.Kind == sim.KindFault && e.Detail == "fragmented" && e.Msg == "snap" {
			t.Errorf("a snapshot chunk needed fragmenting: %+v", e)
		}
	}
}

func TestRestartedTabRecoversFromSnapshotAndLog(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 300 * sim.Millisecond
	opt.SnapshotEvery = 500
	w, buf := newTestWorld(t, opt, 2)
	fillLog(w, 2000, sim.Second)
	var before raft.Status
	var value string
	w.sim.At(10*sim.Second, func() {
		before, _ = w.Status(3)
		value, _ = w.tabs[3].host.SM.KV.Get("k7")
		w.Kill(3)
	})
	var restored string
	var restoredCommit uint64
	w.sim.At(11*sim.Second, func() {
		require.NoError(t, w.Restart(3))
		// Straight from storage, before any message arrives.
		restored, _ = w.tabs[3].host.SM.KV.Get("k7")
		st, _ := w.Status(3)
		restoredCommit = st.Commit
	})
	w.sim.RunUntil(15*sim.Second, nil)
	require.NotNil(t, w.tabs[3].host.Storage.Stored.Snapshot)
	assert.Positive(t, snapshotEvents(t, w, buf, 3, "compacted"))
	assert.Equal(t, value, restored, "the state machine comes back from snapshot + log")
	assert.Equal(t, before.Commit, restoredCommit)
	assert.NotEmpty(t, value)
	// And the storage stays small: the snapshot plus at most SnapshotEvery
	// entries.
	assert.LessOrEqual(t, len(w.tabs[3].host.Storage.Stored.Entries), 600)
}
