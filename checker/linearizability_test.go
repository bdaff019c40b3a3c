package checker_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func put(client uint64, key, value string, call, ret int64) checker.KVOp {
	return checker.KVOp{Client: client, Kind: checker.KVPut, Key: key, Value: value, Call: call, Return: ret, Returned: true}
}

// get reads out; "" means the key was absent.
func get(client uint64, key, out string, call, ret int64) checker.KVOp {
	return checker.KVOp{Client: client, Kind: checker.KVGet, Key: key, Out: out, Found: out != "", Call: call, Return: ret, Returned: true}
}

func cas(client uint64, key, expect, value string, ok bool, call, ret int64) checker.KVOp {
	return checker.KVOp{Client: client, Kind: checker.KVCas, Key: key, Expect: expect, Value: value, OK: ok, Call: call, Return: ret, Returned: true}
}

// failedCas is a cas that failed and reported found, the value it saw
// ("" if absent).
func failedCas(client uint64, key, expect, value, found string, call, ret int64) checker.KVOp {
	op := cas(client, key, expect, value, false, call, ret)
	op.Out = found
	return op
}

// lost marks op as never returned: its outcome and return are unknown.
func lost(op checker.KVOp) checker.KVOp {
	op.Returned, op.Return, op.OK, op.Found, op.Out = false, 0, false, false, ""
	return op
}

func TestCheckKV(t *testing.T) {
	tests := []struct {
		name string
		ops  []checker.KVOp
		want string
	}{
		{"empty", nil, checker.LinNA},
		{"sequential", []checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "1", 2, 3), put(1, "a", "2", 4, 5), get(2, "a", "2", 6, 7)}, checker.LinOK},
		{"a read before any write finds nothing", []checker.KVOp{get(1, "a", "", 0, 1), put(1, "a", "1", 2, 3)}, checker.LinOK},
		{"a stale read after a completed write", []checker.KVOp{put(1, "a", "1", 0, 1), put(1, "a", "2", 2, 3), get(2, "a", "1", 4, 5)}, checker.LinIllegal},
		{"a read of a value never written", []checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "9", 4, 5)}, checker.LinIllegal},
		{"a read of nothing after a completed write", []checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "", 4, 5)}, checker.LinIllegal},
		{"overlapping operations that can be ordered", []checker.KVOp{put(1, "a", "1", 0, 10), get(2, "a", "1", 1, 2), get(3, "a", "", 0, 1)}, checker.LinOK},
		{"overlapping writes read in either order", []checker.KVOp{put(1, "a", "1", 0, 10), put(2, "a", "2", 0, 10), get(3, "a", "2", 11, 12), get(4, "a", "2", 13, 14)}, checker.LinOK},
		{"a read that goes back in time", []checker.KVOp{put(1, "a", "1", 0, 10), put(2, "a", "2", 0, 10), get(3, "a", "2", 11, 12), get(4, "a", "1", 13, 14)}, checker.LinIllegal},
		{"intervals are closed: touching operations are concurrent", []checker.KVOp{put(1, "a", "1", 0, 5), get(2, "a", "", 5, 6)}, checker.LinOK},
		{"an unanswered put that was read later", []checker.KVOp{lost(put(1, "a", "1", 0, 0)), get(2, "a", "1", 5, 6)}, checker.LinOK},
		{"an unanswered put never seen", []checker.KVOp{lost(put(1, "a", "1", 0, 0)), get(2, "a", "", 5, 6)}, checker.LinOK},
		{"an unanswered put seen, then not seen", []checker.KVOp{lost(put(1, "a", "1", 0, 0)), get(2, "a", "1", 5, 6), get(2, "a", "", 7, 8)}, checker.LinIllegal},
		{"an unanswered put cannot take effect before its call", []checker.KVOp{get(2, "a", "1", 0, 1), lost(put(1, "a", "1", 5, 0))}, checker.LinIllegal},
		{"an unanswered get is left out", []checker.KVOp{put(1, "a", "1", 0, 1), lost(get(2, "a", "", 2, 0))}, checker.LinOK},
		{"cas that succeeds", []checker.KVOp{put(1, "a", "1", 0, 1), cas(2, "a", "1", "2", true, 2, 3), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"cas that wrongly fails", []checker.KVOp{put(1, "a", "1", 0, 1), failedCas(2, "a", "1", "2", "1", 2, 3)}, checker.LinIllegal},
		{"cas that wrongly succeeds", []checker.KVOp{put(1, "a", "9", 0, 1), cas(2, "a", "1", "2", true, 2, 3)}, checker.LinIllegal},
		{"cas that fails on another value", []checker.KVOp{put(1, "a", "9", 0, 1), failedCas(2, "a", "1", "2", "9", 2, 3), get(1, "a", "9", 4, 5)}, checker.LinOK},
		{"a failed cas reports a value the key never held", []checker.KVOp{put(1, "a", "9", 0, 1), failedCas(2, "a", "1", "2", "7", 2, 3)}, checker.LinIllegal},
		{"a failed cas changes nothing", []checker.KVOp{put(1, "a", "9", 0, 1), failedCas(2, "a", "1", "2", "9", 2, 3), get(1, "a", "2", 4, 5)}, checker.LinIllegal},
		{"cas on an absent key expecting empty", []checker.KVOp{cas(2, "a", "", "2", true, 0, 1), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"cas expecting empty fails on a present key", []checker.KVOp{put(1, "a", "1", 0, 1), failedCas(2, "a", "", "2", "1", 2, 3)}, checker.LinOK},
		{"cas expecting empty succeeds on the empty value", []checker.KVOp{put(1, "a", "", 0, 1), cas(2, "a", "", "2", true, 2, 3)}, checker.LinOK},
		{"cas expecting a value fails on an absent key", []checker.KVOp{failedCas(2, "a", "1", "2", "", 0, 1)}, checker.LinOK},
		{"an unanswered cas, taken", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"an unanswered cas, not taken", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), get(1, "a", "1", 4, 5)}, checker.LinOK},
		{"an unanswered cas, taken then undone", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), get(1, "a", "2", 4, 5), get(1, "a", "1", 6, 7)}, checker.LinIllegal},
		{"an unanswered cas that could not have applied", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "7", "2", false, 2, 0)), get(1, "a", "2", 4, 5)}, checker.LinIllegal},
		{"an unanswered cas enables a later one", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), cas(3, "a", "2", "3", true, 4, 5)}, checker.LinOK},
		{"keys are independent", []checker.KVOp{put(1, "a", "1", 0, 1), put(1, "b", "1", 0, 1), get(2, "b", "1", 2, 3), get(2, "a", "", 2, 3)}, checker.LinIllegal},
		{"large client ids", []checker.KVOp{put(1<<40|3, "a", "1", 0, 1), get(1<<40|7, "a", "1", 2, 3)}, checker.LinOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checker.CheckKV(tt.ops, 0)
			assert.Equal(t, tt.want, r.Result, r.Detail)
			if tt.want == checker.LinIllegal {
				assert.Contains(t, r.Detail, "no linearization for key")
			}
		})
	}
}

// TestCheckKVDropsOnlyUnobservableWrites covers the unanswered writes that
// CheckKV leaves out: leaving out any of these would change the answer.
func TestCheckKVDropsOnlyUnobservableWrites(t *testing.T) {
	tests := []struct {
		name string
		ops  []checker.KVOp
		want string
	}{
		// The failed cas saw the unanswered put's value (not "w"): without
		// the put it would have to succeed.
		{"a failed cas after it", []checker.KVOp{put(1, "a", "w", 0, 1), lost(put(2, "a", "v", 2, 0)), failedCas(3, "a", "w", "x", "v", 3, 4)}, checker.LinOK},
		{"a failed cas after an unanswered cas", []checker.KVOp{put(1, "a", "w", 0, 1), lost(cas(2, "a", "w", "v", false, 2, 0)), failedCas(3, "a", "w", "x", "v", 3, 4)}, checker.LinOK},
		// An unanswered cas expecting the unanswered put's value: with both
		// taken, "y" can be read.
		{"an unanswered cas expecting it", []checker.KVOp{lost(put(1, "a", "v", 0, 0)), lost(cas(2, "a", "v", "y", false, 1, 0)), get(3, "a", "y", 5, 6)}, checker.LinOK},
		// Dropped: the failed cas found another value, so it was not
		// between the put and the next write.
		{"a failed cas after it that found another value", []checker.KVOp{put(1, "a", "w", 0, 1), lost(put(2, "a", "v", 2, 0)), failedCas(3, "a", "z", "x", "w", 3, 4)}, checker.LinOK},
		{"a failed cas that found a value nobody wrote", []checker.KVOp{put(1, "a", "w", 0, 1), lost(put(2, "a", "v", 2, 0)), failedCas(3, "a", "z", "x", "u", 3, 4)}, checker.LinIllegal},
		// Dropped: nothing can tell whether it took effect.
		{"a failed cas before it", []checker.KVOp{put(1, "a", "w", 0, 1), failedCas(3, "a", "z", "x", "w", 2, 3), lost(put(2, "a", "v", 4, 0)), get(1, "a", "w", 5, 6)}, checker.LinOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checker.CheckKV(tt.ops, 0)
			assert.Equal(t, tt.want, r.Result, r.Detail)
		})
	}
}

func TestIllegalDetailNamesTheKeyAndOperation(t *testing.T) {
	r := checker.CheckKV([]checker.KVOp{
		put(1, "a", "1", 0, 1), get(2, "a", "2", 0, 1), // illegal too, but b sorts after a
		put(1, "b", "1", 0, 1), put(1, "b", "2", 2, 3), get(2, "b", "1", 4, 5),
	}, 0)
	require.Equal(t, checker.LinIllegal, r.Result)
	assert.Equal(t, "no linearization for key a: at most 1 of its 2 operations linearize; the first left out is get(a) -> 2 (client 2, 0s to 1ns)", r.Detail)

	r = checker.CheckKV([]checker.KVOp{put(1, "b", "1", 0, 1), put(1, "b", "2", 2, 3), get(7, "b", "1", 4, 5)}, 0)
	require.Equal(t, checker.LinIllegal, r.Result)
	assert.Equal(t, "no linearization for key b: at most 2 of its 3 operations linearize; the first left out is get(b) -> 1 (client 7, 4ns to 5ns)", r.Detail)
}

// TestCheckKVIsDeterministic: ok and illegal do not depend on scheduling
// (porcupine checks partitions in parallel).
func TestCheckKVIsDeterministic(t *testing.T) {
	ops := kvHistory(rand.New(rand.NewPCG(7, 7)), 400, 5)
	ops = append(ops, get(99, "k3", "never written", 1e9, 1e9+1))
	first := checker.CheckKV(ops, 0)
	require.Equal(t, checker.LinIllegal, first.Result)
	for range 5 {
		r := checker.CheckKV(ops, 0)
		assert.Equal(t, first.Result, r.Result)
		assert.Equal(t, first.Detail, r.Detail)
	}
}

func TestCheckKVRunsOutOfTimeAsUnknown(t *testing.T) {
	// Many concurrent writes and reads on one key: hard for the checker.
	var ops []checker.KVOp
	for i := range 400 {
		c := uint64(i % 40)
		v := string(rune('a' + i%26))
		ops = append(ops, put(c, "k", v, int64(i), int64(i+300)))
		ops = append(ops, get(c+100, "k", v, int64(i), int64(i+300)))
	}
	r := checker.CheckKV(ops, time.Nanosecond)
	assert.Contains(t, []string{checker.LinUnknown, checker.LinOK}, r.Result)
}

func TestWriteHTMLCarriesAnnotations(t *testing.T) {
	annotations := []checker.Annotation{
		{Time: 1, Tag: "leader", Text: "node 3 leads term 2"},
		{Time: 2, Text: "an untagged event"},
	}
	results := map[string]checker.LinResult{
		"kv ok":      checker.CheckKV([]checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "1", 2, 3), lost(put(3, "a", "2", 4, 0))}, 0),
		"kv illegal": checker.CheckKV([]checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "2", 2, 3)}, 0),
		"chat":       checker.CheckChat([]checker.ChatOp{seqAppend(1, "c1-0", 0, true, 1, 0, 1), read(2, 2, 3, "c1-0")}, 0),
		"n/a":        checker.CheckKV(nil, 0),
		"zero":       {},
	}
	for name, r := range results {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			require.NoError(t, r.WriteHTML(&b, annotations))
			assert.Contains(t, b.String(), "<html")
			assert.Contains(t, b.String(), "node 3 leads term 2")
			assert.Contains(t, b.String(), "an untagged event")
		})
	}
	// The page describes operations and states readably.
	var b strings.Builder
	require.NoError(t, results["kv ok"].WriteHTML(&b, nil))
	for _, s := range []string{"put(a, 1)", "get(a) -> 1", "put(a, 2) (no answer)", "{a: 1}", "client 3"} {
		assert.Contains(t, b.String(), inPage(s))
	}
	b.Reset()
	require.NoError(t, results["chat"].WriteHTML(&b, nil))
	for _, s := range []string{"seqAppend(history, 'c1-0', cnt=0) -> ok 1", "read(history) -> 1 lines ['c1-0']", "{history: 1 lines ['c1-0']}"} {
		assert.Contains(t, b.String(), inPage(s))
	}
}

// inPage is s as porcupine's page embeds it (JSON, with <, > and &
// escaped).
func inPage(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// kvHistory builds a linearizable history: clients that each run one
// operation at a time against a store, each taking effect at a random
// point inside its interval. Clients interleave, so operations overlap.
func kvHistory(rng *rand.Rand, n, keys int) []checker.KVOp {
	type pending struct {
		op     checker.KVOp
		effect int64
	}
	const clients = 8
	store := map[string]string{}
	next := make([]int64, clients)
	var ops []checker.KVOp
	var live []pending
	for i := range n {
		c := rng.IntN(clients)
		call := next[c] + rng.Int64N(10)
		ret := call + 1 + rng.Int64N(40)
		next[c] = ret + 1
		key := fmt.Sprintf("k%d", rng.IntN(keys))
		op := checker.KVOp{Client: uint64(c + 1), Key: key, Call: call, Return: ret, Returned: true}
		switch r := rng.IntN(10); {
		case r < 5:
			op.Kind = checker.KVGet
		case r < 8:
			op.Kind, op.Value = checker.KVPut, fmt.Sprintf("v%d", i)
		default:
			op.Kind, op.Value = checker.KVCas, fmt.Sprintf("v%d", i)
		}
		live = append(live, pending{op, call + rng.Int64N(ret-call+1)})
	}
	// Apply in effect order to fill in outputs.
	for len(live) > 0 {
		m := 0
		for i := range live {
			if live[i].effect < live[m].effect {
				m = i
			}
		}
		op := live[m].op
		live = append(live[:m], live[m+1:]...)
		cur, ok := store[op.Key]
		switch op.Kind {
		case checker.KVGet:
			op.Found, op.Out = ok, cur
		case checker.KVPut:
			store[op.Key] = op.Value
		case checker.KVCas:
			// Half the cas expect the current value and succeed.
			op.Expect = "stale"
			if rng.IntN(2) == 0 {
				op.Expect = cur
			}
			if op.OK = op.Expect == cur; op.OK {
				store[op.Key] = op.Value
			} else {
				op.Out = cur
			}
		}
		ops = append(ops, op)
	}
	return ops
}

func TestCheckKVGeneratedHistories(t *testing.T) {
	for seed := range uint64(5) {
		ops := kvHistory(rand.New(rand.NewPCG(seed, 1)), 300, 3)
		r := checker.CheckKV(ops, 0)
		require.Equal(t, checker.LinOK, r.Result, "seed %d: %s", seed, r.Detail)
	}
}

func BenchmarkCheckKV(b *testing.B) {
	ops := kvHistory(rand.New(rand.NewPCG(1, 2)), 2000, 10)
	for b.Loop() {
		if r := checker.CheckKV(ops, 0); r.Result != checker.LinOK {
			b.Fatal(r.Result, r.Detail)
		}
	}
}

func seqAppend(client uint64, value string, cnt int64, ok bool, out int64, call, ret int64) checker.ChatOp {
	return checker.ChatOp{Client: client, Key: "history", Value: value, Cnt: cnt, OK: ok, OutCnt: out, Call: call, Return: ret, Returned: true}
}

func read(client uint64, call, ret int64, lines ...string) checker.ChatOp {
	return checker.ChatOp{Client: client, Read: true, Key: "history", Lines: lines, OutCnt: int64(len(lines)), Call: call, Return: ret, Returned: true}
}

func lostAppend(client uint64, value string, cnt int64, call int64) checker.ChatOp {
	return checker.ChatOp{Client: client, Key: "history", Value: value, Cnt: cnt, Call: call}
}

func onList(key string, op checker.ChatOp) checker.ChatOp {
	op.Key = key
	return op
}

func TestCheckChat(t *testing.T) {
	tests := []struct {
		name string
		ops  []checker.ChatOp
		want string
	}{
		{"empty", nil, checker.LinNA},
		{"ordered appends", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 1, true, 2, 2, 3), read(3, 4, 5, "a", "b")}, checker.LinOK},
		{"a refusal with the current count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, false, 1, 2, 3), seqAppend(2, "b", 1, true, 2, 4, 5)}, checker.LinOK},
		{"two appends at the same count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, true, 1, 2, 3)}, checker.LinIllegal},
		{"two concurrent appends at the same count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 10), seqAppend(2, "b", 0, true, 1, 0, 10)}, checker.LinIllegal},
		{"a success with the wrong count", []checker.ChatOp{seqAppend(1, "a", 0, true, 2, 0, 1)}, checker.LinIllegal},
		{"a refusal with the wrong count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, false, 5, 2, 3)}, checker.LinIllegal},
		{"a refusal when the count matched", []checker.ChatOp{seqAppend(1, "a", 0, false, 0, 0, 1)}, checker.LinIllegal},
		{"concurrent appends at the same count, one wins", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 10), seqAppend(2, "b", 0, false, 1, 0, 10)}, checker.LinOK},
		{"a read in order", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), read(2, 2, 3, "a"), seqAppend(1, "b", 1, true, 2, 4, 5), read(2, 6, 7, "a", "b")}, checker.LinOK},
		{"a read missing a completed append", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(1, "b", 1, true, 2, 2, 3), read(2, 4, 5, "a")}, checker.LinIllegal},
		{"a read with lines reordered", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(1, "b", 1, true, 2, 2, 3), read(2, 4, 5, "b", "a")}, checker.LinIllegal},
		{"a read concurrent with an append", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 10), read(2, 1, 2), read(3, 3, 4, "a")}, checker.LinOK},
		{"an unanswered read is left out", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), {Client: 2, Read: true, Key: "history", Call: 2}}, checker.LinOK},
		{"an unanswered append that took effect", []checker.ChatOp{lostAppend(1, "a", 0, 0), seqAppend(2, "b", 1, true, 2, 5, 6), read(3, 7, 8, "a", "b")}, checker.LinOK},
		{"an unanswered append that did not", []checker.ChatOp{lostAppend(1, "a", 0, 0), seqAppend(2, "b", 0, true, 1, 5, 6), read(3, 7, 8, "b")}, checker.LinOK},
		{"an unanswered append at the wrong count", []checker.ChatOp{lostAppend(1, "a", 3, 0), read(3, 7, 8, "a")}, checker.LinIllegal},
		{"lists are independent", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), onList("other", seqAppend(2, "b", 0, true, 1, 2, 3))}, checker.LinOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checker.CheckChat(tt.ops, 0)
			assert.Equal(t, tt.want, r.Result, r.Detail)
			if tt.want == checker.LinIllegal {
				assert.Contains(t, r.Detail, "no linearization for list history")
			}
		})
	}
}

func TestCheckChatDetail(t *testing.T) {
	r := checker.CheckChat([]checker.ChatOp{seqAppend(1, "c1-0", 0, true, 1, 0, 1), seqAppend(2, "c2-0", 0, true, 1, 2, 3)}, 0)
	require.Equal(t, checker.LinIllegal, r.Result)
	assert.Equal(t, "no linearization for list history: at most 1 of its 2 operations linearize; the first left out is seqAppend(history, 'c2-0', cnt=0) -> ok 1 (client 2, 2ns to 3ns)", r.Detail)
}
