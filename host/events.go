package host

import (
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// The node's events, as every world traces them (sim's trace format).

func (n *Node) record(e sim.Event) {
	if n.hooks.Record != nil {
		n.hooks.Record(e)
	}
}

// recordBytes records e with detail as its Detail (Hooks.RecordBytes).
func (n *Node) recordBytes(e sim.Event, detail []byte) {
	if n.hooks.RecordBytes != nil {
		n.hooks.RecordBytes(e, detail)
		return
	}
	e.Detail = string(detail)
	n.record(e)
}

// recordBatch records what a batch changed: term, role, the entries
// appended, the commit index, the configuration.
func (n *Node) recordBatch(prev, cur raft.Status, rd *raft.Ready) {
	if n.hooks.Record == nil {
		return
	}
	id := uint64(n.ID)
	if cur.Term != prev.Term {
		n.record(sim.Event{Kind: sim.KindTerm, Node: id, Term: cur.Term})
	}
	if cur.Role != prev.Role {
		n.record(sim.Event{Kind: sim.KindRole, Node: id, Term: cur.Term, Detail: cur.Role.String()})
	}
	if k := len(rd.Entries); k > 0 {
		n.record(sim.Event{Kind: sim.KindAppend, Node: id, Term: cur.Term, Index: rd.Entries[k-1].Index, Detail: strconv.Itoa(k)})
	}
	if cur.Commit != prev.Commit {
		n.record(sim.Event{Kind: sim.KindCommit, Node: id, Term: cur.Term, Index: cur.Commit})
	}
	if ConfigChanged(prev, cur) {
		// Formatted in the node's buffer: at 41 tabs a string per
		// config event was a tenth of kill-half's allocations.
		d := appendIDs(n.detail[:0], cur.Voters)
		if len(cur.Learners) > 0 {
			d = appendIDs(append(d, " learners "...), cur.Learners)
		}
		n.detail = d
		n.recordBytes(sim.Event{Kind: sim.KindConfig, Node: id, Term: cur.Term}, d)
	}
}

// ConfigChanged reports whether the voters or learners changed.
func ConfigChanged(prev, cur raft.Status) bool {
	return !sameIDs(cur.Voters, prev.Voters) || !sameIDs(cur.Learners, prev.Learners)
}

func sameIDs(a, b []raft.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FormatIDs writes ids space-separated ("1 2 3").
func FormatIDs(ids []raft.ID) string {
	// Appended into a buffer on the stack, then copied once.
	var buf [256]byte
	return string(appendIDs(buf[:0], ids))
}

// appendIDs appends ids space-separated to b.
func appendIDs(b []byte, ids []raft.ID) []byte {
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, uint64(id), 10)
	}
	return b
}
