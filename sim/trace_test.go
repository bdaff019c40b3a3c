package sim

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sample = []Event{
	{Time: 1, Kind: KindSend, Node: 1, Peer: 2, Term: 3, Index: 4, Msg: "app"},
	{Time: 2, Kind: KindRole, Node: 2, Term: 3, Detail: "leader"},
	{Time: 3, Kind: KindMeasure, Msg: "up", Index: 5, Detail: "0.000000"},
	{Time: 4, Kind: KindDrop, Node: 1, Peer: 2, Msg: "app", Detail: "lost", Lost: 14},
	{Time: 30, Kind: KindDeliver, Node: 2, Peer: 1, Msg: "app", Detail: "retransmitted 1 time; held behind an earlier message", Tx: 20, Rx: 25},
}

func hashOf(events ...Event) uint64 {
	tr := NewTrace(nil)
	for _, e := range events {
		tr.Record(e)
	}
	return tr.Hash()
}

func TestTraceHashCoversEveryField(t *testing.T) {
	base := sample[0]
	h := hashOf(base)
	assert.Equal(t, h, hashOf(base), "same events, same hash")
	changes := map[string]func(*Event){
		"time":   func(e *Event) { e.Time++ },
		"kind":   func(e *Event) { e.Kind = KindDeliver },
		"node":   func(e *Event) { e.Node++ },
		"peer":   func(e *Event) { e.Peer++ },
		"term":   func(e *Event) { e.Term++ },
		"index":  func(e *Event) { e.Index++ },
		"msg":    func(e *Event) { e.Msg = "vote" },
		"detail": func(e *Event) { e.Detail = "x" },
		"lost":   func(e *Event) { e.Lost = 9 },
		"tx":     func(e *Event) { e.Tx = 9 },
		"rx":     func(e *Event) { e.Rx = 9 },
	}
	for name, change := range changes {
		e := base
		change(&e)
		assert.NotEqual(t, h, hashOf(e), name)
	}
	// Strings are length-prefixed: moving a byte between fields changes it.
	assert.NotEqual(t, hashOf(Event{Kind: KindFault, Msg: "ab"}), hashOf(Event{Kind: KindFault, Msg: "a", Detail: "b"}))
	assert.NotEqual(t, hashOf(sample[0], sample[1]), hashOf(sample[1], sample[0]), "order matters")
	held := Event{Kind: KindDeliver, Tx: 5}
	assert.NotEqual(t, hashOf(held), hashOf(Event{Kind: KindDeliver, Rx: 5}), "each instant in its place")
	assert.NotEqual(t, hashOf(Event{Kind: KindDrop, Lost: 5}), hashOf(held))
}

// A trace without held or lost messages hashes as it did before Lost, Tx
// and Rx existed: the instants are folded only when set. The value is
// the hash of sample's first three events from before they existed.
func TestTraceHashWithoutInstantsIsUnchanged(t *testing.T) {
	assert.Equal(t, uint64(0xcd5d816e935d366f), hashOf(sample[:3]...))
}

// RecordBytes hashes and writes exactly what Record does with the bytes
// as Detail, and builds no string without a writer.
func TestRecordBytesMatchesRecord(t *testing.T) {
	for _, detail := range []string{"", "a", "conn 12 open", "page closed (7's end stays open)", "1 2 3 learners 4 5"} {
		for _, base := range sample {
			whole := base
			whole.Detail = detail
			var wantOut, gotOut strings.Builder
			want, got := NewTrace(&wantOut), NewTrace(&gotOut)
			want.Record(whole)
			got.RecordBytes(base, []byte(detail))
			require.NoError(t, want.Flush())
			require.NoError(t, got.Flush())
			assert.Equal(t, want.Hash(), got.Hash(), "%q", detail)
			assert.Equal(t, wantOut.String(), gotOut.String())
			assert.Equal(t, want.Count(), got.Count())
			hashOnly := NewTrace(nil)
			hashOnly.RecordBytes(base, []byte(detail))
			assert.Equal(t, hashOf(whole), hashOnly.Hash(), "%q without a writer", detail)
		}
	}
	tr := NewTrace(nil)
	allocs := testing.AllocsPerRun(100, func() {
		var buf [32]byte
		d := append(buf[:0], "conn "...)
		d = append(d, '4', '1')
		tr.RecordBytes(Event{Kind: KindFault, Node: 3}, append(d, " open"...))
	})
	assert.Zero(t, allocs)
}

func TestTraceRoundTrip(t *testing.T) {
	var buf strings.Builder
	tr := NewTrace(&buf)
	for _, e := range sample {
		tr.Record(e)
	}
	require.NoError(t, tr.Flush())
	assert.Equal(t, uint64(len(sample)), tr.Count())
	assert.Len(t, tr.HashHex(), 16)
	got, err := ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	assert.Equal(t, sample, got)
	assert.Equal(t, tr.Hash(), hashOf(got...))
	assert.Contains(t, buf.String(), `"k":"send"`)
}

func TestReadTraceRejectsBadInput(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"truncated line": {`{"t":1,"k":"send"}` + "\n" + `{"t":2,"k":"se`, "trace line 2, column 14"},
		"not json":       {"hello\n", "trace line 1, column 1"},
		"wrong type":     {`{"t":"soon","k":"send"}`, "trace line 1, column 11"},
		"unknown kind":   {`{"t":1,"k":"teleport"}`, "unknown trace event kind"},
		"missing kind":   {`{"t":1}`, "missing event kind"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := ReadTrace(strings.NewReader(c.in))
				require.ErrorContains(t, err, c.want)
			})
		})
	}
}

func TestKindNames(t *testing.T) {
	for k := KindSend; k <= KindClient; k++ {
		got, err := ParseKind(k.String())
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	assert.Equal(t, "kind(99)", Kind(99).String())
}

// FuzzReadTrace: whatever the input, ReadTrace does not panic, and fails
// only with a positioned *TraceError. Seed corpus: testdata/fuzz/FuzzReadTrace
// (real trace excerpts and malformed lines).
func FuzzReadTrace(f *testing.F) {
	f.Add(`{"t":1,"k":"send","n":1}`)
	f.Add("{\n")
	f.Add(`{"t":"x","k":"send"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var err error
		require.NotPanics(t, func() { _, err = ReadTrace(strings.NewReader(in)) })
		if err != nil {
			var te *TraceError
			require.ErrorAs(t, err, &te)
			require.GreaterOrEqual(t, te.Line, 1)
			require.GreaterOrEqual(t, te.Column, 0)
		}
	})
}
