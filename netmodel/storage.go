package netmodel

import "github.com/raftsim/raftsim/raft"

// StorageOptions configure the tabs' localStorage.
type StorageOptions struct{}

func (o *StorageOptions) validate() error { return nil }

// tabStorage is a tab's storage accounting.
type tabStorage struct{}

func (t *Tab) initStorage() {}

// persist writes a batch's hard state and entries to the tab's storage
// (localStorage: it survives a kill), before anything of the batch is sent.
func (t *Tab) persist(rd *raft.Ready) {
	if rd.HardStateChanged {
		t.stored.HardState = rd.HardState
	}
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		t.stored.Entries = append(t.stored.Entries[:first-1], rd.Entries...)
	}
}
