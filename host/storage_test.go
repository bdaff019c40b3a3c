package host

import (
	"errors"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func entry(term, index uint64, size int) raft.Entry {
	return raft.Entry{Term: term, Index: index, Data: app.Command{Op: app.OpPut, Key: "k", Value: strings.Repeat("x", size)}.Encode()}
}

func ents(terms ...uint64) []raft.Entry {
	out := make([]raft.Entry, len(terms))
	for i, t := range terms {
		out[i] = entry(t, uint64(i+1), 10)
	}
	return out
}

// size counts what s holds from scratch.
func size(s *Storage) int {
	n := 0
	if s.HardStateWritten {
		n += HardStateSize
	}
	if s.Stored.Snapshot != nil {
		n += s.Stored.Snapshot.Size()
	}
	for _, e := range s.Stored.Entries {
		n += e.Size()
	}
	return n
}

func indexes(s *Storage) []uint64 {
	out := []uint64{}
	for _, e := range s.Stored.Entries {
		out = append(out, e.Index)
	}
	return out
}

func TestStorageWrite(t *testing.T) {
	tests := []struct {
		name    string
		before  []raft.Entry
		rd      raft.Ready
		want    []uint64
		wantOff uint64
	}{
		{"append", ents(1, 1), raft.Ready{Entries: []raft.Entry{entry(1, 3, 10)}}, []uint64{1, 2, 3}, 0},
		{"overwrite a suffix", ents(1, 1, 1), raft.Ready{Entries: []raft.Entry{entry(2, 2, 10)}}, []uint64{1, 2}, 0},
		{"snapshot that matches keeps what follows", ents(1, 1, 1, 1),
			raft.Ready{Snapshot: &raft.Snapshot{Index: 2, Term: 1, Data: []byte("img")}}, []uint64{3, 4}, 2},
		{"snapshot that conflicts drops the log", ents(1, 1, 1, 1),
			raft.Ready{Snapshot: &raft.Snapshot{Index: 2, Term: 5, Data: []byte("img")}}, []uint64{}, 2},
		{"snapshot past the log drops it", ents(1, 1),
			raft.Ready{Snapshot: &raft.Snapshot{Index: 9, Term: 3, Data: []byte("img")}}, []uint64{}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Storage
			_, err := s.Write(&raft.Ready{Entries: tt.before, HardState: raft.HardState{Term: 1}, HardStateChanged: true}, 0)
			require.NoError(t, err)
			written, err := s.Write(&tt.rd, 0)
			require.NoError(t, err)
			assert.Positive(t, written)
			assert.Equal(t, tt.want, indexes(&s))
			assert.Equal(t, tt.wantOff, s.Offset())
			assert.Equal(t, size(&s), s.Used, "used bytes match what is stored")
		})
	}
}

func TestStorageWriteOverQuotaChangesNothing(t *testing.T) {
	var s Storage
	_, err := s.Write(&raft.Ready{Entries: []raft.Entry{entry(1, 1, 500)}, HardState: raft.HardState{Term: 1}, HardStateChanged: true}, 1000)
	require.NoError(t, err)
	before := s
	_, err = s.Write(&raft.Ready{Entries: []raft.Entry{entry(1, 2, 600)}, HardState: raft.HardState{Term: 2}, HardStateChanged: true}, 1000)
	var qe *QuotaError
	require.ErrorAs(t, err, &qe)
	assert.True(t, errors.Is(err, ErrQuota))
	assert.Greater(t, qe.Used, 1000)
	assert.Equal(t, before, s, "a refused write changes nothing")
	// Overwriting the big entry with a small one fits: the quota counts
	// what is stored after the write.
	_, err = s.Write(&raft.Ready{Entries: []raft.Entry{entry(2, 1, 10), entry(2, 2, 10)}}, 1000)
	require.NoError(t, err)
	assert.Equal(t, size(&s), s.Used)
}

func TestStorageCountsTheHardStateOnce(t *testing.T) {
	var s Storage
	for term := uint64(1); term <= 3; term++ {
		written, err := s.Write(&raft.Ready{HardState: raft.HardState{Term: term}, HardStateChanged: true}, 0)
		require.NoError(t, err)
		assert.Equal(t, HardStateSize, written, "each write of it is paid")
	}
	assert.Equal(t, HardStateSize, s.Used, "but it is stored once")
	written, err := s.Write(&raft.Ready{}, 0)
	require.NoError(t, err)
	assert.Zero(t, written, "an empty batch writes nothing")
}

func TestStorageTermReadsEntriesAndTheSnapshotsLastIndex(t *testing.T) {
	var s Storage
	s.Stored.Snapshot = &raft.Snapshot{Index: 5, Term: 2}
	s.Stored.Entries = []raft.Entry{entry(2, 6, 1), entry(3, 7, 1)}
	for i, want := range map[uint64]uint64{5: 2, 6: 2, 7: 3} {
		got, ok := s.Term(i)
		assert.True(t, ok, "index %d", i)
		assert.Equal(t, want, got, "index %d", i)
	}
	for _, i := range []uint64{0, 4, 8} {
		_, ok := s.Term(i)
		assert.False(t, ok, "index %d is not stored", i)
	}
	assert.Equal(t, uint64(7), s.LastIndex())
}
