package checker

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability of client histories, checked after a run with porcupine
// against sequential models of the KV store and of the paper's chat lists.
// Both histories are partitioned by key (list), which is sound because keys
// are independent objects, and makes the search far cheaper.

// Linearizability results (the run's --json "linearizability" field).
const (
	LinOK      = "ok"
	LinIllegal = "illegal"
	LinUnknown = "unknown" // the checker ran out of time
	LinNA      = "n/a"     // no client operations
)

// KVKind is a KV operation kind.
type KVKind uint8

// KV operation kinds.
const (
	KVGet KVKind = iota + 1
	KVPut
	KVCas
)

// KVOp is one client operation on the replicated KV store as the client
// saw it.
//
// A cas succeeds iff the key is present with value Expect, or Expect is ""
// and the key is absent. This is what app.KV does (it compares Expect
// with the stored value, "" for an absent key), so a cas expecting "" also
// succeeds on a key present with the empty value.
type KVOp struct {
	Client   uint64
	Kind     KVKind
	Key      string
	Value    string // put: the value written; cas: the new value
	Expect   string // cas: the expected old value ("" = key absent)
	Call     int64  // virtual time of the call, ns
	Return   int64  // virtual time of the response, ns; ignored if !Returned
	Returned bool   // false: the operation never returned (timed out, client gave up)
	Found    bool   // get: the key existed
	Out      string // get: the value read; a failed cas: the value it found
	OK       bool   // cas: it succeeded
}

// ChatOp is one seqAppend of the paper's chat app (append Value to the
// list Key if the list has exactly Cnt lines, else fail and return the
// current count), or a read of the whole list.
type ChatOp struct {
	Client       uint64
	Read         bool // a read of the list
	Key          string
	Value        string
	Cnt          int64 // seqAppend's expected count
	Call, Return int64
	Returned     bool
	OK           bool     // seqAppend succeeded
	OutCnt       int64    // the count returned (seqAppend; ignored for a read)
	Lines        []string // read: the list
}

// Annotation is one of raftsim's own events shown on the history page (a
// leader change, a fault, a partition).
type Annotation struct {
	Time int64  // virtual ns
	Tag  string // a short kind: "leader", "fault", ...
	Text string
}

// LinResult is the outcome of a check.
type LinResult struct {
	Result string // LinOK, LinIllegal, LinUnknown (or LinNA)
	Detail string // for illegal: a short human description (which key, which operations)
	info   porcupine.LinearizationInfo
	model  porcupine.Model
	// left are the operations left out of the check, shown on the page
	// as grey boxes on their clients' rows.
	left []porcupine.Annotation
}

// opMeta travels with each porcupine operation: the client as raftsim
// numbers it (porcupine's ClientId is a dense row index).
type opMeta struct {
	client uint64
}

// CheckKV checks a KV history, partitioned by key, within timeout (0: no
// limit). An empty history is LinNA.
//
// Operations that never returned may have taken effect at any time after
// their call, or never: they are given a return after the end of the
// history and an output that any outcome matches. Two kinds of them are
// left out, soundly, because they cannot change the answer and only slow
// the search (each is concurrent with everything after its call):
//   - a get, which changes nothing;
//   - a put or cas whose value no operation on its key can have observed:
//     no returned get read it, no cas expected it, and no returned failed
//     cas found it (a failed cas reports the value it found). Given any
//     linearization in which it took effect, removing it only changes what
//     the operations up to the next write saw, and by those conditions
//     none of them can tell: a returned get or failed cas there would have
//     reported its value, and an unanswered cas there may be taken as not
//     having taken effect (see TestCheckKVDropsOnlyUnobservableWrites).
//
// A put or cas that never returned but whose value a returned operation
// observed is given that operation's return instead, when no other
// operation wrote the same value: it must have taken effect before the
// value was seen, so the bound loses no linearization, and without it the
// write is concurrent with everything after its call, which is what makes
// such histories slow to search (writeDeadlines).
func CheckKV(ops []KVOp, timeout time.Duration) LinResult {
	if len(ops) == 0 {
		return LinResult{Result: LinNA, model: kvModel()}
	}
	type keyValue struct{ key, value string }
	observed := map[keyValue]bool{}
	for _, op := range ops {
		switch {
		case op.Kind == KVCas:
			observed[keyValue{op.Key, op.Expect}] = true
			if op.Returned && !op.OK {
				observed[keyValue{op.Key, op.Out}] = true
			}
		case op.Kind == KVGet && op.Returned && op.Found:
			observed[keyValue{op.Key, op.Out}] = true
		}
	}
	droppable := func(op KVOp) bool {
		switch op.Kind {
		case KVPut, KVCas:
			return !observed[keyValue{op.Key, op.Value}]
		}
		return true // a get, or not an operation the model knows
	}

	end := endOfHistory(len(ops), func(i int) (int64, int64, bool) { return ops[i].Call, ops[i].Return, ops[i].Returned })
	deadline := writeDeadlines(ops)
	var c checkInput
	for _, op := range ops {
		if op.Kind < KVGet || op.Kind > KVCas {
			continue
		}
		ret := op.Return
		if !op.Returned {
			ret = end
			if t, ok := deadline[kvWrite{op.Key, op.Value}]; ok && op.Kind != KVGet && t > op.Call {
				ret = t
			}
		}
		c.add(porcupine.Operation{
			Input:    kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call:     op.Call,
			Output:   kvOutput{unknown: !op.Returned, found: op.Found, out: op.Out, ok: op.OK},
			Return:   ret,
			Metadata: opMeta{client: op.Client},
		}, !op.Returned && droppable(op))
	}
	return c.check(kvModel(), timeout, "key")
}

// kvWrite is a value written to a key.
type kvWrite struct{ key, value string }

// writeDeadlines returns, for each value written to a key by exactly one
// put or cas, the earliest return of an operation that observed it: a get
// that read it, a cas that expected it and succeeded, or a failed cas that
// found it. That write took effect before then.
func writeDeadlines(ops []KVOp) map[kvWrite]int64 {
	writers := map[kvWrite]int{}
	seen := map[kvWrite]int64{}
	saw := func(w kvWrite, at int64) {
		if t, ok := seen[w]; !ok || at < t {
			seen[w] = at
		}
	}
	for _, op := range ops {
		switch op.Kind {
		case KVPut, KVCas:
			writers[kvWrite{op.Key, op.Value}]++
		}
		if !op.Returned {
			continue
		}
		switch {
		case op.Kind == KVGet && op.Found:
			saw(kvWrite{op.Key, op.Out}, op.Return)
		case op.Kind == KVCas && op.OK && op.Expect != "":
			saw(kvWrite{op.Key, op.Expect}, op.Return)
		case op.Kind == KVCas && !op.OK && op.Out != "":
			saw(kvWrite{op.Key, op.Out}, op.Return)
		}
	}
	for w := range seen {
		if writers[w] != 1 {
			delete(seen, w)
		}
	}
	return seen
}

// CheckChat checks a chat history, partitioned by list key, within timeout
// (0: no limit). An empty history is LinNA. A seqAppend that never
// returned may or may not have taken effect; a read that never returned is
// left out (it changes nothing).
func CheckChat(ops []ChatOp, timeout time.Duration) LinResult {
	if len(ops) == 0 {
		return LinResult{Result: LinNA, model: chatModel()}
	}
	end := endOfHistory(len(ops), func(i int) (int64, int64, bool) { return ops[i].Call, ops[i].Return, ops[i].Returned })
	var c checkInput
	for _, op := range ops {
		ret := op.Return
		if !op.Returned {
			ret = end
		}
		c.add(porcupine.Operation{
			Input:    chatInput{read: op.Read, key: op.Key, value: op.Value, cnt: op.Cnt},
			Call:     op.Call,
			Output:   chatOutput{unknown: !op.Returned, ok: op.OK, outCnt: op.OutCnt, lines: op.Lines},
			Return:   ret,
			Metadata: opMeta{client: op.Client},
		}, op.Read && !op.Returned)
	}
	return c.check(chatModel(), timeout, "list")
}

// endOfHistory is the return time given to operations that never
// returned: after every call and return, so such an operation may take
// effect at any time after its call (and porcupine's page draws it to the
// end of the history rather than to MaxInt64).
func endOfHistory(n int, at func(int) (call, ret int64, returned bool)) int64 {
	var end int64
	for i := range n {
		call, ret, returned := at(i)
		end = max(end, call)
		if returned {
			end = max(end, ret)
		}
	}
	return end + 1
}

// checkInput is a history for porcupine and the operations left out of it.
type checkInput struct {
	history, left []porcupine.Operation
}

func (c *checkInput) add(op porcupine.Operation, leaveOut bool) {
	if leaveOut {
		c.left = append(c.left, op)
	} else {
		c.history = append(c.history, op)
	}
}

// check runs porcupine on the history and maps its answer; what names a
// partition in Detail ("key", "list").
func (c *checkInput) check(model porcupine.Model, timeout time.Duration, what string) LinResult {
	// One row per client on the page, numbered densely: raftsim's client
	// ids can be large (open-loop clients), and porcupine draws rows up to
	// the largest ClientId.
	var ids []uint64
	for _, ops := range [][]porcupine.Operation{c.history, c.left} {
		for _, op := range ops {
			ids = append(ids, op.Metadata.(opMeta).client)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	row := func(op porcupine.Operation) int {
		i, _ := slices.BinarySearch(ids, op.Metadata.(opMeta).client)
		return i
	}
	for i := range c.history {
		c.history[i].ClientId = row(c.history[i])
	}
	history := c.history

	res, info := porcupine.CheckOperationsVerbose(model, history, timeout)
	r := LinResult{info: info, model: model}
	for _, op := range c.left {
		r.left = append(r.left, porcupine.Annotation{
			ClientId: row(op), Start: op.Call, End: op.Return,
			Description: model.DescribeOperation(op.Input, op.Output),
			Details:     fmt.Sprintf("client %d: left out of the check, as it cannot change the answer", op.Metadata.(opMeta).client),
		})
	}
	switch res {
	case porcupine.Ok:
		r.Result = LinOK
	case porcupine.Illegal:
		r.Result = LinIllegal
		r.Detail = illegalDetail(model, history, info, what)
	default:
		r.Result = LinUnknown
		r.Detail = fmt.Sprintf("the checker ran out of time (%v) on %d operations", timeout, len(history))
	}
	return r
}

// illegalDetail describes the first partition (in key order) that has no
// linearization: its key, how far the search got, and the first operation
// (by return time) that the longest partial linearization leaves out,
// which is where to start reading the page. If the check also timed out,
// a partition cut short may be named instead of the illegal one.
func illegalDetail(model porcupine.Model, history []porcupine.Operation, info porcupine.LinearizationInfo, what string) string {
	parts := model.Partition(history)
	partials := info.PartialLinearizations()
	for p, part := range parts {
		if p >= len(partials) {
			break
		}
		// The longest partial linearization; ties broken by the ids so
		// the detail does not depend on porcupine's map order.
		var best []int
		for _, lin := range partials[p] {
			if len(lin) > len(best) || (len(lin) == len(best) && slices.Compare(lin, best) < 0) {
				best = lin
			}
		}
		if len(best) == len(part) {
			continue
		}
		in := make([]bool, len(part))
		for _, id := range best {
			in[id] = true
		}
		first := -1
		for i, op := range part {
			if !in[i] && (first < 0 || op.Return < part[first].Return) {
				first = i
			}
		}
		op := part[first]
		return fmt.Sprintf("no linearization for %s %s: at most %d of its %d operations linearize; the first left out is %s (client %d, %v to %v)",
			what, partitionKey(op.Input), len(best), len(part),
			model.DescribeOperation(op.Input, op.Output), op.Metadata.(opMeta).client,
			time.Duration(op.Call), returnTime(op))
	}
	return "no linearization"
}

func returnTime(op porcupine.Operation) string {
	if out, ok := op.Output.(interface{ never() bool }); ok && out.never() {
		return "no answer"
	}
	return time.Duration(op.Return).String()
}

func partitionKey(input interface{}) string {
	switch in := input.(type) {
	case kvInput:
		return in.key
	case chatInput:
		return in.key
	}
	return ""
}

// partitionBy splits a history by key, in key order so that partitions
// (and so Detail) are deterministic.
func partitionBy(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := partitionKey(op.Input)
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, byKey[k])
	}
	return parts
}

// toModel converts a nondeterministic model and describes a set of
// possible states as alternatives ("{k1: v2} or {k1: v3}") rather than
// porcupine's nested braces.
func toModel(nm porcupine.NondeterministicModel) porcupine.Model {
	m := nm.ToModel()
	m.DescribeState = func(state interface{}) string {
		states := state.([]interface{})
		descs := make([]string, len(states))
		for i, s := range states {
			descs[i] = nm.DescribeState(s)
		}
		return strings.Join(descs, " or ")
	}
	m.DescribeOperationMetadata = func(meta interface{}) string {
		if m, ok := meta.(opMeta); ok {
			return fmt.Sprintf("client %d", m.client)
		}
		return ""
	}
	return m
}

// WriteHTML writes porcupine's visualization of the checked history, with
// the annotations added (porcupine's LinearizationInfo.AddAnnotations). A
// LinNA result gives a page with the annotations alone.
func (r LinResult) WriteHTML(w io.Writer, annotations []Annotation) error {
	model := r.model
	if model.Step == nil && model.StepContext == nil {
		model = kvModel() // a zero LinResult: any model draws an empty history
	}
	anns := slices.Clone(r.left)
	for _, a := range annotations {
		tag := cmp.Or(a.Tag, "raftsim") // porcupine needs a tag (or a client)
		anns = append(anns, porcupine.Annotation{
			Tag: tag, Start: a.Time, End: a.Time, Description: a.Text,
			Details: fmt.Sprintf("%s at %v: %s", tag, time.Duration(a.Time), a.Text),
		})
	}
	// r.info's annotations are nil (AddAnnotations is only called here, on
	// a copy), so r itself is not changed.
	info := r.info
	info.AddAnnotations(anns)
	return porcupine.Visualize(model, info, w)
}

// fnv64 is FNV-1a, for state hashes (deterministic, no allocation).
func fnv64(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

const fnvOffset = 14695981039346656037

// quote shows a value, making the empty string visible.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// ---- KV ----

type kvInput struct {
	kind               KVKind
	key, value, expect string
}

type kvOutput struct {
	unknown bool // never returned: any outcome
	found   bool
	out     string
	ok      bool
}

func (o kvOutput) never() bool { return o.unknown }

// kvState is one key's value (the model is per partition). key is set
// only when present, so that == is state equality and an absent key is
// the zero value.
type kvState struct {
	present    bool
	key, value string
}

// kvModel is the KV store's sequential specification, one key per
// partition. An operation that never returned may or may not have taken
// effect, so the model is nondeterministic: an unanswered cas whose
// expectation holds leads to both states. (An unanswered put need not: it
// can be linearized after everything else, where it changes nothing seen.)
func kvModel() porcupine.Model {
	return toModel(porcupine.NondeterministicModel{
		Partition: partitionBy,
		Init:      func() []interface{} { return []interface{}{kvState{}} },
		Step: func(state, input, output interface{}) []interface{} {
			st, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
			switch in.kind {
			case KVGet:
				if out.unknown || (out.found == st.present && (!out.found || out.out == st.value)) {
					return []interface{}{st}
				}
			case KVPut:
				return []interface{}{kvState{present: true, key: in.key, value: in.value}}
			case KVCas:
				holds := (st.present && st.value == in.expect) || (!st.present && in.expect == "")
				after := kvState{present: true, key: in.key, value: in.value}
				switch {
				case out.unknown && holds:
					return []interface{}{st, after}
				case out.unknown, !out.ok && !holds && out.out == st.value:
					// A failed cas reports the value it found ("" if absent).
					return []interface{}{st}
				case out.ok && holds:
					return []interface{}{after}
				}
			}
			return nil
		},
		Equal: func(a, b interface{}) bool { return a.(kvState) == b.(kvState) },
		Hash: func(state interface{}) uint64 {
			st := state.(kvState)
			if !st.present {
				return fnvOffset
			}
			return fnv64(fnv64(fnvOffset^1, st.key), st.value)
		},
		DescribeOperation: describeKV,
		DescribeState: func(state interface{}) string {
			st := state.(kvState)
			if !st.present {
				return "{}"
			}
			return fmt.Sprintf("{%s: %s}", st.key, quote(st.value))
		},
	})
}

// describeKV reads like "put(k1, v3)", "get(k1) -> v3",
// "cas(k1, v2 -> v3) ok".
func describeKV(input, output interface{}) string {
	in, out := input.(kvInput), output.(kvOutput)
	var s string
	switch in.kind {
	case KVGet:
		s = fmt.Sprintf("get(%s)", in.key)
		switch {
		case out.unknown:
		case out.found:
			s += " -> " + quote(out.out)
		default:
			s += " -> absent"
		}
	case KVPut:
		s = fmt.Sprintf("put(%s, %s)", in.key, quote(in.value))
	case KVCas:
		s = fmt.Sprintf("cas(%s, %s -> %s)", in.key, quote(in.expect), quote(in.value))
		switch {
		case out.unknown:
		case out.ok:
			s += " ok"
		default:
			s += " failed, found " + quote(out.out)
		}
	}
	if out.unknown {
		s += " (no answer)"
	}
	return s
}

// ---- Chat ----

type chatInput struct {
	read       bool
	key, value string
	cnt        int64
}

type chatOutput struct {
	unknown bool
	ok      bool
	outCnt  int64
	lines   []string
}

func (o chatOutput) never() bool { return o.unknown }

// chatList is an immutable list, newest line first, sharing its tail with
// the states it grew from, so an append is O(1) and the states porcupine
// keeps cost one node each. A nil *chatList is the empty list.
type chatList struct {
	key  string
	n    int64  // lines
	hash uint64 // of all lines, incrementally
	line string
	prev *chatList
}

func (l *chatList) len() int64 {
	if l == nil {
		return 0
	}
	return l.n
}

func (l *chatList) append(key, line string) *chatList {
	h := uint64(fnvOffset)
	if l != nil {
		h = l.hash
	}
	return &chatList{key: key, n: l.len() + 1, hash: fnv64(h^0xff, line), line: line, prev: l}
}

func (l *chatList) equal(m *chatList) bool {
	for l != m {
		if l == nil || m == nil || l.n != m.n || l.hash != m.hash || l.line != m.line {
			return false
		}
		l, m = l.prev, m.prev
	}
	return true
}

// is reports whether the list is exactly lines.
func (l *chatList) is(lines []string) bool {
	if l.len() != int64(len(lines)) {
		return false
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l.line != lines[i] {
			return false
		}
		l = l.prev
	}
	return true
}

// last returns up to k last lines, oldest first.
func (l *chatList) last(k int) []string {
	var out []string
	for ; l != nil && len(out) < k; l = l.prev {
		out = append(out, l.line)
	}
	slices.Reverse(out)
	return out
}

// summarize describes lines by their count and the last three.
func summarize(n int64, last []string) string {
	quoted := make([]string, len(last))
	for i, s := range last {
		quoted[i] = "'" + s + "'"
	}
	s := fmt.Sprintf("%d lines", n)
	if len(last) > 0 {
		s += " ["
		if n > int64(len(last)) {
			s += "..., "
		}
		s += strings.Join(quoted, ", ") + "]"
	}
	return s
}

// chatModel is the seqAppend lists' sequential specification, one list per
// partition. An unanswered seqAppend whose count matches leads to both
// states.
func chatModel() porcupine.Model {
	return toModel(porcupine.NondeterministicModel{
		Partition: partitionBy,
		Init:      func() []interface{} { return []interface{}{(*chatList)(nil)} },
		Step: func(state, input, output interface{}) []interface{} {
			st, in, out := state.(*chatList), input.(chatInput), output.(chatOutput)
			if in.read {
				if out.unknown || st.is(out.lines) {
					return []interface{}{st}
				}
				return nil
			}
			holds := st.len() == in.cnt
			switch {
			case out.unknown && holds:
				return []interface{}{st, st.append(in.key, in.value)}
			case out.unknown:
				return []interface{}{st}
			case out.ok && holds && out.outCnt == in.cnt+1:
				return []interface{}{st.append(in.key, in.value)}
			case !out.ok && !holds && out.outCnt == st.len():
				return []interface{}{st}
			}
			return nil
		},
		Equal: func(a, b interface{}) bool { return a.(*chatList).equal(b.(*chatList)) },
		Hash: func(state interface{}) uint64 {
			if l := state.(*chatList); l != nil {
				return l.hash
			}
			return fnvOffset
		},
		DescribeOperation: describeChat,
		DescribeState: func(state interface{}) string {
			l := state.(*chatList)
			if l == nil {
				return "{}"
			}
			return fmt.Sprintf("{%s: %s}", l.key, summarize(l.n, l.last(3)))
		},
	})
}

// describeChat reads like "seqAppend(history, 'c1-4', cnt=4) -> ok 5" or
// "read(history) -> 5 lines [..., 'c1-3', 'c2-1', 'c1-4']".
func describeChat(input, output interface{}) string {
	in, out := input.(chatInput), output.(chatOutput)
	if in.read {
		if out.unknown {
			return fmt.Sprintf("read(%s) (no answer)", in.key)
		}
		return fmt.Sprintf("read(%s) -> %s", in.key, summarize(int64(len(out.lines)), out.lines[max(0, len(out.lines)-3):]))
	}
	s := fmt.Sprintf("seqAppend(%s, '%s', cnt=%d)", in.key, in.value, in.cnt)
	switch {
	case out.unknown:
		return s + " (no answer)"
	case out.ok:
		return fmt.Sprintf("%s -> ok %d", s, out.outCnt)
	default:
		return fmt.Sprintf("%s -> failed %d", s, out.outCnt)
	}
}
