package checker_test

import (
	"testing"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A node's batch as a world reports it, with the node's log.
type batch struct {
	node raft.ID
	prev raft.Status
	cur  raft.Status
	rd   raft.Ready
	log  *fakeLog
}

func status(id raft.ID, role raft.Role, term, commit, applied, last uint64, voters ...raft.ID) raft.Status {
	return raft.Status{ID: id, Role: role, Term: term, Commit: commit, Applied: applied, LastIndex: last, Voters: voters}
}

func logOf(terms ...uint64) *fakeLog {
	l := &fakeLog{}
	for i, t := range terms {
		l.ents = append(l.ents, raft.Entry{Index: uint64(i + 1), Term: t})
	}
	return l
}

func run(t *testing.T, batches ...batch) error {
	t.Helper()
	return runOn(t, checker.NewSafety(), batches...)
}

func runOn(t *testing.T, s *checker.Safety, batches ...batch) error {
	t.Helper()
	for _, b := range batches {
		s.Sending(b.node, &b.rd, b.log)
		if err := s.Changed(b.node, b.prev, b.cur, &b.rd, b.log); err != nil {
			return err
		}
	}
	return nil
}

func requireViolation(t *testing.T, err error, property string) {
	t.Helper()
	var v *checker.Violation
	require.ErrorAs(t, err, &v)
	assert.Equal(t, property, v.Property, "%v", err)
}

func TestProgressViolations(t *testing.T) {
	l := logOf(1, 1, 1)
	voters := []raft.ID{1, 2, 3}
	for name, b := range map[string]batch{
		"commit goes back":      {2, status(2, raft.Follower, 1, 3, 3, 3, voters...), status(2, raft.Follower, 1, 2, 3, 3, voters...), raft.Ready{}, l},
		"applied goes back":     {2, status(2, raft.Follower, 1, 3, 3, 3, voters...), status(2, raft.Follower, 1, 3, 2, 3, voters...), raft.Ready{}, l},
		"applied beyond commit": {2, status(2, raft.Follower, 1, 2, 2, 3, voters...), status(2, raft.Follower, 1, 2, 3, 3, voters...), raft.Ready{}, l},
		"commit beyond storage": {2, status(2, raft.Follower, 1, 2, 2, 3, voters...), status(2, raft.Follower, 1, 4, 2, 3, voters...), raft.Ready{}, l},
	} {
		t.Run(name, func(t *testing.T) { requireViolation(t, run(t, b), checker.Progress) })
	}
	ok := batch{2, status(2, raft.Follower, 1, 2, 2, 3, voters...), status(2, raft.Follower, 1, 3, 3, 3, voters...), raft.Ready{}, l}
	assert.NoError(t, run(t, ok))
}

func TestAnAcknowledgedAppendMustSurviveARestart(t *testing.T) {
	voters := []raft.ID{1, 2, 3}
	acked := batch{2, status(2, raft.Follower, 1, 1, 1, 1, voters...), status(2, raft.Follower, 1, 1, 1, 3, voters...),
		raft.Ready{Messages: []raft.Message{{Type: raft.MsgAppResp, From: 2, To: 1, Term: 1, Index: 3}}}, logOf(1, 1, 1)}
	fresh := raft.Status{ID: 2}
	lost := batch{2, fresh, status(2, raft.Follower, 1, 1, 1, 2, voters...), raft.Ready{}, logOf(1, 1)}
	requireViolation(t, run(t, acked, lost), checker.DurableAck)
	kept := batch{2, fresh, status(2, raft.Follower, 1, 1, 1, 3, voters...), raft.Ready{}, logOf(1, 1, 1)}
	assert.NoError(t, run(t, acked, kept))
}

// The hosts give the checker their storage beside their log.
var (
	_ checker.LogReader    = (*host.Node)(nil)
	_ checker.StoredReader = (*host.Node)(nil)
)

// storedLog is a log whose storage holds only its first stored entries.
type storedLog struct {
	*fakeLog
	stored int
}

func (l storedLog) StoredTerm(i uint64) (uint64, bool) {
	if i == 0 || i > uint64(l.stored) {
		return 0, false
	}
	return l.Term(i)
}

func (l storedLog) StoredLastIndex() uint64 { return uint64(l.stored) }

func TestALostAcknowledgementNamesThePersistAndSendOrder(t *testing.T) {
	voters := []raft.ID{1, 2, 3}
	for name, tt := range map[string]struct {
		stored int
		says   string
	}{
		"sent before persisting": {1, "sent before the entries were persisted (storage then ended at index 1)"},
		"persisted, then lost":   {3, "persisted before the acknowledgement was sent, so storage lost them"},
	} {
		t.Run(name, func(t *testing.T) {
			s := checker.NewSafety()
			rd := raft.Ready{Messages: []raft.Message{{Type: raft.MsgAppResp, From: 2, To: 1, Term: 1, Index: 3}}}
			s.Sending(2, &rd, storedLog{logOf(1, 1, 1), tt.stored})
			require.NoError(t, s.Changed(2, status(2, raft.Follower, 1, 1, 1, 1, voters...), status(2, raft.Follower, 1, 1, 1, 3, voters...), &rd, logOf(1, 1, 1)))
			err := s.Changed(2, raft.Status{ID: 2}, status(2, raft.Follower, 1, 1, 1, 1, voters...), &raft.Ready{}, logOf(1))
			requireViolation(t, err, checker.DurableAck)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

func TestALeaderCommitNeedsAMajorityOfAcknowledgements(t *testing.T) {
	voters := []raft.ID{1, 2, 3}
	l := logOf(1, 2, 2)
	leading := status(1, raft.Leader, 2, 1, 1, 3, voters...)
	committed := status(1, raft.Leader, 2, 3, 1, 3, voters...)
	alone := batch{1, leading, committed, raft.Ready{}, l}
	requireViolation(t, run(t, alone), checker.AckedCommit)

	ackOf := func(from raft.ID, index uint64) batch {
		return batch{from, status(from, raft.Follower, 2, 1, 1, 3, voters...), status(from, raft.Follower, 2, 1, 1, 3, voters...),
			raft.Ready{Messages: []raft.Message{{Type: raft.MsgAppResp, From: from, To: 1, Term: 2, Index: index}}}, logOf(1, 2, 2)}
	}
	requireViolation(t, run(t, ackOf(2, 2), alone), checker.AckedCommit)
	assert.NoError(t, run(t, ackOf(2, 3), alone), "itself and node 2: a majority of three")
	staleTerm := ackOf(2, 3)
	staleTerm.rd.Messages[0].Term = 1
	requireViolation(t, run(t, staleTerm, alone), checker.AckedCommit)
}

func TestRaftJSsCommitRuleNeedsHalfTheVotersRoundedUp(t *testing.T) {
	voters := []raft.ID{1, 2, 3, 4}
	leading := status(1, raft.Leader, 2, 1, 1, 2, voters...)
	committed := status(1, raft.Leader, 2, 2, 1, 2, voters...)
	alone := batch{1, leading, committed, raft.Ready{}, logOf(1, 2)}
	ackOf2 := batch{2, status(2, raft.Follower, 2, 1, 1, 2, voters...), status(2, raft.Follower, 2, 1, 1, 2, voters...),
		raft.Ready{Messages: []raft.Message{{Type: raft.MsgAppResp, From: 2, To: 1, Term: 2, Index: 2}}}, logOf(1, 2)}
	half := func() *checker.Safety { return checker.NewSafety().WithHalfCommitQuorum() }

	requireViolation(t, run(t, ackOf2, alone), checker.AckedCommit)
	assert.NoError(t, runOn(t, half(), ackOf2, alone), "itself and node 2: half of four")
	requireViolation(t, runOn(t, half(), alone), checker.AckedCommit)

	// CommitQuorum counts the logs that hold the entry, by the same rule.
	shared := func(s *checker.Safety) *checker.Safety { s.SharedLogs = true; return s.WithoutLocalChecks() }
	requireViolation(t, runOn(t, shared(checker.NewSafety()), ackOf2, alone), checker.CommitQuorum)
	assert.NoError(t, runOn(t, shared(half()), ackOf2, alone))

	three := []raft.ID{1, 2, 3}
	alone3 := batch{1, status(1, raft.Leader, 2, 1, 1, 2, three...), status(1, raft.Leader, 2, 2, 1, 2, three...), raft.Ready{}, logOf(1, 2)}
	requireViolation(t, runOn(t, half(), alone3), checker.AckedCommit)
}

func TestChecksSayWhatRan(t *testing.T) {
	s := checker.NewSafety()
	assert.Contains(t, s.Checks(), checker.DurableAck)
	assert.NotContains(t, s.Checks(), checker.CommitQuorum, "needs every log")
	s.SharedLogs = true
	assert.Contains(t, s.Checks(), checker.CommitQuorum)
}

func TestTheConfigurationIsTheOneTheLogSays(t *testing.T) {
	l := logOf(1, 1)
	l.ents = append(l.ents, raft.Entry{Index: 3, Term: 1, Type: raft.EntryConfChange, Change: raft.ConfChange{Type: raft.ConfRemoveNode, Node: 3}})
	prev := status(2, raft.Follower, 1, 2, 2, 2, 1, 2, 3)
	stale := batch{2, prev, status(2, raft.Follower, 1, 2, 2, 3, 1, 2, 3), raft.Ready{Entries: l.ents[2:]}, l}
	requireViolation(t, run(t, stale), checker.ConfigFromLog)
	applied := batch{2, prev, status(2, raft.Follower, 1, 2, 2, 3, 1, 2), raft.Ready{Entries: l.ents[2:]}, l}
	assert.NoError(t, run(t, applied))
}

func TestALeaderChangesItsConfigurationOnlyByTheRule(t *testing.T) {
	voters := []raft.ID{1, 2, 3}
	change := func(index, term uint64, node raft.ID) raft.Entry {
		return raft.Entry{Index: index, Term: term, Type: raft.EntryConfChange, Change: raft.ConfChange{Type: raft.ConfRemoveNode, Node: node}}
	}
	// Leader 1 of term 3: index 4 is its no-op, index 5 a change.
	tests := []struct {
		name   string
		commit uint64
		log    []raft.Entry
		ok     bool
		says   string
	}{
		{"after its no-op committed", 4, nil, true, ""},
		{"before committing an entry of its term", 3, nil, false, "before committing an entry of its term"},
		{"while an earlier change is uncommitted", 4, []raft.Entry{change(5, 3, 2)}, false, "while the change at index 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := logOf(1, 2, 2, 3)
			l.ents = append(l.ents, tt.log...)
			e := change(uint64(len(l.ents)+1), 3, 3)
			l.ents = append(l.ents, e)
			left := []raft.ID{1, 2} // the configuration the changes leave
			if len(tt.log) > 0 {
				left = []raft.ID{1}
			}
			leading := status(1, raft.Leader, 3, tt.commit, tt.commit, e.Index-1, voters...)
			after := status(1, raft.Leader, 3, tt.commit, tt.commit, e.Index, left...)
			err := run(t, batch{1, leading, after, raft.Ready{Entries: []raft.Entry{e}}, l})
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			requireViolation(t, err, checker.ConfigChangeRule)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}
