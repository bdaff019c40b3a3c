package raft

import (
	"errors"
	"fmt"
	"slices"
)

// Snapshots and log compaction (Raft §7). The host snapshots its state
// machine and calls Compact; the server drops the log up to there and
// keeps the snapshot to bring lagging or new followers up to date, sending
// it in chunks (InstallSnapshot) no larger than MaxSnapshotChunk, so that
// each fits a datachannel message.

// Snapshot is a state machine image at Index, with the configuration in
// effect there.
type Snapshot struct {
	Index, Term uint64
	Voters      []ID
	Learners    []ID
	Data        []byte // the state machine, as the host encoded it
}

// Size estimates the encoded size of s in bytes.
func (s *Snapshot) Size() int { return 24 + 8*(len(s.Voters)+len(s.Learners)) + len(s.Data) }

// SnapChunk is one piece of a snapshot in a MsgSnap.
type SnapChunk struct {
	Index, Term uint64
	Voters      []ID
	Learners    []ID
	Offset      int // of Data within the snapshot's data
	Total       int // the snapshot data's length
	Data        []byte
}

// ErrCompacted: Compact was asked for an index the log no longer holds,
// or one not yet applied.
var ErrCompacted = errors.New("raft: index not compactable")

// Compact discards the log up to index, which the host has applied and
// captured in data. The snapshot comes back in the next Ready to persist.
func (r *Raft) Compact(index uint64, data []byte) error {
	if index <= r.log.offset || index > r.applied {
		return fmt.Errorf("%w: %d (log starts after %d, applied %d)", ErrCompacted, index, r.log.offset, r.applied)
	}
	term, _ := r.log.term(index)
	voters, learners := r.configAt(index)
	snap := &Snapshot{Index: index, Term: term, Voters: voters, Learners: learners, Data: data}
	r.log.compact(index, term)
	r.snapshot = snap
	r.snapshotDirty = snap
	return nil
}

// configAt returns the configuration in effect at index (which the log
// holds or the snapshot covers), in new slices.
func (r *Raft) configAt(index uint64) (voters, learners []ID) {
	if r.snapshot != nil {
		// Copied first: applyConf may append to what it is given.
		voters, learners = slices.Clone(r.snapshot.Voters), slices.Clone(r.snapshot.Learners)
	}
	for i := r.log.offset + 1; i <= index; i++ {
		if e := r.log.entry(i); e.Type == EntryConfChange {
			voters, learners = applyConf(voters, learners, e.Change)
		}
	}
	return voters, learners
}

// FirstIndex returns the first index the log still holds entries for;
// earlier ones are in the snapshot.
func (r *Raft) FirstIndex() uint64 { return r.log.offset + 1 }

// SnapshotConfig returns the configuration the server's snapshot holds
// (ok false: no snapshot; the log starts at index 1).
func (r *Raft) SnapshotConfig() (voters, learners []ID, ok bool) {
	if r.snapshot == nil {
		return nil, nil, false
	}
	return r.snapshot.Voters, r.snapshot.Learners, true
}

// sendSnapshot sends follower id the snapshot, all chunks at once; the
// follower acknowledges the whole with a MsgAppResp at its index.
func (r *Raft) sendSnapshot(id ID, pr *Progress) {
	snap := r.snapshot
	if snap == nil || pr.snapSent == snap.Index {
		return
	}
	chunk := r.cfg.MaxSnapshotChunk
	if chunk <= 0 {
		chunk = 16 << 10
	}
	for off := 0; off == 0 || off < len(snap.Data); off += chunk {
		end := min(off+chunk, len(snap.Data))
		r.send(Message{Type: MsgSnap, To: id, Snap: &SnapChunk{Index: snap.Index, Term: snap.Term, Voters: snap.Voters, Learners: snap.Learners,
			Offset: off, Total: len(snap.Data), Data: snap.Data[off:end:end]}})
	}
	pr.snapSent = snap.Index
	pr.Replicating = false
	pr.probeSent = true
}

// snapRecv is a snapshot being received.
type snapRecv struct {
	index, term uint64
	voters      []ID
	learners    []ID
	data        []byte
	got         map[int]bool // chunk offsets received
	bytes       int
}

// handleSnapshot takes one chunk; with the last one it installs the
// snapshot.
func (r *Raft) handleSnapshot(m Message) {
	c := m.Snap
	if c.Index <= r.commit {
		// Already covered: say where we are.
		r.send(Message{Type: MsgAppResp, To: m.From, Index: r.commit})
		return
	}
	if r.snapIn == nil || r.snapIn.index != c.Index || r.snapIn.term != c.Term {
		r.snapIn = &snapRecv{index: c.Index, term: c.Term, voters: c.Voters, learners: c.Learners, data: make([]byte, c.Total), got: map[int]bool{}}
	}
	in := r.snapIn
	if !in.got[c.Offset] && c.Offset+len(c.Data) <= len(in.data) {
		in.got[c.Offset] = true
		copy(in.data[c.Offset:], c.Data)
		in.bytes += len(c.Data)
	}
	if in.bytes < len(in.data) || (len(in.data) == 0 && !in.got[0]) {
		return
	}
	r.snapIn = nil
	snap := &Snapshot{Index: in.index, Term: in.term, Voters: in.voters, Learners: in.learners, Data: in.data}
	if r.log.matchTerm(snap.Index, snap.Term) {
		// The log already holds the snapshot's last entry: keep what
		// follows it (Raft §7).
		r.log.compact(snap.Index, snap.Term)
	} else {
		r.log.reset(snap.Index, snap.Term)
	}
	r.snapshot = snap
	r.snapshotDirty = snap
	r.commit = max(r.commit, snap.Index)
	r.applied = max(r.applied, snap.Index)
	r.recomputeConfig()
	r.contacted = true
	r.send(Message{Type: MsgAppResp, To: m.From, Index: r.log.lastIndex()})
}
