package checker_test

import (
	"errors"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeLog is a node's log: index i (1-based) is ents[i-1]; index 0 is the
// empty prefix, of term 0.
type fakeLog struct{ ents []raft.Entry }

var _ checker.LogReader = (*fakeLog)(nil)

func (l *fakeLog) Term(i uint64) (uint64, bool) {
	if i == 0 {
		return 0, true
	}
	if i > uint64(len(l.ents)) {
		return 0, false
	}
	return l.ents[i-1].Term, true
}

func (l *fakeLog) FirstIndex() uint64 { return 1 }

func (l *fakeLog) Entry(i uint64) (raft.Entry, bool) {
	if i == 0 || i > uint64(len(l.ents)) {
		return raft.Entry{}, false
	}
	return l.ents[i-1], true
}

// step is one batch of one node, as the world reports it to the observer:
// the node's role, term and commit index after the batch, the entries it
// persisted (written into its log at their indexes, truncating whatever
// followed), and the entries it applied.
type step struct {
	node    raft.ID
	role    raft.Role
	term    uint64
	commit  uint64
	persist []raft.Entry
	apply   []raft.Entry
	vote    raft.ID
}

// cluster drives a Safety checker with steps, keeping each node's log and
// last reported status so that every call gets a consistent prev.
type cluster struct {
	safety *checker.Safety
	logs   map[raft.ID]*fakeLog
	status map[raft.ID]raft.Status
}

func newCluster() *cluster {
	return &cluster{safety: checker.NewSafety().WithoutLocalChecks(), logs: map[raft.ID]*fakeLog{}, status: map[raft.ID]raft.Status{}}
}

func (c *cluster) do(st step) error {
	l := c.logs[st.node]
	if l == nil {
		l = &fakeLog{}
		c.logs[st.node] = l
	}
	if len(st.persist) > 0 {
		first := st.persist[0].Index
		l.ents = append(l.ents[:first-1:first-1], st.persist...)
	}
	prev := c.status[st.node]
	prev.ID = st.node
	cur := raft.Status{ID: st.node, Role: st.role, Term: st.term, Vote: st.vote, Commit: st.commit, Applied: prev.Applied,
		LastIndex: uint64(len(l.ents))}
	if n := len(l.ents); n > 0 {
		cur.LastTerm = l.ents[n-1].Term
	}
	if n := len(st.apply); n > 0 {
		cur.Applied = st.apply[n-1].Index
	}
	if cur.Role == raft.Leader {
		cur.Lead = st.node
	}
	c.status[st.node] = cur
	return c.safety.Changed(st.node, prev, cur, &raft.Ready{Entries: st.persist, Committed: st.apply}, l)
}

// Entries used by the tables: noop(i, t) is a leader's no-op, cmd(i, t, v)
// a chat line.
func noop(index, term uint64) raft.Entry {
	return raft.Entry{Index: index, Term: term, Type: raft.EntryNoop}
}

func cmd(index, term uint64, v string) raft.Entry {
	return raft.Entry{Index: index, Term: term, Type: raft.EntryNormal,
		Data: app.Command{Key: "chat", Value: v, Client: 1, Seq: index}.Encode()}
}

func ents(es ...raft.Entry) []raft.Entry { return es }

const (
	F  = raft.Follower
	PC = raft.PreCandidate
	C  = raft.Candidate
	L  = raft.Leader
)

// validRun is a normal 3-node history: an election, replication, commit
// and apply in term 1; an uncommitted entry that only the old leader
// holds; a term-2 leader that commits over it; the old leader rejoining
// as a follower and truncating its conflicting suffix; and a third leader
// (term 3) with a complete log.
func validRun() []step {
	return []step{
		// Term 1: node 1 is elected and appends its no-op.
		{node: 1, role: PC, term: 0},
		{node: 1, role: C, term: 1},
		{node: 2, role: F, term: 1},
		{node: 3, role: F, term: 1},
		{node: 1, role: L, term: 1, persist: ents(noop(1, 1))},
		// Replication, commit, apply.
		{node: 2, role: F, term: 1, persist: ents(noop(1, 1))},
		{node: 3, role: F, term: 1, persist: ents(noop(1, 1))},
		{node: 1, role: L, term: 1, commit: 1, persist: ents(cmd(2, 1, "a")), apply: ents(noop(1, 1))},
		{node: 2, role: F, term: 1, commit: 1, persist: ents(cmd(2, 1, "a")), apply: ents(noop(1, 1))},
		{node: 3, role: F, term: 1, commit: 1, persist: ents(cmd(2, 1, "a")), apply: ents(noop(1, 1))},
		{node: 1, role: L, term: 1, commit: 2, apply: ents(cmd(2, 1, "a"))},
		{node: 2, role: F, term: 1, commit: 2, apply: ents(cmd(2, 1, "a"))},
		// Node 1 appends an entry nobody else receives, then is cut off.
		{node: 1, role: L, term: 1, commit: 2, persist: ents(cmd(3, 1, "lost"))},
		// Term 2: node 2 is elected by node 3 and commits its no-op.
		{node: 2, role: C, term: 2, commit: 2},
		{node: 3, role: F, term: 2, commit: 2, apply: ents(cmd(2, 1, "a"))},
		{node: 2, role: L, term: 2, commit: 2, persist: ents(noop(3, 2))},
		{node: 3, role: F, term: 2, commit: 2, persist: ents(noop(3, 2))},
		{node: 2, role: L, term: 2, commit: 3, persist: ents(cmd(4, 2, "b")), apply: ents(noop(3, 2))},
		{node: 3, role: F, term: 2, commit: 3, persist: ents(cmd(4, 2, "b")), apply: ents(noop(3, 2))},
		{node: 2, role: L, term: 2, commit: 4, apply: ents(cmd(4, 2, "b"))},
		// Node 1 rejoins: it steps down, and its conflicting uncommitted
		// entry at index 3 is overwritten by the term-2 entries.
		{node: 1, role: F, term: 2, commit: 2},
		{node: 1, role: F, term: 2, commit: 4, persist: ents(noop(3, 2), cmd(4, 2, "b")),
			apply: ents(noop(3, 2), cmd(4, 2, "b"))},
		{node: 3, role: F, term: 2, commit: 4, apply: ents(cmd(4, 2, "b"))},
		// Term 3: node 3, whose log is complete, takes over and commits.
		{node: 3, role: C, term: 3, commit: 4},
		{node: 3, role: L, term: 3, commit: 4, persist: ents(noop(5, 3))},
		{node: 2, role: F, term: 3, commit: 4, persist: ents(noop(5, 3))},
		{node: 3, role: L, term: 3, commit: 5, apply: ents(noop(5, 3))},
		{node: 1, role: F, term: 3, commit: 5, persist: ents(noop(5, 3)), apply: ents(noop(5, 3))},
		{node: 2, role: F, term: 3, commit: 5, apply: ents(noop(5, 3))},
	}
}

func TestSafetyAcceptsAValidHistory(t *testing.T) {
	c := newCluster()
	for i, st := range validRun() {
		require.NoError(t, c.do(st), "step %d: %+v", i, st)
	}
	// The conflicting suffix really was truncated and replaced.
	require.Len(t, c.logs[1].ents, 5)
	assert.Equal(t, noop(3, 2), c.logs[1].ents[2])
}

// A leader completeness regression the realistic world found (property
// seed 358): a stale leader of term 4, cut off and not yet deposed, lacks
// an entry of term 2 that the leader of term 5 commits. Leader
// completeness binds leaders of terms after the commit (5), not after the
// entry's own term (2), so this history is valid.
func TestStaleLeaderNeedNotHoldAnOldEntryCommittedLater(t *testing.T) {
	c := newCluster()
	for i, st := range []step{
		// Term 2: node 2 leads and appends an entry only node 3 receives.
		{node: 2, role: L, term: 2, persist: ents(noop(1, 2), cmd(2, 2, "x"))},
		{node: 3, role: F, term: 2, persist: ents(noop(1, 2), cmd(2, 2, "x"))},
		// Term 4: node 1, whose log lacks it, is elected (by nodes 1 and 4
		// of 4 and one more not shown) and then cut off.
		{node: 1, role: L, term: 4, persist: ents(noop(1, 4))},
		// Term 5: node 2 leads again, with node 3, and a third node commits
		// index 2 (term 2) through its term-5 entry.
		{node: 2, role: L, term: 5, persist: ents(noop(3, 5))},
		{node: 3, role: F, term: 5, persist: ents(noop(3, 5))},
		{node: 2, role: L, term: 5, commit: 3},
	} {
		require.NoError(t, c.do(st), "step %d: %+v", i, st)
	}
	// A leader of a later term than the commit must still hold the entry.
	err := c.do(step{node: 4, role: L, term: 6, persist: ents(noop(1, 6))})
	var v *checker.Violation
	require.ErrorAs(t, err, &v)
	assert.Equal(t, checker.LeaderCompleteness, v.Property)
}

func TestSafetyReportsViolations(t *testing.T) {
	// Every history ends with the step that breaks the property; every
	// earlier step must pass.
	tests := []struct {
		name  string
		steps []step
		want  checker.Violation
	}{
		{
			name: "election safety: two leaders in term 1",
			steps: []step{
				{node: 1, role: C, term: 1},
				{node: 2, role: C, term: 1},
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1))},
				{node: 2, role: L, term: 1},
			},
			want: checker.Violation{Property: checker.ElectionSafety, Nodes: []raft.ID{1, 2}, Term: 1},
		},
		{
			name: "vote once: a restarted follower votes again in its term",
			steps: []step{
				{node: 3, role: F, term: 2, vote: 1},
				{node: 3, role: F, term: 2}, // restarted: the vote was not kept
				{node: 3, role: F, term: 2, vote: 2},
			},
			want: checker.Violation{Property: checker.VoteOnce, Nodes: []raft.ID{3}, Term: 2},
		},
		{
			name: "election safety: a later leader of an old term",
			steps: []step{
				{node: 3, role: L, term: 4, persist: ents(noop(1, 4))},
				{node: 3, role: F, term: 5},
				{node: 1, role: L, term: 5, persist: ents(noop(1, 5))},
				{node: 2, role: L, term: 4},
			},
			want: checker.Violation{Property: checker.ElectionSafety, Nodes: []raft.ID{3, 2}, Term: 4},
		},
		{
			name: "leader append-only: a leader overwrites its own entry",
			steps: []step{
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1))},
				{node: 1, role: L, term: 1, persist: ents(cmd(2, 1, "a"), cmd(3, 1, "b"))},
				{node: 1, role: L, term: 1, persist: ents(cmd(2, 1, "rewritten"))},
			},
			want: checker.Violation{Property: checker.LeaderAppendOnly, Nodes: []raft.ID{1}, Term: 1, Index: 2},
		},
		{
			name: "leader append-only: a leader rewrites its last entry unchanged",
			steps: []step{
				{node: 2, role: L, term: 3, persist: ents(noop(1, 3))},
				{node: 2, role: L, term: 3, persist: ents(noop(1, 3))},
			},
			want: checker.Violation{Property: checker.LeaderAppendOnly, Nodes: []raft.ID{2}, Term: 3, Index: 1},
		},
		{
			name: "log matching: same index and term, different commands",
			steps: []step{
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 2, role: F, term: 1, persist: ents(noop(1, 1))},
				{node: 2, role: F, term: 1, persist: ents(cmd(2, 1, "b"))},
			},
			want: checker.Violation{Property: checker.LogMatching, Nodes: []raft.ID{1, 2}, Term: 1, Index: 2},
		},
		{
			name: "log matching: same entry, different predecessor",
			steps: []step{
				{node: 1, role: F, term: 2, persist: ents(noop(1, 1), cmd(2, 2, "x"))},
				{node: 3, role: F, term: 2, persist: ents(noop(1, 2), cmd(2, 2, "x"))},
			},
			want: checker.Violation{Property: checker.LogMatching, Nodes: []raft.ID{1, 3}, Term: 2, Index: 2},
		},
		{
			name: "leader completeness: a new leader lacks a committed entry",
			steps: []step{
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1))},
				{node: 2, role: F, term: 1, persist: ents(noop(1, 1))},
				{node: 1, role: L, term: 1, commit: 1},
				{node: 3, role: C, term: 2},
				{node: 3, role: L, term: 2},
			},
			want: checker.Violation{Property: checker.LeaderCompleteness, Nodes: []raft.ID{3}, Term: 2, Index: 1},
		},
		{
			name: "leader completeness: a new leader holds a different entry at a committed index",
			steps: []step{
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 2, role: F, term: 1, commit: 2, persist: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 3, role: F, term: 1, persist: ents(noop(1, 1))},
				{node: 3, role: L, term: 3, persist: ents(noop(2, 3))},
			},
			want: checker.Violation{Property: checker.LeaderCompleteness, Nodes: []raft.ID{3}, Term: 3, Index: 2},
		},
		{
			name: "leader completeness: an entry committed after a later leader was elected without it",
			steps: []step{
				{node: 1, role: L, term: 1, persist: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 2, role: F, term: 1, persist: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 3, role: F, term: 1, persist: ents(noop(1, 1))},
				{node: 3, role: L, term: 2},
				// The stale leader of term 1 commits index 2 with node 2.
				{node: 1, role: L, term: 1, commit: 2},
			},
			want: checker.Violation{Property: checker.LeaderCompleteness, Nodes: []raft.ID{1, 3}, Term: 2, Index: 2},
		},
		{
			name: "state machine safety: two nodes apply different commands at an index",
			steps: []step{
				{node: 1, role: F, term: 1, commit: 1, apply: ents(cmd(1, 1, "a"))},
				{node: 2, role: F, term: 1, commit: 1, apply: ents(cmd(1, 1, "b"))},
			},
			want: checker.Violation{Property: checker.StateMachineSafety, Nodes: []raft.ID{1, 2}, Term: 1, Index: 1},
		},
		{
			name: "state machine safety: a later apply of a different entry, several per batch",
			steps: []step{
				{node: 3, role: F, term: 2, commit: 2, apply: ents(noop(1, 1), cmd(2, 1, "a"))},
				{node: 1, role: F, term: 2, commit: 2, apply: ents(noop(1, 1), cmd(2, 2, "a"))},
			},
			want: checker.Violation{Property: checker.StateMachineSafety, Nodes: []raft.ID{3, 1}, Term: 2, Index: 2},
		},
		{
			name: "state machine safety: an index committed with two terms",
			steps: []step{
				{node: 1, role: F, term: 1, persist: ents(noop(1, 1))},
				{node: 1, role: F, term: 1, commit: 1},
				{node: 2, role: F, term: 2, commit: 1, persist: ents(noop(1, 2))},
			},
			want: checker.Violation{Property: checker.StateMachineSafety, Nodes: []raft.ID{2}, Term: 2, Index: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster()
			last := len(tt.steps) - 1
			for i, st := range tt.steps[:last] {
				require.NoError(t, c.do(st), "step %d: %+v", i, st)
			}
			err := c.do(tt.steps[last])
			require.Error(t, err, "the last step must violate %s", tt.want.Property)
			var v *checker.Violation
			require.True(t, errors.As(err, &v), "error %T is not a *checker.Violation: %v", err, err)
			assert.Equal(t, tt.want.Property, v.Property)
			assert.Equal(t, tt.want.Nodes, v.Nodes)
			assert.Equal(t, tt.want.Term, v.Term, "term")
			assert.Equal(t, tt.want.Index, v.Index, "index")
			assert.NotEmpty(t, v.Detail)
			assert.Contains(t, err.Error(), tt.want.Property+" violated")
		})
	}
}

func TestViolationsAreFoundInTheMiddleOfAValidHistory(t *testing.T) {
	// The valid run, with one step changed, must fail at that step.
	tests := []struct {
		name     string
		at       int
		step     step
		property string
	}{
		{"a second leader of term 1", 5, step{node: 2, role: L, term: 1}, checker.ElectionSafety},
		{"node 2 applies another command at index 2", 11,
			step{node: 2, role: F, term: 1, commit: 2, apply: ents(cmd(2, 1, "z"))}, checker.StateMachineSafety},
		{"node 3 persists another command at index 2", 9,
			step{node: 3, role: F, term: 1, commit: 1, persist: ents(cmd(2, 1, "z")), apply: ents(noop(1, 1))}, checker.LogMatching},
		{"node 2 leads term 2 without the committed index 2", 15,
			step{node: 2, role: L, term: 2, commit: 2, persist: ents(noop(2, 2))}, checker.LeaderCompleteness},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := validRun()
			require.Less(t, tt.at, len(steps))
			steps[tt.at] = tt.step
			c := newCluster()
			for i, st := range steps[:tt.at] {
				require.NoError(t, c.do(st), "step %d", i)
			}
			err := c.do(steps[tt.at])
			var v *checker.Violation
			require.True(t, errors.As(err, &v), "step %d: want a violation, got %v", tt.at, err)
			assert.Equal(t, tt.property, v.Property)
		})
	}
}

func TestViolationError(t *testing.T) {
	tests := []struct {
		v    checker.Violation
		want string
	}{
		{checker.Violation{Property: checker.ElectionSafety, Nodes: []raft.ID{1, 2}, Term: 3, Detail: "two leaders in one term"},
			"election safety violated: nodes [1 2] term 3: two leaders in one term"},
		{checker.Violation{Property: checker.LogMatching, Nodes: []raft.ID{4, 5}, Term: 2, Index: 7, Detail: "d"},
			"log matching violated: nodes [4 5] term 2 index 7: d"},
		{checker.Violation{Property: checker.StateMachineSafety, Nodes: []raft.ID{1}, Index: 9, Detail: "d"},
			"state machine safety violated: nodes [1] index 9: d"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.v.Error())
	}
}
