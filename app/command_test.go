package app

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommandRoundTrip(t *testing.T) {
	cmds := []Command{
		{},
		{Op: OpPut, Key: "k", Value: "v", Client: 7, Seq: 1},
		{Op: OpCAS, Key: "key", Value: "new", Expect: "old", Client: math.MaxUint64, Seq: MaxSeq},
		{Op: OpSeqAppend, Key: "history", Value: "hello, world", Cnt: -3, Client: 1, Seq: 9},
		{Op: OpSeqAppend, Key: "history", Cnt: MaxCnt},
		{Op: OpSeqAppend, Key: "history", Cnt: MinCnt},
		{Op: OpAppend, Key: strings.Repeat("k", MaxStringLen), Value: strings.Repeat("v", MaxStringLen)},
		{Op: Op(200), Expect: "é"},
	}
	for _, c := range cmds {
		b := c.Encode()
		require.Len(t, b, HeaderSize+len(c.Key)+len(c.Value)+len(c.Expect))
		got, err := DecodeCommand(b)
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
}

func TestCommandOutOfBounds(t *testing.T) {
	long := strings.Repeat("x", MaxStringLen+1)
	for _, c := range []Command{{Key: long}, {Value: long}, {Expect: long}, {Seq: MaxSeq + 1}, {Cnt: MaxCnt + 1}, {Cnt: MinCnt - 1}} {
		require.Error(t, c.Validate())
		require.Panics(t, func() { c.Encode() })
	}
}

func TestDecodeCommandRefuses(t *testing.T) {
	good := Command{Op: OpPut, Key: "k", Value: "v"}.Encode()
	_, err := DecodeCommand(good[:HeaderSize-1])
	require.ErrorIs(t, err, ErrShortCommand)
	_, err = DecodeCommand(nil)
	require.ErrorIs(t, err, ErrShortCommand)
	_, err = DecodeCommand(good[:len(good)-1])
	require.Error(t, err, "truncated")
	_, err = DecodeCommand(append(bytes.Clone(good), 'x'))
	require.Error(t, err, "trailing bytes")
	bad := bytes.Clone(good)
	bad[1] = 1
	_, err = DecodeCommand(bad)
	require.Error(t, err, "reserved byte")
}

// FuzzDecodeCommand: decoding hostile bytes never panics, and whatever
// decodes encodes back to the same bytes.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte{})
	f.Add(Command{}.Encode())
	f.Add(Command{Op: OpCAS, Key: "k", Value: "v", Expect: "e", Client: 3, Seq: 4}.Encode())
	f.Add(Command{Op: OpSeqAppend, Key: "history", Value: "hi", Cnt: -1, Client: 1, Seq: 2}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			return
		}
		if !bytes.Equal(b, c.Encode()) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, c, c.Encode())
		}
	})
}
