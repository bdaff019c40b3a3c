package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Op is a state machine operation.
type Op uint8

// Operations of the KV and Chat state machines.
const (
	OpGet       Op = iota + 1 // KV: read Key
	OpPut                     // KV: Key = Value
	OpCAS                     // KV: if Key == Expect then Key = Value
	OpAppend                  // KV: Key += Value
	OpSeqAppend               // Chat: the paper's seqAppend on list Key
)

var opNames = [...]string{"", "get", "put", "cas", "append", "seqAppend"}

// String returns the operation's name.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Command is a client command, carried by a Raft EntryNormal as the bytes
// of Encode. Client and Seq identify it (a client numbers its commands),
// so histories can be matched to applies.
type Command struct {
	Op     Op
	Key    string
	Value  string
	Expect string
	Cnt    int64 // seqAppend: the counter the client believes is current
	Client uint64
	Seq    uint64
}

// HeaderSize is the size of an encoded command's fixed header: every
// encoded command is HeaderSize+len(Key)+len(Value)+len(Expect) bytes.
//
// The header, little-endian:
//
//	0      op
//	1      reserved, 0
//	2..7   the lengths of Key, Value and Expect, uint16 each
//	8..15  Client, uint64
//	16..19 Seq, uint32
//	20..23 Cnt, int32
const HeaderSize = 24

// The bounds of an encodable command (Validate).
const (
	MaxStringLen = math.MaxUint16 // Key, Value and Expect, in bytes
	MaxSeq       = math.MaxUint32
	MinCnt       = math.MinInt32
	MaxCnt       = math.MaxInt32
)

// ErrShortCommand: the bytes are too short to hold a command's header.
var ErrShortCommand = errors.New("app: command shorter than its header")

// Validate reports whether the command can be encoded: its strings at most
// MaxStringLen bytes, Seq at most MaxSeq, Cnt within [MinCnt, MaxCnt].
// Clients generate short keys and values and number their commands from 1,
// far within the bounds.
func (c Command) Validate() error {
	switch {
	case len(c.Key) > MaxStringLen || len(c.Value) > MaxStringLen || len(c.Expect) > MaxStringLen:
		return fmt.Errorf("app: command key, value or expect longer than %d bytes", MaxStringLen)
	case c.Seq > MaxSeq:
		return fmt.Errorf("app: command seq %d above %d", c.Seq, uint64(MaxSeq))
	case c.Cnt < MinCnt || c.Cnt > MaxCnt:
		return fmt.Errorf("app: command cnt %d out of the int32 range", c.Cnt)
	}
	return nil
}

// Encode returns the command's compact binary form (HeaderSize). It panics
// if the command is out of bounds: check Validate first where a command
// may be.
func (c Command) Encode() []byte {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	b := make([]byte, HeaderSize, HeaderSize+len(c.Key)+len(c.Value)+len(c.Expect))
	b[0] = byte(c.Op)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(c.Key)))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(c.Value)))
	binary.LittleEndian.PutUint16(b[6:], uint16(len(c.Expect)))
	binary.LittleEndian.PutUint64(b[8:], c.Client)
	binary.LittleEndian.PutUint32(b[16:], uint32(c.Seq))
	binary.LittleEndian.PutUint32(b[20:], uint32(int32(c.Cnt)))
	b = append(b, c.Key...)
	b = append(b, c.Value...)
	return append(b, c.Expect...)
}

// DecodeCommand returns the command encoded in b (Encode). It accepts only
// the exact encoding: a header with its reserved byte 0, followed by
// exactly the strings it announces.
func DecodeCommand(b []byte) (Command, error) {
	if len(b) < HeaderSize {
		return Command{}, ErrShortCommand
	}
	if b[1] != 0 {
		return Command{}, fmt.Errorf("app: command header's reserved byte is %d", b[1])
	}
	nk := int(binary.LittleEndian.Uint16(b[2:]))
	nv := int(binary.LittleEndian.Uint16(b[4:]))
	ne := int(binary.LittleEndian.Uint16(b[6:]))
	if n := HeaderSize + nk + nv + ne; len(b) != n {
		return Command{}, fmt.Errorf("app: command of %d bytes announces %d", len(b), n)
	}
	s := b[HeaderSize:]
	return Command{
		Op:     Op(b[0]),
		Key:    string(s[:nk]),
		Value:  string(s[nk : nk+nv]),
		Expect: string(s[nk+nv:]),
		Client: binary.LittleEndian.Uint64(b[8:]),
		Seq:    uint64(binary.LittleEndian.Uint32(b[16:])),
		Cnt:    int64(int32(binary.LittleEndian.Uint32(b[20:]))),
	}, nil
}
