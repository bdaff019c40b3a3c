package sim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
type Event struct {
	Time   Time   `json:"t"`
	Kind   Kind   `json:"k"`
	Node   uint64 `json:"n,omitempty"`
	Peer   uint64 `json:"p,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	Index  uint64 `json:"idx,omitempty"`
	Msg    string `json:"msg,omitempty"`
	Detail string `json:"d,omitempty"`
}

// Trace folds events into a running 64-bit FNV-1a hash over a canonical
// binary encoding and, if it has a writer, writes them as JSON lines.
type Trace struct {
	hash   uint64
	count  uint64
	w      *bufio.Writer
	enc    *json.Encoder
	err    error
	buf    []byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
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

// Record hashes e and writes it if the trace has a writer.
func (t *Trace) Record(e Event) {
	b := t.buf[:0]
	b = append(b, byte(e.Kind))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Time))
	b = binary.LittleEndian.AppendUint64(b, e.Node)
	b = binary.LittleEndian.AppendUint64(b, e.Peer)
	b = binary.LittleEndian.AppendUint64(b, e.Term)
	b = binary.LittleEndian.AppendUint64(b, e.Index)
	b = binary.AppendUvarint(b, uint64(len(e.Msg)))
	b = append(b, e.Msg...)
	b = binary.AppendUvarint(b, uint64(len(e.Detail)))
	b = append(b, e.Detail...)
	h := t.hash
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	t.hash = h
	t.buf = b
	t.count++
	if t.enc != nil && t.err == nil {
		t.err = t.enc.Encode(e)
	}
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

// ReadTrace reads a JSON-lines trace. A malformed line is reported with its
// line number.
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
			return out, fmt.Errorf("trace line %d: %w", line, err)
		}
		if e.Kind == 0 {
			return out, fmt.Errorf("trace line %d: missing event kind", line)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("trace line %d: %w", line+1, err)
	}
	return out, nil
}
