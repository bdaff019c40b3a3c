package checker_test

import (
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

func get(client uint64, key, out string, call, ret int64) checker.KVOp {
	return checker.KVOp{Client: client, Kind: checker.KVGet, Key: key, Out: out, Found: out != "", Call: call, Return: ret, Returned: true}
}

func cas(client uint64, key, expect, value string, ok bool, call, ret int64) checker.KVOp {
	return checker.KVOp{Client: client, Kind: checker.KVCas, Key: key, Expect: expect, Value: value, Found: ok, Call: call, Return: ret, Returned: true}
}

func casFailed(client uint64, key, expect, value, found string, call, ret int64) checker.KVOp {
	op := cas(client, key, expect, value, false, call, ret)
	op.Out = found
	return op
}

func lost(op checker.KVOp) checker.KVOp {
	op.Returned = false
	op.Return = 0
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
		{"a stale read after a completed write", []checker.KVOp{put(1, "a", "1", 0, 1), put(1, "a", "2", 2, 3), get(2, "a", "1", 4, 5)}, checker.LinIllegal},
		{"a read of a value never written", []checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "9", 4, 5)}, checker.LinIllegal},
		{"overlapping operations that can be ordered", []checker.KVOp{put(1, "a", "1", 0, 10), get(2, "a", "1", 1, 2), get(3, "a", "", 0, 1)}, checker.LinOK},
		{"an unanswered put that was read later", []checker.KVOp{lost(put(1, "a", "1", 0, 0)), get(2, "a", "1", 5, 6)}, checker.LinOK},
		{"an unanswered put never seen", []checker.KVOp{lost(put(1, "a", "1", 0, 0)), get(2, "a", "", 5, 6)}, checker.LinOK},
		{"an unanswered put cannot take effect before its call", []checker.KVOp{get(2, "a", "1", 0, 1), lost(put(1, "a", "1", 5, 0))}, checker.LinIllegal},
		{"cas that succeeds", []checker.KVOp{put(1, "a", "1", 0, 1), cas(2, "a", "1", "2", true, 2, 3), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"cas that wrongly fails", []checker.KVOp{put(1, "a", "1", 0, 1), casFailed(2, "a", "1", "2", "1", 2, 3)}, checker.LinIllegal},
		{"cas that fails on another value", []checker.KVOp{put(1, "a", "9", 0, 1), casFailed(2, "a", "1", "2", "9", 2, 3)}, checker.LinOK},
		{"cas that reports a value that is not there", []checker.KVOp{put(1, "a", "9", 0, 1), casFailed(2, "a", "1", "2", "8", 2, 3)}, checker.LinIllegal},
		{"cas failing on the value of an unanswered write", []checker.KVOp{lost(cas(1, "a", "", "w", false, 0, 0)), casFailed(2, "a", "", "x", "w", 5, 6)}, checker.LinOK},
		{"cas on an absent key expecting empty", []checker.KVOp{cas(2, "a", "", "2", true, 0, 1), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"an unanswered cas, taken", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), get(1, "a", "2", 4, 5)}, checker.LinOK},
		{"an unanswered cas that could not have applied", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "7", "2", false, 2, 0)), get(1, "a", "2", 4, 5)}, checker.LinIllegal},
		{"an unanswered cas, not taken", []checker.KVOp{put(1, "a", "1", 0, 1), lost(cas(2, "a", "1", "2", false, 2, 0)), get(1, "a", "1", 4, 5)}, checker.LinOK},
		{"keys are independent", []checker.KVOp{put(1, "a", "1", 0, 1), put(1, "b", "1", 0, 1), get(2, "b", "1", 2, 3), get(2, "a", "", 2, 3)}, checker.LinIllegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checker.CheckKV(tt.ops, 0)
			assert.Equal(t, tt.want, r.Result)
			if tt.want == checker.LinIllegal {
				assert.Contains(t, r.Detail, "key")
			}
		})
	}
}

func TestIllegalNamesTheKey(t *testing.T) {
	r := checker.CheckKV([]checker.KVOp{put(1, "a", "1", 0, 1), put(1, "b", "1", 0, 1), put(1, "b", "2", 2, 3), get(2, "b", "1", 4, 5)}, 0)
	require.Equal(t, checker.LinIllegal, r.Result)
	assert.Equal(t, "no linearization for key b", r.Detail)
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
	r := checker.CheckKV([]checker.KVOp{put(1, "a", "1", 0, 1), get(2, "a", "1", 2, 3)}, 0)
	var b strings.Builder
	require.NoError(t, r.WriteHTML(&b, []checker.Annotation{{Time: 1, Tag: "leader", Text: "node 3 leads term 2"}}))
	assert.Contains(t, b.String(), "node 3 leads term 2")
	assert.Contains(t, b.String(), "<html")
}

func BenchmarkCheckKV(b *testing.B) {
	var ops []checker.KVOp
	for i := range 2000 {
		key := string(rune('a' + i%10))
		ops = append(ops, put(uint64(i%8), key, "v"+key, int64(i*10), int64(i*10+25)))
	}
	for b.Loop() {
		checker.CheckKV(ops, 0)
	}
}

func seqAppend(client uint64, value string, cnt int64, ok bool, out int64, call, ret int64) checker.ChatOp {
	return checker.ChatOp{Client: client, Value: value, Cnt: cnt, OK: ok, OutCnt: out, Call: call, Return: ret, Returned: true}
}

func TestCheckChat(t *testing.T) {
	tests := []struct {
		name string
		ops  []checker.ChatOp
		want string
	}{
		{"empty", nil, checker.LinNA},
		{"ordered appends", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 1, true, 2, 2, 3)}, checker.LinOK},
		{"a refusal with the current count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, false, 1, 2, 3), seqAppend(2, "b", 1, true, 2, 4, 5)}, checker.LinOK},
		{"two appends at the same count", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, true, 1, 2, 3)}, checker.LinIllegal},
		{"a wrong count returned", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 1), seqAppend(2, "b", 0, false, 5, 2, 3)}, checker.LinIllegal},
		{"concurrent appends at the same count, one wins", []checker.ChatOp{seqAppend(1, "a", 0, true, 1, 0, 10), seqAppend(2, "b", 0, false, 1, 0, 10)}, checker.LinOK},
		{"an unanswered append that took effect", []checker.ChatOp{{Client: 1, Value: "a", Cnt: 0, Call: 0}, seqAppend(2, "b", 1, true, 2, 5, 6)}, checker.LinOK},
		{"an unanswered append that did not", []checker.ChatOp{{Client: 1, Value: "a", Cnt: 0, Call: 0}, seqAppend(2, "b", 0, true, 1, 5, 6)}, checker.LinOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, checker.CheckChat(tt.ops, 0).Result)
		})
	}
}
