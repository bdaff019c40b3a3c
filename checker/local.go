package checker

import (
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/raft"
)

// Invariants checked from each node's own observations: its batches, the
// messages they send and its own log. No other node's log is read, so
// they hold, and are checked, on every world (the model, pion, a browser).
const (
	// Progress: within one incarnation a node's commit and applied
	// indexes never go back, it applies only what it committed, and it
	// commits only what it stores.
	Progress = "progress"
	// DurableAck: an append a node acknowledged ("I have up to i") is
	// durable: after a crash and restart the node still holds entry i of
	// the term it held then (or a snapshot past it). A host that sends
	// before it persists breaks it.
	DurableAck = "durable acknowledgement"
	// ConfigFromLog: a node's configuration is the one its own log says
	// (the last configuration entry, or its snapshot's): configurations
	// take effect when appended, and go when truncated away.
	ConfigFromLog = "configuration from the log"
	// ConfigChangeRule: a leader appends a membership change only once it
	// has committed an entry of its own term, and only when no earlier
	// change is uncommitted (single-server changes, Raft dissertation
	// §4.1, with the errata Ongaro posted to raft-dev in 2015: without the
	// first rule a new leader's change and an earlier leader's
	// uncommitted one give configurations whose majorities need not
	// overlap). Checked from the leader's own batches.
	ConfigChangeRule = "configuration change rule"
	// AckedCommit: when a leader commits index i in its term, a majority
	// of its configuration (itself included) has sent it an
	// acknowledgement of i or beyond in that term. Acks received are a
	// subset of acks sent, so this is checked from the senders' batches.
	AckedCommit = "acknowledged commit"
)

// ack is the last append a node acknowledged: the index and the term of
// the entry it held there, and, where the world lets the checker read the
// node's storage (StoredReader), whether storage held that entry when the
// acknowledgement left (the persist-before-send order) and how far the
// stored log reached then.
type ack struct {
	index, term uint64
	order       sendOrder
	storedLast  uint64
}

// sendOrder is what storage held when an acknowledgement was sent.
type sendOrder uint8

const (
	orderUnknown   sendOrder = iota // the world gave no storage view
	orderPersisted                  // the acknowledged entry was stored first
	orderEarly                      // it was not: sent before persisting
)

// StoredReader is a node's durable storage as a world may expose it,
// beside its log (the LogReader passed to Sending may implement it): the
// term of the entry stored at i (or of the stored snapshot's last index),
// and the last index stored. With it, a broken durability invariant names
// the cause: the order of persisting and sending, or storage itself.
type StoredReader interface {
	StoredTerm(i uint64) (uint64, bool)
	StoredLastIndex() uint64
}

// local is the state of the world-independent invariants.
type local struct {
	// noAckedCommit: AckedCommit is off (a world that reports a
	// follower's acknowledgements after the leader's commit may arrive).
	noAckedCommit bool
	// halfCommitQuorum: a commit needs half the voters, rounded up
	// (Safety.WithHalfCommitQuorum).
	halfCommitQuorum bool
	// exercised counts, per invariant, the cases it really decided (a
	// restart with an acknowledgement to keep, a leader's commit with
	// acks to count), so a swarm can show it reached them.
	exercised map[string]int
	lastAck   map[raft.ID]ack
	// acked[term][leader][follower] is the highest index follower
	// acknowledged to leader in term.
	acked map[uint64]map[raft.ID]map[raft.ID]uint64
}

func newLocal() *local {
	return &local{exercised: map[string]int{}, lastAck: map[raft.ID]ack{}, acked: map[uint64]map[raft.ID]map[raft.ID]uint64{}}
}

// check runs the invariants on one batch of node.
func (l *local) check(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error {
	if fresh(prev) {
		if err := l.checkDurable(node, cur, rd, log); err != nil {
			return err
		}
	}
	if err := checkProgress(node, prev, cur); err != nil {
		return err
	}
	if cur.Commit > prev.Commit || cur.Applied > prev.Applied {
		l.exercised[Progress]++
	}
	changes := hasConfig(rd.Entries)
	if fresh(prev) || changes || !sameIDs(prev.Voters, cur.Voters) || !sameIDs(prev.Learners, cur.Learners) {
		if err := l.checkConfig(node, cur, log); err != nil {
			return err
		}
	}
	if cur.Role == raft.Leader && changes {
		if err := l.checkConfigChange(node, cur, rd.Entries, log); err != nil {
			return err
		}
	}
	if !l.noAckedCommit && prev.Role == raft.Leader && cur.Role == raft.Leader && prev.Term == cur.Term && cur.Commit > prev.Commit {
		return l.checkAckedCommit(node, cur)
	}
	return nil
}

// checkConfigChange checks the membership changes a leader appended in
// its term against the configuration change rule. It reads the commit
// index after the batch, so a change appended just before the batch's
// commit advanced passes: no false alarm, at worst a miss.
func (l *local) checkConfigChange(node raft.ID, cur raft.Status, ents []raft.Entry, log LogReader) error {
	for i := range ents {
		e := &ents[i]
		if e.Type != raft.EntryConfChange || e.Term != cur.Term || e.Change.Type == raft.ConfInit {
			continue
		}
		l.exercised[ConfigChangeRule]++
		v := func(detail string) error {
			return &Violation{Property: ConfigChangeRule, Nodes: []raft.ID{node}, Term: cur.Term, Index: e.Index, Detail: detail}
		}
		if t, ok := log.Term(cur.Commit); ok && t != cur.Term {
			return v(fmt.Sprintf("leader %d appended %v %d at index %d in term %d before committing an entry of its term "+
				"(its commit index %d holds term %d)", node, e.Change.Type, e.Change.Node, e.Index, cur.Term, cur.Commit, t))
		}
		for j := e.Index - 1; j > cur.Commit && j >= log.FirstIndex(); j-- {
			if prevEntry, ok := log.Entry(j); ok && prevEntry.Type == raft.EntryConfChange {
				return v(fmt.Sprintf("leader %d appended %v %d at index %d while the change at index %d (%v %d) was uncommitted "+
					"(commit index %d)", node, e.Change.Type, e.Change.Node, e.Index, j, prevEntry.Change.Type, prevEntry.Change.Node, cur.Commit))
			}
		}
	}
	return nil
}

// snapshotConfig is what a log reader may also tell: its snapshot's
// configuration (*raft.Raft does).
type snapshotConfig interface {
	SnapshotConfig() (voters, learners []raft.ID, ok bool)
}

// checkConfig checks node's configuration against its log: the last
// configuration entry from the end, else the snapshot's. It runs when a
// batch may have changed it (a configuration entry persisted, the
// configuration changed, a restart), so scanning back is rare.
func (l *local) checkConfig(node raft.ID, cur raft.Status, log LogReader) error {
	for i := cur.LastIndex; i >= log.FirstIndex() && i > 0; i-- {
		e, ok := log.Entry(i)
		if !ok || e.Type != raft.EntryConfChange {
			continue
		}
		l.exercised[ConfigFromLog]++
		return l.compareConfig(node, cur, i, e)
	}
	if sc, ok := log.(snapshotConfig); ok {
		if voters, learners, ok := sc.SnapshotConfig(); ok {
			l.exercised[ConfigFromLog]++
			if !sameIDs(sortedIDs(voters), sortedIDs(cur.Voters)) || !sameIDs(sortedIDs(learners), sortedIDs(cur.Learners)) {
				return l.configViolation(node, cur, fmt.Sprintf("its snapshot says voters %v learners %v", voters, learners))
			}
		}
	}
	return nil
}

// compareConfig compares the configuration the entry at index leaves (its
// full configuration for an initial one; for a change, only that the
// change is in effect).
func (l *local) compareConfig(node raft.ID, cur raft.Status, index uint64, e raft.Entry) error {
	cc := e.Change
	in := func(ids []raft.ID, id raft.ID) bool { return slices.Contains(ids, id) }
	ok := true
	switch cc.Type {
	case raft.ConfInit:
		ok = sameIDs(sortedIDs(cc.Voters), sortedIDs(cur.Voters))
	case raft.ConfAddNode:
		ok = in(cur.Voters, cc.Node)
	case raft.ConfAddLearner:
		ok = in(cur.Voters, cc.Node) || in(cur.Learners, cc.Node)
	case raft.ConfRemoveNode:
		ok = !in(cur.Voters, cc.Node) && !in(cur.Learners, cc.Node)
	}
	if ok {
		return nil
	}
	return l.configViolation(node, cur, fmt.Sprintf("its last configuration entry (index %d) is %v %d", index, cc.Type, cc.Node))
}

func (l *local) configViolation(node raft.ID, cur raft.Status, says string) error {
	return &Violation{Property: ConfigFromLog, Nodes: []raft.ID{node}, Term: cur.Term,
		Detail: fmt.Sprintf("node %d uses voters %v learners %v, but %s", node, cur.Voters, cur.Learners, says)}
}

func hasConfig(ents []raft.Entry) bool {
	for i := range ents {
		if ents[i].Type == raft.EntryConfChange {
			return true
		}
	}
	return false
}

func sortedIDs(ids []raft.ID) []raft.ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func sameIDs(a, b []raft.ID) bool { return slices.Equal(a, b) }

// fresh reports whether prev is the status of a node that has just
// started (a new incarnation: its host knows nothing of it yet).
func fresh(prev raft.Status) bool {
	return prev.Term == 0 && prev.LastIndex == 0 && prev.Commit == 0 && prev.Role == raft.Follower && len(prev.Voters) == 0
}

func checkProgress(node raft.ID, prev, cur raft.Status) error {
	v := func(detail string, index uint64) error {
		return &Violation{Property: Progress, Nodes: []raft.ID{node}, Term: cur.Term, Index: index, Detail: detail}
	}
	switch {
	case cur.Commit < prev.Commit:
		return v(fmt.Sprintf("commit index went back from %d to %d", prev.Commit, cur.Commit), cur.Commit)
	case cur.Applied < prev.Applied:
		return v(fmt.Sprintf("applied index went back from %d to %d", prev.Applied, cur.Applied), cur.Applied)
	case cur.Applied > cur.Commit:
		return v(fmt.Sprintf("applied %d beyond its commit index %d", cur.Applied, cur.Commit), cur.Applied)
	case cur.Commit > cur.LastIndex:
		return v(fmt.Sprintf("commit index %d beyond the last index it stores, %d", cur.Commit, cur.LastIndex), cur.Commit)
	}
	return nil
}

// checkDurable checks, at a node's first batch after a (re)start, that
// it still holds what it acknowledged before.
func (l *local) checkDurable(node raft.ID, cur raft.Status, rd *raft.Ready, log LogReader) error {
	a, ok := l.lastAck[node]
	if !ok || a.index == 0 || a.index < log.FirstIndex() {
		return nil // nothing acknowledged, or covered by a snapshot
	}
	l.exercised[DurableAck]++
	if t, ok := log.Term(a.index); ok && t == a.term {
		return nil
	}
	return &Violation{Property: DurableAck, Nodes: []raft.ID{node}, Term: a.term, Index: a.index,
		Detail: fmt.Sprintf("node %d acknowledged entries up to index %d (term %d), then restarted without them "+
			"(its log now ends at index %d): %s", node, a.index, a.term, cur.LastIndex, a.cause())}
}

// ackOf is the acknowledgement of index (of term) as storage stood when
// it was sent.
func ackOf(index, term uint64, log LogReader) ack {
	a := ack{index: index, term: term}
	if st, ok := log.(StoredReader); ok {
		a.order, a.storedLast = orderEarly, st.StoredLastIndex()
		if t, ok := st.StoredTerm(index); ok && t == term {
			a.order = orderPersisted
		}
	}
	return a
}

// cause says why an acknowledged entry can be missing after a restart.
func (a ack) cause() string {
	switch a.order {
	case orderEarly:
		return fmt.Sprintf("the acknowledgement was sent before the entries were persisted "+
			"(storage then ended at index %d): the host broke the persist-before-send order", a.storedLast)
	case orderPersisted:
		return "the entries were persisted before the acknowledgement was sent, " +
			"so storage lost them or the restart did not read them back"
	}
	return "the acknowledgement left before the entries were persisted, or storage lost them"
}

// recordAcks notes the appends node acknowledges in a batch, before the
// batch's messages leave.
func (l *local) recordAcks(node raft.ID, rd *raft.Ready, log LogReader) {
	for i := range rd.Messages {
		m := &rd.Messages[i]
		if m.Type != raft.MsgAppResp || m.Reject {
			continue
		}
		if t, ok := log.Term(m.Index); ok {
			l.lastAck[node] = ackOf(m.Index, t, log)
		}
		byLeader := l.acked[m.Term]
		if byLeader == nil {
			byLeader = map[raft.ID]map[raft.ID]uint64{}
			l.acked[m.Term] = byLeader
		}
		if byLeader[m.To] == nil {
			byLeader[m.To] = map[raft.ID]uint64{}
		}
		byLeader[m.To][node] = max(byLeader[m.To][node], m.Index)
	}
}

// checkAckedCommit checks a leader's commit against the acks its voters
// sent it in its term.
func (l *local) checkAckedCommit(node raft.ID, cur raft.Status) error {
	l.exercised[AckedCommit]++
	acks := l.acked[cur.Term][node]
	have := 0
	for _, id := range cur.Voters {
		if id == node || acks[id] >= cur.Commit {
			have++
		}
	}
	if have >= commitQuorum(len(cur.Voters), l.halfCommitQuorum) {
		return nil
	}
	var backing []raft.ID // listed for the report only
	for _, id := range cur.Voters {
		if id == node || acks[id] >= cur.Commit {
			backing = append(backing, id)
		}
	}
	return &Violation{Property: AckedCommit, Nodes: []raft.ID{node}, Term: cur.Term, Index: cur.Commit,
		Detail: fmt.Sprintf("leader %d committed index %d with acknowledgements from only %v of voters %v", node, cur.Commit, backing, cur.Voters)}
}
