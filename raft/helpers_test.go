package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testET is the election timeout used by the tests.
const testET = 100 * time.Millisecond

// newTestConfig returns a configuration for server id with a fixed seed.
func newTestConfig(id ID, voters ...ID) Config {
	return Config{
		ID:              id,
		ElectionTimeout: testET,
		Voters:          voters,
		Rand:            rand.New(rand.NewPCG(uint64(id), 42)),
	}
}

// newTestRaft returns a bootstrapped server (or a joiner when voters is
// empty) after applying mod to its configuration, with its first Ready
// already taken.
func newTestRaft(t testing.TB, id ID, voters []ID, mod func(*Config)) *Raft {
	t.Helper()
	cfg := newTestConfig(id, voters...)
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg, Stored{})
	require.NoError(t, err)
	r.Ready()
	return r
}

// ids returns 1..n.
func ids(n int) []ID {
	out := make([]ID, n)
	for i := range out {
		out[i] = ID(i + 1)
	}
	return out
}

// becomeCandidateAt forces r to be a candidate at term (term-1 then an
// election timeout), and discards its outputs.
func becomeCandidateAt(r *Raft, term uint64) {
	r.term = term - 1
	r.vote = None
	r.lead = None
	r.Fire(TimerElection)
	r.Ready()
}

// becomeLeaderAt makes r the leader of term by a won election, granting it
// the votes of all the other voters, and discards its outputs.
func becomeLeaderAt(r *Raft, term uint64) {
	becomeCandidateAt(r, term)
	for _, id := range r.voters {
		if id != r.id {
			r.Step(Message{Type: MsgVoteResp, From: id, To: r.id, Term: term})
		}
	}
	r.Ready()
}

// msgsOf returns the messages in rd of type typ.
func msgsOf(rd Ready, typ MsgType) []Message {
	var out []Message
	for _, m := range rd.Messages {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// timerOf returns the last request for timer k in rd.
func timerOf(rd Ready, k TimerKind) (TimerRequest, bool) {
	for i := len(rd.Timers) - 1; i >= 0; i-- {
		if rd.Timers[i].Kind == k {
			return rd.Timers[i], true
		}
	}
	return TimerRequest{}, false
}

// entsTerms builds entries 1..len(terms) with the given terms.
func entsTerms(terms ...uint64) []Entry {
	out := make([]Entry, len(terms))
	for i, t := range terms {
		out[i] = Entry{Term: t, Index: uint64(i + 1)}
	}
	return out
}

// logTerms returns the terms of r's log entries 1..last.
func logTerms(r *Raft) []uint64 {
	out := []uint64{}
	for i := uint64(1); i <= r.log.lastIndex(); i++ {
		t, _ := r.log.term(i)
		out = append(out, t)
	}
	return out
}

// put returns a test command: Raft carries opaque bytes, and the tests
// write their commands as text, "put KEY=VALUE".
func put(key, value string) []byte { return []byte("put " + key + "=" + value) }

// putValue returns the value of a command written by put.
func putValue(data []byte) string {
	_, v, _ := strings.Cut(string(data), "=")
	return v
}

// node is one server of a test network with what its host keeps: its
// storage, its armed timers, and what it applied.
type node struct {
	r       *Raft
	cfg     Config
	stored  Stored
	timers  map[TimerKind]time.Duration
	applied []Entry
	// reads collects the ReadStates the server answered.
	reads []ReadState
	// snapshots the server handed to its host.
	snapshots []*Snapshot
	// readies counts the Ready batches that were not empty.
	readies int
}

// network delivers messages between servers by hand: nothing happens until
// a test fires a timer or delivers messages, so tests control every step.
type network struct {
	t     testing.TB
	nodes map[ID]*node
	// queue holds sent but undelivered messages, in send order.
	queue []Message
	// sent records every message sent, for assertions.
	sent []Message
	// cut holds the directed links (from, to) that drop everything.
	cut map[[2]ID]bool
	// drop, if set, drops any message for which it returns true.
	drop func(Message) bool
}

// newNetwork returns a network of bootstrapped servers 1..n, all with the
// configuration {1..n}, mod applied to each configuration.
func newNetwork(t testing.TB, n int, mod func(*Config)) *network {
	t.Helper()
	nw := &network{t: t, nodes: map[ID]*node{}, cut: map[[2]ID]bool{}}
	for _, id := range ids(n) {
		nw.add(id, ids(n), mod)
	}
	return nw
}

// add starts server id with the given initial configuration (a joiner when
// voters is empty).
func (nw *network) add(id ID, voters []ID, mod func(*Config)) *node {
	nw.t.Helper()
	cfg := newTestConfig(id, voters...)
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg, Stored{})
	require.NoError(nw.t, err)
	nd := &node{r: r, cfg: cfg, timers: map[TimerKind]time.Duration{}}
	nw.nodes[id] = nd
	nw.drain(id)
	return nd
}

// restart replaces server id with one restored from its storage.
func (nw *network) restart(id ID) {
	nw.t.Helper()
	nd := nw.nodes[id]
	st := Stored{HardState: nd.stored.HardState, Snapshot: nd.stored.Snapshot, Entries: slices.Clone(nd.stored.Entries)}
	r, err := New(nd.cfg, st)
	require.NoError(nw.t, err)
	nd.r = r
	nd.timers = map[TimerKind]time.Duration{}
	nd.applied = nil
	nw.drain(id)
}

func (nw *network) raft(id ID) *Raft { return nw.nodes[id].r }

// storedOffset is the index the stored snapshot covers (0: none).
func storedOffset(st Stored) uint64 {
	if st.Snapshot != nil {
		return st.Snapshot.Index
	}
	return 0
}

// drain executes server id's Ready as a host must: persist, then queue the
// messages, then apply, then arm timers. It checks that every message sent
// is backed by persisted state.
func (nw *network) drain(id ID) Ready {
	nw.t.Helper()
	nd := nw.nodes[id]
	rd := nd.r.Ready()
	if rd.Empty() {
		return rd
	}
	nd.readies++
	if rd.HardStateChanged {
		nd.stored.HardState = rd.HardState
	}
	if s := rd.Snapshot; s != nil {
		// The snapshot replaces the stored entries up to its index.
		off := storedOffset(nd.stored)
		var kept []Entry
		if s.Index-off < uint64(len(nd.stored.Entries)) {
			kept = slices.Clone(nd.stored.Entries[s.Index-off:])
		}
		if len(kept) > 0 && kept[0].Index != s.Index+1 {
			kept = nil
		}
		nd.stored.Snapshot, nd.stored.Entries = s, kept
		nd.snapshots = append(nd.snapshots, s)
	}
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		off := storedOffset(nd.stored)
		require.LessOrEqual(nw.t, first, off+uint64(len(nd.stored.Entries))+1, "server %d: persisted entries leave a gap", id)
		nd.stored.Entries = append(nd.stored.Entries[:first-1-off], rd.Entries...)
	}
	for _, m := range rd.Messages {
		require.Equal(nw.t, id, m.From)
		// Persist before send: anything a message claims is stored.
		future := termless(m.Type) || m.Type == MsgPreVote || (m.Type == MsgPreVoteResp && !m.Reject)
		if !future {
			require.Equal(nw.t, nd.stored.HardState.Term, m.Term, "server %d: sent %v before persisting its term", id, m.Type)
		}
		switch m.Type {
		case MsgVote:
			require.Equal(nw.t, m.Term, nd.stored.HardState.Term, "server %d: vote request before its term was persisted", id)
			require.Equal(nw.t, id, nd.stored.HardState.Vote, "server %d: vote request before its own vote was persisted", id)
		case MsgVoteResp:
			if !m.Reject {
				require.Equal(nw.t, m.To, nd.stored.HardState.Vote, "server %d: vote granted before it was persisted", id)
			}
		case MsgAppResp:
			if !m.Reject && m.Index > 0 {
				require.GreaterOrEqual(nw.t, storedOffset(nd.stored)+uint64(len(nd.stored.Entries)), m.Index, "server %d: acked entries it has not persisted", id)
			}
		}
		nw.sent = append(nw.sent, m)
		nw.queue = append(nw.queue, m)
	}
	nd.applied = append(nd.applied, rd.Committed...)
	nd.reads = append(nd.reads, rd.ReadStates...)
	require.LessOrEqual(nw.t, uint64(len(nd.applied)), nd.stored.HardState.Commit, "server %d: applied beyond its persisted commit", id)
	for _, tr := range rd.Timers {
		if tr.Stop {
			delete(nd.timers, tr.Kind)
		} else {
			nd.timers[tr.Kind] = tr.After
		}
	}
	return rd
}

// deliver delivers queued messages, and those they cause, until none is
// left; it returns how many it delivered.
func (nw *network) deliver() int {
	nw.t.Helper()
	n := 0
	for len(nw.queue) > 0 {
		m := nw.queue[0]
		nw.queue = nw.queue[1:]
		nd := nw.nodes[m.To]
		if nd == nil || nw.cut[[2]ID{m.From, m.To}] || (nw.drop != nil && nw.drop(m)) {
			continue
		}
		n++
		require.Less(nw.t, n, 100000, "messages do not quiesce")
		nd.r.Step(m)
		nw.drain(m.To)
	}
	return n
}

// dropQueued discards the undelivered messages.
func (nw *network) dropQueued() { nw.queue = nil }

// fire fires timer k at server id (whether or not it is armed) and
// delivers what follows.
func (nw *network) fire(id ID, k TimerKind) {
	nw.t.Helper()
	nw.nodes[id].r.Fire(k)
	nw.drain(id)
	nw.deliver()
}

// heartbeat fires server id's heartbeat timer, which must be armed.
func (nw *network) heartbeat(id ID) {
	nw.t.Helper()
	_, ok := nw.nodes[id].timers[TimerHeartbeat]
	require.True(nw.t, ok, "server %d has no heartbeat timer armed", id)
	nw.fire(id, TimerHeartbeat)
}

// elect fires server id's election timer and delivers everything; id must
// end up the leader.
func (nw *network) elect(id ID) {
	nw.t.Helper()
	nw.fire(id, TimerElection)
	require.Equal(nw.t, Leader, nw.raft(id).role, "server %d did not win the election", id)
}

// propose proposes cmd at server id and delivers everything.
func (nw *network) propose(id ID, cmd []byte) {
	nw.t.Helper()
	require.NoError(nw.t, nw.raft(id).Propose(cmd))
	nw.drain(id)
	nw.deliver()
}

// isolate cuts every link to and from id; heal restores all links.
func (nw *network) isolate(id ID) {
	for other := range nw.nodes {
		if other != id {
			nw.cut[[2]ID{id, other}] = true
			nw.cut[[2]ID{other, id}] = true
		}
	}
}

func (nw *network) heal() { nw.cut = map[[2]ID]bool{} }

// leaders returns the servers that believe they lead.
func (nw *network) leaders() []ID {
	var out []ID
	for id, nd := range nw.nodes {
		if nd.r.role == Leader {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// requireLogsEqual checks that the listed servers hold the same log, both in
// memory and in their storage, and the same commit index.
func (nw *network) requireLogsEqual(servers ...ID) {
	nw.t.Helper()
	ref := nw.nodes[servers[0]]
	// Compare from the highest first index: earlier entries may be
	// compacted into snapshots on some servers.
	first := uint64(0)
	for _, id := range servers {
		first = max(first, nw.nodes[id].r.log.offset)
	}
	for _, id := range servers {
		nd := nw.nodes[id]
		require.Equal(nw.t, ref.r.log.lastIndex(), nd.r.log.lastIndex(), "server %d's last index differs from server %d's", id, servers[0])
		require.Equal(nw.t, ref.r.log.ents[first-ref.r.log.offset+1:], nd.r.log.ents[first-nd.r.log.offset+1:], "server %d's log differs from server %d's", id, servers[0])
		require.Equal(nw.t, nd.r.log.ents[1:], nd.stored.Entries, "server %d's storage differs from its log", id)
		require.Equal(nw.t, ref.r.commit, nd.r.commit, "server %d's commit differs from server %d's", id, servers[0])
	}
}

// appliedCmds returns the values put by the normal entries server id
// applied.
func (nw *network) appliedCmds(id ID) []string {
	var out []string
	for _, e := range nw.nodes[id].applied {
		if e.Type == EntryNormal {
			out = append(out, putValue(e.Data))
		}
	}
	return out
}

func (nw *network) String() string {
	s := ""
	for _, id := range ids(len(nw.nodes)) {
		if nd := nw.nodes[id]; nd != nil {
			st := nd.r.Status()
			s += fmt.Sprintf("%d: %v term=%d commit=%d last=%d\n", id, st.Role, st.Term, st.Commit, st.LastIndex)
		}
	}
	return s
}

// storedLog returns a log whose first entry is the bootstrap configuration
// voters, followed by normal entries with the given terms (from index 2).
// Every entry's command names its term and index, so entries that conflict
// differ in content too.
func storedLog(voters []ID, terms ...uint64) []Entry {
	ents := []Entry{{Term: 1, Index: 1, Type: EntryConfChange, Change: ConfChange{Type: ConfInit, Voters: voters}}}
	for i, t := range terms {
		idx := uint64(i + 2)
		ents = append(ents, Entry{Term: t, Index: idx, Data: put("k", fmt.Sprintf("t%d-i%d", t, idx))})
	}
	return ents
}

// newStoredRaft returns server id restored from st, with its first Ready
// already taken.
func newStoredRaft(t testing.TB, id ID, st Stored, mod func(*Config)) *Raft {
	t.Helper()
	cfg := newTestConfig(id)
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg, st)
	require.NoError(t, err)
	r.Ready()
	return r
}

// newEmptyNetwork returns a network with no servers; add them with add or
// addStored.
func newEmptyNetwork(t testing.TB) *network {
	return &network{t: t, nodes: map[ID]*node{}, cut: map[[2]ID]bool{}}
}

// addStored starts server id restored from st.
func (nw *network) addStored(id ID, st Stored, mod func(*Config)) *node {
	nw.t.Helper()
	cfg := newTestConfig(id)
	if mod != nil {
		mod(&cfg)
	}
	r, err := New(cfg, Stored{HardState: st.HardState, Entries: slices.Clone(st.Entries)})
	require.NoError(nw.t, err)
	nd := &node{r: r, cfg: cfg, timers: map[TimerKind]time.Duration{},
		stored: Stored{HardState: st.HardState, Entries: slices.Clone(st.Entries)}}
	nw.nodes[id] = nd
	nw.drain(id)
	return nd
}
