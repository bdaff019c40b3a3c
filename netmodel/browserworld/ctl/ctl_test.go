package ctl

import (
	"encoding/json"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/require"
)

// An observation survives its JSON trip: the harness rebuilds the batch
// the tab persisted, sent and applied.
func TestObservationRoundTrips(t *testing.T) {
	put := app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 1, Seq: 1}.Encode()
	rd := raft.Ready{
		HardState: raft.HardState{Term: 3, Vote: 2, Commit: 5}, HardStateChanged: true,
		Entries:   []raft.Entry{{Term: 3, Index: 6, Data: put}, {Term: 3, Index: 7, Type: raft.EntryConfChange, Change: raft.ConfChange{Type: raft.ConfAddNode, Node: 4}}},
		Snapshot:  &raft.Snapshot{Index: 4, Term: 2, Voters: []raft.ID{1, 2, 3}, Data: []byte("state")},
		Messages:  []raft.Message{{Type: raft.MsgApp, From: 2, To: 1, Term: 3, Entries: []raft.Entry{{Term: 3, Index: 6, Data: put}}}},
		Committed: []raft.Entry{{Term: 3, Index: 5, Type: raft.EntryNoop}},
	}
	prev := raft.Status{ID: 2, Term: 2}
	cur := raft.Status{ID: 2, Role: raft.Leader, Term: 3, Lead: 2, Commit: 5, Voters: []raft.ID{1, 2, 3}}
	b, err := json.Marshal(Msg{Type: Batch, Obs: Observe(prev, cur, &rd, 1500)})
	require.NoError(t, err)
	var m Msg
	require.NoError(t, json.Unmarshal(b, &m))
	require.Equal(t, Batch, m.Type)
	require.Equal(t, prev, m.Obs.Prev)
	require.Equal(t, cur, m.Obs.Cur)
	require.Equal(t, rd, m.Obs.Ready())
}

// A frame carries its messages in order, and a frame that is not an
// array of messages is an error naming what failed.
func TestFrameCarriesMessagesInOrder(t *testing.T) {
	cmd := app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 7, Seq: 1}
	in := []Msg{{Type: Propose, Req: 1, Cmd: &cmd}, {Type: Start}, {Type: Propose, Req: 2, Cmd: &cmd}}
	b, err := EncodeFrame(in)
	require.NoError(t, err)
	out, err := DecodeFrame(b)
	require.NoError(t, err)
	require.Equal(t, in, out)

	for _, bad := range []string{`{"type":"start"}`, `[{"type":1}]`, ``, `[`} {
		_, err := DecodeFrame([]byte(bad))
		require.ErrorContains(t, err, "ctl: decoding a frame", bad)
	}
}
