package raft

import (
	"math"
	"slices"
)

// raftLog is a server's in-memory log. ents[0] is a sentinel at index
// offset, so that the entry before the first real one always has a term.
type raftLog struct {
	ents   []Entry
	offset uint64
	// unstable is the lowest index changed since the last Ready; entries
	// from there on must be persisted (overwriting what storage holds).
	unstable uint64
}

func newLog(stored []Entry) *raftLog { return newLogAt(0, 0, stored) }

// newLogAt returns a log whose entries up to index (of term) are in a
// snapshot, followed by stored.
func newLogAt(index, term uint64, stored []Entry) *raftLog {
	l := &raftLog{ents: []Entry{{Index: index, Term: term}}, offset: index, unstable: math.MaxUint64}
	l.ents = append(l.ents, stored...)
	return l
}

// compact drops the entries up to index (of term), which a snapshot now
// holds. The kept entries are copied: slices of the old array may still be
// in flight.
func (l *raftLog) compact(index, term uint64) {
	kept := l.ents[index-l.offset+1:]
	ents := make([]Entry, 0, 1+len(kept))
	ents = append(ents, Entry{Index: index, Term: term})
	l.ents = append(ents, kept...)
	l.offset = index
	if l.unstable <= index {
		l.unstable = index + 1
	}
}

// reset replaces the whole log by a snapshot's end at index (of term).
func (l *raftLog) reset(index, term uint64) {
	l.ents = []Entry{{Index: index, Term: term}}
	l.offset = index
	l.unstable = math.MaxUint64
}

func (l *raftLog) lastIndex() uint64 { return l.offset + uint64(len(l.ents)) - 1 }

func (l *raftLog) lastTerm() uint64 { return l.ents[len(l.ents)-1].Term }

// term returns the term of the entry at index i and whether it is known.
func (l *raftLog) term(i uint64) (uint64, bool) {
	if i < l.offset || i > l.lastIndex() {
		return 0, false
	}
	return l.ents[i-l.offset].Term, true
}

func (l *raftLog) matchTerm(i, term uint64) bool {
	t, ok := l.term(i)
	return ok && t == term
}

// entry returns the entry at index i, which must exist.
func (l *raftLog) entry(i uint64) *Entry { return &l.ents[i-l.offset] }

// slice returns entries [lo, hi] capped by maxEntries and maxBytes (0:
// unlimited); at least one entry is returned when lo <= hi. The result
// shares the log's array without copying: entries below the log's length
// are never written in place (truncateAndAppend copies), and the slice's
// capacity is capped so an append to it cannot reach the log.
func (l *raftLog) slice(lo, hi uint64, maxEntries, maxBytes int) []Entry {
	if lo > hi {
		return nil
	}
	if maxEntries > 0 && hi-lo+1 > uint64(maxEntries) {
		hi = lo + uint64(maxEntries) - 1
	}
	a, b := lo-l.offset, hi-l.offset+1
	ents := l.ents[a:b:b]
	if maxBytes > 0 {
		size := 0
		for i := range ents {
			size += ents[i].Size()
			if size > maxBytes && i > 0 {
				ents = ents[:i:i]
				break
			}
		}
	}
	return ents
}

func (l *raftLog) markUnstable(i uint64) {
	if i < l.unstable {
		l.unstable = i
	}
}

// append adds entries at the end of the log.
func (l *raftLog) append(ents ...Entry) {
	if len(ents) == 0 {
		return
	}
	l.markUnstable(ents[0].Index)
	l.ents = appendRoom(l.ents, ents)
}

// appendRoom appends ents to dst. Where append would size a new array to
// fit exactly (ents more than doubles dst's capacity: a joining server
// gets the log in a few large appends), it makes room for as many again,
// so that the appends of one entry that follow do not copy the log again
// at once.
func appendRoom(dst, ents []Entry) []Entry {
	if n := len(dst) + len(ents); n > 2*cap(dst) {
		dst = slices.Grow(dst, 2*n-len(dst))
	}
	return append(dst, ents...)
}

// truncateAndAppend writes ents, which start at ents[0].Index <=
// lastIndex()+1, dropping any conflicting suffix. It returns whether a
// suffix was dropped.
func (l *raftLog) truncateAndAppend(ents []Entry) bool {
	first := ents[0].Index
	truncated := first <= l.lastIndex()
	if truncated {
		// Copy rather than overwrite in place: slices of the old entries
		// may still be in flight in messages or in a Ready.
		kept := l.ents[:first-l.offset]
		l.ents = append(make([]Entry, 0, len(kept)+len(ents)), kept...)
	}
	l.ents = appendRoom(l.ents, ents)
	l.markUnstable(first)
	return truncated
}

// findConflict returns the index of the first entry in ents whose term
// differs from the log's (or that the log lacks), or 0 if all match.
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for i := range ents {
		if !l.matchTerm(ents[i].Index, ents[i].Term) {
			return ents[i].Index
		}
	}
	return 0
}

// findConflictByTerm returns the largest index <= index whose term is <=
// term, with that term. Used on both sides of fast backtracking: every
// entry after the returned index is known not to match.
func (l *raftLog) findConflictByTerm(index, term uint64) (uint64, uint64) {
	if li := l.lastIndex(); index > li {
		index = li
	}
	for ; index > l.offset; index-- {
		if t, _ := l.term(index); t <= term {
			return index, t
		}
	}
	t, _ := l.term(l.offset)
	return l.offset, t
}

// takeUnstable returns the entries to persist since the last call.
func (l *raftLog) takeUnstable() []Entry {
	if l.unstable == math.MaxUint64 {
		return nil
	}
	from := l.unstable
	l.unstable = math.MaxUint64
	if from > l.lastIndex() {
		return nil
	}
	n := uint64(len(l.ents))
	return l.ents[from-l.offset : n : n]
}

// isUpToDate reports whether a log ending at (index, term) is at least as
// up to date as this one (Raft §5.4.1).
func (l *raftLog) isUpToDate(index, term uint64) bool {
	lt := l.lastTerm()
	return term > lt || (term == lt && index >= l.lastIndex())
}
