package netmodel

import (
	"fmt"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// StorageOptions configure the tabs' localStorage. Each tab is its own
// origin (one Raft server per browser profile or device). The zero value
// keeps storage unlimited and free.
type StorageOptions struct {
	// Quota is the bytes a tab may store; 0: unlimited. A write that would
	// exceed it fails and the tab stops.
	Quota int
	// WriteCost is the CPU time of each persisted batch, and
	// WriteCostPerKiB the extra time per KiB written; the tab's later work
	// waits behind them.
	WriteCost       sim.Time
	WriteCostPerKiB sim.Time
}

// Stored sizes (U: estimates of a JSON encoding in localStorage, not
// measured). An entry counts raft.Entry.Size().
const (
	// HardStateSize is what the hard state (term, vote, commit) takes.
	HardStateSize = 24
)

// DefaultStorageOptions returns a 5 MiB quota and a small write cost.
func DefaultStorageOptions() StorageOptions {
	return StorageOptions{
		// localStorage quota of 5 MiB per origin (issue 3 text; the usual
		// browser limit, U: browsers count UTF-16 code units of keys and
		// values, which this byte estimate does not).
		Quota: 5 << 20,
		// U: a synchronous setItem of a small value costs tens of
		// microseconds; larger values add serialization time per byte.
		WriteCost:       50 * sim.Microsecond,
		WriteCostPerKiB: 10 * sim.Microsecond,
	}
}

func (o *StorageOptions) validate() error {
	if o.Quota < 0 || o.WriteCost < 0 || o.WriteCostPerKiB < 0 {
		return fmt.Errorf("storage: quota and write costs must not be negative")
	}
	return nil
}

// tabStorage is a tab's storage accounting. It survives kills, as the
// storage does.
type tabStorage struct {
	used      int  // bytes stored
	hardState bool // the hard state has been written once
	failed    bool // a write failed; the tab stopped
	failedInc int  // the incarnation that ended with the failed write
}

func (t *Tab) initStorage() {}

// StorageUsed returns the bytes tab id has stored.
func (w *World) StorageUsed(id raft.ID) int { return w.tabs[id].storage.used }

// StorageFailed reports whether the tab stopped because a write exceeded
// its storage quota (until it is restarted).
func (t *Tab) StorageFailed() bool {
	return t.storage.failed && t.inc == t.storage.failedInc
}

// persist writes a batch's snapshot, hard state and entries to the tab's
// storage (localStorage: it survives a kill), before anything of the batch
// is sent. A write that would exceed the quota is not applied: the tab
// records the fault and stops (it cannot send what depends on the write),
// keeping its storage as it was. persist reports whether the write
// succeeded.
func (t *Tab) persist(rd *raft.Ready) bool {
	if !rd.HardStateChanged && len(rd.Entries) == 0 && rd.Snapshot == nil {
		return true
	}
	s := &t.storage
	w := t.w
	used, written := s.used, 0
	entries := t.stored.Entries
	off := storedOffset(&t.stored)
	if snap := rd.Snapshot; snap != nil {
		// The snapshot replaces the old one and the entries it covers.
		if old := t.stored.Snapshot; old != nil {
			used -= old.Size()
		}
		n := snap.Size()
		used += n
		written += n
		// Keep the entries after it only if the stored log holds the
		// snapshot's last entry (as Raft keeps its log's suffix then).
		keep := false
		for i := range entries {
			if entries[i].Index == snap.Index {
				keep = entries[i].Term == snap.Term
			}
		}
		cut := 0
		for cut < len(entries) && (entries[cut].Index <= snap.Index || !keep) {
			used -= entries[cut].Size()
			cut++
		}
		entries = entries[cut:]
		off = snap.Index
	}
	if rd.HardStateChanged {
		written += HardStateSize
		if !s.hardState {
			used += HardStateSize
		}
	}
	var first uint64
	if len(rd.Entries) > 0 {
		first = rd.Entries[0].Index
		for i := int(first - 1 - off); i < len(entries); i++ {
			used -= entries[i].Size() // overwritten: space freed
		}
		for i := range rd.Entries {
			n := rd.Entries[i].Size()
			used += n
			written += n
		}
	}
	if q := w.opt.Storage.Quota; q > 0 && used > q {
		w.record(sim.Event{Kind: sim.KindFault, Node: uint64(t.ID), Index: uint64(used),
			Detail: "storage quota exceeded"})
		w.Kill(t.ID)
		s.failed, s.failedInc = true, t.inc
		return false
	}
	if rd.Snapshot != nil {
		t.stored.Snapshot = rd.Snapshot
		entries = append([]raft.Entry(nil), entries...) // the old array may be shared
	}
	if rd.HardStateChanged {
		t.stored.HardState = rd.HardState
		s.hardState = true
	}
	if len(rd.Entries) > 0 {
		entries = append(entries[:first-1-off], rd.Entries...)
	}
	t.stored.Entries = entries
	// Trace storage use when it crosses a tenth of the quota (or 64 KiB
	// without one), so a viewer can show it without an event per write.
	step := max(w.opt.Storage.Quota/10, 64<<10)
	if used/step != s.used/step {
		w.record(sim.Event{Kind: sim.KindStorage, Node: uint64(t.ID), Index: uint64(used)})
	}
	s.used = used
	if o := &w.opt.Storage; o.WriteCost > 0 || o.WriteCostPerKiB > 0 {
		cost := o.WriteCost + o.WriteCostPerKiB*sim.Time(written)/1024
		t.busyUntil = sim.Max(t.busyUntil, w.sim.Now()) + cost
	}
	return true
}

// storedOffset is the index the stored snapshot covers (0: none).
func storedOffset(st *raft.Stored) uint64 {
	if st.Snapshot != nil {
		return st.Snapshot.Index
	}
	return 0
}
