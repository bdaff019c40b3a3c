package netmodel

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storedSize is what a tab's storage holds, counted from scratch.
func storedSize(t *Tab) int {
	n := 0
	if t.host.Storage.HardStateWritten {
		n = HardStateSize
	}
	for i := range t.host.Storage.Stored.Entries {
		n += t.host.Storage.Stored.Entries[i].Size()
	}
	return n
}

// bigEntry returns an entry the size of a put of n bytes to key "k" (its
// data is not a command: n may be beyond the command encoding's bounds).
func bigEntry(term, index uint64, n int) raft.Entry {
	return raft.Entry{Term: term, Index: index, Data: make([]byte, app.HeaderSize+1+n)}
}

// unstartedTab returns tab 1 of a world that has not started Raft, so a
// test can drive its storage alone.
func unstartedTab(t *testing.T, opt Options) (*Tab, *strings.Builder) {
	t.Helper()
	var buf strings.Builder
	w, err := New(sim.New(1, sim.NewTrace(&buf)), opt)
	require.NoError(t, err)
	return w.Tab(1), &buf
}

func TestDefaultStorageOptions(t *testing.T) {
	o := DefaultStorageOptions()
	assert.Equal(t, 5*1024*1024, o.Quota)
	assert.Equal(t, 300*sim.Microsecond, o.WriteCost, "measured in Chromium (docs/worlds.md)")
	assert.NoError(t, o.validate())
	o.Quota = -1
	assert.Error(t, o.validate())
}

func TestStorageAccountsEntriesAndHardState(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	w, _ := newTestWorld(t, opt, 21)
	w.sim.RunUntil(sim.Second, nil)
	leader := onlyLeader(t, w)
	NewChatClient(w.Tab(leader), 1).Push(20)
	w.sim.RunUntil(3*sim.Second, nil)
	for id := raft.ID(1); id <= 3; id++ {
		tab := w.Tab(id)
		require.Greater(t, len(tab.host.Storage.Stored.Entries), 20)
		assert.Equal(t, storedSize(tab), w.StorageUsed(id), "tab %d", id)
		assert.Greater(t, w.StorageUsed(id), 20*24+HardStateSize)
	}
}

func TestTruncationFreesSpace(t *testing.T) {
	opt := testOptions(1)
	opt.Storage.Quota = 3000
	tab, _ := unstartedTab(t, opt)
	require.True(t, tab.host.Persist(&raft.Ready{
		HardState: raft.HardState{Term: 1}, HardStateChanged: true,
		Entries: []raft.Entry{bigEntry(1, 1, 800), bigEntry(1, 2, 800), bigEntry(1, 3, 800)},
	}))
	full := tab.w.StorageUsed(1)
	assert.Equal(t, storedSize(tab), full)
	assert.Greater(t, full, 2400)
	// A new leader overwrites entries 2 and 3 with a small one: the quota
	// counts what is stored after the write, so this fits.
	require.True(t, tab.host.Persist(&raft.Ready{
		HardState: raft.HardState{Term: 2}, HardStateChanged: true,
		Entries: []raft.Entry{bigEntry(2, 2, 10)},
	}))
	assert.Len(t, tab.host.Storage.Stored.Entries, 2)
	assert.Equal(t, storedSize(tab), tab.w.StorageUsed(1))
	assert.Less(t, tab.w.StorageUsed(1), full-1500, "the overwritten entries' space is freed")
	require.True(t, tab.host.Persist(&raft.Ready{Entries: []raft.Entry{bigEntry(2, 3, 800), bigEntry(2, 4, 800)}}),
		"and can be written again")
}

func TestStorageQuotaExceededStopsTheTabAndKeepsStorage(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	opt.Storage.Quota = 4000
	w, buf := newTestWorld(t, opt, 22)
	w.sim.RunUntil(sim.Second, nil)
	leader := onlyLeader(t, w)
	tab := w.Tab(leader)
	require.False(t, tab.StorageFailed())
	hard := tab.host.Storage.Stored.HardState
	entries := len(tab.host.Storage.Stored.Entries)
	used := w.StorageUsed(leader)
	require.Less(t, used+1000, opt.Storage.Quota)

	// A proposal too big for what is left: the leader's write fails.
	at := sim.Second + 10*sim.Millisecond
	var replied bool
	w.sim.At(at, func() {
		tab.Run(func() {
			cmd := app.Command{Op: app.OpPut, Key: "k", Value: strings.Repeat("x", opt.Storage.Quota), Client: 9, Seq: 1}
			require.True(t, tab.Submit(cmd, func(app.Result) { replied = true }))
		})
	})
	w.sim.RunUntil(3*sim.Second, nil)

	assert.False(t, w.Alive(leader), "the tab stopped")
	assert.True(t, tab.StorageFailed())
	assert.False(t, replied)
	assert.Equal(t, hard, tab.host.Storage.Stored.HardState, "storage unchanged")
	assert.Len(t, tab.host.Storage.Stored.Entries, entries, "storage unchanged")
	assert.Equal(t, used, w.StorageUsed(leader))
	assert.Equal(t, storedSize(tab), used)

	ev := traceEvents(t, w, buf)
	details, times := faults(ev, leader)
	require.Equal(t, []string{"storage quota exceeded", "kill"}, details)
	failedAt := times[0]
	for _, e := range ev {
		if e.Kind == sim.KindSend && e.Node == uint64(leader) {
			assert.Less(t, e.Time, failedAt, "nothing of the failed batch is sent")
		}
	}
	for id := raft.ID(1); id <= 3; id++ {
		for _, e := range w.Tab(id).host.Storage.Stored.Entries {
			cmd, _ := app.DecodeCommand(e.Data)
			assert.NotEqual(t, uint64(9), cmd.Client, "tab %d stored the entry", id)
		}
	}

	// A reload clears the failure; the storage is still what it was.
	require.NoError(t, w.Restart(leader))
	assert.False(t, tab.StorageFailed())
	assert.Equal(t, used, w.StorageUsed(leader))
}

func TestZeroStorageOptionsAreUnlimitedAndFree(t *testing.T) {
	tab, _ := unstartedTab(t, testOptions(1))
	for i := uint64(1); i <= 10; i++ {
		require.True(t, tab.host.Persist(&raft.Ready{Entries: []raft.Entry{bigEntry(1, i, 1<<20)}}))
	}
	assert.Greater(t, tab.w.StorageUsed(1), 10<<20)
	assert.Zero(t, tab.busyUntil)
}

func TestWriteCostDelaysLaterWork(t *testing.T) {
	for _, c := range []struct {
		name        string
		cost, perKB sim.Time
		value       int
		want        sim.Time
	}{
		{"fixed", 5 * sim.Millisecond, 0, 100, 5 * sim.Millisecond},
		{"per KiB", 5 * sim.Millisecond, sim.Millisecond, 10 * 1024, 15 * sim.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := testOptions(1)
			opt.HandlerCost = sim.Millisecond
			opt.Storage.WriteCost = c.cost
			opt.Storage.WriteCostPerKiB = c.perKB
			w, _ := newTestWorld(t, opt, 23) // Raft stays quiet
			tab := w.Tab(1)
			e := bigEntry(1, uint64(len(tab.host.Storage.Stored.Entries)+1), c.value)
			// Bytes beyond the value: the rest of the entry's estimate.
			extra := c.perKB * sim.Time(e.Size()-c.value) / 1024
			var ran sim.Time
			w.sim.At(sim.Second, func() {
				tab.Run(func() { require.True(t, tab.host.Persist(&raft.Ready{Entries: []raft.Entry{e}})) })
				tab.Run(func() { ran = w.sim.Now() })
			})
			w.sim.RunUntil(2*sim.Second, nil)
			assert.Equal(t, sim.Second+sim.Millisecond+c.want+extra+sim.Millisecond, ran,
				"the second task waits for the first's handler cost, the write, and its own cost")
		})
	}
}
