// Package checker checks runs: Raft's safety properties online, as the run
// goes (Safety), so that a violation stops the run at the event that caused
// it.
package checker

import (
	"fmt"
	"strconv"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
)

// Property names, as reported in violations.
const (
	ElectionSafety     = "election safety"
	LeaderAppendOnly   = "leader append-only"
	LogMatching        = "log matching"
	LeaderCompleteness = "leader completeness"
	StateMachineSafety = "state machine safety"
)

// Violation is a broken safety property.
type Violation struct {
	Property string
	Nodes    []raft.ID
	Term     uint64
	Index    uint64
	Detail   string
}

func (v *Violation) Error() string {
	s := fmt.Sprintf("%s violated: nodes %v", v.Property, v.Nodes)
	if v.Term != 0 {
		s += " term " + strconv.FormatUint(v.Term, 10)
	}
	if v.Index != 0 {
		s += " index " + strconv.FormatUint(v.Index, 10)
	}
	return s + ": " + v.Detail
}

type entryKey struct{ index, term uint64 }

type entryInfo struct {
	hash      uint64
	prevTerm  uint64
	prevKnown bool    // the predecessor was not compacted away
	node      raft.ID // first node seen holding it
}

type leaderInfo struct {
	term uint64
	log  netmodel.LogReader
}

// Safety checks Raft's five safety properties (Raft §5.2-5.4, figure 3) as
// each batch executes. It implements netmodel.Observer.
type Safety struct {
	leaderOfTerm map[uint64]raft.ID
	entries      map[entryKey]entryInfo
	leaders      []leaderInfo // by node id; term 0: not leading
	// committed[i] is the term of the entry committed at index i (0:
	// none known), and commitTerm[i] the earliest term in which a node was
	// seen to commit it (a leader commits first, in its own term);
	// applied[i] the hash of the entry applied there.
	committed  []uint64
	commitTerm []uint64
	applied    []uint64
	appliedBy  []raft.ID
}

// NewSafety returns a checker with nothing seen.
func NewSafety() *Safety {
	return &Safety{
		leaderOfTerm: make(map[uint64]raft.ID),
		entries:      make(map[entryKey]entryInfo),
	}
}

// Changed implements netmodel.Observer.
func (s *Safety) Changed(node raft.ID, prev, cur raft.Status, persisted, applied []raft.Entry, log netmodel.LogReader) error {
	// Leader append-only: a leader never overwrites or deletes its entries.
	if prev.Role == raft.Leader && cur.Role == raft.Leader && prev.Term == cur.Term &&
		len(persisted) > 0 && persisted[0].Index <= prev.LastIndex {
		return &Violation{Property: LeaderAppendOnly, Nodes: []raft.ID{node}, Term: cur.Term, Index: persisted[0].Index,
			Detail: fmt.Sprintf("leader rewrote its log from index %d (last index was %d)", persisted[0].Index, prev.LastIndex)}
	}
	// Log matching: an entry is identified by (index, term); two logs with
	// the same one hold the same command there, and, inductively through
	// the previous entry's term, the same prefix.
	for i := range persisted {
		e := &persisted[i]
		prevTerm, known := log.Term(e.Index - 1)
		info := entryInfo{hash: entryHash(e), prevTerm: prevTerm, prevKnown: known, node: node}
		k := entryKey{e.Index, e.Term}
		if old, ok := s.entries[k]; ok {
			// A predecessor compacted away cannot be compared.
			if old.hash != info.hash || (known && old.prevKnown && old.prevTerm != info.prevTerm) {
				return &Violation{Property: LogMatching, Nodes: []raft.ID{old.node, node}, Term: e.Term, Index: e.Index,
					Detail: "two logs hold different entries (or different predecessors) at the same index and term"}
			}
			if known && !old.prevKnown {
				s.entries[k] = info
			}
			continue
		}
		s.entries[k] = info
	}
	// Election safety: at most one leader per term.
	if cur.Role == raft.Leader {
		if l, ok := s.leaderOfTerm[cur.Term]; ok && l != node {
			return &Violation{Property: ElectionSafety, Nodes: []raft.ID{l, node}, Term: cur.Term,
				Detail: "two leaders in one term"}
		}
		s.leaderOfTerm[cur.Term] = node
		if prev.Role != raft.Leader || prev.Term != cur.Term {
			if err := s.checkNewLeader(node, cur, log); err != nil {
				return err
			}
		}
		for uint64(len(s.leaders)) <= uint64(node) {
			s.leaders = append(s.leaders, leaderInfo{})
		}
		s.leaders[node] = leaderInfo{term: cur.Term, log: log}
	} else if uint64(node) < uint64(len(s.leaders)) {
		s.leaders[node] = leaderInfo{}
	}
	// Commits: one term per committed index, and every leader of a later
	// term holds the entry.
	for i := prev.Commit + 1; i <= cur.Commit; i++ {
		t, ok := log.Term(i)
		if !ok {
			continue
		}
		if err := s.commit(node, i, t, cur.Term); err != nil {
			return err
		}
	}
	// State machine safety: every node applies the same entry at an index.
	for i := range applied {
		e := &applied[i]
		h := entryHash(e)
		for uint64(len(s.applied)) <= e.Index {
			s.applied = append(s.applied, 0)
			s.appliedBy = append(s.appliedBy, 0)
		}
		switch s.applied[e.Index] {
		case 0:
			s.applied[e.Index] = h
			s.appliedBy[e.Index] = node
		case h:
		default:
			return &Violation{Property: StateMachineSafety, Nodes: []raft.ID{s.appliedBy[e.Index], node}, Term: e.Term, Index: e.Index,
				Detail: "two nodes applied different commands at the same index"}
		}
	}
	return nil
}

// commit records that node committed the entry of term `term` at index i
// while in term commitTerm. Leader completeness binds the leaders of terms
// after the one in which the entry was committed, not after the entry's
// own term: a stale leader of an earlier term may lack an entry of a still
// earlier term that a later leader committed.
func (s *Safety) commit(node raft.ID, i, term, commitTerm uint64) error {
	for uint64(len(s.committed)) <= i {
		s.committed = append(s.committed, 0)
		s.commitTerm = append(s.commitTerm, 0)
	}
	switch s.committed[i] {
	case term:
		if commitTerm >= s.commitTerm[i] {
			return nil
		}
		s.commitTerm[i] = commitTerm
	case 0:
		s.committed[i], s.commitTerm[i] = term, commitTerm
	default:
		return &Violation{Property: StateMachineSafety, Nodes: []raft.ID{node}, Term: term, Index: i,
			Detail: fmt.Sprintf("index committed with term %d here and term %d elsewhere", term, s.committed[i])}
	}
	for id, l := range s.leaders {
		if l.term <= commitTerm || i < l.log.FirstIndex() {
			continue // an earlier leader, or compacted (so committed) there
		}
		if t, ok := l.log.Term(i); !ok || t != term {
			return &Violation{Property: LeaderCompleteness, Nodes: []raft.ID{node, raft.ID(id)}, Term: l.term, Index: i,
				Detail: fmt.Sprintf("entry of term %d committed in term %d is missing from the leader of term %d", term, commitTerm, l.term)}
		}
	}
	return nil
}

// checkNewLeader: a new leader's log holds every entry committed in an
// earlier term.
func (s *Safety) checkNewLeader(node raft.ID, cur raft.Status, log netmodel.LogReader) error {
	for i := 1; i < len(s.committed); i++ {
		et, ct := s.committed[i], s.commitTerm[i]
		if et == 0 || ct >= cur.Term || uint64(i) < log.FirstIndex() {
			continue
		}
		if t, ok := log.Term(uint64(i)); !ok || t != et {
			return &Violation{Property: LeaderCompleteness, Nodes: []raft.ID{node}, Term: cur.Term, Index: uint64(i),
				Detail: fmt.Sprintf("new leader lacks the entry of term %d committed in term %d", et, ct)}
		}
	}
	return nil
}

// entryHash identifies an entry's content (FNV-1a over its fields).
func entryHash(e *raft.Entry) uint64 {
	h := uint64(14695981039346656037)
	word := func(v uint64) {
		h ^= v
		h *= 1099511628211
	}
	str := func(s string) {
		word(uint64(len(s)))
		for i := 0; i < len(s); i++ {
			word(uint64(s[i]))
		}
	}
	word(e.Term)
	word(e.Index)
	word(uint64(e.Type))
	word(uint64(e.Cmd.Op))
	str(e.Cmd.Key)
	str(e.Cmd.Value)
	str(e.Cmd.Expect)
	word(uint64(e.Cmd.Cnt))
	word(e.Cmd.Client)
	word(e.Cmd.Seq)
	word(uint64(e.Change.Type))
	word(uint64(e.Change.Node))
	word(uint64(len(e.Change.Voters)))
	for _, v := range e.Change.Voters {
		word(uint64(v))
	}
	if h == 0 {
		h = 1
	}
	return h
}
