// Package wire is the wire codec for Raft messages on a datachannel: the
// bytes one tab sends another, in the pion world (pionworld) and between
// browser tabs (browserworld). It imports only raft, so a tab compiled to
// WebAssembly can use it.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/raftsim/raftsim/raft"
)

// Wire format, version 2. Every integer is an unsigned varint, every
// string and byte slice a varint length then the bytes:
//
//	version byte (1)
//	type, from, to, term, logTerm, index, commit, rejectHint, context
//	flags (bit 0: reject; bit 1: a snapshot chunk follows)
//	entry count, then each entry: term, index, type, data, change
//	[snapshot chunk: index, term, voters, learners, offset, total, data]
//
// An entry's data (the application's command, opaque here) is a byte
// slice. A change: type, node, voters, learners. Lists are a count then
// the items. (Version 1 carried a decoded command in place of the data.)
const wireVersion = 2

// Limits that keep a decoder from allocating on a garbage length.
const (
	maxEntries = 1 << 16
	maxList    = 1 << 12
	maxBytes   = 64 << 20
)

// ErrWire: a message could not be decoded.
var ErrWire = errors.New("wire: bad message")

// Encode appends m's encoding to b.
func Encode(b []byte, m *raft.Message) []byte {
	b = append(b, wireVersion)
	for _, v := range []uint64{uint64(m.Type), uint64(m.From), uint64(m.To), m.Term, m.LogTerm, m.Index, m.Commit, m.RejectHint, m.Context} {
		b = binary.AppendUvarint(b, v)
	}
	var flags uint64
	if m.Reject {
		flags |= 1
	}
	if m.Snap != nil {
		flags |= 2
	}
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendUvarint(b, uint64(len(m.Entries)))
	for i := range m.Entries {
		e := &m.Entries[i]
		b = binary.AppendUvarint(b, e.Term)
		b = binary.AppendUvarint(b, e.Index)
		b = binary.AppendUvarint(b, uint64(e.Type))
		b = binary.AppendUvarint(b, uint64(len(e.Data)))
		b = append(b, e.Data...)
		b = binary.AppendUvarint(b, uint64(e.Change.Type))
		b = binary.AppendUvarint(b, uint64(e.Change.Node))
		b = appendIDs(b, e.Change.Voters)
		b = appendIDs(b, e.Change.Learners)
	}
	if s := m.Snap; s != nil {
		b = binary.AppendUvarint(b, s.Index)
		b = binary.AppendUvarint(b, s.Term)
		b = appendIDs(b, s.Voters)
		b = appendIDs(b, s.Learners)
		b = binary.AppendUvarint(b, uint64(s.Offset))
		b = binary.AppendUvarint(b, uint64(s.Total))
		b = binary.AppendUvarint(b, uint64(len(s.Data)))
		b = append(b, s.Data...)
	}
	return b
}

func appendIDs(b []byte, ids []raft.ID) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

// decoder reads a message, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrWire, what)
	}
}

func (d *decoder) uint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) small(what string, limit uint64) int {
	v := d.uint(what)
	if v > limit {
		d.fail(what + " too large")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(what string) []byte {
	n := d.small(what+" length", maxBytes)
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(what + " truncated")
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) ids(what string) []raft.ID {
	n := d.small(what+" count", maxList)
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]raft.ID, 0, min(n, len(d.b)))
	for range n {
		out = append(out, raft.ID(d.uint(what)))
	}
	return out
}

func (d *decoder) u8(what string) uint8 {
	v := d.uint(what)
	if v > math.MaxUint8 {
		d.fail(what + " out of range")
	}
	return uint8(v)
}

// Decode decodes one message. Garbage gives an error wrapping ErrWire,
// never a panic.
func Decode(b []byte) (raft.Message, error) {
	var m raft.Message
	if len(b) == 0 {
		return m, fmt.Errorf("%w: empty", ErrWire)
	}
	if b[0] != wireVersion {
		return m, fmt.Errorf("%w: version %d, want %d", ErrWire, b[0], wireVersion)
	}
	d := &decoder{b: b[1:]}
	m.Type = raft.MsgType(d.u8("type"))
	m.From = raft.ID(d.uint("from"))
	m.To = raft.ID(d.uint("to"))
	m.Term = d.uint("term")
	m.LogTerm = d.uint("log term")
	m.Index = d.uint("index")
	m.Commit = d.uint("commit")
	m.RejectHint = d.uint("reject hint")
	m.Context = d.uint("context")
	flags := d.uint("flags")
	m.Reject = flags&1 != 0
	n := d.small("entry count", maxEntries)
	if n > 0 && d.err == nil {
		m.Entries = make([]raft.Entry, 0, min(n, len(d.b)))
	}
	for i := 0; i < n && d.err == nil; i++ {
		var e raft.Entry
		e.Term = d.uint("entry term")
		e.Index = d.uint("entry index")
		e.Type = raft.EntryType(d.u8("entry type"))
		e.Data = append([]byte(nil), d.bytes("data")...)
		e.Change.Type = raft.ConfChangeType(d.u8("change type"))
		e.Change.Node = raft.ID(d.uint("change node"))
		e.Change.Voters = d.ids("voters")
		e.Change.Learners = d.ids("learners")
		m.Entries = append(m.Entries, e)
	}
	if flags&2 != 0 && d.err == nil {
		c := &raft.SnapChunk{}
		c.Index = d.uint("snapshot index")
		c.Term = d.uint("snapshot term")
		c.Voters = d.ids("snapshot voters")
		c.Learners = d.ids("snapshot learners")
		c.Offset = d.small("snapshot offset", maxBytes)
		c.Total = d.small("snapshot total", maxBytes)
		c.Data = append([]byte(nil), d.bytes("snapshot data")...)
		if d.err == nil && c.Offset+len(c.Data) > c.Total {
			d.fail("snapshot chunk beyond its total")
		}
		m.Snap = c
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d bytes left over", len(d.b)))
	}
	if d.err != nil {
		return raft.Message{}, d.err
	}
	return m, nil
}
