package sim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind is the type of a traced event.
type Kind uint8

// Traced event kinds. Their names are part of the trace format.
const (
	KindSend Kind = iota + 1
	KindDeliver
	KindDrop
	KindTimerSet
	KindTimerFire
	KindRole
	KindTerm
	KindAppend
	KindCommit
	KindApply
	KindConfig
	KindFault
	KindMeasure
	KindViolation
	KindClient
	KindSnapshot
	KindStorage
)

var kindNames = [...]string{
	KindSend:      "send",
	KindDeliver:   "deliver",
	KindDrop:      "drop",
	KindTimerSet:  "timer_set",
	KindTimerFire: "timer_fire",
	KindRole:      "role",
	KindTerm:      "term",
	KindAppend:    "append",
	KindCommit:    "commit",
	KindApply:     "apply",
	KindConfig:    "config",
	KindFault:     "fault",
	KindMeasure:   "measure",
	KindViolation: "violation",
	KindClient:    "client",
	KindSnapshot:  "snapshot",
	KindStorage:   "storage",
}

// String returns the kind's name as written in traces.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind returns the kind called name.
func ParseKind(name string) (Kind, error) {
	for k, n := range kindNames {
		if n != "" && n == name {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("sim: unknown trace event kind %q", name)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Event is one traced event. Node and Peer are node ids (0 when not
// applicable); Term and Index qualify Raft events; Msg names a message or
// timer type; Detail carries free text such as a role name or fault.
//
// Lost, Tx and Rx are instants (0: none) that say where a message's time
// went when its network held or lost it. A drop is traced when the
// network decides the message's fate, at the send; Lost is when it was
// really lost, if later: when it would have arrived (a lost
// transmission) or when its sender gave up retransmitting it (partial
// reliability). A deliver's Tx is when the transmission that got
// through left the sender, if the sender held the message after the
// send (retransmissions, a partition); Rx is when it reached the
// receiver's end, if an ordered channel then held it behind an earlier
// late message until the deliver. Detail says why.
type Event struct {
	Time   Time   `json:"t"`
	Kind   Kind   `json:"k"`
	Node   uint64 `json:"n,omitempty"`
	Peer   uint64 `json:"p,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	Index  uint64 `json:"idx,omitempty"`
	Msg    string `json:"msg,omitempty"`
	Detail string `json:"d,omitempty"`
	Lost   Time   `json:"lost,omitempty"`
	Tx     Time   `json:"tx,omitempty"`
	Rx     Time   `json:"rx,omitempty"`
}

// Trace folds events into a running 64-bit FNV-1a-style hash over a
// canonical encoding and, if it has a writer, writes them as JSON lines.
type Trace struct {
	hash  uint64
	count uint64
	w     *bufio.Writer
	enc   *json.Encoder
	err   error
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// heldMarker precedes the instants of a held or lost message in the
	// hash: above every Kind, so it is never mistaken for one.
	heldMarker = 1 << 63
)

// NewTrace returns a trace that writes JSON lines to w (nil: hash only).
func NewTrace(w io.Writer) *Trace {
	t := &Trace{hash: fnvOffset}
	if w != nil {
		t.w = bufio.NewWriterSize(w, 1<<16)
		t.enc = json.NewEncoder(t.w)
	}
	return t
}

// Record hashes e and writes it if the trace has a writer. With no writer
// it allocates nothing and builds no string.
func (t *Trace) Record(e Event) {
	h := hashHead(t.hash, &e)
	h = hashString(h, e.Detail)
	t.finish(h, &e)
}

// RecordBytes records e with its Detail the string of detail's bytes: the
// same hash and line as Record with that Detail, but the string is built
// only when the trace has a writer. It is for details formatted in a
// buffer (an id in a sentence, a list of ids) that a run which only hashes
// its trace would otherwise allocate for every event. detail is not kept.
func (t *Trace) RecordBytes(e Event, detail []byte) {
	h := hashHead(t.hash, &e)
	h = hashBytes(h, detail)
	if t.enc != nil {
		e.Detail = string(detail)
	}
	t.finish(h, &e)
}

// hashHead folds e's fields up to its Detail into h.
func hashHead(h uint64, e *Event) uint64 {
	// Fixed-width fields are folded a word at a time, strings byte-wise
	// after their length: a canonical encoding, cheap enough to hash every
	// event of a run. FNV-1a is a chain of dependent multiplications, so
	// the cost is one multiply per word and per byte; the folds are
	// written out to keep it at that.
	h = (h ^ uint64(e.Kind)) * fnvPrime
	h = (h ^ uint64(e.Time)) * fnvPrime
	h = (h ^ e.Node) * fnvPrime
	h = (h ^ e.Peer) * fnvPrime
	h = (h ^ e.Term) * fnvPrime
	h = (h ^ e.Index) * fnvPrime
	return hashString(h, e.Msg)
}

// finish folds e's fields after its Detail into h, keeps the hash, and
// writes e if the trace has a writer.
func (t *Trace) finish(h uint64, e *Event) {
	if e.Lost|e.Tx|e.Rx != 0 {
		// Folded only when set, so that a trace without them (a run
		// without loss or partitions) keeps the hash it had before
		// they existed; the marker keeps them apart from the next
		// event's kind.
		h = (h ^ heldMarker) * fnvPrime
		h = (h ^ uint64(e.Lost)) * fnvPrime
		h = (h ^ uint64(e.Tx)) * fnvPrime
		h = (h ^ uint64(e.Rx)) * fnvPrime
	}
	t.hash = h
	t.count++
	if t.enc != nil {
		t.write(*e)
	}
}

// hashString folds s's length, then its bytes.
func hashString(h uint64, s string) uint64 {
	h = (h ^ uint64(len(s))) * fnvPrime
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// hashBytes is hashString of string(b).
func hashBytes(h uint64, b []byte) uint64 {
	h = (h ^ uint64(len(b))) * fnvPrime
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// write encodes e as one JSON line; after the first error it writes no
// more. It is kept out of line, and encodes copies of e's strings: that
// way e does not escape Record, and a caller may build a trace string in
// a buffer on its stack (the compiler does so for short concatenations
// that do not escape) whether or not the trace is written.
//
//go:noinline
func (t *Trace) write(e Event) {
	if t.err != nil {
		return
	}
	t.err = t.enc.Encode(Event{Time: e.Time, Kind: e.Kind, Node: e.Node, Peer: e.Peer, Term: e.Term, Index: e.Index,
		Msg: strings.Clone(e.Msg), Detail: strings.Clone(e.Detail), Lost: e.Lost, Tx: e.Tx, Rx: e.Rx})
}

// Hash returns the running hash of all recorded events.
func (t *Trace) Hash() uint64 { return t.hash }

// HashHex returns the hash as 16 hex digits.
func (t *Trace) HashHex() string { return fmt.Sprintf("%016x", t.hash) }

// Count returns how many events were recorded.
func (t *Trace) Count() uint64 { return t.count }

// Flush writes buffered lines and returns the first write error.
func (t *Trace) Flush() error {
	if t.w != nil && t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

// TraceError is a malformed trace line: where, and what is wrong.
type TraceError struct {
	Line, Column int // 1-based; Column 0 when the whole line is at fault
	Err          error
}

func (e *TraceError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("trace line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("trace line %d: %v", e.Line, e.Err)
}

func (e *TraceError) Unwrap() error { return e.Err }

// ReadTrace reads a JSON-lines trace. A malformed line is reported as a
// *TraceError with its line (and column, where the JSON decoder knows it).
func ReadTrace(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var out []Event
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, &TraceError{Line: line, Column: jsonColumn(err), Err: err}
		}
		if e.Kind == 0 {
			return out, &TraceError{Line: line, Err: errors.New("missing event kind")}
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, &TraceError{Line: line + 1, Err: err}
	}
	return out, nil
}

// jsonColumn is the column of a JSON decoding error (its byte offset in
// the line, 1-based), or 0 when the decoder gives none.
func jsonColumn(err error) int {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return max(int(syn.Offset), 1)
	case errors.As(err, &typ):
		return max(int(typ.Offset), 1)
	}
	return 0
}
