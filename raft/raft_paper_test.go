package raft

// Tests named after the rule of the Raft paper ("In Search of an
// Understandable Consensus Algorithm", extended version) they check, with
// the section number as a suffix, in the manner of etcd-io/raft's
// raft_paper_test.go. Rules that come from Ongaro's dissertation ("Consensus:
// Bridging Theory and Practice") say so; their suffix is the dissertation's
// section.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// §5.1 Raft basics

// TestFollowerUpdateTermFromMessage_5_1 (and its siblings for the other
// roles): "If one server's current term is smaller than the other's, then it
// updates its current term to the larger value. If a candidate or leader
// discovers that its term is out of date, it immediately reverts to follower
// state."
func TestFollowerUpdateTermFromMessage_5_1(t *testing.T) { testUpdateTermFromMessage(t, Follower) }
func TestPreCandidateUpdateTermFromMessage_5_1(t *testing.T) {
	testUpdateTermFromMessage(t, PreCandidate)
}
func TestCandidateUpdateTermFromMessage_5_1(t *testing.T) { testUpdateTermFromMessage(t, Candidate) }
func TestLeaderUpdateTermFromMessage_5_1(t *testing.T)    { testUpdateTermFromMessage(t, Leader) }

func testUpdateTermFromMessage(t *testing.T, role Role) {
	msgs := []struct {
		name     string
		m        Message
		wantLead ID
	}{
		{"append", Message{Type: MsgApp, From: 2, Term: 5, Index: 1, LogTerm: 1}, 2},
		{"vote", Message{Type: MsgVote, From: 2, Term: 5, Index: 9, LogTerm: 4}, None},
		{"vote response", Message{Type: MsgVoteResp, From: 2, Term: 5, Reject: true}, None},
		{"append response", Message{Type: MsgAppResp, From: 2, Term: 5}, None},
	}
	for _, tt := range msgs {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRaft(t, 1, ids(3), func(c *Config) { c.PreVote = role == PreCandidate })
			switch role {
			case Follower:
				r.becomeFollower(2, 3)
			case PreCandidate:
				r.Fire(TimerElection)
			case Candidate:
				becomeCandidateAt(r, 2)
			case Leader:
				becomeLeaderAt(r, 2)
			}
			require.Equal(t, role, r.role)
			r.Ready()

			r.Step(tt.m)
			require.Equal(t, Follower, r.role)
			require.Equal(t, uint64(5), r.term)
			require.Equal(t, tt.wantLead, r.lead)
			rd := r.Ready()
			require.True(t, rd.HardStateChanged)
			require.Equal(t, uint64(5), rd.HardState.Term)
			if role == Leader {
				hb, ok := timerOf(rd, TimerHeartbeat)
				require.True(t, ok && hb.Stop, "a deposed leader must stop its heartbeat timer")
			}
			et, ok := timerOf(rd, TimerElection)
			require.True(t, ok && !et.Stop, "a follower must arm its election timer")
		})
	}
}

// TestRejectStaleTermMessage_5_1: "If a server receives a request with a
// stale term number, it rejects the request." A stale append changes
// nothing; with PreVote or CheckQuorum the follower also tells the stale
// leader its term (etcd's behaviour), and the stale leader steps down.
func TestRejectStaleTermMessage_5_1(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*Config)
		wantReply bool
	}{
		{"plain", nil, false},
		{"prevote", func(c *Config) { c.PreVote = true }, true},
		{"checkquorum", func(c *Config) { c.CheckQuorum = true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRaft(t, 1, ids(3), tt.mod)
			r.becomeFollower(3, None)
			r.Ready()
			before := logTerms(r)

			r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Commit: 2,
				Entries: []Entry{{Term: 2, Index: 2}}})
			r.Step(Message{Type: MsgVote, From: 2, Term: 2, Index: 5, LogTerm: 2})
			require.Equal(t, before, logTerms(r))
			require.Equal(t, uint64(3), r.term)
			require.Equal(t, None, r.vote)
			require.Equal(t, None, r.lead)
			require.Equal(t, uint64(1), r.commit)
			rd := r.Ready()
			require.Empty(t, msgsOf(rd, MsgVoteResp), "no answer to a stale vote request")
			apps := msgsOf(rd, MsgAppResp)
			if !tt.wantReply {
				require.Empty(t, apps)
				return
			}
			require.Len(t, apps, 1)
			require.Equal(t, uint64(3), apps[0].Term)
			require.Equal(t, ID(2), apps[0].To)

			// The stale leader learns the newer term and steps down.
			old := newTestRaft(t, 2, ids(3), tt.mod)
			becomeLeaderAt(old, 2)
			old.Step(apps[0])
			require.Equal(t, Follower, old.role)
			require.Equal(t, uint64(3), old.term)
		})
	}
}

// ---------------------------------------------------------------------------
// §5.2 Leader election

// TestStartAsFollower_5_2: "When servers start up, they begin as followers."
// A bootstrapped server writes the initial configuration as entry 1 and
// arms its election timer.
func TestStartAsFollower_5_2(t *testing.T) {
	cfg := newTestConfig(2, 3, 1, 2)
	r, err := New(cfg, Stored{})
	require.NoError(t, err)
	require.Equal(t, Follower, r.role)
	rd := r.Ready()
	require.Equal(t, HardState{Term: 1, Commit: 1}, rd.HardState)
	require.True(t, rd.HardStateChanged)
	want := []Entry{{Term: 1, Index: 1, Type: EntryConfChange, Change: ConfChange{Type: ConfInit, Voters: []ID{1, 2, 3}}}}
	require.Equal(t, want, rd.Entries)
	require.Equal(t, want, rd.Committed)
	require.Empty(t, rd.Messages)
	et, ok := timerOf(rd, TimerElection)
	require.True(t, ok)
	require.False(t, et.Stop)
	require.GreaterOrEqual(t, et.After, testET)
	require.Less(t, et.After, 2*testET)
	require.Equal(t, []ID{1, 2, 3}, r.Status().Voters)
	require.Equal(t, []ID{3, 1, 2}, cfg.Voters, "New must not reorder the caller's slice")
}

// TestLeaderBcastBeat_5_2: "Leaders send periodic heartbeats (AppendEntries
// RPCs that carry no log entries) to all followers in order to maintain
// their authority." The heartbeat carries the commit index and re-arms
// itself.
func TestLeaderBcastBeat_5_2(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	l := nw.raft(1)
	require.Equal(t, testET/5, nw.nodes[1].timers[TimerHeartbeat])
	_, armed := nw.nodes[1].timers[TimerElection]
	require.False(t, armed, "without CheckQuorum a leader has no election timer")

	l.Fire(TimerHeartbeat)
	rd := l.Ready()
	apps := msgsOf(rd, MsgApp)
	require.Len(t, apps, 2)
	var to []ID
	for _, m := range apps {
		to = append(to, m.To)
		require.Empty(t, m.Entries)
		require.Equal(t, l.term, m.Term)
		require.Equal(t, l.commit, m.Commit)
		require.Equal(t, l.log.lastIndex(), m.Index)
	}
	slices.Sort(to)
	require.Equal(t, []ID{2, 3}, to)
	hb, ok := timerOf(rd, TimerHeartbeat)
	require.True(t, ok)
	require.Equal(t, testET/5, hb.After)

	// A heartbeat resets the followers' election timers.
	f := nw.raft(2)
	f.Step(apps[0])
	frd := f.Ready()
	et, ok := timerOf(frd, TimerElection)
	require.True(t, ok)
	require.GreaterOrEqual(t, et.After, testET)
	require.Equal(t, ID(1), f.lead)
}

// TestHeartbeatInterval_5_2: the heartbeat interval defaults to ET/5 (the
// paper's setting); a configured one wins.
func TestHeartbeatInterval_5_2(t *testing.T) {
	tests := []struct {
		configured, want time.Duration
	}{
		{0, testET / 5},
		{30 * time.Millisecond, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		r := newTestRaft(t, 1, ids(1), func(c *Config) { c.HeartbeatInterval = tt.configured })
		r.Campaign()
		require.Equal(t, Leader, r.role)
		rd := r.Ready()
		hb, ok := timerOf(rd, TimerHeartbeat)
		require.True(t, ok)
		require.Equal(t, tt.want, hb.After)
		r.Fire(TimerHeartbeat)
		hb, ok = timerOf(r.Ready(), TimerHeartbeat)
		require.True(t, ok)
		require.Equal(t, tt.want, hb.After)
	}
}

// TestFollowerStartElection_5_2 and TestCandidateStartNewElection_5_2: "If a
// follower receives no communication over a period of time called the
// election timeout, then it ... begins an election. To begin an election, a
// follower increments its current term and transitions to candidate state.
// It then votes for itself and issues RequestVote RPCs in parallel to each
// of the other servers." A candidate whose election times out starts a new
// one the same way.
func TestFollowerStartElection_5_2(t *testing.T)     { testNonleaderStartElection(t, Follower) }
func TestCandidateStartNewElection_5_2(t *testing.T) { testNonleaderStartElection(t, Candidate) }

func testNonleaderStartElection(t *testing.T, role Role) {
	r := newStoredRaft(t, 1, Stored{HardState: HardState{Term: 3, Commit: 1}, Entries: storedLog(ids(3), 2, 3)}, nil)
	if role == Candidate {
		becomeCandidateAt(r, 4)
	}
	term := r.term
	r.Fire(TimerElection)
	require.Equal(t, Candidate, r.role)
	require.Equal(t, term+1, r.term)
	require.Equal(t, ID(1), r.vote)
	require.True(t, r.votes[1])
	rd := r.Ready()
	require.Equal(t, HardState{Term: term + 1, Vote: 1, Commit: 1}, rd.HardState)
	votes := msgsOf(rd, MsgVote)
	require.Len(t, votes, 2)
	for i, m := range votes {
		require.Equal(t, ID(i+2), m.To)
		require.Equal(t, Message{Type: MsgVote, From: 1, To: ID(i + 2), Term: term + 1, Index: 3, LogTerm: 3}, m)
	}
	et, ok := timerOf(rd, TimerElection)
	require.True(t, ok, "a candidate re-arms its election timer")
	require.GreaterOrEqual(t, et.After, testET)
	require.Less(t, et.After, 2*testET)
}

// TestLeaderElectionInOneRoundRPC_5_2: "A candidate wins an election if it
// receives votes from a majority of the servers in the full cluster for the
// same term." It loses (returns to follower) once a majority refused; until
// then it stays a candidate.
func TestLeaderElectionInOneRoundRPC_5_2(t *testing.T) {
	tests := []struct {
		size  int
		votes map[ID]bool
		want  Role
	}{
		// win the election when receiving votes from a majority
		{1, map[ID]bool{}, Leader},
		{3, map[ID]bool{2: true, 3: true}, Leader},
		{3, map[ID]bool{2: true}, Leader},
		{5, map[ID]bool{2: true, 3: true, 4: true, 5: true}, Leader},
		{5, map[ID]bool{2: true, 3: true, 4: true}, Leader},
		{5, map[ID]bool{2: true, 3: true}, Leader},
		{5, map[ID]bool{2: true, 3: true, 4: false, 5: false}, Leader},
		// return to follower once a majority refused
		{3, map[ID]bool{2: false, 3: false}, Follower},
		{5, map[ID]bool{2: false, 3: false, 4: false}, Follower},
		{5, map[ID]bool{2: true, 3: false, 4: false, 5: false}, Follower},
		// stay in candidate if it neither wins nor loses
		{3, map[ID]bool{}, Candidate},
		{3, map[ID]bool{2: false}, Candidate},
		{5, map[ID]bool{2: true}, Candidate},
		{5, map[ID]bool{2: false, 3: false}, Candidate},
		{5, map[ID]bool{}, Candidate},
		{5, map[ID]bool{2: true, 3: false, 4: false}, Candidate},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := newTestRaft(t, 1, ids(tt.size), nil)
			r.Fire(TimerElection)
			term := r.term
			for _, id := range ids(tt.size) { // in order: deterministic
				if v, ok := tt.votes[id]; ok {
					r.Step(Message{Type: MsgVoteResp, From: id, To: 1, Term: term, Reject: !v})
				}
			}
			require.Equal(t, tt.want, r.role)
			require.Equal(t, term, r.term, "an election result does not change the term")
		})
	}
}

// TestFollowerVote_5_2: "Each server will vote for at most one candidate in a
// given term, on a first-come-first-served basis."
func TestFollowerVote_5_2(t *testing.T) {
	tests := []struct {
		vote, nvote ID
		wantReject  bool
	}{
		{None, 2, false},
		{None, 3, false},
		{2, 2, false},
		{3, 3, false},
		{2, 3, true},
		{3, 2, true},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := newTestRaft(t, 1, ids(3), nil)
			r.vote = tt.vote
			r.Step(Message{Type: MsgVote, From: tt.nvote, To: 1, Term: 1, Index: 1, LogTerm: 1})
			rd := r.Ready()
			resp := msgsOf(rd, MsgVoteResp)
			require.Len(t, resp, 1)
			require.Equal(t, tt.wantReject, resp[0].Reject)
			require.Equal(t, tt.nvote, resp[0].To)
			require.Equal(t, uint64(1), resp[0].Term)
			want := tt.vote
			if want == None {
				want = tt.nvote
			}
			require.Equal(t, want, r.vote)
		})
	}
}

// TestFollowerWithLeaderDoesNotVote_5_2: a follower that knows the leader of
// the current term refuses a vote in that term to anyone else.
func TestFollowerWithLeaderDoesNotVote_5_2(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), nil)
	r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Commit: 1})
	require.Equal(t, ID(2), r.lead)
	r.Ready()
	r.Step(Message{Type: MsgVote, From: 3, Term: 2, Index: 1, LogTerm: 1})
	resp := msgsOf(r.Ready(), MsgVoteResp)
	require.Len(t, resp, 1)
	require.True(t, resp[0].Reject)
	require.Equal(t, None, r.vote)
}

// TestCandidateFallback_5_2: "While waiting for votes, a candidate may
// receive an AppendEntries RPC from another server claiming to be leader.
// If the leader's term ... is at least as large as the candidate's current
// term, then the candidate recognizes the leader as legitimate and returns
// to follower state."
func TestCandidateFallback_5_2(t *testing.T) {
	for _, pre := range []bool{false, true} {
		for _, dterm := range []uint64{0, 1} {
			t.Run(fmt.Sprintf("prevote=%v/term+%d", pre, dterm), func(t *testing.T) {
				r := newTestRaft(t, 1, ids(3), func(c *Config) { c.PreVote = pre })
				r.term = 2
				r.Fire(TimerElection)
				if pre {
					require.Equal(t, PreCandidate, r.role)
				} else {
					require.Equal(t, Candidate, r.role)
				}
				r.Ready()
				term := r.term + dterm
				r.Step(Message{Type: MsgApp, From: 2, Term: term, Index: 1, LogTerm: 1, Commit: 1,
					Entries: []Entry{{Term: term, Index: 2, Type: EntryNoop}}})
				require.Equal(t, Follower, r.role)
				require.Equal(t, term, r.term)
				require.Equal(t, ID(2), r.lead)
				require.Equal(t, uint64(2), r.log.lastIndex(), "the append is handled, not just noticed")
				resp := msgsOf(r.Ready(), MsgAppResp)
				require.Len(t, resp, 1)
				require.False(t, resp[0].Reject)
				require.Equal(t, uint64(2), resp[0].Index)
			})
		}
	}
}

// TestElectionTimeoutRandomized_5_2: "Raft uses randomized election timeouts
// ... election timeouts are chosen randomly from a fixed interval", here
// uniformly from [ET, 2ET), and only from Config.Rand.
func TestElectionTimeoutRandomized_5_2(t *testing.T) {
	draw := func(seed uint64, n int) []time.Duration {
		r := newTestRaft(t, 1, ids(3), func(c *Config) { c.Rand = newTestConfig(ID(seed)).Rand })
		out := make([]time.Duration, 0, n)
		for range n {
			// Each heartbeat from the leader re-arms the timer.
			r.Step(Message{Type: MsgApp, From: 2, Term: 1, Index: 1, LogTerm: 1, Commit: 1})
			et, ok := timerOf(r.Ready(), TimerElection)
			require.True(t, ok)
			out = append(out, et.After)
		}
		return out
	}
	const n = 2000
	got := draw(7, n)
	buckets := make([]int, 10)
	distinct := map[time.Duration]bool{}
	for _, d := range got {
		require.GreaterOrEqual(t, d, testET)
		require.Less(t, d, 2*testET)
		buckets[int((d-testET)*10/testET)]++
		distinct[d] = true
	}
	require.Greater(t, len(distinct), n*9/10, "timeouts must be spread, not a few values")
	for i, b := range buckets {
		// uniform: about n/10 = 200 per tenth of the interval
		require.InDelta(t, n/10, b, 70, "bucket %d of [ET,2ET) holds %d of %d draws", i, b, n)
	}
	require.Equal(t, got, draw(7, n), "the same Rand seed gives the same timeouts")
	require.NotEqual(t, got, draw(8, n))
}

// TestSplitVoteRearmsRandomTimeout_5_2: "each candidate restarts its
// randomized election timeout at the start of an election", so two split
// candidates draw different timeouts and one of them goes first.
func TestSplitVoteRearmsRandomTimeout_5_2(t *testing.T) {
	nw := newNetwork(t, 4, nil)
	// 1 and 2 campaign at once; 1's requests reach 3, 2's reach 4.
	nw.raft(1).Fire(TimerElection)
	nw.raft(2).Fire(TimerElection)
	nw.drain(1)
	nw.drain(2)
	nw.cut[[2]ID{1, 4}] = true
	nw.cut[[2]ID{2, 3}] = true
	nw.deliver()
	nw.heal()
	require.Equal(t, Candidate, nw.raft(1).role)
	require.Equal(t, Candidate, nw.raft(2).role)
	require.Equal(t, nw.raft(1).term, nw.raft(2).term)
	t1, t2 := nw.nodes[1].timers[TimerElection], nw.nodes[2].timers[TimerElection]
	require.NotEqual(t, t1, t2)
	first := ID(1)
	if t2 < t1 {
		first = 2
	}
	nw.elect(first)
	require.Equal(t, []ID{first}, nw.leaders())
}

// ---------------------------------------------------------------------------
// §5.3 Log replication

// TestLeaderStartReplication_5_3: "The leader appends the command to its log
// as a new entry, then issues AppendEntries RPCs in parallel to each of the
// other servers to replicate the entry." The RPC names the entry before the
// new ones and carries the leader's commit index.
func TestLeaderStartReplication_5_3(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), nil)
	becomeLeaderAt(r, 2)
	for _, id := range []ID{2, 3} {
		r.Step(Message{Type: MsgAppResp, From: id, Term: 2, Index: 2})
	}
	r.Ready()
	require.Equal(t, uint64(2), r.commit)
	li := r.log.lastIndex()

	require.NoError(t, r.Propose(put("a", "1")))
	require.Equal(t, li+1, r.log.lastIndex())
	rd := r.Ready()
	wantEnt := Entry{Term: 2, Index: li + 1, Type: EntryNormal, Data: put("a", "1")}
	require.Equal(t, []Entry{wantEnt}, rd.Entries)
	apps := msgsOf(rd, MsgApp)
	require.Len(t, apps, 2)
	for i, m := range apps {
		require.Equal(t, Message{Type: MsgApp, From: 1, To: ID(i + 2), Term: 2, Index: li, LogTerm: 2,
			Entries: []Entry{wantEnt}, Commit: 2}, m)
	}
	require.Empty(t, rd.Committed, "not committed before a majority stored it")
}

// TestLeaderCommitEntry_5_3: "When the entry has been safely replicated ...,
// the leader applies the entry to its state machine", and "once a follower
// learns that a log entry is committed, it applies the entry to its local
// state machine".
func TestLeaderCommitEntry_5_3(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.propose(1, put("a", "1"))
	l := nw.raft(1)
	require.Equal(t, l.log.lastIndex(), l.commit)
	for _, id := range ids(3) {
		require.Equal(t, []string{"1"}, nw.appliedCmds(id), "server %d", id)
		require.Equal(t, l.commit, nw.raft(id).commit, "server %d", id)
	}
	nw.requireLogsEqual(1, 2, 3)
}

// TestLeaderAcknowledgeCommit_5_3: "A log entry is committed once the leader
// that created the entry has replicated it on a majority of the servers."
func TestLeaderAcknowledgeCommit_5_3(t *testing.T) {
	tests := []struct {
		size      int
		acceptors []ID
		want      bool
	}{
		{1, nil, true},
		{3, nil, false},
		{3, []ID{2}, true},
		{3, []ID{2, 3}, true},
		{5, nil, false},
		{5, []ID{2}, false},
		{5, []ID{2, 3}, true},
		{5, []ID{2, 3, 4}, true},
		{5, []ID{2, 3, 4, 5}, true},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := newTestRaft(t, 1, ids(tt.size), nil)
			becomeLeaderAt(r, 2)
			for _, id := range ids(tt.size)[1:] {
				r.Step(Message{Type: MsgAppResp, From: id, Term: 2, Index: 2})
			}
			require.Equal(t, uint64(2), r.commit)
			r.Ready()
			require.NoError(t, r.Propose(put("a", "1")))
			for _, id := range tt.acceptors {
				r.Step(Message{Type: MsgAppResp, From: id, Term: 2, Index: 3})
			}
			require.Equal(t, tt.want, r.commit == 3)
			rd := r.Ready()
			require.Equal(t, tt.want, len(rd.Committed) == 1 && rd.Committed[0].Index == 3)
		})
	}
}

// TestLeaderCommitPrecedingEntries_5_3: "This also commits all preceding
// entries in the leader's log, including entries created by previous
// leaders."
func TestLeaderCommitPrecedingEntries_5_3(t *testing.T) {
	tests := [][]uint64{
		{},
		{2},
		{1, 1},
		{1, 2},
		{2, 2, 2},
	}
	for i, terms := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: storedLog(ids(3), terms...)}
			r := newStoredRaft(t, 1, st, nil)
			becomeLeaderAt(r, 3)
			require.NoError(t, r.Propose(put("a", "1")))
			li := r.log.lastIndex()
			r.Step(Message{Type: MsgAppResp, From: 2, Term: 3, Index: li})
			require.Equal(t, li, r.commit)
			rd := r.Ready()
			// Entry 1 was committed (and handed out) before the restart.
			require.Len(t, rd.Committed, int(li-1), "everything up to the new entry is committed")
			for j, e := range rd.Committed {
				require.Equal(t, uint64(j+2), e.Index)
			}
			require.Equal(t, EntryNoop, rd.Committed[li-3].Type)
			require.Equal(t, put("a", "1"), rd.Committed[li-2].Data)
		})
	}
}

// TestFollowerCommitEntry_5_3: "The leader keeps track of the highest index
// it knows to be committed, and it includes that index in future
// AppendEntries RPCs ... Once a follower learns that a log entry is
// committed, it applies the entry." A follower never commits past what the
// append showed it matches.
func TestFollowerCommitEntry_5_3(t *testing.T) {
	e := func(i uint64) Entry { return Entry{Term: 2, Index: i, Data: put("a", fmt.Sprint(i))} }
	tests := []struct {
		ents       []Entry
		commit     uint64
		wantCommit uint64
	}{
		{[]Entry{e(2)}, 2, 2},
		{[]Entry{e(2), e(3)}, 3, 3},
		{[]Entry{e(2), e(3)}, 2, 2},
		{[]Entry{e(2)}, 1, 1},
		{[]Entry{e(2)}, 7, 2}, // leader knows more: commit only what this append matched
		{nil, 7, 1},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			r := newTestRaft(t, 1, ids(3), nil)
			r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Entries: tt.ents, Commit: tt.commit})
			require.Equal(t, tt.wantCommit, r.commit)
			rd := r.Ready()
			require.Equal(t, tt.wantCommit, rd.HardState.Commit)
			var want []Entry
			for _, x := range tt.ents {
				if x.Index <= tt.wantCommit {
					want = append(want, x)
				}
			}
			require.Equal(t, want, rd.Committed)
		})
	}
}

// TestFollowerCommitOnlyMatchedEntries_5_3: a follower whose log holds
// stale entries beyond the append's match must not commit them, even when
// the leader's commit index is past them (they may differ from the
// leader's committed entries at the same indices).
func TestFollowerCommitOnlyMatchedEntries_5_3(t *testing.T) {
	st := Stored{HardState: HardState{Term: 1, Commit: 1}, Entries: storedLog(ids(3), 1, 1)}
	r := newStoredRaft(t, 1, st, nil)
	r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Commit: 3})
	require.Equal(t, uint64(1), r.commit)
	require.Empty(t, r.Ready().Committed)
	// Once the leader's entries replace them, they commit.
	r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Commit: 3,
		Entries: []Entry{{Term: 2, Index: 2, Type: EntryNoop}, {Term: 2, Index: 3, Data: put("a", "1")}}})
	require.Equal(t, uint64(3), r.commit)
	rd := r.Ready()
	require.Len(t, rd.Committed, 2)
	require.Equal(t, uint64(2), rd.Committed[1].Term)
}

// TestFollowerCheckMsgApp_5_3: "When sending an AppendEntries RPC, the
// leader includes the index and term of the entry in its log that
// immediately precedes the new entries. If the follower does not find an
// entry in its log with the same index and term, then it refuses the new
// entries." A refusal carries a hint for fast backtracking: the largest
// index at or below the probe whose term is at most the probe's term.
func TestFollowerCheckMsgApp_5_3(t *testing.T) {
	// follower log: 1:t1 (config) 2:t1 3:t2, commit 1
	tests := []struct {
		term, index        uint64
		wantReject         bool
		wantIndex          uint64
		wantHint, wantTerm uint64
	}{
		{1, 1, false, 1, 0, 0}, // match with committed entry
		{1, 2, false, 2, 0, 0}, // match with uncommitted entry
		{2, 3, false, 3, 0, 0}, // match at the last entry
		{3, 3, true, 3, 3, 2},  // term mismatch at the last entry
		{1, 3, true, 3, 2, 1},  // term mismatch, older term: back to the last term-1 entry
		{3, 4, true, 4, 3, 2},  // beyond the log
		{2, 10, true, 10, 3, 2},
		{0, 0, false, 1, 0, 0}, // below the commit index: ack the commit index
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: storedLog(ids(3), 1, 2)}
			r := newStoredRaft(t, 1, st, nil)
			r.Step(Message{Type: MsgApp, From: 2, Term: 2, LogTerm: tt.term, Index: tt.index, Commit: 1})
			resp := msgsOf(r.Ready(), MsgAppResp)
			require.Len(t, resp, 1)
			require.Equal(t, Message{Type: MsgAppResp, From: 1, To: 2, Term: 2, Index: tt.wantIndex,
				Reject: tt.wantReject, RejectHint: tt.wantHint, LogTerm: tt.wantTerm}, resp[0])
			require.Equal(t, []uint64{1, 1, 2}, logTerms(r), "a refused append changes nothing")
		})
	}
}

// TestFollowerAppendEntries_5_3: "If an existing entry conflicts with a new
// one (same index but different terms), delete the existing entry and all
// that follow it; append any new entries not already in the log." Only what
// changed is handed to storage, starting at the first changed index.
func TestFollowerAppendEntries_5_3(t *testing.T) {
	tests := []struct {
		index, term uint64
		ents        []Entry
		wantTerms   []uint64
		wantStore   []Entry
	}{
		{3, 2, []Entry{{Term: 3, Index: 4}}, []uint64{1, 1, 2, 3}, []Entry{{Term: 3, Index: 4}}},
		{2, 1, []Entry{{Term: 3, Index: 3}, {Term: 4, Index: 4}}, []uint64{1, 1, 3, 4},
			[]Entry{{Term: 3, Index: 3}, {Term: 4, Index: 4}}},
		{1, 1, []Entry{{Term: 1, Index: 2}}, []uint64{1, 1, 2}, nil},
		{1, 1, []Entry{{Term: 3, Index: 2}}, []uint64{1, 3}, []Entry{{Term: 3, Index: 2}}},
		// already present: nothing changes even though the append is shorter
		{1, 1, []Entry{{Term: 1, Index: 2}, {Term: 2, Index: 3}}, []uint64{1, 1, 2}, nil},
		// a prefix already present, then new ones
		{1, 1, []Entry{{Term: 1, Index: 2}, {Term: 2, Index: 3}, {Term: 3, Index: 4}}, []uint64{1, 1, 2, 3},
			[]Entry{{Term: 3, Index: 4}}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: storedLog(ids(3), 1, 2)}
			// The stored entries carry commands; the test's entries do not.
			st.Entries[1].Data, st.Entries[2].Data = nil, nil
			r := newStoredRaft(t, 1, st, nil)
			r.Step(Message{Type: MsgApp, From: 2, Term: 2, LogTerm: tt.term, Index: tt.index, Entries: tt.ents, Commit: 1})
			require.Equal(t, tt.wantTerms, logTerms(r))
			rd := r.Ready()
			require.Equal(t, tt.wantStore, rd.Entries)
			resp := msgsOf(rd, MsgAppResp)
			require.Len(t, resp, 1)
			require.False(t, resp[0].Reject)
			require.Equal(t, tt.index+uint64(len(tt.ents)), resp[0].Index)
		})
	}
}

// TestLeaderSyncFollowerLog_5_3: "the leader handles inconsistencies by
// forcing the followers' logs to duplicate its own", for the follower logs
// of the paper's Figure 7. With the rejection hint (§5.3's optimization:
// "the follower can include the term of the conflicting entry and the first
// index it stores for that term") each follower is found in one refusal.
func TestLeaderSyncFollowerLog_5_3(t *testing.T) {
	leaderTerms := []uint64{1, 1, 4, 4, 5, 5, 6, 6, 6} // indices 2..10; index 1 is the configuration (term 1)
	tests := []struct {
		name  string
		terms []uint64
	}{
		{"a", []uint64{1, 1, 4, 4, 5, 5, 6, 6}},
		{"b", []uint64{1, 1, 4}},
		{"c", []uint64{1, 1, 4, 4, 5, 5, 6, 6, 6, 6}},
		{"d", []uint64{1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}},
		{"e", []uint64{1, 1, 4, 4, 4, 4}},
		{"f", []uint64{1, 1, 2, 2, 2, 3, 3, 3, 3, 3}},
		{"empty but for the configuration", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newEmptyNetwork(t)
			leaderLog := storedLog(ids(3), leaderTerms...)
			nw.addStored(1, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: leaderLog}, nil)
			nw.addStored(2, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: storedLog(ids(3), tt.terms...)}, nil)
			// 3 holds the leader's log, so 1 can win even where 2 refuses.
			nw.addStored(3, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: storedLog(ids(3), leaderTerms...)}, nil)
			// Keep 3 out of replication, so 2 must catch up for anything to
			// commit after the election.
			nw.elect(1)
			require.Equal(t, uint64(8), nw.raft(1).term)
			nw.isolate(3)
			nw.propose(1, put("x", "y"))

			nw.requireLogsEqual(1, 2)
			l := nw.raft(1)
			require.Equal(t, l.log.lastIndex(), l.commit, "2's acks let the leader commit")
			require.Equal(t, append(slices.Clone(leaderLog), Entry{Term: 8, Index: 11, Type: EntryNoop},
				Entry{Term: 8, Index: 12, Data: put("x", "y")}), l.log.ents[1:])
			rejects := 0
			for _, m := range nw.sent {
				if m.Type == MsgAppResp && m.From == 2 && m.Reject {
					rejects++
				}
			}
			require.LessOrEqual(t, rejects, 1, "fast backtracking finds the match in one refusal")
		})
	}
}

// TestLeaderSyncFollowerLogNoHint_5_3: even without the term hint (an old
// follower that only says "no"), the leader converges by stepping back, and
// stale refusals do not move nextIndex twice.
func TestLeaderSyncFollowerLogNoHint_5_3(t *testing.T) {
	nw := newEmptyNetwork(t)
	nw.addStored(1, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: storedLog(ids(3), 1, 1, 4, 4, 5, 5, 6, 6, 6)}, nil)
	nw.addStored(2, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: storedLog(ids(3), 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)}, nil)
	nw.addStored(3, Stored{HardState: HardState{Term: 7, Commit: 1}, Entries: storedLog(ids(3), 1, 1, 4, 4, 5, 5, 6, 6, 6)}, nil)
	rejects := 0
	nw.drop = func(m Message) bool {
		if m.Type == MsgAppResp && m.Reject && m.From == 2 {
			rejects++
			// Strip the hint: the leader can only step back by one.
			nw.nodes[m.To].r.Step(Message{Type: m.Type, From: m.From, To: m.To, Term: m.Term, Index: m.Index,
				Reject: true, RejectHint: m.Index - 1})
			nw.drain(m.To)
			return true
		}
		return false
	}
	nw.elect(1)
	nw.isolate(3)
	for range 10 {
		nw.heartbeat(1)
	}
	nw.propose(1, put("x", "y"))
	nw.requireLogsEqual(1, 2)
	// 2's last 7 entries (indices 5..11) conflict or are missing: one
	// refusal per index from 11 down to 4, where the logs agree.
	require.Equal(t, 7, rejects, "without the hint the leader steps back one entry per refusal")
}

// TestLeaderRetriesLostAppend_5_3: "If followers crash or run slowly, or if
// network packets are lost, the leader retries AppendEntries RPCs
// indefinitely until all followers eventually store all log entries." A lost
// append must be resent by heartbeats alone, whether the follower was being
// replicated to (pipelined) or probed, and without further proposals.
func TestLeaderRetriesLostAppend_5_3(t *testing.T) {
	tests := []struct {
		name string
		lost int // appends with entries to 2 that are lost
		// proposals made while the appends are lost
		proposals int
	}{
		{"replicating, last append lost", 1, 1},
		{"replicating, several lost", 3, 3},
		{"probing, probe lost", 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newNetwork(t, 2, nil) // 2 servers: nothing commits without 2
			nw.elect(1)
			nw.heartbeat(1)
			require.True(t, nw.raft(1).Progress(2).Replicating)
			lost := 0
			nw.drop = func(m Message) bool {
				if m.Type == MsgApp && m.To == 2 && len(m.Entries) > 0 && lost < tt.lost {
					lost++
					return true
				}
				return false
			}
			for i := range tt.proposals {
				nw.propose(1, put("k", fmt.Sprint(i)))
			}
			require.Equal(t, tt.lost, lost)
			l := nw.raft(1)
			require.Less(t, l.commit, l.log.lastIndex(), "nothing commits while the appends are lost")
			for range 5 {
				nw.heartbeat(1)
			}
			require.Equal(t, l.log.lastIndex(), l.commit, "heartbeats must get the lost entries through\n%v", nw)
			nw.requireLogsEqual(1, 2)
			require.Len(t, nw.appliedCmds(2), tt.proposals)
		})
	}
}

// TestLeaderCommitNotice_5_3: the followers learn a new commit index from
// the leader's next append. Unless DeferCommitNotice is set (Raft.js), the
// leader sends that append as soon as its commit index moves, rather than at
// the next heartbeat.
func TestLeaderCommitNotice_5_3(t *testing.T) {
	for _, deferred := range []bool{false, true} {
		t.Run(fmt.Sprintf("deferred=%v", deferred), func(t *testing.T) {
			nw := newNetwork(t, 3, func(c *Config) { c.DeferCommitNotice = deferred })
			nw.elect(1)
			nw.heartbeat(1)
			nw.propose(1, put("a", "1"))
			l := nw.raft(1)
			require.Equal(t, l.log.lastIndex(), l.commit)
			for _, id := range []ID{2, 3} {
				if deferred {
					require.Less(t, nw.raft(id).commit, l.commit, "server %d learnt the commit before the heartbeat", id)
				} else {
					require.Equal(t, l.commit, nw.raft(id).commit, "server %d did not learn the commit at once", id)
				}
			}
			nw.heartbeat(1)
			for _, id := range []ID{2, 3} {
				require.Equal(t, l.commit, nw.raft(id).commit, "server %d after a heartbeat", id)
				require.Equal(t, []string{"1"}, nw.appliedCmds(id))
			}
		})
	}
}

// TestLeaderBoundedInflight_5_3: appends to a follower are pipelined, but
// at most MaxInflight are unacknowledged at once; an acknowledgement opens
// the window again, and what queued up goes in one append.
func TestLeaderBoundedInflight_5_3(t *testing.T) {
	r := newTestRaft(t, 1, ids(2), func(c *Config) { c.MaxInflight = 3 })
	becomeLeaderAt(r, 2)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2})
	r.Ready()
	require.True(t, r.Progress(2).Replicating)

	var sent []Message
	for i := range 10 {
		require.NoError(t, r.Propose(put("k", fmt.Sprint(i))))
		sent = append(sent, msgsOf(r.Ready(), MsgApp)...)
	}
	require.Len(t, sent, 3, "only MaxInflight appends in flight")
	require.Len(t, r.Progress(2).inflight, 3)
	for i, m := range sent {
		require.Equal(t, uint64(2+i), m.Index)
		require.Len(t, m.Entries, 1)
	}
	// A heartbeat while the window is full sends no entries.
	r.Fire(TimerHeartbeat)
	hb := msgsOf(r.Ready(), MsgApp)
	require.Len(t, hb, 1)
	require.Empty(t, hb[0].Entries)

	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 3})
	more := msgsOf(r.Ready(), MsgApp)
	require.NotEmpty(t, more)
	var got []uint64
	for _, m := range more {
		for _, e := range m.Entries {
			got = append(got, e.Index)
		}
	}
	require.Equal(t, []uint64{6, 7, 8, 9, 10, 11, 12}, got, "the queued entries follow once the window opens")
	require.LessOrEqual(t, len(r.Progress(2).inflight), 3)
}

// TestLeaderBatchLimits_5_3: one append carries at most MaxEntriesPerAppend
// entries and MaxBytesPerAppend bytes, but always at least one entry.
func TestLeaderBatchLimits_5_3(t *testing.T) {
	big := string(make([]byte, 100))
	bigSize := (&Entry{Data: put("k", big)}).Size()
	tests := []struct {
		name      string
		maxEnts   int
		maxBytes  int
		wantSizes []int // entries per append until all 6 are sent
	}{
		{"unlimited", 0, 0, []int{6}},
		{"entries", 4, 0, []int{4, 2}},
		{"one entry", 1, 0, []int{1, 1, 1, 1, 1, 1}},
		{"bytes", 0, 2*bigSize + bigSize/2, []int{2, 2, 2}},
		{"bytes smaller than one entry", 0, 10, []int{1, 1, 1, 1, 1, 1}},
		{"both", 3, 2 * bigSize, []int{2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRaft(t, 1, ids(2), func(c *Config) {
				c.MaxEntriesPerAppend, c.MaxBytesPerAppend = tt.maxEnts, tt.maxBytes
				c.MaxInflight = 1
			})
			becomeLeaderAt(r, 2)
			r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2})
			// The first proposal fills the window; six more queue up.
			for i := range 7 {
				require.NoError(t, r.Propose(put("k", big)))
				if i == 0 {
					r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2}) // stale ack: no effect
				}
			}
			var sizes []int
			ack := uint64(2)
			for range 10 {
				rd := r.Ready()
				var apps []Message
				for _, m := range msgsOf(rd, MsgApp) {
					if len(m.Entries) > 0 { // not a commit notice
						apps = append(apps, m)
					}
				}
				if len(apps) == 0 {
					break
				}
				require.Len(t, apps, 1, "MaxInflight is 1")
				m := apps[0]
				require.Equal(t, ack, m.Index)
				sizes = append(sizes, len(m.Entries))
				if tt.maxEnts > 0 {
					require.LessOrEqual(t, len(m.Entries), tt.maxEnts)
				}
				if tt.maxBytes > 0 && len(m.Entries) > 1 {
					n := 0
					for i := range m.Entries {
						n += m.Entries[i].Size()
					}
					require.LessOrEqual(t, n, tt.maxBytes)
				}
				ack = m.Entries[len(m.Entries)-1].Index
				r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: ack})
			}
			// The first append carried only the first proposal.
			require.Equal(t, 1, sizes[0])
			require.Equal(t, tt.wantSizes, sizes[1:])
			require.Equal(t, r.log.lastIndex(), r.commit)
		})
	}
}

// ---------------------------------------------------------------------------
// §5.4 Safety

// TestVoteRequest_5_4_1: a RequestVote carries the index and term of the
// candidate's last log entry.
func TestVoteRequest_5_4_1(t *testing.T) {
	tests := []struct {
		terms              []uint64
		wantIndex, wantLog uint64
	}{
		{nil, 1, 1},
		{[]uint64{1}, 2, 1},
		{[]uint64{1, 2}, 3, 2},
		{[]uint64{2, 2, 5}, 4, 5},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 6, Commit: 1}, Entries: storedLog(ids(3), tt.terms...)}
			r := newStoredRaft(t, 1, st, nil)
			r.Fire(TimerElection)
			votes := msgsOf(r.Ready(), MsgVote)
			require.Len(t, votes, 2)
			for _, m := range votes {
				require.Equal(t, uint64(7), m.Term)
				require.Equal(t, tt.wantIndex, m.Index)
				require.Equal(t, tt.wantLog, m.LogTerm)
			}
		})
	}
}

// TestVoter_5_4_1: "the voter denies its vote if its own log is more
// up-to-date than that of the candidate ... If the logs have last entries
// with different terms, then the log with the later term is more
// up-to-date. If the logs end with the same term, then whichever log is
// longer is more up-to-date."
func TestVoter_5_4_1(t *testing.T) {
	tests := []struct {
		terms          []uint64 // voter's entries from index 2
		index, logTerm uint64   // candidate's last entry
		wantReject     bool
	}{
		// same last term
		{[]uint64{1}, 2, 1, false},
		{[]uint64{1}, 3, 1, false},
		{[]uint64{1}, 1, 1, true},
		{[]uint64{1, 1}, 2, 1, true},
		// candidate's last term is higher
		{[]uint64{1}, 1, 2, false},
		{[]uint64{1}, 3, 2, false},
		{[]uint64{2, 2, 2}, 1, 3, false},
		// candidate's last term is lower
		{[]uint64{2}, 2, 1, true},
		{[]uint64{2}, 3, 1, true},
		{[]uint64{2}, 9, 1, true},
		{[]uint64{2}, 2, 2, false},
		{[]uint64{2}, 1, 2, true},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: storedLog(ids(3), tt.terms...)}
			r := newStoredRaft(t, 1, st, nil)
			r.Step(Message{Type: MsgVote, From: 2, Term: 3, Index: tt.index, LogTerm: tt.logTerm})
			resp := msgsOf(r.Ready(), MsgVoteResp)
			require.Len(t, resp, 1)
			require.Equal(t, tt.wantReject, resp[0].Reject)
			require.Equal(t, uint64(3), resp[0].Term)
			require.Equal(t, uint64(3), r.term, "the term moves even when the vote is refused")
			if tt.wantReject {
				require.Equal(t, None, r.vote)
			} else {
				require.Equal(t, ID(2), r.vote)
			}
		})
	}
}

// TestLeaderOnlyCommitsLogFromCurrentTerm_5_4_2: "Raft never commits log
// entries from previous terms by counting replicas. Only log entries from
// the leader's current term are committed by counting replicas."
func TestLeaderOnlyCommitsLogFromCurrentTerm_5_4_2(t *testing.T) {
	tests := []struct {
		ack, wantCommit uint64
	}{
		{1, 1}, // committed before
		{2, 1}, // term 1 entry: not by counting
		{3, 1}, // term 2 entry: not by counting
		{4, 4}, // the leader's no-op: commits everything before it
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: storedLog(ids(3), 1, 2)}
			r := newStoredRaft(t, 1, st, nil)
			becomeLeaderAt(r, 3)
			require.Equal(t, uint64(4), r.log.lastIndex())
			r.Step(Message{Type: MsgAppResp, From: 2, Term: 3, Index: tt.ack})
			require.Equal(t, tt.wantCommit, r.commit)
		})
	}
}

// TestFigure8_5_4_2: the scenario of the paper's Figure 8. In term 4 the
// leader S1 has its term-2 entry at index 3 stored on S1, S2, S3 (a
// majority of five), but S5 holds a term-3 entry at index 3 and can still
// win an election with the votes of S2, S3, S4 and overwrite it. So S1 must
// not commit the entry by counting replicas; once an entry of its own term
// is on a majority, both commit.
func TestFigure8_5_4_2(t *testing.T) {
	// S1 in term 4 does not count replicas of the term-2 entry.
	st := Stored{HardState: HardState{Term: 3, Commit: 2}, Entries: storedLog(ids(5), 2, 2)}
	r := newStoredRaft(t, 1, st, nil)
	becomeLeaderAt(r, 4)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 4, Index: 3})
	r.Step(Message{Type: MsgAppResp, From: 3, Term: 4, Index: 3})
	require.Equal(t, uint64(2), r.commit, "a term-2 entry on a majority must not be committed by a term-4 leader")
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 4, Index: 4})
	require.Equal(t, uint64(2), r.commit)
	r.Step(Message{Type: MsgAppResp, From: 3, Term: 4, Index: 4})
	require.Equal(t, uint64(4), r.commit, "its own entry on a majority commits both")

	// (d): S1 crashed; S5 wins and overwrites the term-2 entry everywhere.
	nw := newEmptyNetwork(t)
	hs := HardState{Term: 4, Commit: 2}
	for id, terms := range map[ID][]uint64{1: {2, 2}, 2: {2, 2}, 3: {2, 2}, 4: {2}, 5: {2, 3}} {
		nw.addStored(id, Stored{HardState: hs, Entries: storedLog(ids(5), terms...)}, nil)
	}
	nw.isolate(1)
	nw.elect(5)
	for _, id := range []ID{2, 3, 4, 5} {
		tm, ok := nw.raft(id).Term(3)
		require.True(t, ok)
		require.Equal(t, uint64(3), tm, "server %d's index 3 was overwritten by S5's", id)
	}
	nw.requireLogsEqual(2, 3, 4, 5)
}

// TestLeaderNoopOnElection_8: "each leader commit[s] a blank no-op entry
// into the log at the start of its term", which also commits the entries of
// earlier terms it holds (Leader Completeness in practice).
func TestLeaderNoopOnElection_8(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	l := nw.raft(1)
	last, _ := l.Entry(l.log.lastIndex())
	require.Equal(t, Entry{Term: 2, Index: 2, Type: EntryNoop}, last)
	require.Equal(t, uint64(2), l.commit)
	nw.requireLogsEqual(1, 2, 3)

	// 1 replicates "x" to 2 but never hears the ack, then is cut off.
	nw.drop = func(m Message) bool { return m.Type == MsgAppResp || m.To == 3 }
	nw.propose(1, put("x", "1"))
	nw.drop = nil
	require.Equal(t, uint64(2), l.commit)
	require.Equal(t, uint64(3), nw.raft(2).log.lastIndex())
	nw.isolate(1)

	// 2 wins term 3: its no-op commits "x" from term 2.
	nw.elect(2)
	n := nw.raft(2)
	last, _ = n.Entry(n.log.lastIndex())
	require.Equal(t, Entry{Term: 3, Index: 4, Type: EntryNoop}, last)
	require.Equal(t, uint64(4), n.commit)
	for _, id := range []ID{2, 3} {
		require.Equal(t, []string{"1"}, nw.appliedCmds(id))
	}
	nw.requireLogsEqual(2, 3)

	// 1 rejoins and learns everything.
	nw.heal()
	nw.heartbeat(2)
	nw.heartbeat(2)
	nw.requireLogsEqual(1, 2, 3)
	require.Equal(t, Follower, l.role)
}

// TestFollowerForwardsProposal_8: "Clients of Raft send all of their
// requests to the leader ... if the client's first choice is not the leader,
// that server will reject ... and supply information about the most recent
// leader." Here a follower forwards the proposal to the leader it knows
// (as etcd does); without a known leader the proposal is refused.
func TestFollowerForwardsProposal_8(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	f := nw.raft(2)
	require.ErrorIs(t, f.Propose(put("a", "0")), ErrNoLeader)
	require.ErrorIs(t, f.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}), ErrNotLeader)

	nw.elect(1)
	nw.propose(2, put("a", "1"))
	var fwd []Message
	for _, m := range nw.sent {
		if m.Type == MsgProp {
			fwd = append(fwd, m)
		}
	}
	require.Len(t, fwd, 1)
	require.Equal(t, ID(2), fwd[0].From)
	require.Equal(t, ID(1), fwd[0].To)
	require.Len(t, fwd[0].Entries, 1)
	require.Equal(t, put("a", "1"), fwd[0].Entries[0].Data)
	for _, id := range ids(3) {
		require.Equal(t, []string{"1"}, nw.appliedCmds(id), "server %d", id)
	}
	require.ErrorIs(t, f.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}), ErrNotLeader)

	// A proposal reaching a follower as a message is passed on too.
	nw.raft(3).Step(Message{Type: MsgProp, From: 2, To: 3, Entries: []Entry{{Data: put("a", "2")}}})
	nw.drain(3)
	nw.deliver()
	for _, id := range ids(3) {
		require.Equal(t, []string{"1", "2"}, nw.appliedCmds(id), "server %d", id)
	}

	// A candidate knows no leader: it refuses, and drops forwarded ones.
	c := nw.raft(3)
	c.Fire(TimerElection)
	c.Ready()
	require.ErrorIs(t, c.Propose(put("a", "3")), ErrNoLeader)
	c.Step(Message{Type: MsgProp, From: 2, To: 3, Entries: []Entry{{Data: put("a", "3")}}})
	require.Empty(t, msgsOf(c.Ready(), MsgProp))
}

// ---------------------------------------------------------------------------
// Persistence (Figure 2: "Updated on stable storage before responding to
// RPCs")

// TestPersistBeforeSend_5_1: every batch that sends a message depending on
// new state carries that state (and the entries to store) for the host to
// persist first.
func TestPersistBeforeSend_5_1(t *testing.T) {
	t.Run("candidate", func(t *testing.T) {
		r := newTestRaft(t, 1, ids(3), nil)
		r.Fire(TimerElection)
		rd := r.Ready()
		require.NotEmpty(t, msgsOf(rd, MsgVote))
		require.True(t, rd.HardStateChanged)
		require.Equal(t, HardState{Term: 2, Vote: 1, Commit: 1}, rd.HardState)
	})
	t.Run("voter", func(t *testing.T) {
		r := newTestRaft(t, 1, ids(3), nil)
		r.Step(Message{Type: MsgVote, From: 2, Term: 2, Index: 1, LogTerm: 1})
		rd := r.Ready()
		resp := msgsOf(rd, MsgVoteResp)
		require.Len(t, resp, 1)
		require.False(t, resp[0].Reject)
		require.True(t, rd.HardStateChanged)
		require.Equal(t, HardState{Term: 2, Vote: 2, Commit: 1}, rd.HardState)
	})
	t.Run("follower append", func(t *testing.T) {
		r := newTestRaft(t, 1, ids(3), nil)
		ents := []Entry{{Term: 2, Index: 2, Type: EntryNoop}, {Term: 2, Index: 3, Data: put("a", "1")}}
		r.Step(Message{Type: MsgApp, From: 2, Term: 2, Index: 1, LogTerm: 1, Entries: ents, Commit: 2})
		rd := r.Ready()
		require.Equal(t, ents, rd.Entries)
		require.Len(t, msgsOf(rd, MsgAppResp), 1)
		require.Equal(t, HardState{Term: 2, Commit: 2}, rd.HardState)
		require.Equal(t, ents[:1], rd.Committed)
		// Nothing new: nothing to persist again.
		rd = r.Ready()
		require.True(t, rd.Empty())
	})
	t.Run("leader", func(t *testing.T) {
		r := newTestRaft(t, 1, ids(3), nil)
		r.Fire(TimerElection)
		r.Ready()
		r.Step(Message{Type: MsgVoteResp, From: 2, Term: 2})
		rd := r.Ready()
		require.Equal(t, []Entry{{Term: 2, Index: 2, Type: EntryNoop}}, rd.Entries)
		apps := msgsOf(rd, MsgApp)
		require.Len(t, apps, 2)
		require.Equal(t, rd.Entries, apps[0].Entries)
	})
	t.Run("network", func(t *testing.T) {
		// The network helper checks, for every message, that what it
		// claims was in the same or an earlier batch; run a busy cluster.
		nw := newNetwork(t, 5, nil)
		nw.elect(1)
		for i := range 20 {
			nw.propose(ID(i%5+1), put("k", fmt.Sprint(i)))
			if i%7 == 0 {
				nw.heartbeat(1)
			}
		}
		nw.isolate(1)
		nw.elect(2)
		nw.propose(2, put("k", "after"))
		nw.heal()
		nw.heartbeat(2)
		nw.heartbeat(2)
		nw.requireLogsEqual(1, 2, 3, 4, 5)
		require.Len(t, nw.appliedCmds(1), 21)
		require.Greater(t, nw.nodes[1].readies, 20)
	})
}

// TestReadyValidUntilNextReady: a batch's slices stay intact while the
// server keeps working, until the host asks for the next batch (the host
// persists and sends a batch before it asks for the next one).
func TestReadyValidUntilNextReady(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), nil)
	becomeLeaderAt(r, 2)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2})
	r.Ready()
	require.NoError(t, r.Propose(put("a", "1")))
	rd := r.Ready()
	msgs := slices.Clone(rd.Messages)
	ents := slices.Clone(rd.Entries)
	timers := slices.Clone(rd.Timers)
	require.NotEmpty(t, msgs)
	require.NotEmpty(t, ents)
	for i := range 5 {
		require.NoError(t, r.Propose(put("b", fmt.Sprint(i))))
		r.Fire(TimerHeartbeat)
		r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 1, Reject: true, RejectHint: 1})
	}
	require.Equal(t, msgs, rd.Messages)
	require.Equal(t, ents, rd.Entries)
	require.Equal(t, timers, rd.Timers)
	next := r.Ready()
	require.NotEmpty(t, next.Messages)
	require.NotEqual(t, msgs, next.Messages)
}

// TestRestartFromStorage_5_1: a server restarted from what it persisted has
// the same term, vote, log, commit index and configuration, replays its
// committed entries, and rejoins.
func TestRestartFromStorage_5_1(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	for i := range 3 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	nw.heartbeat(1)
	before := nw.raft(2).Status()
	beforeLog := slices.Clone(nw.raft(2).log.ents)
	nw.restart(2)
	after := nw.raft(2).Status()
	require.Equal(t, before.Term, after.Term)
	require.Equal(t, before.Vote, after.Vote)
	require.Equal(t, before.Commit, after.Commit)
	require.Equal(t, before.Voters, after.Voters)
	require.Equal(t, beforeLog, nw.raft(2).log.ents)
	require.Equal(t, Follower, after.Role)
	require.Equal(t, []string{"0", "1", "2"}, nw.appliedCmds(2), "committed entries are replayed")
	_, armed := nw.nodes[2].timers[TimerElection]
	require.True(t, armed)

	nw.propose(1, put("k", "3"))
	nw.requireLogsEqual(1, 2, 3)

	_, err := New(newTestConfig(1), Stored{HardState: HardState{Term: 2, Commit: 5}, Entries: storedLog(ids(3), 2)})
	require.Error(t, err, "a commit index beyond the stored log is refused")
}

// TestConfigValidation: New refuses configurations it cannot run with.
func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no id", func(c *Config) { c.ID = None }},
		{"no election timeout", func(c *Config) { c.ElectionTimeout = 0 }},
		{"negative heartbeat", func(c *Config) { c.HeartbeatInterval = -1 }},
		{"no rand", func(c *Config) { c.Rand = nil }},
	}
	for _, tt := range tests {
		cfg := newTestConfig(1, 1)
		tt.mod(&cfg)
		_, err := New(cfg, Stored{})
		require.Error(t, err, tt.name)
	}
	_, err := New(newTestConfig(1, 1), Stored{})
	require.NoError(t, err)
}

// TestSingleServerCampaign_5_2: a first server started alone elects itself
// at once (the paper's firstServer) and commits its no-op.
func TestSingleServerCampaign_5_2(t *testing.T) {
	r := newTestRaft(t, 1, ids(1), nil)
	r.Campaign()
	require.Equal(t, Leader, r.role)
	require.Equal(t, uint64(2), r.term)
	rd := r.Ready()
	require.Empty(t, rd.Messages)
	require.Equal(t, []Entry{{Term: 2, Index: 2, Type: EntryNoop}}, rd.Committed)
	require.NoError(t, r.Propose(put("a", "1")))
	rd = r.Ready()
	require.Len(t, rd.Committed, 1)
	require.Equal(t, put("a", "1"), rd.Committed[0].Data)
	r.Campaign() // a leader does not campaign again
	require.Equal(t, uint64(2), r.term)
}

// ---------------------------------------------------------------------------
// PreVote and CheckQuorum (dissertation §9.6)

// TestPreVoteDoesNotBumpTerm_9_6: "a candidate would first ask other servers
// whether its log was up-to-date enough to get their vote. Only if the
// candidate believed it could get votes from a majority of the cluster
// would it increment its term and start a normal election." An isolated
// server therefore keeps its term, and does not disrupt the leader when it
// comes back; without PreVote it does.
func TestPreVoteDoesNotBumpTerm_9_6(t *testing.T) {
	for _, pre := range []bool{true, false} {
		t.Run(fmt.Sprintf("prevote=%v", pre), func(t *testing.T) {
			nw := newNetwork(t, 3, func(c *Config) { c.PreVote = pre })
			nw.elect(1)
			require.Equal(t, uint64(2), nw.raft(1).term, "one election, one term")
			nw.propose(1, put("a", "1"))
			nw.isolate(3)
			for range 5 {
				nw.fire(3, TimerElection)
			}
			r3 := nw.raft(3)
			if pre {
				require.Equal(t, uint64(2), r3.term, "pre-elections must not bump the term")
				require.Equal(t, PreCandidate, r3.role)
				require.Equal(t, HardState{Term: 2, Vote: 1, Commit: r3.commit}, nw.nodes[3].stored.HardState,
					"nothing of the pre-elections was persisted")
			} else {
				require.Equal(t, uint64(7), r3.term)
				require.Equal(t, Candidate, r3.role)
			}
			// 3 comes back: "once the server receives a heartbeat from the
			// leader itself, it will return to the follower state (in the
			// same term)". Without PreVote its term is ahead: it ignores
			// the heartbeat and its next timeout deposes the leader.
			nw.heal()
			nw.heartbeat(1)
			if pre {
				require.Equal(t, Follower, r3.role)
				require.Equal(t, ID(1), r3.lead)
				require.Equal(t, uint64(2), r3.term)
				nw.fire(3, TimerElection) // no longer isolated: a pre-election it may win, but no term inflation
				require.LessOrEqual(t, nw.raft(1).term, uint64(3))
			} else {
				require.Equal(t, Candidate, r3.role)
				require.Equal(t, []ID{1}, nw.leaders())
				nw.fire(3, TimerElection)
				require.NotEqual(t, Leader, nw.raft(1).role, "the returning server deposes the leader")
				require.Equal(t, uint64(8), nw.raft(1).term)
			}
		})
	}
}

// TestPreVoteMessages_9_6: a pre-vote request names the term the candidate
// would use, but neither side changes its term or vote: the grant carries
// the future term, the requester stays a pre-candidate until a majority
// granted, and only then runs a real election.
func TestPreVoteMessages_9_6(t *testing.T) {
	mod := func(c *Config) { c.PreVote = true }
	c := newTestRaft(t, 1, ids(3), mod)
	c.Fire(TimerElection)
	require.Equal(t, PreCandidate, c.role)
	require.Equal(t, uint64(1), c.term)
	rd := c.Ready()
	require.False(t, rd.HardStateChanged, "a pre-vote persists nothing")
	pv := msgsOf(rd, MsgPreVote)
	require.Len(t, pv, 2)
	require.Equal(t, uint64(2), pv[0].Term)

	v := newTestRaft(t, 2, ids(3), mod)
	v.Step(pv[0])
	require.Equal(t, uint64(1), v.term)
	require.Equal(t, None, v.vote)
	vrd := v.Ready()
	require.False(t, vrd.HardStateChanged)
	resp := msgsOf(vrd, MsgPreVoteResp)
	require.Len(t, resp, 1)
	require.False(t, resp[0].Reject)
	require.Equal(t, uint64(2), resp[0].Term)

	// A real vote response does not count in a pre-election.
	c.Step(Message{Type: MsgVoteResp, From: 3, Term: 1})
	require.Equal(t, PreCandidate, c.role)
	c.Step(resp[0])
	require.Equal(t, Candidate, c.role)
	require.Equal(t, uint64(2), c.term)
	votes := msgsOf(c.Ready(), MsgVote)
	require.Len(t, votes, 2)
	require.Equal(t, uint64(2), votes[0].Term)

	// A pre-vote for a stale log is refused, again without changing terms.
	st := Stored{HardState: HardState{Term: 3, Commit: 1}, Entries: storedLog(ids(3), 3)}
	u := newStoredRaft(t, 3, st, mod)
	u.Step(Message{Type: MsgPreVote, From: 1, Term: 4, Index: 5, LogTerm: 2})
	require.Equal(t, uint64(3), u.term)
	resp = msgsOf(u.Ready(), MsgPreVoteResp)
	require.Len(t, resp, 1)
	require.True(t, resp[0].Reject)
	require.Equal(t, uint64(3), resp[0].Term)
	// A pre-vote for a stale term is refused with the newer term, which
	// sends the pre-candidate back to follower at that term.
	u.Step(Message{Type: MsgPreVote, From: 1, Term: 2, Index: 9, LogTerm: 3})
	resp = msgsOf(u.Ready(), MsgPreVoteResp)
	require.Len(t, resp, 1)
	require.True(t, resp[0].Reject)
	p := newTestRaft(t, 1, ids(3), mod)
	p.Fire(TimerElection)
	p.Step(resp[0])
	require.Equal(t, Follower, p.role)
	require.Equal(t, uint64(3), p.term)
}

// TestPreVoteLosesWithStaleLog_9_6: a server whose log is behind cannot win
// a pre-election, so it never bumps the cluster's term.
func TestPreVoteLosesWithStaleLog_9_6(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.PreVote = true })
	nw.elect(1)
	nw.isolate(3)
	nw.propose(1, put("a", "1"))
	nw.heal()
	nw.isolate(1) // the leader is gone; 3 is behind 2
	for range 3 {
		nw.fire(3, TimerElection)
		require.Equal(t, PreCandidate, nw.raft(3).role, "refused by 2, 1 silent: no majority")
		require.Equal(t, uint64(2), nw.raft(3).term)
	}
	require.Equal(t, uint64(2), nw.raft(2).term)
	nw.elect(2)
	require.Equal(t, uint64(3), nw.raft(2).term)
	nw.requireLogsEqual(2, 3)
}

// TestCheckQuorumLeaderStepsDown_9_6: "a leader steps down if an election
// timeout elapses without a successful round of heartbeats to a majority of
// its cluster" (dissertation §6.2, used with PreVote in §9.6).
func TestCheckQuorumLeaderStepsDown_9_6(t *testing.T) {
	for _, isolated := range []bool{false, true} {
		t.Run(fmt.Sprintf("isolated=%v", isolated), func(t *testing.T) {
			nw := newNetwork(t, 3, func(c *Config) { c.CheckQuorum = true })
			nw.elect(1)
			l := nw.raft(1)
			require.Equal(t, testET, nw.nodes[1].timers[TimerElection], "the check runs every election timeout")
			if isolated {
				nw.isolate(1)
			}
			for round := range 4 {
				for range 4 {
					nw.fire(1, TimerHeartbeat)
				}
				nw.fire(1, TimerElection)
				if isolated && round == 1 {
					break
				}
				// Connected, or isolated but in the first round: the first
				// check still counts the votes of the election.
				require.Equal(t, Leader, l.role, "round %d", round)
				require.Equal(t, testET, nw.nodes[1].timers[TimerElection])
			}
			if isolated {
				require.Equal(t, Follower, l.role)
				require.Equal(t, None, l.lead)
				_, hb := nw.nodes[1].timers[TimerHeartbeat]
				require.False(t, hb)
				require.Equal(t, uint64(2), l.term, "stepping down does not change the term")
			}
		})
	}
	// Without CheckQuorum, an isolated leader stays leader.
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.isolate(1)
	for range 4 {
		nw.fire(1, TimerElection)
	}
	require.Equal(t, Leader, nw.raft(1).role)
}

// TestCheckQuorumLease_9_6: with CheckQuorum, "if a server receives a
// RequestVote request within the minimum election timeout of hearing from a
// current leader, it does not update its term or grant its vote"
// (dissertation §4.2.3). Once its election timer fires it listens again.
func TestCheckQuorumLease_9_6(t *testing.T) {
	for _, cq := range []bool{true, false} {
		t.Run(fmt.Sprintf("checkquorum=%v", cq), func(t *testing.T) {
			nw := newNetwork(t, 3, func(c *Config) { c.CheckQuorum = cq })
			nw.elect(1)
			f := nw.raft(2)
			li, lt := f.log.lastIndex(), f.log.lastTerm()
			f.Step(Message{Type: MsgVote, From: 3, To: 2, Term: 5, Index: li, LogTerm: lt})
			f.Step(Message{Type: MsgPreVote, From: 3, To: 2, Term: 5, Index: li, LogTerm: lt})
			rd := f.Ready()
			if cq {
				require.Equal(t, uint64(2), f.term)
				require.Equal(t, ID(1), f.lead)
				require.Equal(t, ID(1), f.vote, "still the vote of the election that made 1 leader")
				require.Empty(t, rd.Messages)
			} else {
				require.Equal(t, uint64(5), f.term)
				require.Equal(t, ID(3), f.vote)
				require.NotEmpty(t, msgsOf(rd, MsgVoteResp))
			}
		})
	}
	// A removed server (not in its own configuration) whose leader went
	// silent forgets it when its election timer fires, and votes again.
	r := newTestRaft(t, 4, nil, func(c *Config) { c.CheckQuorum = true })
	r.Step(Message{Type: MsgApp, From: 1, Term: 2, Index: 0, LogTerm: 0, Commit: 1,
		Entries: storedLog(ids(3))})
	require.Equal(t, ID(1), r.lead)
	r.Step(Message{Type: MsgVote, From: 2, Term: 3, Index: 1, LogTerm: 1})
	require.Equal(t, uint64(2), r.term, "inside the lease")
	r.Fire(TimerElection)
	require.Equal(t, None, r.lead)
	require.Equal(t, Follower, r.role, "not a member: it does not campaign")
	r.Ready()
	r.Step(Message{Type: MsgVote, From: 2, Term: 3, Index: 1, LogTerm: 1})
	require.Equal(t, uint64(3), r.term)
	resp := msgsOf(r.Ready(), MsgVoteResp)
	require.Len(t, resp, 1)
	require.False(t, resp[0].Reject)
}

// TestPreVoteCheckQuorumPartitionedFollower_9_6: with both options, a
// follower cut off from the leader cannot win a pre-election (the others
// still hear the leader), keeps its term, and rejoins without an election.
func TestPreVoteCheckQuorumPartitionedFollower_9_6(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.PreVote, c.CheckQuorum = true, true })
	nw.elect(1)
	nw.cut[[2]ID{1, 3}] = true
	nw.cut[[2]ID{3, 1}] = true
	for range 3 {
		nw.fire(3, TimerElection)
		nw.heartbeat(1)
	}
	require.Equal(t, uint64(2), nw.raft(3).term)
	require.Equal(t, []ID{1}, nw.leaders())
	require.Equal(t, uint64(2), nw.raft(2).term)
	nw.heal()
	nw.heartbeat(1)
	require.Equal(t, Follower, nw.raft(3).role)
	require.Equal(t, ID(1), nw.raft(3).lead)
}

// ---------------------------------------------------------------------------
// Membership changes, one server at a time (dissertation §4.1-§4.2)

// TestConfChangeRefusedWhilePending_4_1: "a leader ... does not start a new
// configuration change until the previous one has been committed"
// (Raft.js's PENDING_CONFIG_CHANGE, here ErrPendingConfChange).
func TestConfChangeRefusedWhilePending_4_1(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.add(4, nil, nil)
	nw.add(5, nil, nil)
	nw.elect(1)
	l := nw.raft(1)
	require.NoError(t, l.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
	err := l.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 5})
	require.ErrorIs(t, err, ErrPendingConfChange)
	err = l.ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 3})
	require.ErrorIs(t, err, ErrPendingConfChange)
	nw.drain(1)
	nw.deliver()
	require.Equal(t, l.pendingConf, l.commit, "the change is committed")
	require.NoError(t, l.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 5}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	nw.heartbeat(1)
	require.Equal(t, []ID{1, 2, 3, 4, 5}, l.Status().Voters)
	nw.requireLogsEqual(1, 2, 3, 4, 5)

	// A new leader may hold an uncommitted change from an earlier term: it
	// refuses until its no-op committed it.
	st := Stored{HardState: HardState{Term: 2, Commit: 1}, Entries: append(storedLog(ids(3)),
		Entry{Term: 2, Index: 2, Type: EntryConfChange, Change: ConfChange{Type: ConfAddNode, Node: 4}})}
	r := newStoredRaft(t, 1, st, nil)
	require.Equal(t, []ID{1, 2, 3, 4}, r.voters)
	becomeLeaderAt(r, 3)
	require.ErrorIs(t, r.ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 2}), ErrPendingConfChange)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 3, Index: 3})
	r.Step(Message{Type: MsgAppResp, From: 3, Term: 3, Index: 3})
	require.Equal(t, uint64(3), r.commit)
	require.NoError(t, r.ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 2}))
}

// TestProposeConfChangeInvalid_4_1: only single-server additions of
// non-members and removals of members are accepted, and never the removal
// of the last member.
func TestProposeConfChangeInvalid_4_1(t *testing.T) {
	r := newTestRaft(t, 1, ids(3), nil)
	becomeLeaderAt(r, 2)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2})
	for _, cc := range []ConfChange{
		{Type: ConfAddNode, Node: 2},
		{Type: ConfRemoveNode, Node: 4},
		{Type: ConfAddNode, Node: None},
		{Type: ConfInit, Voters: []ID{1, 2}, Node: 5},
		{Type: ConfChangeType(9), Node: 5},
	} {
		err := r.ProposeConfChange(cc)
		require.ErrorIs(t, err, ErrInvalidConfChange, "%+v", cc)
	}
	require.Equal(t, uint64(2), r.log.lastIndex(), "nothing was appended")

	s := newTestRaft(t, 1, ids(1), nil)
	s.Campaign()
	require.ErrorIs(t, s.ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1}), ErrInvalidConfChange)
}

// TestConfChangeEffectiveWhenAppended_4_1: "a server always uses the latest
// configuration in its log, regardless of whether the entry is committed",
// and so falls back to the previous one if that entry is removed.
func TestConfChangeEffectiveWhenAppended_4_1(t *testing.T) {
	// At the leader: the quorum grows with the change at once.
	r := newTestRaft(t, 1, ids(3), nil)
	becomeLeaderAt(r, 2)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 2})
	require.Equal(t, uint64(2), r.commit)
	require.NoError(t, r.ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
	require.Equal(t, []ID{1, 2, 3, 4}, r.voters)
	require.NotNil(t, r.Progress(4), "the leader replicates to the new server at once")
	require.Equal(t, uint64(2), r.commit)
	r.Step(Message{Type: MsgAppResp, From: 2, Term: 2, Index: 3})
	require.Equal(t, uint64(2), r.commit, "2 of 4 is not a majority of the new configuration")
	r.Step(Message{Type: MsgAppResp, From: 3, Term: 2, Index: 3})
	require.Equal(t, uint64(3), r.commit)

	// At a follower: effective when appended, undone when truncated.
	f := newTestRaft(t, 2, ids(3), nil)
	f.Step(Message{Type: MsgApp, From: 1, Term: 2, Index: 1, LogTerm: 1, Commit: 1, Entries: []Entry{
		{Term: 2, Index: 2, Type: EntryNoop},
		{Term: 2, Index: 3, Type: EntryConfChange, Change: ConfChange{Type: ConfRemoveNode, Node: 3}},
	}})
	require.Equal(t, uint64(1), f.commit)
	require.Equal(t, []ID{1, 2}, f.voters)
	f.Step(Message{Type: MsgApp, From: 3, Term: 3, Index: 2, LogTerm: 2, Commit: 1, Entries: []Entry{
		{Term: 3, Index: 3, Type: EntryNoop},
	}})
	require.Equal(t, []ID{1, 2, 3}, f.voters, "the removed configuration entry no longer counts")
	require.Equal(t, []uint64{1, 2, 3}, logTerms(f))
}

// TestAddServer_4_2: a new server starts empty with no configuration, waits
// for the leader, gets the whole log, and becomes a full member that can
// vote and be elected.
func TestAddServer_4_2(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	nw.propose(1, put("a", "1"))
	nw.add(4, nil, nil)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfAddNode, Node: 4}))
	nw.drain(1)
	nw.deliver()
	nw.heartbeat(1)
	nw.heartbeat(1)
	nw.requireLogsEqual(1, 2, 3, 4)
	j := nw.raft(4)
	require.Equal(t, []ID{1, 2, 3, 4}, j.Status().Voters)
	require.Equal(t, []string{"1"}, nw.appliedCmds(4))
	_, armed := nw.nodes[4].timers[TimerElection]
	require.True(t, armed)
	// Now a member: with 1 gone, 4 can be elected by 2 and 3 (3 of 4).
	nw.isolate(1)
	nw.elect(4)
	nw.propose(4, put("a", "2"))
	require.Equal(t, []string{"1", "2"}, nw.appliedCmds(2))
}

// TestJoinerArmsNoElectionTimer_4_2_1: a server started with empty storage
// and no configuration is a joiner: it must not time out and campaign (it
// would disrupt the cluster it is joining) before a leader has contacted it.
func TestJoinerArmsNoElectionTimer_4_2_1(t *testing.T) {
	r, err := New(newTestConfig(4), Stored{})
	require.NoError(t, err)
	rd := r.Ready()
	_, armed := timerOf(rd, TimerElection)
	require.False(t, armed)
	require.False(t, rd.HardStateChanged)
	require.Empty(t, rd.Entries)
	for range 3 {
		r.Fire(TimerElection) // even if the host fires it anyway
		r.Campaign()
	}
	require.Equal(t, Follower, r.role)
	require.Equal(t, uint64(0), r.term)
	rd = r.Ready()
	require.Empty(t, rd.Messages)
	_, armed = timerOf(rd, TimerElection)
	require.False(t, armed)

	// A vote request does not arm it either.
	r.Step(Message{Type: MsgVote, From: 2, Term: 3, Index: 1, LogTerm: 1})
	_, armed = timerOf(r.Ready(), TimerElection)
	require.False(t, armed)

	// The leader's first append, even a refused probe, does.
	r.Step(Message{Type: MsgApp, From: 1, Term: 3, Index: 5, LogTerm: 3, Commit: 5})
	rd = r.Ready()
	et, armed := timerOf(rd, TimerElection)
	require.True(t, armed)
	require.GreaterOrEqual(t, et.After, testET)
	resp := msgsOf(rd, MsgAppResp)
	require.Len(t, resp, 1)
	require.True(t, resp[0].Reject)
	require.Equal(t, uint64(0), resp[0].RejectHint)
	// Contacted, but not yet a member: its timer expiring starts nothing.
	r.Fire(TimerElection)
	require.Equal(t, Follower, r.role)
	require.Empty(t, msgsOf(r.Ready(), MsgVote))
}

// TestRemovedLeaderStepsDown_4_2_2: a leader removed from the configuration
// keeps managing the cluster (without counting itself in majorities) until
// the removal commits, then steps down; it never campaigns again.
func TestRemovedLeaderStepsDown_4_2_2(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	l := nw.raft(1)
	require.NoError(t, l.ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 1}))
	idx := l.log.lastIndex()
	require.Equal(t, []ID{2, 3}, l.voters)
	require.Equal(t, Leader, l.role)

	// 2's ack alone would have been a majority with the leader counted.
	nw.drop = func(m Message) bool { return m.From == 3 && m.Type == MsgAppResp }
	nw.drain(1)
	nw.deliver()
	nw.drop = nil
	require.Less(t, l.commit, idx)
	require.Equal(t, Leader, l.role)
	require.Equal(t, uint64(idx), nw.raft(3).log.lastIndex())

	l.Step(Message{Type: MsgAppResp, From: 3, To: 1, Term: l.term, Index: idx})
	require.Equal(t, idx, l.commit)
	require.Equal(t, Follower, l.role)
	rd := nw.drain(1)
	hb, ok := timerOf(rd, TimerHeartbeat)
	require.True(t, ok && hb.Stop)
	nw.deliver()

	for range 3 {
		nw.fire(1, TimerElection)
	}
	require.Equal(t, Follower, l.role)
	require.Equal(t, uint64(2), l.term, "a removed server does not campaign")

	nw.elect(2)
	nw.propose(2, put("a", "1"))
	require.Equal(t, []string{"1"}, nw.appliedCmds(3))
	require.Empty(t, nw.appliedCmds(1), "the removed server gets nothing more")
}

// TestRemoveFollower_4_2: a removed follower stops getting appends, and the
// smaller cluster commits with its own majority.
func TestRemoveFollower_4_2(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	require.NoError(t, nw.raft(1).ProposeConfChange(ConfChange{Type: ConfRemoveNode, Node: 3}))
	nw.drain(1)
	nw.deliver()
	require.Nil(t, nw.raft(1).Progress(3))
	nw.isolate(3)
	nw.propose(1, put("a", "1"))
	require.Equal(t, []string{"1"}, nw.appliedCmds(2))
	require.Equal(t, []ID{1, 2}, nw.raft(2).voters)
}

// Raft.js backtracking (the paper's implementation): a rejected append
// moves nextIndex back by one, and the retry waits for the next heartbeat.
func TestNaiveBacktrackStepsBackOneIndexPerHeartbeat(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.NaiveBacktrack = true })
	nw.elect(1)
	nw.isolate(3)
	for i := range 4 {
		nw.propose(1, put("k", fmt.Sprint(i)))
	}
	behind := nw.raft(3).log.lastIndex()
	// A new leader knows nothing of 3's log: it starts at its own end.
	nw.elect(2)
	nw.heal()
	last := nw.raft(2).log.lastIndex()
	beats := 0
	for nw.raft(2).Progress(3).Match < last {
		nw.sent = nil
		nw.heartbeat(2)
		beats++
		require.Less(t, beats, 20)
		rejects := 0
		for _, m := range nw.sent {
			if m.Type == MsgAppResp && m.From == 3 && m.Reject {
				rejects++
			}
		}
		require.LessOrEqual(t, rejects, 1, "no immediate resend after a rejection")
	}
	require.Equal(t, int(last-behind), beats, "one index back per heartbeat")
	nw.requireLogsEqual(1, 2, 3)
}
