package netmodel

import (
	"errors"
	"fmt"

	"github.com/raftsim/raftsim/host"
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

// HardStateSize is what the hard state takes in storage (host.HardStateSize).
const HardStateSize = host.HardStateSize

// DefaultStorageOptions returns a 5 MiB quota and a small write cost.
func DefaultStorageOptions() StorageOptions {
	return StorageOptions{
		// localStorage quota of 5 MiB per origin (issue 3 text; the usual
		// browser limit, U: browsers count UTF-16 code units of keys and
		// values, which this byte estimate does not).
		Quota: 5 << 20,
		// M: in Chromium 156 a follower handles an append that stores
		// one small entry (two localStorage.setItem calls, JSON) in a
		// median 340 us, an acknowledgement that stores nothing in 30
		// us (docs/worlds.md, "Handling a datachannel message"): about
		// 300 us for the write. Larger values add serialization time
		// per byte (U).
		WriteCost:       300 * sim.Microsecond,
		WriteCostPerKiB: 10 * sim.Microsecond,
	}
}

func (o *StorageOptions) validate() error {
	if o.Quota < 0 || o.WriteCost < 0 || o.WriteCostPerKiB < 0 {
		return fmt.Errorf("storage: quota and write costs must not be negative")
	}
	return nil
}

// tabStorage is what the world remembers of a tab's failed write. It
// survives kills, as the storage does (host.Storage).
type tabStorage struct {
	failed    bool // a write failed; the tab stopped
	failedInc int  // the incarnation that ended with the failed write
}

func (t *Tab) initStorage() {}

// StorageUsed returns the bytes tab id has stored.
func (w *World) StorageUsed(id raft.ID) int { return w.tabs[id].host.Storage.Used }

// StorageFailed reports whether the tab stopped because a write exceeded
// its storage quota (until it is restarted).
func (t *Tab) StorageFailed() bool {
	return t.storage.failed && t.inc == t.storage.failedInc
}

// persisted is the world's part of a batch's write to localStorage
// (host.Storage.Write, before anything of the batch is sent): storage use
// is traced when it crosses a tenth of the quota (or 64 KiB without one),
// so a viewer can show it without an event per write, and the write costs
// the tab's thread time.
func (t *Tab) persisted(written, before int) {
	w := t.w
	used := t.host.Storage.Used
	step := max(w.opt.Storage.Quota/10, 64<<10)
	if used/step != before/step {
		w.record(sim.Event{Kind: sim.KindStorage, Node: uint64(t.ID), Index: uint64(used)})
	}
	if o := &w.opt.Storage; o.WriteCost > 0 || o.WriteCostPerKiB > 0 {
		t.occupy(w.cpuTime(o.WriteCost + o.WriteCostPerKiB*sim.Time(written)/1024))
	}
}

// failed closes a tab whose node cannot go on: a write that would exceed
// the quota (not applied: the tab records the fault and stops, as it
// cannot send what depends on the write) or an unreadable snapshot.
func (t *Tab) failed(err error) {
	w := t.w
	var qe *host.QuotaError
	if errors.As(err, &qe) {
		w.record(sim.Event{Kind: sim.KindFault, Node: uint64(t.ID), Index: uint64(qe.Used), Detail: "storage quota exceeded"})
		w.Kill(t.ID)
		t.storage.failed, t.storage.failedInc = true, t.inc
		return
	}
	w.Fault(t.ID, err.Error())
	w.Kill(t.ID)
}
