//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"

	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
)

// The tab's durable state is a host.Storage in memory, mirrored to
// localStorage after every write and restored from it when the page
// loads. localStorage, not IndexedDB: setItem is synchronous, so when it
// returns the write is done and the batch's messages may leave (Raft's
// persist-before-send rule). IndexedDB's transactions complete in a later
// task, so the host would have to hold the batch's messages until then;
// the host's Ready loop (host.Node.Process) sends right after it persists.
//
// The whole storage is written as one JSON value under one key: simple,
// but every write costs the whole log's size (fine for short runs; an
// entry per key is later work).

const storageKey = "raftsim-storage"

// loadStorage reads the stored state (the zero Storage if there is none).
func loadStorage() (host.Storage, *ctl.Restored, error) {
	var s host.Storage
	ls := global.Get("localStorage")
	v := ls.Call("getItem", storageKey)
	if v.IsNull() {
		return s, &ctl.Restored{}, nil
	}
	text := v.String()
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return host.Storage{}, nil, fmt.Errorf("tab: localStorage %q unreadable: %w", storageKey, err)
	}
	r := &ctl.Restored{Found: true, HardState: s.Stored.HardState, LastIndex: s.LastIndex(), Bytes: len(text), Storage: &s}
	return s, r, nil
}

// saveStorage writes s to localStorage (an error: it threw, as on a full
// quota; the write did not happen).
func saveStorage(s *host.Storage) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("tab: encoding storage: %w", err)
	}
	if err := try(func() { global.Get("localStorage").Call("setItem", storageKey, string(b)) }); err != nil {
		return fmt.Errorf("tab: localStorage.setItem: %w", err)
	}
	return nil
}
