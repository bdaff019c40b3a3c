package raft

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLogIndexAndTerm(t *testing.T) {
	l := newLog(nil)
	require.Equal(t, uint64(0), l.lastIndex())
	require.Equal(t, uint64(0), l.lastTerm())
	tm, ok := l.term(0)
	require.True(t, ok, "the sentinel has a term")
	require.Equal(t, uint64(0), tm)
	_, ok = l.term(1)
	require.False(t, ok)

	l = newLog(entsTerms(1, 1, 2, 3))
	require.Equal(t, uint64(4), l.lastIndex())
	require.Equal(t, uint64(3), l.lastTerm())
	for i, want := range []uint64{0, 1, 1, 2, 3} {
		tm, ok := l.term(uint64(i))
		require.True(t, ok)
		require.Equal(t, want, tm, "term(%d)", i)
	}
	_, ok = l.term(5)
	require.False(t, ok)
	require.True(t, l.matchTerm(3, 2))
	require.False(t, l.matchTerm(3, 1))
	require.False(t, l.matchTerm(5, 3))
	require.Equal(t, uint64(3), l.entry(4).Term)
}

// TestLogSlice: slices honour both limits but always return at least one
// entry, and are copies.
func TestLogSlice(t *testing.T) {
	ents := make([]Entry, 10)
	for i := range ents {
		ents[i] = Entry{Term: 1, Index: uint64(i + 1), Data: put("k", "0123456789")}
	}
	size := ents[0].Size()
	l := newLog(ents)
	tests := []struct {
		lo, hi             uint64
		maxEnts, maxBytes  int
		wantFirst, wantLen int
	}{
		{1, 10, 0, 0, 1, 10},
		{3, 5, 0, 0, 3, 3},
		{5, 4, 0, 0, 0, 0}, // empty range
		{1, 10, 4, 0, 1, 4},
		{8, 10, 4, 0, 8, 3},
		{1, 10, 0, 3 * size, 1, 3},
		{1, 10, 0, 3*size + size/2, 1, 3},
		{1, 10, 0, 3*size - 1, 1, 2},
		{1, 10, 0, 1, 1, 1}, // limit below one entry: still one
		{1, 10, 2, 5 * size, 1, 2},
		{1, 10, 5, 2 * size, 1, 2},
		{10, 10, 1, 1, 10, 1},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got := l.slice(tt.lo, tt.hi, tt.maxEnts, tt.maxBytes)
			require.Len(t, got, tt.wantLen)
			if tt.wantLen > 0 {
				require.Equal(t, uint64(tt.wantFirst), got[0].Index)
				for j := range got {
					require.Equal(t, uint64(tt.wantFirst+j), got[j].Index)
				}
			}
		})
	}
}

// TestLogSharedSlicesStayValid: slices share the log's array, so the log
// must never write under them: an append to a slice cannot reach the log
// (capacity capped), and truncation copies instead of overwriting entries
// that a message or a Ready may still hold.
func TestLogSharedSlicesStayValid(t *testing.T) {
	l := newLog(entsTerms(1, 1, 1, 1, 1))
	for _, got := range [][]Entry{l.slice(1, 2, 0, 0), l.slice(1, 5, 2, 0), l.slice(1, 5, 0, 2*(&Entry{}).Size())} {
		require.Len(t, got, 2)
		require.Equal(t, len(got), cap(got))
		_ = append(got, Entry{Term: 99, Index: 3})
		require.Equal(t, uint64(1), l.entry(3).Term)
	}
	l.append(Entry{Term: 2, Index: 6})
	unstable := l.takeUnstable()
	require.Equal(t, len(unstable), cap(unstable))
	old := l.slice(3, 6, 0, 0)
	l.truncateAndAppend([]Entry{{Term: 7, Index: 3}, {Term: 7, Index: 4}})
	require.Equal(t, []uint64{1, 1, 1, 2}, []uint64{old[0].Term, old[1].Term, old[2].Term, old[3].Term},
		"a slice taken before a truncation keeps its entries")
	require.Equal(t, Entry{Term: 2, Index: 6}, unstable[0])
	tm, _ := l.term(3)
	require.Equal(t, uint64(7), tm)
	require.Equal(t, uint64(4), l.lastIndex())
	// Appending after a truncation does not write under earlier slices
	// either.
	mid := l.slice(1, 4, 0, 0)
	l.append(Entry{Term: 7, Index: 5})
	require.Len(t, mid, 4)
	require.Equal(t, uint64(7), mid[3].Term)
}

// TestLogTruncateAndAppend: a conflicting suffix is dropped and storage is
// told to overwrite from the first changed index.
func TestLogTruncateAndAppend(t *testing.T) {
	tests := []struct {
		ents          []Entry
		wantTerms     []uint64
		wantTruncated bool
		wantUnstable  uint64
	}{
		{[]Entry{{Term: 3, Index: 4}}, []uint64{1, 1, 2, 3}, false, 4},
		{[]Entry{{Term: 3, Index: 3}}, []uint64{1, 1, 3}, true, 3},
		{[]Entry{{Term: 3, Index: 2}, {Term: 3, Index: 3}, {Term: 3, Index: 4}}, []uint64{1, 3, 3, 3}, true, 2},
		{[]Entry{{Term: 4, Index: 1}}, []uint64{4}, true, 1},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			l := newLog(entsTerms(1, 1, 2))
			require.Nil(t, l.takeUnstable(), "restored entries are already stored")
			require.Equal(t, tt.wantTruncated, l.truncateAndAppend(tt.ents))
			var terms []uint64
			for j := uint64(1); j <= l.lastIndex(); j++ {
				tm, _ := l.term(j)
				terms = append(terms, tm)
			}
			require.Equal(t, tt.wantTerms, terms)
			u := l.takeUnstable()
			require.NotEmpty(t, u)
			require.Equal(t, tt.wantUnstable, u[0].Index)
			require.Equal(t, l.lastIndex(), u[len(u)-1].Index)
			require.Nil(t, l.takeUnstable(), "taken once")
		})
	}
}

// TestLogUnstableTracksLowestChange: two changes between Readys are
// persisted from the lower one.
func TestLogUnstableTracksLowestChange(t *testing.T) {
	l := newLog(entsTerms(1, 1, 1))
	l.append(Entry{Term: 2, Index: 4}, Entry{Term: 2, Index: 5})
	l.truncateAndAppend([]Entry{{Term: 3, Index: 5}})
	require.Equal(t, uint64(4), l.unstable)
	u := l.takeUnstable()
	require.Equal(t, []Entry{{Term: 2, Index: 4}, {Term: 3, Index: 5}}, u)
	require.Equal(t, uint64(math.MaxUint64), l.unstable)
	l.truncateAndAppend([]Entry{{Term: 4, Index: 2}})
	require.Equal(t, []Entry{{Term: 4, Index: 2}}, l.takeUnstable())
	l.append()
	require.Nil(t, l.takeUnstable(), "appending nothing changes nothing")
}

func TestLogFindConflict(t *testing.T) {
	l := newLog(entsTerms(1, 2, 3))
	tests := []struct {
		ents []Entry
		want uint64
	}{
		{nil, 0},
		{[]Entry{{Term: 1, Index: 1}, {Term: 2, Index: 2}, {Term: 3, Index: 3}}, 0},
		{[]Entry{{Term: 2, Index: 2}, {Term: 3, Index: 3}}, 0},
		{[]Entry{{Term: 3, Index: 3}}, 0},
		// new entries
		{[]Entry{{Term: 2, Index: 2}, {Term: 3, Index: 3}, {Term: 4, Index: 4}}, 4},
		{[]Entry{{Term: 4, Index: 4}, {Term: 4, Index: 5}}, 4},
		// conflicts
		{[]Entry{{Term: 4, Index: 1}, {Term: 4, Index: 2}}, 1},
		{[]Entry{{Term: 1, Index: 2}, {Term: 4, Index: 3}}, 2},
		{[]Entry{{Term: 2, Index: 2}, {Term: 4, Index: 3}, {Term: 4, Index: 4}}, 3},
	}
	for i, tt := range tests {
		require.Equal(t, tt.want, l.findConflict(tt.ents), "case %d", i)
	}
}

// TestLogFindConflictByTerm: the largest index at or below index whose term
// is at most term (both sides of fast backtracking use it).
func TestLogFindConflictByTerm(t *testing.T) {
	l := newLog(entsTerms(1, 1, 1, 4, 4, 5, 5, 6, 6, 6))
	tests := []struct {
		index, term         uint64
		wantIndex, wantTerm uint64
	}{
		{10, 6, 10, 6},
		{10, 5, 7, 5},
		{10, 4, 5, 4},
		{10, 3, 3, 1},
		{10, 1, 3, 1},
		{10, 0, 0, 0},
		{20, 6, 10, 6}, // beyond the log: from its end
		{20, 9, 10, 6},
		{6, 6, 6, 5},
		{4, 4, 4, 4},
		{0, 5, 0, 0},
	}
	for i, tt := range tests {
		idx, tm := l.findConflictByTerm(tt.index, tt.term)
		require.Equal(t, tt.wantIndex, idx, "case %d index", i)
		require.Equal(t, tt.wantTerm, tm, "case %d term", i)
	}
	e := newLog(nil)
	idx, tm := e.findConflictByTerm(5, 3)
	require.Equal(t, uint64(0), idx)
	require.Equal(t, uint64(0), tm)
}

// TestLogIsUpToDate_5_4_1: "If the logs have last entries with different
// terms, then the log with the later term is more up-to-date. If the logs
// end with the same term, then whichever log is longer is more up-to-date."
func TestLogIsUpToDate_5_4_1(t *testing.T) {
	l := newLog(entsTerms(1, 2, 3)) // last (3, 3)
	tests := []struct {
		index, term uint64
		want        bool
	}{
		{2, 4, true},
		{3, 4, true},
		{4, 4, true},
		{2, 2, false},
		{3, 2, false},
		{4, 2, false},
		{2, 3, false},
		{3, 3, true},
		{4, 3, true},
	}
	for i, tt := range tests {
		require.Equal(t, tt.want, l.isUpToDate(tt.index, tt.term), "case %d", i)
	}
	require.True(t, newLog(nil).isUpToDate(0, 0), "anything is as up to date as an empty log")
}

func TestEntryAndMessageSize(t *testing.T) {
	e := Entry{Data: make([]byte, 30)}
	small := Entry{}
	require.Equal(t, small.Size()+6, e.Size())
	cc := Entry{Type: EntryConfChange, Change: ConfChange{Type: ConfInit, Voters: []ID{1, 2, 3}}}
	require.Equal(t, small.Size()+24, cc.Size())
	m := Message{Type: MsgApp}
	n := m.Size()
	m.Entries = []Entry{e, cc}
	require.Equal(t, n+e.Size()+cc.Size(), m.Size())
}

func TestStringers(t *testing.T) {
	require.Equal(t, "leader", Leader.String())
	require.Equal(t, "precandidate", PreCandidate.String())
	require.Equal(t, "role(9)", Role(9).String())
	require.Equal(t, "prevote", MsgPreVote.String())
	require.Equal(t, "prop", MsgProp.String())
	require.Equal(t, "msg(0)", MsgType(0).String())
	require.Equal(t, "msg(42)", MsgType(42).String())
	require.Equal(t, "remove", ConfRemoveNode.String())
	require.Equal(t, "conf(7)", ConfChangeType(7).String())
	require.Equal(t, "heartbeat", TimerHeartbeat.String())
	require.Equal(t, "timer(0)", TimerKind(0).String())
}
