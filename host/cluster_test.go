package host

import (
	"fmt"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cluster is a test network of host nodes: messages queue until pump
// delivers them; timers are not armed.
type cluster struct {
	t       *testing.T
	nodes   map[raft.ID]*Node
	queue   []raft.Message
	applied map[raft.ID][]raft.Entry
}

func newCluster(t *testing.T, cfg Config, ids ...raft.ID) *cluster {
	c := &cluster{t: t, nodes: map[raft.ID]*Node{}, applied: map[raft.ID][]raft.Entry{}}
	for _, id := range ids {
		hooks := Hooks{
			Send:    func(m raft.Message) { c.queue = append(c.queue, m) },
			Applied: func(e *raft.Entry) { c.applied[id] = append(c.applied[id], *e) },
		}
		c.nodes[id] = NewNode(id, cfg, hooks)
		require.NoError(t, c.nodes[id].Start(raftConfig(id, ids...)))
	}
	c.pump()
	return c
}

// pump processes every node and delivers messages until all is quiet.
func (c *cluster) pump() {
	for {
		for id := raft.ID(1); int(id) <= len(c.nodes); id++ {
			require.True(c.t, c.nodes[id].Process())
		}
		if len(c.queue) == 0 {
			return
		}
		q := c.queue
		c.queue = nil
		for _, m := range q {
			c.nodes[m.To].Step(m)
		}
	}
}

// TestStateMachinesThroughRaft: servers that apply the same committed
// entries reach the same state (state machine safety, §5.4.3), for both
// machines, with commands proposed through every server.
func TestStateMachinesThroughRaft(t *testing.T) {
	c := newCluster(t, Config{}, 1, 2, 3)
	c.nodes[1].Raft.Campaign()
	c.pump()
	cmds := []app.Command{
		{Op: app.OpPut, Key: "x", Value: "1"},
		{Op: app.OpCAS, Key: "x", Expect: "1", Value: "2"},
		{Op: app.OpCAS, Key: "x", Expect: "1", Value: "3"},
		{Op: app.OpAppend, Key: "x", Value: "!"},
		{Op: app.OpSeqAppend, Key: "room", Cnt: 0, Value: "a"},
		{Op: app.OpSeqAppend, Key: "room", Cnt: 0, Value: "b"},
		{Op: app.OpSeqAppend, Key: "room", Cnt: 1, Value: "c"},
	}
	for i, cmd := range cmds {
		// through the leader and both followers
		require.NoError(t, c.nodes[raft.ID(i%3+1)].Submit(cmd, func(app.Result) {}))
		c.pump()
	}
	var results [][]app.Result
	for id := raft.ID(1); id <= 3; id++ {
		rs := replay(t, c.applied[id])
		require.Len(t, rs, len(cmds), "server %d", id)
		v, _ := c.nodes[id].SM.KV.Get("x")
		require.Equal(t, "2!", v, "server %d", id)
		require.Equal(t, []string{"a", "c"}, c.nodes[id].SM.Chat.Lines("room"), "server %d", id)
		results = append(results, rs)
	}
	require.Equal(t, results[0], results[1])
	require.Equal(t, results[0], results[2])
	require.Equal(t, fmt.Sprint(results[0]), fmt.Sprint([]app.Result{
		{OK: true, Value: "1"}, {OK: true, Value: "2"}, {OK: false, Value: "2"}, {OK: true, Value: "2!"},
		{OK: true, Cnt: 1}, {OK: false, Cnt: 1}, {OK: true, Cnt: 2},
	}))
}

// replay applies the commands of a node's applied normal entries to fresh
// state machines, returning their results.
func replay(t *testing.T, ents []raft.Entry) []app.Result {
	kv, ch := app.NewKV(), app.NewChat()
	var rs []app.Result
	for _, e := range ents {
		if e.Type != raft.EntryNormal {
			continue
		}
		cmd, err := app.DecodeCommand(e.Data)
		require.NoError(t, err)
		if cmd.Op == app.OpSeqAppend {
			rs = append(rs, ch.Apply(cmd))
		} else {
			rs = append(rs, kv.Apply(cmd))
		}
	}
	return rs
}

// TestApplyRetryTwiceBug: Config.Bugs reaches the store, through a
// restart from a snapshot too.
func TestApplyRetryTwiceBug(t *testing.T) {
	for _, on := range []bool{false, true} {
		var bugs raft.BugSet
		if on {
			bugs = raft.NewBugSet(raft.BugApplyRetryTwice)
		}
		c := newCluster(t, Config{Bugs: bugs, SnapshotEvery: 2}, 1, 2, 3)
		c.nodes[1].Raft.Campaign()
		c.pump()
		cmd := app.Command{Op: app.OpAppend, Key: "x", Value: "a", Client: 7, Seq: 1}
		for _, id := range []raft.ID{1, 2, 1} { // the client retried, then retried again
			require.NoError(t, c.nodes[id].Submit(cmd, func(app.Result) {}))
			c.pump()
			c.nodes[3].Crash() // restarts from its snapshot
			require.NoError(t, c.nodes[3].Start(raftConfig(3)))
			c.pump()
		}
		require.NotNil(t, c.nodes[3].Storage.Stored.Snapshot, "server 3 restarted from a snapshot")
		for id := raft.ID(1); id <= 3; id++ {
			v, _ := c.nodes[id].SM.KV.Get("x")
			want := map[bool]string{false: "a", true: "aaa"}[on]
			assert.Equal(t, want, v, "server %d, bug %v", id, on)
		}
	}
}

func TestSubmitRefusesAnUnencodableCommand(t *testing.T) {
	c := newCluster(t, Config{}, 1)
	c.nodes[1].Raft.Campaign()
	c.pump()
	err := c.nodes[1].Submit(app.Command{Op: app.OpPut, Key: "k", Seq: app.MaxSeq + 1}, func(app.Result) {})
	require.Error(t, err)
}

// A batch submitted at a follower or the leader reaches each follower in
// one append, and every command's done runs with its own result; one bad
// command refuses the batch and nothing of it is proposed.
func TestSubmitBatchSendsOneAppendAndAnswersEachCommand(t *testing.T) {
	for _, at := range []raft.ID{1, 2} {
		t.Run(fmt.Sprintf("at node %d", at), func(t *testing.T) {
			c := newCluster(t, Config{}, 1, 2, 3)
			c.nodes[1].Raft.Campaign()
			c.pump()
			var got []string
			cmds, done := []app.Command{}, []func(app.Result){}
			for i, v := range []string{"a", "b", "c"} {
				cmds = append(cmds, app.Command{Op: app.OpAppend, Key: "x", Value: v, Client: 9, Seq: uint64(i + 1)})
				done = append(done, func(r app.Result) { got = append(got, r.Value) })
			}
			require.NoError(t, c.nodes[at].SubmitBatch(cmds, done))
			require.True(t, c.nodes[at].Process())
			if at != 1 { // forwarded in one message, then appended by the leader
				require.Len(t, c.queue, 1)
				c.nodes[1].Step(c.queue[0])
				c.queue = nil
				require.True(t, c.nodes[1].Process())
			}
			appends := 0
			for _, m := range c.queue {
				if m.Type == raft.MsgApp {
					appends++
					assert.Len(t, m.Entries, 3, "to %d", m.To)
				}
			}
			assert.Equal(t, 2, appends, "one append per follower")
			c.pump()
			require.Equal(t, []string{"a", "ab", "abc"}, got)

			bad := []app.Command{{Op: app.OpPut, Key: "y", Value: "1", Client: 9, Seq: 4}, {Op: app.OpPut, Key: "y", Seq: app.MaxSeq + 1}}
			require.Error(t, c.nodes[1].SubmitBatch(bad, []func(app.Result){nil, nil}))
			require.True(t, c.nodes[1].Process())
			assert.Empty(t, c.queue, "nothing of a refused batch is proposed")
		})
	}
}
