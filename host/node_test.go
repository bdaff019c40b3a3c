package host

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func raftConfig(id raft.ID, voters ...raft.ID) raft.Config {
	return raft.Config{ID: id, ElectionTimeout: 100 * time.Millisecond, Voters: voters, Rand: rand.New(rand.NewPCG(1, 2))}
}

// A one-node cluster: everything commits at once, so one node shows the
// whole Ready loop.
func TestProcessPersistsBeforeSendingAndCompactsLast(t *testing.T) {
	var order []string
	var n *Node
	var firstSeen uint64
	n = NewNode(1, Config{SnapshotEvery: 3}, Hooks{
		Persisted: func(written, before int) { order = append(order, "persist") },
		Applied: func(e *raft.Entry) {
			require.LessOrEqual(t, e.Index, uint64(len(n.Storage.Stored.Entries))+n.Storage.Offset(), "applied before stored")
			order = append(order, "apply")
		},
		SetTimer: func(raft.TimerRequest) { order = append(order, "timer") },
		Changed: func(prev, cur raft.Status, rd *raft.Ready) {
			order = append(order, "changed")
			firstSeen = n.Raft.FirstIndex()
		},
		Compacted: func(term, index uint64) { order = append(order, "compact") },
	})
	require.NoError(t, n.Start(raftConfig(1, 1)))
	n.Process()
	n.Raft.Campaign()
	n.Process()
	var got app.Result
	require.NoError(t, n.Submit(app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 7, Seq: 1}, func(r app.Result) { got = r }))
	order = nil
	n.Process()
	assert.True(t, got.OK, "the client's callback ran")
	assert.Equal(t, []string{"persist", "apply", "changed", "compact"}, order)
	assert.Equal(t, uint64(1), firstSeen, "Changed saw the log before compaction")
	assert.Equal(t, uint64(4), n.Raft.FirstIndex(), "compacted after it")
	n.Process()
	assert.Equal(t, uint64(3), n.Storage.Offset(), "the snapshot is persisted with the next batch")
}

func TestCrashKeepsStorageAndStartRestoresTheSnapshot(t *testing.T) {
	n := NewNode(1, Config{SnapshotEvery: 2}, Hooks{})
	require.NoError(t, n.Start(raftConfig(1, 1)))
	n.Process()
	n.Raft.Campaign()
	n.Process()
	for seq := uint64(1); seq <= 4; seq++ {
		require.NoError(t, n.Submit(app.Command{Op: app.OpAppend, Key: "k", Value: "x", Client: 7, Seq: seq}, func(app.Result) {}))
		n.Process()
	}
	n.Process()
	stored := n.Storage
	n.Crash()
	assert.Nil(t, n.Raft)
	assert.Equal(t, stored, n.Storage, "storage survives the crash")
	require.NotNil(t, stored.Stored.Snapshot)
	require.NoError(t, n.Start(raftConfig(1)))
	n.Process()
	v, ok := n.SM.KV.Get("k")
	assert.True(t, ok)
	assert.NotEmpty(t, v, "the state machine came back from the snapshot")
	assert.Equal(t, stored.Stored.HardState.Term, n.Raft.Status().Term)
}

func TestAFullStorageFailsTheNodeBeforeAnythingIsSent(t *testing.T) {
	var failed error
	sent := 0
	n := NewNode(1, Config{Quota: 1000}, Hooks{Failed: func(err error) { failed = err }, Send: func(raft.Message) { sent++ }})
	require.NoError(t, n.Start(raftConfig(1, 1, 2, 3)))
	n.Process()
	// Leader 2 appends an entry too big for what is left.
	n.Raft.Step(raft.Message{Type: raft.MsgApp, From: 2, To: 1, Term: 2, Index: 1, LogTerm: 1,
		Entries: []raft.Entry{entry(2, 2, 2000)}})
	assert.False(t, n.Process(), "the batch cannot be stored")
	assert.ErrorIs(t, failed, ErrQuota)
	assert.Zero(t, sent, "its acknowledgement is not sent")
	assert.Len(t, n.Storage.Stored.Entries, 1, "storage unchanged")
}

func TestFormatIDs(t *testing.T) {
	many := make([]raft.ID, 60)
	want := ""
	for i := range many {
		many[i] = raft.ID(i + 1)
		if i > 0 {
			want += " "
		}
		want += strconv.Itoa(i + 1)
	}
	for _, tt := range []struct {
		ids  []raft.ID
		want string
	}{
		{nil, ""},
		{[]raft.ID{7}, "7"},
		{[]raft.ID{1, 20, 300}, "1 20 300"},
		{[]raft.ID{18446744073709551615}, "18446744073709551615"},
		{many, want}, // longer than the stack buffer
	} {
		require.Equal(t, tt.want, FormatIDs(tt.ids))
	}
}

// A config event reaches RecordBytes with the detail Record would have
// had, and Record alone when RecordBytes is not set.
func TestConfigEventDetail(t *testing.T) {
	prev := raft.Status{Term: 1, Voters: []raft.ID{1}}
	cur := raft.Status{Term: 1, Voters: []raft.ID{1, 2, 300}, Learners: []raft.ID{4}}
	want := sim.Event{Kind: sim.KindConfig, Node: 1, Term: 1, Detail: "1 2 300 learners 4"}
	var viaRecord []sim.Event
	plain := NewNode(1, Config{}, Hooks{Record: func(e sim.Event) { viaRecord = append(viaRecord, e) }})
	plain.recordBatch(prev, cur, &raft.Ready{})
	assert.Equal(t, []sim.Event{want}, viaRecord)

	var viaBytes []sim.Event
	n := NewNode(1, Config{}, Hooks{
		Record: func(e sim.Event) { t.Errorf("Record got %v", e) },
		RecordBytes: func(e sim.Event, detail []byte) {
			e.Detail = string(detail)
			viaBytes = append(viaBytes, e)
		},
	})
	n.recordBatch(prev, cur, &raft.Ready{})
	n.recordBatch(cur, prev, &raft.Ready{}) // the buffer reused
	assert.Equal(t, []sim.Event{want, {Kind: sim.KindConfig, Node: 1, Term: 1, Detail: "1"}}, viaBytes)
}
