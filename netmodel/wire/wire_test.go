package wire

import (
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleMessages() []raft.Message {
	return []raft.Message{
		{Type: raft.MsgVote, From: 1, To: 2, Term: 7, LogTerm: 6, Index: 41},
		{Type: raft.MsgAppResp, From: 3, To: 1, Term: 9, Index: 12, Reject: true, RejectHint: 10, LogTerm: 4, Context: 5},
		{Type: raft.MsgApp, From: 1, To: 2, Term: 2, Index: 5, LogTerm: 2, Commit: 5, Entries: []raft.Entry{
			{Term: 2, Index: 6, Type: raft.EntryNormal, Data: app.Command{Op: app.OpSeqAppend, Key: "history", Value: "hello, world", Cnt: -3, Client: 1, Seq: 9}.Encode()},
			{Term: 2, Index: 7, Type: raft.EntryConfChange, Change: raft.ConfChange{Type: raft.ConfInit, Voters: []raft.ID{1, 2, 3}, Learners: []raft.ID{4}}},
			{Term: 2, Index: 8, Type: raft.EntryNoop},
		}},
		{Type: raft.MsgSnap, From: 1, To: 4, Term: 3, Snap: &raft.SnapChunk{Index: 90, Term: 3, Voters: []raft.ID{1, 2, 3}, Offset: 16, Total: 40, Data: []byte("0123456789abcdef")}},
		{Type: raft.MsgProp, From: 2, To: 1, Entries: []raft.Entry{{Data: app.Command{Op: app.OpPut, Key: "k", Value: "v"}.Encode()}}},
	}
}

func TestCodecRoundTrips(t *testing.T) {
	for _, m := range sampleMessages() {
		b := Encode(nil, &m)
		got, err := Decode(b)
		require.NoError(t, err, "%v", m.Type)
		assert.Equal(t, m, got)
	}
}

func TestCodecRejectsGarbage(t *testing.T) {
	good := Encode(nil, &sampleMessages()[2])
	tests := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{wireVersion + 1}, good[1:]...),
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"huge count":     {wireVersion, 1, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge type":      {wireVersion, 0xff, 0x03},
	}
	for name, b := range tests {
		_, err := Decode(b)
		assert.ErrorIs(t, err, ErrWire, name)
	}
}

// FuzzDecode: no input panics the decoder, and whatever it accepts
// encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(Encode(nil, &m))
	}
	f.Add([]byte{})
	f.Add([]byte{wireVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(nil, &m))
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
