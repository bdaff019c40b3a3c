package checker

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWriteDeadlinesBoundOnlyWritesSeenByAReturnedOperation(t *testing.T) {
	lost := func(op KVOp) KVOp { op.Returned, op.Return = false, 0; return op }
	put := func(client uint64, value string, call, ret int64) KVOp {
		return KVOp{Client: client, Kind: KVPut, Key: "k", Value: value, Call: call, Return: ret, Returned: true, OK: true}
	}
	get := func(client uint64, out string, call, ret int64) KVOp {
		return KVOp{Client: client, Kind: KVGet, Key: "k", Call: call, Return: ret, Returned: true, Found: out != "", Out: out}
	}
	cas := func(client uint64, expect, value string, ok bool, out string, call, ret int64) KVOp {
		return KVOp{Client: client, Kind: KVCas, Key: "k", Expect: expect, Value: value, Call: call, Return: ret, Returned: true, OK: ok, Out: out}
	}
	tests := []struct {
		name string
		ops  []KVOp
		want map[kvWrite]int64
	}{
		{"a get that read it, the earliest", []KVOp{lost(put(1, "v", 0, 0)), get(2, "v", 5, 9), get(3, "v", 4, 7)}, map[kvWrite]int64{{"k", "v"}: 7}},
		{"a cas that expected it and succeeded", []KVOp{lost(put(1, "v", 0, 0)), cas(2, "v", "w", true, "", 3, 8)}, map[kvWrite]int64{{"k", "v"}: 8}},
		{"a failed cas that found it", []KVOp{lost(put(1, "v", 0, 0)), cas(2, "x", "w", false, "v", 3, 6)}, map[kvWrite]int64{{"k", "v"}: 6}},
		{"not a failed cas that expected it", []KVOp{lost(put(1, "v", 0, 0)), cas(2, "v", "w", false, "u", 3, 6)}, map[kvWrite]int64{}},
		{"not an unanswered get", []KVOp{lost(put(1, "v", 0, 0)), lost(get(2, "v", 3, 0))}, map[kvWrite]int64{}},
		{"not a value written twice", []KVOp{lost(put(1, "v", 0, 0)), put(2, "v", 1, 2), get(3, "v", 3, 4)}, map[kvWrite]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, writeDeadlines(tt.ops))
		})
	}
}
