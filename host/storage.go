// Package host runs one Raft node for a world: the Ready loop (persist,
// send, apply, arm timers, serve reads, report, then compact), the
// node's durable storage, its state machine and client callbacks. It is
// written once, without I/O, clocks or goroutines; each world (the model,
// pion, a browser tab) supplies only how messages leave, how timers are
// armed and what it records, through Hooks.
package host

import (
	"errors"
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/raft"
)

// HardStateSize is what the hard state (term, vote, commit) takes in
// storage (U: an estimate of its JSON encoding in localStorage, not
// measured). An entry counts raft.Entry.Size(), a snapshot
// raft.Snapshot.Size().
const HardStateSize = 24

// ErrQuota is wrapped by the error of a write that would pass the quota.
var ErrQuota = errors.New("storage quota exceeded")

// QuotaError is a refused write: storing it would have used Used bytes.
type QuotaError struct{ Used int }

func (e *QuotaError) Error() string { return fmt.Sprintf("%v (%d bytes)", ErrQuota, e.Used) }
func (e *QuotaError) Unwrap() error { return ErrQuota }

// Storage is one node's durable state (a tab's localStorage): what
// survives a crash, and the bytes it takes. The zero value is empty.
type Storage struct {
	Stored raft.Stored
	// Used is the bytes stored.
	Used int
	// HardStateWritten: the hard state has been written once.
	HardStateWritten bool
}

// Offset is the index the stored snapshot covers (0: none).
func (s *Storage) Offset() uint64 {
	if s.Stored.Snapshot != nil {
		return s.Stored.Snapshot.Index
	}
	return 0
}

// Term is the term of the entry stored at index i, or of the stored
// snapshot's last entry if i is its index (false: nothing stored there).
func (s *Storage) Term(i uint64) (uint64, bool) {
	off := s.Offset()
	if snap := s.Stored.Snapshot; snap != nil && i == off {
		return snap.Term, true
	}
	if i <= off || i-off > uint64(len(s.Stored.Entries)) {
		return 0, false
	}
	return s.Stored.Entries[i-off-1].Term, true
}

// LastIndex is the index of the last entry stored (or the snapshot's).
func (s *Storage) LastIndex() uint64 { return s.Offset() + uint64(len(s.Stored.Entries)) }

// Write stores a batch's snapshot, hard state and entries, as they must
// be before anything of the batch is sent, and returns the bytes written.
// A write that would take more than quota bytes (0: unlimited) changes
// nothing and returns a *QuotaError.
func (s *Storage) Write(rd *raft.Ready, quota int) (written int, err error) {
	if !rd.HardStateChanged && len(rd.Entries) == 0 && rd.Snapshot == nil {
		return 0, nil
	}
	used := s.Used
	entries, off := s.Stored.Entries, s.Offset()
	if snap := rd.Snapshot; snap != nil {
		var freed int
		entries, freed = afterSnapshot(entries, snap)
		if old := s.Stored.Snapshot; old != nil {
			used -= old.Size()
		}
		used += snap.Size() - freed
		written += snap.Size()
		off = snap.Index
	}
	if rd.HardStateChanged {
		written += HardStateSize
		if !s.HardStateWritten {
			used += HardStateSize
		}
	}
	if len(rd.Entries) > 0 {
		for i := int(rd.Entries[0].Index - 1 - off); i < len(entries); i++ {
			used -= entries[i].Size() // overwritten: space freed
		}
		for i := range rd.Entries {
			used += rd.Entries[i].Size()
			written += rd.Entries[i].Size()
		}
	}
	if quota > 0 && used > quota {
		return 0, &QuotaError{Used: used}
	}
	s.commit(rd, entries, off)
	s.Used = used
	return written, nil
}

// afterSnapshot returns the stored entries a snapshot leaves, and the
// bytes of those it drops: the entries after it stay only if the stored
// log holds the snapshot's last entry (as Raft keeps its log's suffix
// then).
func afterSnapshot(entries []raft.Entry, snap *raft.Snapshot) ([]raft.Entry, int) {
	keep := false
	for i := range entries {
		if entries[i].Index == snap.Index {
			keep = entries[i].Term == snap.Term
		}
	}
	cut, freed := 0, 0
	for cut < len(entries) && (entries[cut].Index <= snap.Index || !keep) {
		freed += entries[cut].Size()
		cut++
	}
	return entries[cut:], freed
}

// commit makes a checked write durable.
func (s *Storage) commit(rd *raft.Ready, entries []raft.Entry, off uint64) {
	if rd.Snapshot != nil {
		s.Stored.Snapshot = rd.Snapshot
		entries = append([]raft.Entry(nil), entries...) // the old array may be shared
	}
	if rd.HardStateChanged {
		s.Stored.HardState = rd.HardState
		s.HardStateWritten = true
	}
	if len(rd.Entries) > 0 {
		entries = entries[:rd.Entries[0].Index-1-off]
		if n := len(entries) + len(rd.Entries); n > 2*cap(entries) {
			// append would size the array to fit exactly (a joining
			// server storing the log in a few large writes): room for as
			// many again spares a copy at the writes of one entry that
			// follow.
			entries = slices.Grow(entries, 2*n-len(entries))
		}
		entries = append(entries, rd.Entries...)
	}
	s.Stored.Entries = entries
}
