package checker

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability of client histories, checked with porcupine against a
// sequential model of the KV store, partitioned by key.

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
type KVOp struct {
	Client   uint64
	Kind     KVKind
	Key      string
	Value    string // put: the value written; cas: the new value
	Expect   string // cas: the expected old value ("" also matches an absent key)
	Call     int64  // virtual time of the call, ns
	Return   int64  // virtual time of the response, ns; ignored if !Returned
	Returned bool   // false: the operation never returned
	Found    bool   // get: the key existed; cas: it succeeded
	Out      string // get: the value read; a failed cas: the value it found
}

// Annotation is one of raftsim's own events shown on the history page.
type Annotation struct {
	Time int64 // virtual ns
	Tag  string
	Text string
}

// LinResult is the outcome of a check.
type LinResult struct {
	Result string // LinOK, LinIllegal, LinUnknown or LinNA
	Detail string // for illegal: which key
	info   porcupine.LinearizationInfo
	model  porcupine.Model
}

// kvInput and kvOutput are what porcupine sees of an operation.
type kvInput struct {
	kind               KVKind
	key, value, expect string
}

type kvOutput struct {
	unknown bool // never returned: any outcome
	found   bool
	out     string
}

// kvState is one key's value.
type kvState struct {
	present bool
	value   string
}

// kvModel is the KV store's sequential specification, one key per
// partition. An operation that never returned may or may not have taken
// effect, so the model is nondeterministic.
var kvModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(kvInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		slices.Sort(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []interface{} { return []interface{}{kvState{}} },
	Step: func(state, input, output interface{}) []interface{} {
		st, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		switch in.kind {
		case KVGet:
			if out.unknown || (out.found == st.present && out.out == st.value) {
				return []interface{}{st}
			}
			return nil
		case KVPut:
			return []interface{}{kvState{present: true, value: in.value}}
		case KVCas:
			// The store compares with "" for an absent key.
			holds := st.value == in.expect
			after := kvState{present: true, value: in.value}
			switch {
			case out.unknown && holds:
				return []interface{}{st, after}
			case out.unknown:
				return []interface{}{st}
			case out.found && holds:
				return []interface{}{after}
			case !out.found && !holds && out.out == st.value:
				// A failed cas reports the value it found.
				return []interface{}{st}
			}
			return nil
		}
		return nil
	},
	Equal: func(a, b interface{}) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(kvInput), output.(kvOutput)
		var s string
		switch in.kind {
		case KVGet:
			s = fmt.Sprintf("get(%s)", in.key)
			if !out.unknown {
				if out.found {
					s += " -> " + out.out
				} else {
					s += " -> absent"
				}
			}
		case KVPut:
			s = fmt.Sprintf("put(%s, %s)", in.key, in.value)
		case KVCas:
			s = fmt.Sprintf("cas(%s, %q -> %s)", in.key, in.expect, in.value)
			switch {
			case out.unknown:
			case out.found:
				s += " ok"
			default:
				s += fmt.Sprintf(" failed, found %q", out.out)
			}
		}
		if out.unknown {
			s += " (no answer)"
		}
		return s
	},
	DescribeState: func(state interface{}) string {
		st := state.(kvState)
		if !st.present {
			return "absent"
		}
		return st.value
	},
}

// CheckKV checks a KV history within timeout (0: no limit).
//
// Two kinds of operation are left out, soundly, because they cannot
// change the answer and only slow the search: a read that never returned
// (it changes nothing), and a write that never returned whose value no
// answered read or successful cas ever saw (it can always be placed after
// every other operation, where nothing observes it). The second assumes
// written values are unique per key, as the KV clients write them.
func CheckKV(ops []KVOp, timeout time.Duration) LinResult {
	seen := map[[2]string]bool{}
	for _, op := range ops {
		switch {
		case !op.Returned:
		case op.Kind == KVGet && op.Found:
			seen[[2]string{op.Key, op.Out}] = true
		case op.Kind == KVCas && op.Found:
			seen[[2]string{op.Key, op.Expect}] = true
		case op.Kind == KVCas:
			seen[[2]string{op.Key, op.Out}] = true // the value that made it fail
		}
	}
	var history []porcupine.Operation
	for _, op := range ops {
		if !op.Returned && (op.Kind == KVGet || !seen[[2]string{op.Key, op.Value}]) {
			continue
		}
		ret := op.Return
		if !op.Returned {
			ret = unknownReturn
		}
		history = append(history, porcupine.Operation{
			ClientId: int(op.Client),
			Input:    kvInput{kind: op.Kind, key: op.Key, value: op.Value, expect: op.Expect},
			Call:     op.Call,
			Output:   kvOutput{unknown: !op.Returned, found: op.Found, out: op.Out},
			Return:   ret,
		})
	}
	return check(kvModel, history, timeout, func(info porcupine.LinearizationInfo) string { return illegalKeys(history, info) })
}

// check runs porcupine on a history and maps its answer; detail says
// what is illegal.
func check(nm porcupine.NondeterministicModel, history []porcupine.Operation, timeout time.Duration, detail func(porcupine.LinearizationInfo) string) LinResult {
	if len(history) == 0 {
		return LinResult{Result: LinNA}
	}
	model := nm.ToModel()
	res, info := porcupine.CheckOperationsVerbose(model, history, timeout)
	r := LinResult{info: info, model: model}
	switch res {
	case porcupine.Ok:
		r.Result = LinOK
	case porcupine.Illegal:
		r.Result, r.Detail = LinIllegal, detail(info)
	default:
		r.Result = LinUnknown
	}
	return r
}

// unknownReturn is the return time of an operation that never returned:
// it may take effect at any time after its call.
const unknownReturn = math.MaxInt64 - 1

// illegalKeys names the keys whose histories have no linearization: a
// partition whose longest partial linearization leaves operations out.
func illegalKeys(history []porcupine.Operation, info porcupine.LinearizationInfo) string {
	parts := kvModel.Partition(history)
	var keys []string
	for i, lins := range info.PartialLinearizationsOperations() {
		longest := 0
		for _, lin := range lins {
			longest = max(longest, len(lin))
		}
		if i < len(parts) && longest < len(parts[i]) {
			keys = append(keys, parts[i][0].Input.(kvInput).key)
		}
	}
	return "no linearization for key " + strings.Join(keys, ", ")
}

// WriteHTML writes porcupine's visualization of the checked history with
// raftsim's annotations (leader changes, faults) added.
func (r LinResult) WriteHTML(w io.Writer, annotations []Annotation) error {
	if r.Result == LinNA {
		return fmt.Errorf("no client operations to show")
	}
	var anns []porcupine.Annotation
	for _, a := range annotations {
		anns = append(anns, porcupine.Annotation{Tag: a.Tag, Start: a.Time, End: a.Time, Description: a.Text})
	}
	r.info.AddAnnotations(anns)
	return porcupine.Visualize(r.model, r.info, w)
}

// ChatOp is one seqAppend of the paper's chat app as its client saw it:
// append Value to the list if it holds exactly Cnt lines.
type ChatOp struct {
	Client   uint64
	Value    string
	Cnt      int64
	Call     int64
	Return   int64
	Returned bool
	OK       bool  // appended
	OutCnt   int64 // the list's length after the operation
}

type chatInput struct {
	value string
	cnt   int64
}

type chatOutput struct {
	unknown bool
	ok      bool
	outCnt  int64
}

// chatState is the list, its lines joined by newlines (comparable).
type chatState struct {
	n     int64
	lines string
}

// chatModel is the seqAppend list's sequential specification.
var chatModel = porcupine.NondeterministicModel{
	Init: func() []interface{} { return []interface{}{chatState{}} },
	Step: func(state, input, output interface{}) []interface{} {
		st, in, out := state.(chatState), input.(chatInput), output.(chatOutput)
		after := chatState{n: st.n + 1, lines: st.lines + in.value + "\n"}
		holds := st.n == in.cnt
		switch {
		case out.unknown && holds:
			return []interface{}{st, after}
		case out.unknown:
			return []interface{}{st}
		case out.ok && holds && out.outCnt == after.n:
			return []interface{}{after}
		case !out.ok && !holds && out.outCnt == st.n:
			return []interface{}{st}
		}
		return nil
	},
	Equal: func(a, b interface{}) bool { return a.(chatState) == b.(chatState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(chatInput), output.(chatOutput)
		s := fmt.Sprintf("seqAppend(%q, cnt=%d)", in.value, in.cnt)
		switch {
		case out.unknown:
			s += " (no answer)"
		case out.ok:
			s += fmt.Sprintf(" -> ok %d", out.outCnt)
		default:
			s += fmt.Sprintf(" -> refused %d", out.outCnt)
		}
		return s
	},
	DescribeState: func(state interface{}) string {
		st := state.(chatState)
		lines := strings.Split(strings.TrimSuffix(st.lines, "\n"), "\n")
		if len(lines) > 3 {
			lines = lines[len(lines)-3:]
		}
		return fmt.Sprintf("%d lines, last: %s", st.n, strings.Join(lines, " | "))
	},
}

// CheckChat checks a chat history (one list) within timeout (0: no limit).
func CheckChat(ops []ChatOp, timeout time.Duration) LinResult {
	var history []porcupine.Operation
	for _, op := range ops {
		ret := op.Return
		if !op.Returned {
			ret = unknownReturn
		}
		history = append(history, porcupine.Operation{
			ClientId: int(op.Client),
			Input:    chatInput{value: op.Value, cnt: op.Cnt},
			Call:     op.Call,
			Output:   chatOutput{unknown: !op.Returned, ok: op.OK, outCnt: op.OutCnt},
			Return:   ret,
		})
	}
	return check(chatModel, history, timeout, func(porcupine.LinearizationInfo) string { return "no linearization of the chat list" })
}
