// Package checker checks runs: Raft's safety properties online, as the run
// goes (Safety), so that a violation stops the run at the event that caused
// it.
package checker

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/raftsim/raftsim/raft"
)

// LogReader is how the checker reads a node's log. It is the checker's
// own: every world passes its Raft node (*raft.Raft has these methods).
type LogReader interface {
	Term(i uint64) (uint64, bool)
	Entry(i uint64) (raft.Entry, bool)
	FirstIndex() uint64
}

var _ LogReader = (*raft.Raft)(nil)

// Property names, as reported in violations.
const (
	ElectionSafety     = "election safety"
	LeaderAppendOnly   = "leader append-only"
	LogMatching        = "log matching"
	LeaderCompleteness = "leader completeness"
	StateMachineSafety = "state machine safety"
	// VoteOnce: a server votes for at most one candidate in a term (Raft
	// figure 2, RequestVote; what election safety rests on). A server
	// that forgets its vote in a crash can vote twice.
	VoteOnce = "vote once"
	// CommitRule: a leader commits an entry of its own term by counting
	// replicas, never an older one (Raft §5.4.2, the figure 8 rule).
	CommitRule = "commit rule"
	// CommitQuorum: when a leader commits an entry, a majority of its
	// configuration stores it (what "committed" means, Raft §5.3), or
	// half of it under Raft.js's rule (WithHalfCommitQuorum).
	CommitQuorum = "commit quorum"
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
	log  LogReader
}

// Safety checks Raft's five safety properties (Raft §5.2-5.4, figure 3),
// and that a server votes once a term, as each batch executes. Its Changed has the shape of a world's observer (netmodel.Observer, pionworld.Options.Observer).
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
	// votes[node] is the vote node cast in term voteTerm[node] (one term
	// per node is enough: terms only grow, across restarts too).
	votes    map[raft.ID]raft.ID
	voteTerm map[raft.ID]uint64
	// logs[node] is node's log as last handed to Changed (for
	// CommitQuorum).
	logs map[raft.ID]LogReader
	// SharedLogs says every node's log may be read during any node's
	// Changed call, as in the single-threaded model; it enables the
	// CommitQuorum check. The real stack, where each log belongs to its
	// node's goroutine, leaves it off.
	SharedLogs bool
	// halfCommitQuorum: the protocol commits with half its voters,
	// rounded up (WithHalfCommitQuorum).
	halfCommitQuorum bool
	// local holds the invariants checked from each node's own
	// observations (local.go); nil switches them off (a test that
	// replays a bare history of statuses without messages or voters).
	local *local
}

// WithoutLocalChecks switches off the invariants that need a node's full
// batches (messages, voters): for replaying abstract histories.
func (s *Safety) WithoutLocalChecks() *Safety { s.local = nil; return s }

// WithoutAckedCommit turns off AckedCommit alone, for a world whose tabs'
// reports travel separately to the checker (a browser's tabs, each over
// its own socket), so a follower's acknowledgement may be seen after the
// commit it made possible.
func (s *Safety) WithoutAckedCommit() *Safety {
	if s.local != nil {
		s.local.noAckedCommit = true
	}
	return s
}

// WithHalfCommitQuorum makes CommitQuorum and AckedCommit hold a leader's
// commit to half its voters rounded up, the leader included, for a
// cluster that commits by Raft.js's rule (raft.Config.HalfCommitQuorum):
// the rule under test, not a weaker check of Raft's. The properties that
// make Raft safe (election safety, leader completeness, state machine
// safety) are checked as always.
func (s *Safety) WithHalfCommitQuorum() *Safety {
	s.halfCommitQuorum = true
	if s.local != nil {
		s.local.halfCommitQuorum = true
	}
	return s
}

// commitQuorum is how many of voters must hold an entry for a commit:
// more than half, or half rounded up under Raft.js's rule.
func commitQuorum(voters int, half bool) int {
	if half {
		return (voters + 1) / 2
	}
	return voters/2 + 1
}

// NewSafety returns a checker with nothing seen.
func NewSafety() *Safety {
	return &Safety{
		leaderOfTerm: make(map[uint64]raft.ID),
		entries:      make(map[entryKey]entryInfo),
		votes:        make(map[raft.ID]raft.ID),
		voteTerm:     make(map[raft.ID]uint64),
		logs:         make(map[raft.ID]LogReader),
		local:        newLocal(),
	}
}

// Sending records what a batch of node acknowledges, before its messages
// leave (a world calls it between persisting and sending): a leader may
// count an acknowledgement before the sender's Changed is called, on a
// real stack where tabs run concurrently.
func (s *Safety) Sending(node raft.ID, rd *raft.Ready, log LogReader) {
	if s.local != nil {
		s.local.recordAcks(node, rd, log)
	}
}

// Exercised counts, per world-independent invariant, the cases it really
// decided in this run (see local.go); nil when they are off.
func (s *Safety) Exercised() map[string]int {
	if s.local == nil {
		return nil
	}
	return s.local.exercised
}

// Checks lists the properties this checker checks: every one on every
// world, and CommitQuorum where every log can be read (SharedLogs).
func (s *Safety) Checks() []string {
	out := []string{ElectionSafety, LeaderAppendOnly, LogMatching, LeaderCompleteness, StateMachineSafety,
		VoteOnce, CommitRule}
	if s.local != nil {
		out = append(out, Progress, DurableAck, ConfigFromLog, ConfigChangeRule)
		if !s.local.noAckedCommit {
			out = append(out, AckedCommit)
		}
	}
	if s.SharedLogs {
		out = append(out, CommitQuorum)
	}
	return out
}

// Changed checks one batch of node: its status before and after, the
// entries it persisted and applied, and its log (read through LogReader).
func (s *Safety) Changed(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error {
	// The node's own invariants first: a durability break shows at the
	// restart that lost the entries, before its effects do.
	if s.local != nil {
		if err := s.local.check(node, prev, cur, rd, log); err != nil {
			return err
		}
	}
	if err := checkAppendOnly(node, prev, cur, rd.Entries); err != nil {
		return err
	}
	if err := s.checkLogMatching(node, rd.Entries, log); err != nil {
		return err
	}
	if err := s.checkVote(node, cur); err != nil {
		return err
	}
	if err := s.checkLeader(node, prev, cur, log); err != nil {
		return err
	}
	if err := s.checkCommits(node, prev, cur, log); err != nil {
		return err
	}
	return s.checkApplied(node, rd.Committed)
}

// checkAppendOnly: a leader never overwrites or deletes its entries.
func checkAppendOnly(node raft.ID, prev, cur raft.Status, persisted []raft.Entry) error {
	if prev.Role == raft.Leader && cur.Role == raft.Leader && prev.Term == cur.Term &&
		len(persisted) > 0 && persisted[0].Index <= prev.LastIndex {
		return &Violation{Property: LeaderAppendOnly, Nodes: []raft.ID{node}, Term: cur.Term, Index: persisted[0].Index,
			Detail: fmt.Sprintf("leader rewrote its log from index %d (last index was %d)", persisted[0].Index, prev.LastIndex)}
	}
	return nil
}

// checkLogMatching: an entry is identified by (index, term); two logs
// with the same one hold the same command there, and, inductively through
// the previous entry's term, the same prefix.
func (s *Safety) checkLogMatching(node raft.ID, persisted []raft.Entry, log LogReader) error {
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
	return nil
}

// checkVote: the vote a server holds in a term never changes.
func (s *Safety) checkVote(node raft.ID, cur raft.Status) error {
	if cur.Vote == raft.None {
		return nil
	}
	if v, ok := s.votes[node]; ok && s.voteTerm[node] == cur.Term && v != cur.Vote {
		return &Violation{Property: VoteOnce, Nodes: []raft.ID{node}, Term: cur.Term,
			Detail: fmt.Sprintf("voted for %d and then for %d in the same term", v, cur.Vote)}
	}
	s.votes[node], s.voteTerm[node] = cur.Vote, cur.Term
	return nil
}

// checkLeader: at most one leader per term (election safety); a new
// leader holds every committed entry; a leader's commits follow the
// commit rule.
func (s *Safety) checkLeader(node raft.ID, prev, cur raft.Status, log LogReader) error {
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
	if s.SharedLogs {
		s.logs[node] = log
	}
	if prev.Role == raft.Leader && cur.Role == raft.Leader && prev.Term == cur.Term && cur.Commit > prev.Commit {
		return s.checkLeaderCommit(node, cur, log)
	}
	return nil
}

// checkCommits: one term per committed index, and every leader of a
// later term holds the entry.
func (s *Safety) checkCommits(node raft.ID, prev, cur raft.Status, log LogReader) error {
	for i := prev.Commit + 1; i <= cur.Commit; i++ {
		t, ok := log.Term(i)
		if !ok {
			continue
		}
		if err := s.commit(node, i, t, cur.Term); err != nil {
			return err
		}
	}
	return nil
}

// checkApplied: every node applies the same entry at an index (state
// machine safety).
func (s *Safety) checkApplied(node raft.ID, applied []raft.Entry) error {
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

// checkLeaderCommit checks a leader's commit in its term: the entry is of
// its term (an older one is committed only through it), and, when logs
// are shared, a majority of its voters store it.
func (s *Safety) checkLeaderCommit(node raft.ID, cur raft.Status, log LogReader) error {
	t, ok := log.Term(cur.Commit)
	if !ok {
		return nil // compacted at once: nothing to compare
	}
	if t != cur.Term {
		return &Violation{Property: CommitRule, Nodes: []raft.ID{node}, Term: cur.Term, Index: cur.Commit,
			Detail: fmt.Sprintf("leader committed an entry of term %d by counting replicas", t)}
	}
	if !s.SharedLogs || !slices.Contains(cur.Voters, node) {
		return nil
	}
	holds := func(v raft.ID) bool {
		l := s.logs[v]
		if v == node {
			l = log
		}
		if l == nil {
			return false
		}
		vt, ok := l.Term(cur.Commit)
		return (ok && vt == t) || (!ok && l.FirstIndex() > cur.Commit)
	}
	n := 0
	for _, v := range cur.Voters {
		if holds(v) {
			n++
		}
	}
	if n >= commitQuorum(len(cur.Voters), s.halfCommitQuorum) {
		return nil
	}
	var holders []raft.ID // listed for the report only
	for _, v := range cur.Voters {
		if holds(v) {
			holders = append(holders, v)
		}
	}
	return &Violation{Property: CommitQuorum, Nodes: []raft.ID{node}, Term: cur.Term, Index: cur.Commit,
		Detail: fmt.Sprintf("committed with the entry stored on %v only, of voters %v", holders, cur.Voters)}
}

// checkNewLeader: a new leader's log holds every entry committed in an
// earlier term.
func (s *Safety) checkNewLeader(node raft.ID, cur raft.Status, log LogReader) error {
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

// entryHash identifies an entry's content (FNV-1a over its fields and
// its command's bytes).
func entryHash(e *raft.Entry) uint64 {
	h := uint64(14695981039346656037)
	word := func(v uint64) {
		h ^= v
		h *= 1099511628211
	}
	word(e.Term)
	word(e.Index)
	word(uint64(e.Type))
	word(uint64(len(e.Data))) // the command, opaque: its bytes
	for _, b := range e.Data {
		word(uint64(b))
	}
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
