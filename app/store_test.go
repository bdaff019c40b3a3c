package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKV: get, put, cas and append, applied in order.
func TestKV(t *testing.T) {
	steps := []struct {
		cmd  Command
		want Result
	}{
		{Command{Op: OpGet, Key: "x"}, Result{OK: false, Value: ""}},
		{Command{Op: OpPut, Key: "x", Value: "1"}, Result{OK: true, Value: "1"}},
		{Command{Op: OpGet, Key: "x"}, Result{OK: true, Value: "1"}},
		{Command{Op: OpCAS, Key: "x", Expect: "2", Value: "3"}, Result{OK: false, Value: "1"}},
		{Command{Op: OpGet, Key: "x"}, Result{OK: true, Value: "1"}},
		{Command{Op: OpCAS, Key: "x", Expect: "1", Value: "3"}, Result{OK: true, Value: "3"}},
		{Command{Op: OpAppend, Key: "x", Value: "4"}, Result{OK: true, Value: "34"}},
		{Command{Op: OpAppend, Key: "y", Value: "a"}, Result{OK: true, Value: "a"}},
		{Command{Op: OpPut, Key: "x", Value: ""}, Result{OK: true, Value: ""}},
		{Command{Op: OpGet, Key: "x"}, Result{OK: true, Value: ""}}, // present but empty
		// cas on a missing key compares with ""
		{Command{Op: OpCAS, Key: "z", Expect: "", Value: "new"}, Result{OK: true, Value: "new"}},
		{Command{Op: OpCAS, Key: "w", Expect: "a", Value: "b"}, Result{OK: false, Value: ""}},
		{Command{Op: OpSeqAppend, Key: "x", Value: "q"}, Result{}}, // not a KV op: no effect
		{Command{Op: Op(0), Key: "x"}, Result{}},
	}
	kv := NewKV()
	for i, s := range steps {
		require.Equal(t, s.want, kv.Apply(s.cmd), "step %d: %v", i, s.cmd.Op)
	}
	v, ok := kv.Get("x")
	require.True(t, ok)
	require.Equal(t, "", v)
	v, ok = kv.Get("y")
	require.True(t, ok)
	require.Equal(t, "a", v)
	_, ok = kv.Get("w")
	require.False(t, ok, "a failed cas creates nothing")
}

// TestChatSeqAppend: seqAppend{key, cnt, value} is applied only if cnt
// equals the list's counter; the result is [applied, counter], and a client
// whose append was refused retries with the counter it got back.
func TestChatSeqAppend(t *testing.T) {
	steps := []struct {
		key   string
		cnt   int64
		value string
		want  Result
	}{
		{"room", 0, "hi", Result{OK: true, Cnt: 1}},
		{"room", 0, "hello", Result{OK: false, Cnt: 1}}, // raced: stale counter
		{"room", 1, "hello", Result{OK: true, Cnt: 2}},  // retry with the returned counter
		{"room", 5, "future", Result{OK: false, Cnt: 2}},
		{"room", -1, "neg", Result{OK: false, Cnt: 2}},
		{"other", 0, "a", Result{OK: true, Cnt: 1}}, // lists are independent
		{"room", 2, "bye", Result{OK: true, Cnt: 3}},
		{"empty", 1, "x", Result{OK: false, Cnt: 0}}, // refused on a new list
	}
	ch := NewChat()
	for i, s := range steps {
		got := ch.Apply(Command{Op: OpSeqAppend, Key: s.key, Cnt: s.cnt, Value: s.value})
		require.Equal(t, s.want, got, "step %d", i)
	}
	require.Equal(t, []string{"hi", "hello", "bye"}, ch.Lines("room"))
	require.Equal(t, []string{"a"}, ch.Lines("other"))
	require.Empty(t, ch.Lines("empty"))
	require.Nil(t, ch.Lines("nowhere"))
	require.Equal(t, Result{}, ch.Apply(Command{Op: OpPut, Key: "room", Value: "x"}), "not a chat op")
	require.Len(t, ch.Lines("room"), 3)
}

func TestStoreAppliesARetriedCommandOnce(t *testing.T) {
	s := NewStore(0)
	app := Command{Op: OpAppend, Key: "k", Value: "x", Client: 7, Seq: 1}
	first := s.Apply(1, app)
	again := s.Apply(2, app) // a retry committed twice
	assert.Equal(t, first, again, "the repeat gets the saved reply")
	v, _ := s.KV.Get("k")
	assert.Equal(t, "x", v, "applied once")
	next := app
	next.Seq = 2
	s.Apply(3, next)
	assert.Equal(t, Result{Stale: true}, s.Apply(4, app), "a delayed duplicate of an older command")
	v, _ = s.KV.Get("k")
	assert.Equal(t, "xx", v)
	other := Command{Op: OpAppend, Key: "k", Value: "y"}
	s.Apply(5, other)
	s.Apply(6, other)
	v, _ = s.KV.Get("k")
	assert.Equal(t, "xxyy", v, "commands without a client have no session")
}

func TestStoreSessionsExpireWithoutDoubleApplies(t *testing.T) {
	s := NewStore(10)
	app := Command{Op: OpAppend, Key: "k", Value: "x", Client: 1, Seq: 1}
	s.Apply(1, app)
	for i := uint64(2); i <= 30; i++ {
		s.Apply(i, Command{Op: OpPut, Key: "other", Value: "v", Client: 2, Seq: i - 1})
	}
	assert.Equal(t, 1, s.Sessions(), "client 1's session expired, client 2's lives")
	assert.Equal(t, Result{SessionExpired: true}, s.Apply(31, app), "a late retry after expiry is refused")
	app.Seq = 2
	assert.Equal(t, Result{SessionExpired: true}, s.Apply(32, app), "and so is any later command of that client")
	v, _ := s.KV.Get("k")
	assert.Equal(t, "x", v, "applied once")
}

// TestStoreApplyRetryTwice: the planted bug raft.BugApplyRetryTwice turns
// the store's deduplication off.
func TestStoreApplyRetryTwice(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := NewStore(0)
		s.ApplyRetryTwice = on
		cmd := Command{Op: OpAppend, Key: "x", Value: "a", Client: 7, Seq: 1}
		require.Equal(t, Result{OK: true, Value: "a"}, s.Apply(2, cmd))
		s.Apply(3, cmd) // the client retried
		v, _ := s.KV.Get("x")
		assert.Equal(t, on, v == "aa", "the retried command applied twice (x=%q)", v)
		chat := Command{Op: OpSeqAppend, Key: "room", Value: "hi", Client: 7, Seq: 2}
		s.Apply(4, chat)
		chat.Cnt = 1 // a retry that happens to match the new counter
		s.Apply(5, chat)
		assert.Equal(t, on, len(s.Chat.Lines("room")) == 2, "chat lines %q", s.Chat.Lines("room"))
	}
}

func TestOpString(t *testing.T) {
	require.Equal(t, "seqAppend", OpSeqAppend.String())
	require.Equal(t, "op(0)", Op(0).String())
}
