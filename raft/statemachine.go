package raft

import "strconv"

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

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// Command is a client command carried by an EntryNormal. Client and Seq
// identify it (a client numbers its commands), so histories can be matched
// to applies.
type Command struct {
	Op     Op
	Key    string
	Value  string
	Expect string
	Cnt    int64 // seqAppend: the counter the client believes is current
	Client uint64
	Seq    uint64
}

func (c *Command) size() int { return 24 + len(c.Key) + len(c.Value) + len(c.Expect) }

// Result is what applying a command returns to its client.
type Result struct {
	OK    bool   // put/append: true; get: key present; cas, seqAppend: applied
	Value string // get, cas: the value after the operation
	Cnt   int64  // seqAppend: the list's counter after the operation
}

// StateMachine applies committed commands. Apply must be deterministic.
type StateMachine interface {
	Apply(Command) Result
}

// KV is a key-value store with get, put, cas and append.
type KV struct {
	data map[string]string
}

// NewKV returns an empty store.
func NewKV() *KV { return &KV{data: make(map[string]string)} }

// Apply implements StateMachine.
func (kv *KV) Apply(c Command) Result {
	switch c.Op {
	case OpGet:
		v, ok := kv.data[c.Key]
		return Result{OK: ok, Value: v}
	case OpPut:
		kv.data[c.Key] = c.Value
		return Result{OK: true, Value: c.Value}
	case OpCAS:
		cur := kv.data[c.Key]
		if cur != c.Expect {
			return Result{OK: false, Value: cur}
		}
		kv.data[c.Key] = c.Value
		return Result{OK: true, Value: c.Value}
	case OpAppend:
		kv.data[c.Key] += c.Value
		return Result{OK: true, Value: kv.data[c.Key]}
	}
	return Result{}
}

// Get returns the stored value of key (for inspection, not through Raft).
func (kv *KV) Get(key string) (string, bool) {
	v, ok := kv.data[key]
	return v, ok
}

// Chat is the paper's chat state machine: named lists, each with a counter.
// seqAppend{key, cnt, value} appends value only if cnt equals the list's
// counter, then increments it; the result is [applied, counter], and a
// client whose append was refused retries with the returned counter.
type Chat struct {
	lists map[string]*chatList
}

type chatList struct {
	cnt   int64
	lines []string
}

// NewChat returns an empty chat.
func NewChat() *Chat { return &Chat{lists: make(map[string]*chatList)} }

// Apply implements StateMachine.
func (ch *Chat) Apply(c Command) Result {
	if c.Op != OpSeqAppend {
		return Result{}
	}
	l := ch.lists[c.Key]
	if l == nil {
		l = &chatList{}
		ch.lists[c.Key] = l
	}
	if c.Cnt != l.cnt {
		return Result{OK: false, Cnt: l.cnt}
	}
	l.cnt++
	l.lines = append(l.lines, c.Value)
	return Result{OK: true, Cnt: l.cnt}
}

// Lines returns list key's lines (shared; do not modify).
func (ch *Chat) Lines(key string) []string {
	if l := ch.lists[key]; l != nil {
		return l.lines
	}
	return nil
}
