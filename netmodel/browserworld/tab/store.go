//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/raft"
)

// The tab's durable state is a host.Storage in memory, mirrored to
// localStorage after every write and restored from it when the page
// loads. localStorage, not IndexedDB: setItem is synchronous, so when it
// returns the write is done and the batch's messages may leave (Raft's
// persist-before-send rule). IndexedDB's transactions complete in a later
// task, so the host would have to hold the batch's messages until then;
// the host's Ready loop (host.Node.Process) sends right after it persists.
//
// One key per entry (keyEntry), the snapshot under keySnap, and a small
// meta value (keyMeta: hard state, the log's bounds) that says which
// entry keys count: a write costs what changed, not the whole log (one
// JSON value of the whole storage cost O(log) a batch, and writes/s fell
// as the log grew). The meta is written last, and first as well when a
// batch cuts the log back, so a page closed in the middle of a write
// never restores entries of two logs.

const (
	keyMeta  = "raftsim/meta"
	keySnap  = "raftsim/snap"
	keyEntry = "raftsim/e/"
)

// meta is what keyMeta holds.
type meta struct {
	HardState        raft.HardState
	HardStateWritten bool
	Used             int
	// Offset is the stored snapshot's index (0: none); the entries are
	// Offset+1..Last.
	Offset, Last uint64
}

// saved is what localStorage holds now, so a write knows what changed.
type saved struct {
	offset, last uint64
	terms        map[uint64]uint64 // index -> term of the entry stored
	snapIndex    uint64
}

// loadStorage reads the stored state (the zero Storage if there is none).
func loadStorage() (host.Storage, *ctl.Restored, *saved, error) {
	var s host.Storage
	sv := &saved{terms: map[uint64]uint64{}}
	var m meta
	found, n, err := getJSON(keyMeta, &m)
	if err != nil || !found {
		return s, &ctl.Restored{}, sv, err
	}
	s.Stored.HardState, s.HardStateWritten, s.Used = m.HardState, m.HardStateWritten, m.Used
	if m.Offset > 0 {
		var snap raft.Snapshot
		ok, k, err := getJSON(keySnap, &snap)
		if err != nil || !ok {
			return host.Storage{}, nil, nil, fmt.Errorf("tab: localStorage: snapshot at %d missing: %v", m.Offset, err)
		}
		s.Stored.Snapshot, sv.snapIndex, n = &snap, snap.Index, n+k
	}
	for i := m.Offset + 1; i <= m.Last; i++ {
		var e raft.Entry
		ok, k, err := getJSON(keyEntry+strconv.FormatUint(i, 10), &e)
		if err != nil || !ok {
			return host.Storage{}, nil, nil, fmt.Errorf("tab: localStorage: entry %d missing: %v", i, err)
		}
		s.Stored.Entries = append(s.Stored.Entries, e)
		sv.terms[i], n = e.Term, n+k
	}
	sv.offset, sv.last = m.Offset, m.Last
	r := &ctl.Restored{Found: true, HardState: s.Stored.HardState, LastIndex: s.LastIndex(), Bytes: n, Storage: &s}
	return s, r, sv, nil
}

// saveStorage writes what changed in s since sv to localStorage (an
// error: setItem threw, as on a full quota).
func saveStorage(s *host.Storage, sv *saved) error {
	off, last := s.Offset(), s.LastIndex()
	m := meta{HardState: s.Stored.HardState, HardStateWritten: s.HardStateWritten, Used: s.Used, Offset: off, Last: last}
	first := last + 1 // the first entry to write
	for i := last; i > off; i-- {
		if t, ok := sv.terms[i]; ok && t == s.Stored.Entries[i-off-1].Term {
			break
		}
		first = i
	}
	if first <= sv.last || off != sv.offset {
		// The log is cut back or moved: first say which entries still
		// count, so no restore mixes two logs.
		shrunk := m
		shrunk.Offset, shrunk.Last = sv.offset, min(sv.last, first-1)
		if off != sv.offset {
			shrunk.Last = sv.offset // nothing of the old log beyond the old snapshot
		}
		if err := setJSON(keyMeta, shrunk); err != nil {
			return err
		}
	}
	if snap := s.Stored.Snapshot; snap != nil && snap.Index != sv.snapIndex {
		if err := setJSON(keySnap, snap); err != nil {
			return err
		}
		sv.snapIndex = snap.Index
	}
	for i := first; i <= last; i++ {
		e := &s.Stored.Entries[i-off-1]
		if err := setJSON(keyEntry+strconv.FormatUint(i, 10), e); err != nil {
			return err
		}
		sv.terms[i] = e.Term
	}
	if err := setJSON(keyMeta, m); err != nil {
		return err
	}
	for i := range sv.terms { // keys no log uses any more
		if i <= off || i > last {
			_ = try(func() { global.Get("localStorage").Call("removeItem", keyEntry+strconv.FormatUint(i, 10)) })
			delete(sv.terms, i)
		}
	}
	sv.offset, sv.last = off, last
	return nil
}

// getJSON reads key into v: found false if absent; n the value's length.
func getJSON(key string, v any) (found bool, n int, err error) {
	item := global.Get("localStorage").Call("getItem", key)
	if item.IsNull() {
		return false, 0, nil
	}
	text := item.String()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return false, 0, fmt.Errorf("tab: localStorage %q unreadable: %w", key, err)
	}
	return true, len(text), nil
}

// setJSON writes v under key.
func setJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("tab: encoding %s: %w", key, err)
	}
	if err := try(func() { global.Get("localStorage").Call("setItem", key, string(b)) }); err != nil {
		return fmt.Errorf("tab: localStorage.setItem %s: %w", key, err)
	}
	return nil
}
