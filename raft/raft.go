package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Config configures one server. Every option that changes behaviour is a
// field here, so that a scenario can switch it.
type Config struct {
	// ID is this server's id (not None).
	ID ID
	// ElectionTimeout is ET: followers wait uniformly in [ET, 2ET) without
	// hearing from a leader before they campaign (the paper's rule).
	ElectionTimeout time.Duration
	// HeartbeatInterval is how often a leader sends appends; 0 means
	// ElectionTimeout/5, as in the paper.
	HeartbeatInterval time.Duration
	// Voters is the initial configuration when storage is empty. A server
	// with empty storage and no Voters is a joiner: it arms no election
	// timer until a leader has contacted it (the paper's term -1 rule).
	Voters []ID
	// PreVote runs a pre-election that does not bump terms (off, as in the
	// paper).
	PreVote bool
	// CheckQuorum makes a leader step down when it has not heard from a
	// quorum within an election timeout, and makes followers that have a
	// leader ignore vote requests (off, as in the paper).
	CheckQuorum bool
	// MaxInflight bounds the appends in flight to one follower while
	// replicating (0: 64).
	MaxInflight int
	// MaxEntriesPerAppend and MaxBytesPerAppend bound one append (0:
	// unlimited, as Raft.js sends everything from nextIndex on).
	MaxEntriesPerAppend int
	MaxBytesPerAppend   int
	// DeferCommitNotice leaves followers to learn a new commit index from
	// the next heartbeat, as Raft.js does; otherwise the leader sends an
	// append as soon as its commit index advances (etcd's behaviour).
	DeferCommitNotice bool
	// NaiveBacktrack follows Raft.js: after a rejected append the leader
	// moves nextIndex back by one and waits for the next heartbeat to try
	// again (no conflict hint, no immediate resend). Off: fast
	// backtracking with the follower's hint, resent at once.
	NaiveBacktrack bool
	// HalfCommitQuorum follows Raft.js's commit rule: an entry is
	// committed once half the voters, rounded up and the leader
	// included, hold it (getMajorityIndex takes the element at n/2 of
	// the sorted match indexes, the upper middle for an even n: 1 of 2,
	// 2 of 4). Elections still need more than half (check_vote), so a
	// committed entry and a later winner's voters still meet in a fixed
	// configuration, but not across a membership change: with it on, the
	// swarm finds committed entries lost (scenarios/testdata/findings).
	// For modelling the paper only. Off: more than half, as in Raft.
	HalfCommitQuorum bool
	// HeartbeatOnPropose follows Raft.js: a new entry (a command or a
	// membership change) is not sent at once; the leader runs its
	// heartbeat ProposeHeartbeatDelay later instead (base.js
	// clientRequest and addServer: setTimeout(leader_heartbeat, 1)),
	// which sends every follower what it lacks and restarts the
	// heartbeat period. The leader counts replicas when an
	// acknowledgement comes and at each heartbeat (leader_heartbeat ends
	// with checkCommits), not when it appends: a one-server cluster
	// commits a command at the heartbeat it brought forward. Off: the
	// leader sends new entries at once and counts at every change.
	HeartbeatOnPropose bool
	// MaxSnapshotChunk bounds the data in one MsgSnap (0: 16 KiB, the
	// datachannel message cap).
	MaxSnapshotChunk int
	// Rand is the only source of randomness the server uses.
	Rand *rand.Rand
	// Bugs switches on planted bugs (bugs.go), for testing the checkers
	// only; the zero value, no bugs, is the correct protocol.
	Bugs BugSet
}

func (c *Config) validate() error {
	if c.ID == None {
		return fmt.Errorf("raft: config: ID must not be 0")
	}
	if c.ElectionTimeout <= 0 {
		return fmt.Errorf("raft: config: ElectionTimeout must be positive, got %v", c.ElectionTimeout)
	}
	if c.HeartbeatInterval < 0 {
		return fmt.Errorf("raft: config: HeartbeatInterval must not be negative")
	}
	if c.Rand == nil {
		return fmt.Errorf("raft: config: Rand is required")
	}
	if !c.Bugs.valid() {
		return fmt.Errorf("raft: config: unknown planted bugs %#x", uint32(c.Bugs))
	}
	return nil
}

// Stored is what a server's storage holds: its hard state and log. It is
// what New restores from after a restart.
type Stored struct {
	HardState HardState
	// Snapshot, if not nil, holds everything up to its index; Entries
	// then start right after it.
	Snapshot *Snapshot
	Entries  []Entry
}

// Ready is one batch of outputs. The host must, in order: persist HardState
// (if HardStateChanged) and Entries (the first entry's index says where the
// stored log is overwritten from), then send Messages, then apply Committed,
// then arm Timers.
type Ready struct {
	HardState        HardState
	HardStateChanged bool
	Entries          []Entry
	Messages         []Message
	Committed        []Entry
	Timers           []TimerRequest
	// ReadStates answers ReadIndex requests (read.go); the host serves a
	// read once it has applied the state's Index.
	ReadStates []ReadState
	// Snapshot, if not nil, is to be persisted first, replacing the stored
	// snapshot and the stored entries up to its index; if its index is
	// beyond what the host has applied, the host restores its state
	// machine from it before applying Committed (snapshot.go).
	Snapshot *Snapshot
}

// Empty reports whether the batch holds nothing to do.
func (rd *Ready) Empty() bool {
	return !rd.HardStateChanged && len(rd.Entries) == 0 && len(rd.Messages) == 0 &&
		len(rd.Committed) == 0 && len(rd.Timers) == 0 && len(rd.ReadStates) == 0 && rd.Snapshot == nil
}

// Progress is the leader's view of one follower.
type Progress struct {
	Match, Next uint64
	// Replicating: appends are pipelined up to MaxInflight; otherwise the
	// leader probes with one append at a time until it finds a match.
	Replicating bool
	probeSent   bool
	inflight    []uint64 // last index of each unacknowledged append
	// active: heard from since the last CheckQuorum round.
	active bool
	// commitSent: the highest commit index this follower was told (capped,
	// as the follower caps it, by the last index the append covered).
	commitSent uint64
	// silentBeats counts heartbeats with no progress (no ack beyond Match,
	// no current rejection) while appends are in flight; two of them send
	// the follower back to probing, so a lost append cannot stall
	// replication for good.
	silentBeats int
	// readAck: the highest read round this follower has echoed.
	readAck uint64
	// snapSent: the index of the snapshot sent and not yet answered.
	snapSent uint64
}

// Status is a snapshot of a server's state, for hosts and checkers.
type Status struct {
	ID        ID
	Role      Role
	Term      uint64
	Vote      ID
	Lead      ID
	Commit    uint64
	Applied   uint64
	LastIndex uint64
	LastTerm  uint64
	Voters    []ID // shared; do not modify or append to
	Learners  []ID // non-voting members; shared; do not modify or append to
}

// Raft is one server.
type Raft struct {
	cfg       Config
	heartbeat time.Duration
	// beatBroughtForward: the armed heartbeat was brought forward by a
	// proposal (HeartbeatOnPropose); it does not count as a silent beat.
	beatBroughtForward bool

	id      ID
	role    Role
	term    uint64
	vote    ID
	lead    ID
	log     *raftLog
	commit  uint64
	applied uint64

	voters         []ID   // the configuration in effect: the last in the log (own: applyConf appends to it)
	learners       []ID   // non-voting members (catch-up before voting)
	pendingConf    uint64 // index of the latest membership change entry
	contacted      bool   // a joiner arms no election timer before this
	votes          map[ID]bool
	prs            map[ID]*Progress
	removedAtIndex uint64 // leader only: index of the entry removing itself
	matchBuf       []uint64

	// outputs since the last Ready, and the buffers of the one before
	msgs        []Message
	timers      []TimerRequest
	spareMsgs   []Message
	spareTimers []TimerRequest
	lastHard    HardState
	hardDirty   bool

	// ReadIndex (read.go)
	readRound    uint64
	reads        []pendingRead
	readsWaiting []pendingRead
	readStates   []ReadState

	// snapshots (snapshot.go)
	snapshot      *Snapshot // the latest, to send to followers
	snapshotDirty *Snapshot // to hand to the host in the next Ready
	snapIn        *snapRecv

	// leadership transfer (transfer.go)
	transferee    ID
	transferBeats int
	// campaignContext marks the vote requests of the campaign being sent.
	campaignContext uint64

	// BugVoteNotPersisted (bugs.go): a vote granted and not persisted.
	hiddenVote ID
	hiddenTerm uint64
}

// New returns a server restored from st (empty for a fresh server).
func New(cfg Config, st Stored) (*Raft, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 64
	}
	r := &Raft{cfg: cfg, id: cfg.ID, heartbeat: cfg.HeartbeatInterval}
	if r.heartbeat == 0 {
		r.heartbeat = cfg.ElectionTimeout / 5
	}
	r.term, r.vote, r.commit = st.HardState.Term, st.HardState.Vote, st.HardState.Commit
	if s := st.Snapshot; s != nil {
		r.log = newLogAt(s.Index, s.Term, st.Entries)
		r.snapshot = s
		r.commit = max(r.commit, s.Index)
		r.applied = s.Index // the host restores its state machine from s
	} else {
		r.log = newLog(st.Entries)
	}
	if r.commit > r.log.lastIndex() {
		return nil, fmt.Errorf("raft: stored commit %d beyond last index %d", r.commit, r.log.lastIndex())
	}
	r.lastHard = st.HardState
	if len(st.Entries) == 0 && st.Snapshot == nil && len(cfg.Voters) > 0 {
		// Bootstrap: every initial member writes the same first entry, so
		// their logs agree from the start.
		voters := slices.Clone(cfg.Voters)
		slices.Sort(voters)
		r.term = 1
		r.log.append(Entry{Term: 1, Index: 1, Type: EntryConfChange, Change: ConfChange{Type: ConfInit, Voters: voters}})
		r.commit = 1
		r.hardDirty = true
	}
	r.recomputeConfig()
	r.contacted = r.log.lastIndex() > 0 || r.snapshot != nil
	r.becomeFollower(r.term, None)
	return r, nil
}

// Campaign starts an election at once (used to start a first server as the
// leader of its one-server cluster, as the paper's firstServer does).
func (r *Raft) Campaign() {
	if r.role != Leader {
		r.campaign(false)
	}
}

// Status returns the server's current state.
func (r *Raft) Status() Status {
	return Status{ID: r.id, Role: r.role, Term: r.term, Vote: r.vote, Lead: r.lead,
		Commit: r.commit, Applied: r.applied, LastIndex: r.log.lastIndex(),
		LastTerm: r.log.lastTerm(), Voters: r.voters, Learners: r.learners}
}

// Progress returns the leader's view of follower id (nil if none).
func (r *Raft) Progress(id ID) *Progress { return r.prs[id] }

// Term returns the term of the entry at index i, if the log holds it.
func (r *Raft) Term(i uint64) (uint64, bool) { return r.log.term(i) }

// Entry returns the entry at index i, if the log holds it.
func (r *Raft) Entry(i uint64) (Entry, bool) {
	if i <= r.log.offset || i > r.log.lastIndex() {
		return Entry{}, false
	}
	return *r.log.entry(i), true
}

// Ready returns and clears the pending outputs. The batch's slices are
// valid until the next call to Ready: a host executes a batch before it
// asks for the next one.
func (r *Raft) Ready() Ready {
	var rd Ready
	hs := HardState{Term: r.term, Vote: r.vote, Commit: r.commit}
	if r.bug(BugVoteNotPersisted) {
		hs.Vote = r.persistedVote()
	}
	if r.hardDirty || hs != r.lastHard {
		rd.HardState, rd.HardStateChanged = hs, true
		r.lastHard = hs
		r.hardDirty = false
	}
	rd.Entries = r.log.takeUnstable()
	// Double buffering: the previous batch's slices are reused now, which
	// is why a Ready is valid only until the next call.
	rd.Messages, r.msgs = r.msgs, r.spareMsgs[:0]
	r.spareMsgs = rd.Messages
	if r.applied < r.commit {
		rd.Committed = r.log.slice(r.applied+1, r.commit, 0, 0)
		r.applied = r.commit
	}
	rd.Timers, r.timers = r.timers, r.spareTimers[:0]
	r.spareTimers = rd.Timers
	rd.ReadStates, r.readStates = r.readStates, nil
	rd.Snapshot, r.snapshotDirty = r.snapshotDirty, nil
	return rd
}

func (r *Raft) send(m Message) {
	m.From = r.id
	if m.Term == 0 && !termless(m.Type) {
		m.Term = r.term
	}
	if m.Type == MsgApp {
		m.Context = r.readRound
	}
	r.msgs = append(r.msgs, m)
}

// termless: client requests are not Raft RPCs; they carry no term and are
// never dropped as stale.
func termless(t MsgType) bool {
	return t == MsgProp || t == MsgReadIndex || t == MsgReadIndexResp
}

func (r *Raft) quorum() int {
	if n := len(r.voters); n > 0 && n%2 == 0 && r.bug(BugEvenMajority) {
		return n / 2
	}
	return len(r.voters)/2 + 1
}

// commitQuorum is how many voters, the leader included, must hold an
// entry for it to commit: a quorum, or half rounded up under
// HalfCommitQuorum (the same for an odd configuration).
func (r *Raft) commitQuorum() int {
	if r.cfg.HalfCommitQuorum {
		return (len(r.voters) + 1) / 2
	}
	return r.quorum()
}

func (r *Raft) isVoter(id ID) bool {
	_, ok := slices.BinarySearch(r.voters, id)
	return ok
}

// promotable: only a member of its own configuration may campaign.
func (r *Raft) promotable() bool { return r.contacted && (r.isVoter(r.id) || r.selfRemovalPending()) }

// selfRemovalPending reports whether the latest configuration entry,
// not yet committed, removes this server. Such a server may still
// campaign, counting the votes of the configuration that excludes it
// (Raft dissertation §4.2.2: a leader can manage a cluster that does not
// include itself until the removal commits), as LogCabin's servers do;
// etcd-io/raft applies a configuration at commit, so there the server is
// still a voter. Otherwise a leader that appended its own removal and
// crashed before replicating it holds the only up-to-date log, refuses
// its votes to the remaining voters, and never campaigns itself: the
// cluster stalls for good (the swarm found this with membership churn,
// seed 448 of the opt-in kind).
func (r *Raft) selfRemovalPending() bool {
	if r.pendingConf <= r.commit || r.pendingConf > r.log.lastIndex() {
		return false
	}
	e := r.log.entry(r.pendingConf)
	return e.Change.Type == ConfRemoveNode && e.Change.Node == r.id
}

func (r *Raft) armElection() {
	if !r.contacted {
		return
	}
	et := r.cfg.ElectionTimeout
	d := et + time.Duration(r.cfg.Rand.Int64N(int64(et)))
	r.timers = append(r.timers, TimerRequest{Kind: TimerElection, After: d})
}

func (r *Raft) stopTimer(k TimerKind) {
	r.timers = append(r.timers, TimerRequest{Kind: k, Stop: true})
}

func (r *Raft) becomeFollower(term uint64, lead ID) {
	if term != r.term {
		r.term = term
		r.vote = None
	}
	if r.role == Leader {
		r.dropReads()
	}
	r.transferee = None
	r.role = Follower
	r.lead = lead
	r.prs = nil
	r.votes = nil
	r.stopTimer(TimerHeartbeat)
	r.armElection()
}

func (r *Raft) campaign(pre bool) {
	if !r.promotable() {
		return
	}
	term := r.term + 1
	if pre {
		r.role = PreCandidate
	} else {
		r.role = Candidate
		r.term = term
		r.vote = r.id
	}
	r.lead = None
	r.votes = map[ID]bool{r.id: true}
	r.armElection()
	if r.countVotes() == won {
		if pre {
			r.campaign(false)
		} else {
			r.becomeLeader()
		}
		return
	}
	typ := MsgVote
	if pre {
		typ = MsgPreVote
	}
	for _, id := range r.voters {
		if id != r.id {
			r.send(Message{Type: typ, To: id, Term: term, Index: r.log.lastIndex(), LogTerm: r.log.lastTerm(), Context: r.campaignContext})
		}
	}
}

type voteResult uint8

const (
	pending voteResult = iota
	won
	lost
)

func (r *Raft) countVotes() voteResult {
	granted, rejected := 0, 0
	for _, id := range r.voters {
		if v, ok := r.votes[id]; ok {
			if v {
				granted++
			} else {
				rejected++
			}
		}
	}
	switch q := r.quorum(); {
	case granted >= q:
		return won
	case rejected >= q, len(r.voters)-rejected < q:
		return lost
	}
	return pending
}

func (r *Raft) becomeLeader() {
	r.role = Leader
	r.lead = r.id
	if !r.isVoter(r.id) {
		// Elected while its own removal is pending: lead until the
		// removal commits, then step down (maybeCommit).
		r.removedAtIndex = r.pendingConf
	}
	r.votes = nil
	r.prs = make(map[ID]*Progress, len(r.voters)+len(r.learners))
	for _, id := range r.voters {
		r.addProgress(id)
	}
	for _, id := range r.learners {
		r.addProgress(id)
	}
	r.stopTimer(TimerElection)
	if r.cfg.CheckQuorum {
		r.timers = append(r.timers, TimerRequest{Kind: TimerElection, After: r.cfg.ElectionTimeout})
	}
	r.timers = append(r.timers, TimerRequest{Kind: TimerHeartbeat, After: r.heartbeat})
	r.beatBroughtForward = false
	// The no-op lets the new leader commit, and so learn, everything its
	// predecessors committed (Raft §5.4.2, §8).
	r.appendEntry(Entry{Type: EntryNoop})
	r.bcastAppend()
	if r.cfg.HeartbeatOnPropose {
		r.maybeCommit() // Raft.js's become_leader runs its heartbeat at once
	}
}

func (r *Raft) addProgress(id ID) {
	if id == r.id {
		return
	}
	r.prs[id] = &Progress{Next: r.log.lastIndex() + 1, active: true}
}

// appendEntry appends e at the leader, applying a membership change at
// once (a configuration takes effect when appended).
func (r *Raft) appendEntry(e Entry) {
	e.Term = r.term
	e.Index = r.log.lastIndex() + 1
	r.log.append(e)
	if e.Type == EntryConfChange {
		r.applyConfEntry(e)
	}
	if !r.cfg.HeartbeatOnPropose {
		r.maybeCommit()
	}
}

// applyConfEntry puts the change in e into effect on this server.
func (r *Raft) applyConfEntry(e Entry) {
	r.pendingConf = e.Index
	r.voters, r.learners = applyConf(r.voters, r.learners, e.Change)
	if r.role != Leader {
		return
	}
	switch e.Change.Type {
	case ConfAddNode, ConfAddLearner:
		if r.prs[e.Change.Node] == nil {
			r.addProgress(e.Change.Node)
		}
	case ConfRemoveNode:
		delete(r.prs, e.Change.Node)
		if e.Change.Node == r.id {
			r.removedAtIndex = e.Index
		}
	}
}

// applyConf applies cc to a configuration of voters and learners. A
// server is in at most one of the two. The slices passed must be the
// caller's own (applyChange may append to them in place); others may hold
// shorter views of them, and read them.
func applyConf(voters, learners []ID, cc ConfChange) ([]ID, []ID) {
	switch cc.Type {
	case ConfInit:
		return slices.Clone(cc.Voters), slices.Clone(cc.Learners)
	case ConfAddNode:
		learners = applyChange(learners, ConfChange{Type: ConfRemoveNode, Node: cc.Node})
		return applyChange(voters, cc), learners
	case ConfAddLearner:
		if slices.Contains(voters, cc.Node) {
			return voters, learners
		}
		return voters, applyChange(learners, ConfChange{Type: ConfAddNode, Node: cc.Node})
	case ConfRemoveNode:
		return applyChange(voters, cc), applyChange(learners, cc)
	}
	return voters, learners
}

// applyChange applies an addition or removal to a sorted list of IDs.
// Elements are never changed in place, as statuses share the list: an ID
// that sorts last is appended (in place when there is room, which a
// shorter view cannot see), and any other change makes a new slice.
func applyChange(voters []ID, cc ConfChange) []ID {
	switch cc.Type {
	case ConfInit:
		return slices.Clone(cc.Voters)
	case ConfAddNode:
		i, ok := slices.BinarySearch(voters, cc.Node)
		if ok {
			return voters
		}
		if i == len(voters) {
			// Servers usually join in ID order: growing the slice
			// geometrically spares a copy per join.
			return append(voters, cc.Node)
		}
		// Inserted before the end: a new slice, made once at its final
		// size.
		out := make([]ID, 0, len(voters)+1)
		out = append(append(append(out, voters[:i]...), cc.Node), voters[i:]...)
		return out
	case ConfRemoveNode:
		i, ok := slices.BinarySearch(voters, cc.Node)
		if !ok {
			return voters
		}
		return slices.Delete(slices.Clone(voters), i, i+1)
	}
	return voters
}

// recomputeConfig rebuilds the configuration from the log, after a restart
// or after a conflicting suffix (which may hold a change) was dropped.
func (r *Raft) recomputeConfig() {
	r.voters, r.learners, r.pendingConf = nil, nil, 0
	if r.snapshot != nil {
		r.voters, r.learners = slices.Clone(r.snapshot.Voters), slices.Clone(r.snapshot.Learners)
	}
	for i := r.log.offset + 1; i <= r.log.lastIndex(); i++ {
		if e := r.log.entry(i); e.Type == EntryConfChange {
			r.voters, r.learners = applyConf(r.voters, r.learners, e.Change)
			r.pendingConf = i
		}
	}
}

// maybeCommit advances the leader's commit index to the highest index
// stored on a quorum, but only if that entry is from the current term
// (Raft §5.4.2: older entries commit only indirectly).
func (r *Raft) maybeCommit() bool {
	if r.role != Leader {
		return false
	}
	matches := r.matchBuf[:0]
	for _, id := range r.voters {
		if id == r.id {
			matches = append(matches, r.log.lastIndex())
		} else if pr := r.prs[id]; pr != nil {
			matches = append(matches, pr.Match)
		} else {
			matches = append(matches, 0)
		}
	}
	if len(matches) == 0 {
		return false
	}
	slices.Sort(matches)
	r.matchBuf = matches
	n := matches[len(matches)-r.commitQuorum()]
	if n <= r.commit {
		return false
	}
	if t, _ := r.log.term(n); t != r.term && !r.bug(BugCommitOldTerm) {
		return false
	}
	r.commit = n
	defer r.startWaitingReads()
	if r.removedAtIndex != 0 && r.commit >= r.removedAtIndex {
		// A leader removed from the configuration steps down once the
		// removal is committed (Raft dissertation §4.2.2).
		r.removedAtIndex = 0
		r.becomeFollower(r.term, None)
	}
	return true
}

// committedInTerm reports whether the leader has committed an entry of
// its own term. Until it has, it answers no ReadIndex request (Raft §8:
// it does not yet know its commit index) and it may not append a
// membership change: the latter is
// is the rule of Ongaro's raft-dev post of 2015 ("bug in single-server
// membership changes", the errata of the Raft dissertation §4.1). With
// configurations effective on append, an earlier leader's uncommitted
// change may still sit in other servers' logs; a change appended on top
// of a configuration that is not yet committed can give two
// configurations whose majorities do not overlap, and two leaders can
// commit different entries at one index. etcd-io/raft gets the same
// effect by setting pendingConfIndex to its last index on becoming
// leader. The leader's no-op (becomeLeader) is what normally satisfies
// the rule within one round trip.
func (r *Raft) committedInTerm() bool {
	t, ok := r.log.term(r.commit)
	return ok && t == r.term
}

// members returns the voters, then the learners: everyone the leader
// replicates to.
func (r *Raft) members() []ID {
	if len(r.learners) == 0 {
		return r.voters
	}
	return append(slices.Clone(r.voters), r.learners...)
}

func (r *Raft) bcastAppend() {
	for _, id := range r.members() {
		if pr := r.prs[id]; pr != nil {
			r.sendAppend(id, pr, false)
		}
	}
}

// sendAppend sends follower id the entries from its Next on, if flow
// control allows; a heartbeat always sends something.
func (r *Raft) sendAppend(id ID, pr *Progress, heartbeat bool) {
	if pr.Next <= r.log.offset {
		// The entries it needs are compacted: send the snapshot.
		r.sendSnapshot(id, pr)
		return
	}
	last := r.log.lastIndex()
	blocked := (!pr.Replicating && pr.probeSent) || (pr.Replicating && len(pr.inflight) >= r.cfg.MaxInflight)
	if blocked || pr.Next > last {
		if !heartbeat {
			return
		}
		// An empty append at the last known match: it asserts leadership
		// and carries the commit index without disturbing flow control.
		prev := pr.Next - 1
		if pr.Replicating {
			prev = pr.Match
		}
		term, _ := r.log.term(prev)
		r.send(Message{Type: MsgApp, To: id, Index: prev, LogTerm: term, Commit: r.commit})
		pr.commitSent = max(pr.commitSent, min(r.commit, prev))
		return
	}
	prev := pr.Next - 1
	term, _ := r.log.term(prev)
	ents := r.log.slice(pr.Next, last, r.cfg.MaxEntriesPerAppend, r.cfg.MaxBytesPerAppend)
	r.send(Message{Type: MsgApp, To: id, Index: prev, LogTerm: term, Entries: ents, Commit: r.commit})
	sent := ents[len(ents)-1].Index
	pr.commitSent = max(pr.commitSent, min(r.commit, sent))
	if pr.Replicating {
		pr.inflight = append(pr.inflight, sent)
		pr.Next = sent + 1
	} else {
		pr.probeSent = true
	}
}

// sendAppendOrCommit sends follower id new entries if flow control allows
// and, unless DeferCommitNotice, an empty append if it may not know the
// commit index up to what it stores.
func (r *Raft) sendAppendOrCommit(id ID, pr *Progress) {
	r.sendAppend(id, pr, false)
	if !r.cfg.DeferCommitNotice && min(r.commit, pr.Match) > pr.commitSent {
		r.sendAppend(id, pr, true)
	}
}

// Propose submits a client command, data (opaque to Raft: the application
// encodes and decodes it). A follower forwards it to the leader it knows;
// with no known leader it returns ErrNoLeader.
func (r *Raft) Propose(data []byte) error {
	return r.ProposeBatch([][]byte{data})
}

// ProposeBatch submits several commands at once, in order: a leader
// appends them all before it sends, so each follower gets them in one
// append (Propose sends one per command, since it cannot know more will
// follow), and a follower forwards them in one message. A leader handles
// a forwarded batch the same way (stepLeader, MsgProp).
func (r *Raft) ProposeBatch(data [][]byte) error {
	switch {
	case len(data) == 0:
		return nil
	case r.role == Leader && r.transferee != None:
		return ErrTransferring
	case r.role == Leader:
		for _, d := range data {
			r.appendEntry(Entry{Type: EntryNormal, Data: d})
		}
		r.sendNew()
		return nil
	case r.lead != None:
		ents := make([]Entry, len(data))
		for i, d := range data {
			ents[i] = Entry{Type: EntryNormal, Data: d}
		}
		r.send(Message{Type: MsgProp, To: r.lead, Entries: ents})
		return nil
	}
	return ErrNoLeader
}

// ProposeConfChange asks the leader to add or remove one server. It is
// refused while an earlier change is uncommitted (ErrPendingConfChange, the
// paper's PENDING_CONFIG_CHANGE), and until the leader has committed an
// entry of its own term (ErrNoCommitInTerm, see committedInTerm).
func (r *Raft) ProposeConfChange(cc ConfChange) error {
	switch {
	case r.role != Leader:
		return ErrNotLeader
	case r.transferee != None:
		// The target may take over before it has the change.
		return ErrTransferring
	case r.pendingConf > r.commit && !r.bug(BugDoubleConfChange):
		return ErrPendingConfChange
	case !r.committedInTerm() && !r.bug(BugConfBeforeOwnTermCommit):
		return ErrNoCommitInTerm
	}
	member := r.isVoter(cc.Node)
	learner := slices.Contains(r.learners, cc.Node)
	switch {
	case cc.Node == None:
		return fmt.Errorf("%w: node 0", ErrInvalidConfChange)
	case cc.Type == ConfAddNode && member:
		return fmt.Errorf("%w: %d is already a member", ErrInvalidConfChange, cc.Node)
	case cc.Type == ConfAddLearner && (member || learner):
		return fmt.Errorf("%w: %d is already a member or learner", ErrInvalidConfChange, cc.Node)
	case cc.Type == ConfRemoveNode && !member && !learner:
		return fmt.Errorf("%w: %d is not a member", ErrInvalidConfChange, cc.Node)
	case cc.Type != ConfAddNode && cc.Type != ConfRemoveNode && cc.Type != ConfAddLearner:
		return fmt.Errorf("%w: type %v", ErrInvalidConfChange, cc.Type)
	case cc.Type == ConfRemoveNode && member && len(r.voters) == 1:
		return fmt.Errorf("%w: cannot remove the last member", ErrInvalidConfChange)
	}
	r.appendEntry(Entry{Type: EntryConfChange, Change: ConfChange{Type: cc.Type, Node: cc.Node}})
	if r.role == Leader {
		r.sendNew()
	}
	return nil
}

// Fire tells the server that timer k expired.
func (r *Raft) Fire(k TimerKind) {
	switch k {
	case TimerElection:
		if r.role == Leader {
			if r.cfg.CheckQuorum {
				r.checkQuorum()
			}
			return
		}
		if !r.promotable() {
			// No word from a leader for an election timeout: forget it, so
			// that the CheckQuorum lease lets this server vote again.
			r.lead = None
			r.armElection()
			return
		}
		r.campaign(r.cfg.PreVote)
	case TimerHeartbeat:
		if r.role == Leader {
			r.beat()
		}
	}
}

// ProposeHeartbeatDelay is how long after a proposal the leader runs its
// heartbeat under HeartbeatOnPropose: Raft.js's setTimeout(…, 1).
const ProposeHeartbeatDelay = time.Millisecond

// sendNew sends the entries just appended: at once, or by the heartbeat
// brought forward under HeartbeatOnPropose. A heartbeat already brought
// forward stays when it is: it will carry these entries too, and moving
// it again on every proposal would let a steady stream of proposals
// hold it back for ever.
func (r *Raft) sendNew() {
	if !r.cfg.HeartbeatOnPropose {
		r.bcastAppend()
		return
	}
	if r.beatBroughtForward {
		return
	}
	r.beatBroughtForward = true
	r.timers = append(r.timers, TimerRequest{Kind: TimerHeartbeat, After: ProposeHeartbeatDelay})
}

// beat is the leader's heartbeat: an append to every member, carrying
// what flow control allows, and the next heartbeat a period later. A
// follower that answered none of its last two beats is probed again.
func (r *Raft) beat() {
	counts := !r.beatBroughtForward
	r.beatBroughtForward = false
	r.timers = append(r.timers, TimerRequest{Kind: TimerHeartbeat, After: r.heartbeat})
	if counts {
		r.transferTick()
	}
	for _, id := range r.members() {
		pr := r.prs[id]
		if pr == nil {
			continue
		}
		if counts && (len(pr.inflight) > 0 || (!pr.Replicating && pr.probeSent)) {
			pr.silentBeats++
			if pr.silentBeats >= 2 {
				if pr.Replicating {
					r.resetToProbe(pr)
				} else {
					pr.probeSent = false
					pr.silentBeats = 0
					pr.snapSent = 0 // resend a snapshot that got no answer
				}
			}
		}
		r.sendAppend(id, pr, true)
	}
	if r.cfg.HeartbeatOnPropose {
		r.maybeCommit() // base.js leader_heartbeat ends with checkCommits
	}
}

func (r *Raft) checkQuorum() {
	active := 0
	for _, id := range r.voters {
		if id == r.id {
			active++
		} else if pr := r.prs[id]; pr != nil && pr.active {
			active++
			pr.active = false
		}
	}
	if active < r.quorum() {
		r.becomeFollower(r.term, None)
		return
	}
	r.timers = append(r.timers, TimerRequest{Kind: TimerElection, After: r.cfg.ElectionTimeout})
}

func (r *Raft) resetToProbe(pr *Progress) {
	pr.Replicating = false
	pr.probeSent = false
	pr.inflight = pr.inflight[:0]
	pr.Next = pr.Match + 1
	pr.silentBeats = 0
}

// Step processes one message from another server.
func (r *Raft) Step(m Message) {
	switch {
	case termless(m.Type):
		// Proposals and reads carry no term: they are requests, not Raft
		// RPCs.
		if m.Type != MsgProp {
			r.stepRead(m)
			return
		}
	case m.Term > r.term:
		if (m.Type == MsgVote || m.Type == MsgPreVote) && r.cfg.CheckQuorum && r.lead != None &&
			(r.role == Follower || r.role == Leader) && m.Context != transferContext {
			// Lease (Raft dissertation §4.2.3): a follower that has a live
			// leader, and the leader itself (CheckQuorum deposes it once
			// it stops hearing from a quorum), ignore elections, so a
			// removed or partitioned server cannot depose a working
			// leader (etcd-io/raft's inLease has no role condition either).
			return
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote asks about a future term; ours stays.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A grant for our pre-candidacy's future term.
		case m.Type == MsgApp || m.Type == MsgSnap:
			r.becomeFollower(m.Term, m.From)
		default:
			r.becomeFollower(m.Term, None)
		}
	case m.Term < r.term:
		if m.Type == MsgAppResp && !m.Reject && r.role == Leader && r.bug(BugStaleAck) {
			r.stepLeader(m)
			return
		}
		switch m.Type {
		case MsgApp:
			if r.cfg.CheckQuorum || r.cfg.PreVote {
				// Tell a stale leader about the new term, or it would keep
				// a partitioned-off follower's pre-votes failing forever.
				r.send(Message{Type: MsgAppResp, To: m.From})
			}
		case MsgPreVote:
			r.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
		}
		return
	}

	switch m.Type {
	case MsgVote, MsgPreVote:
		r.handleVote(m)
		return
	}
	switch r.role {
	case Leader:
		r.stepLeader(m)
	case Candidate, PreCandidate:
		r.stepCandidate(m)
	default:
		r.stepFollower(m)
	}
}

func (r *Raft) handleVote(m Message) {
	canVote := r.vote == m.From ||
		(r.vote == None && r.lead == None) ||
		(m.Type == MsgPreVote && m.Term > r.term)
	respType := MsgVoteResp
	if m.Type == MsgPreVote {
		respType = MsgPreVoteResp
	}
	if canVote && (r.log.isUpToDate(m.Index, m.LogTerm) || r.bug(BugVoteIgnoresLog)) {
		r.send(Message{Type: respType, To: m.From, Term: m.Term})
		if m.Type == MsgVote {
			if r.vote == None && r.bug(BugVoteNotPersisted) {
				r.hiddenVote, r.hiddenTerm = m.From, r.term
			}
			r.vote = m.From
			r.armElection()
		}
		return
	}
	r.send(Message{Type: respType, To: m.From, Reject: true})
}

func (r *Raft) stepFollower(m Message) {
	switch m.Type {
	case MsgApp:
		r.lead = m.From
		r.contacted = true
		r.armElection()
		r.handleAppend(m)
	case MsgSnap:
		r.lead = m.From
		r.contacted = true
		r.armElection()
		r.handleSnapshot(m)
	case MsgTimeoutNow:
		// The leader hands over: campaign at once, no pre-vote.
		if r.promotable() {
			r.campaignTransfer()
		}
	case MsgProp:
		if r.lead != None {
			m.To = r.lead
			r.send(m)
		}
	}
}

func (r *Raft) stepCandidate(m Message) {
	switch m.Type {
	case MsgApp:
		// A leader of our term exists: we lost.
		r.becomeFollower(m.Term, m.From)
		r.handleAppend(m)
	case MsgSnap:
		r.becomeFollower(m.Term, m.From)
		r.handleSnapshot(m)
	case MsgVoteResp, MsgPreVoteResp:
		if (m.Type == MsgPreVoteResp) != (r.role == PreCandidate) {
			return
		}
		r.votes[m.From] = !m.Reject
		switch r.countVotes() {
		case won:
			if r.role == PreCandidate {
				r.campaign(false)
			} else {
				r.becomeLeader()
			}
		case lost:
			r.becomeFollower(r.term, None)
		}
	}
}

func (r *Raft) handleAppend(m Message) {
	if m.Index < r.commit {
		r.send(Message{Type: MsgAppResp, To: m.From, Index: r.commit, Context: m.Context})
		return
	}
	if !r.log.matchTerm(m.Index, m.LogTerm) {
		hintIndex, hintTerm := r.log.findConflictByTerm(m.Index, m.LogTerm)
		r.send(Message{Type: MsgAppResp, To: m.From, Index: m.Index, Reject: true,
			RejectHint: hintIndex, LogTerm: hintTerm, Context: m.Context})
		return
	}
	lastNew := m.Index + uint64(len(m.Entries))
	if c := r.log.findConflict(m.Entries); c != 0 && r.bug(BugNoTruncate) {
		r.appendPastEnd(m.Entries)
	} else if c != 0 {
		ents := m.Entries[c-m.Index-1:]
		if r.log.truncateAndAppend(ents) {
			r.recomputeConfig()
		} else {
			for i := range ents {
				if ents[i].Type == EntryConfChange {
					r.applyConfEntry(ents[i])
				}
			}
		}
	}
	if c := min(m.Commit, lastNew); c > r.commit {
		r.commit = c
	}
	r.send(Message{Type: MsgAppResp, To: m.From, Index: lastNew, Context: m.Context})
}

func (r *Raft) stepLeader(m Message) {
	switch m.Type {
	case MsgProp:
		if r.transferee != None {
			// Refused during a transfer, as Propose refuses them: the
			// target may already be campaigning with the log it has, and
			// an entry appended now would only be overwritten. The
			// client's retry finds the new leader (etcd-io/raft drops
			// them too).
			return
		}
		for _, e := range m.Entries {
			r.appendEntry(Entry{Type: EntryNormal, Data: e.Data})
		}
		r.sendNew()
		return
	case MsgAppResp:
	default:
		return
	}
	pr := r.prs[m.From]
	if pr == nil {
		return
	}
	pr.active = true
	// Any answer of this term, rejection or not, confirms leadership for
	// the read rounds it echoes.
	r.readAcked(pr, m.Context)
	if r.role != Leader {
		return
	}
	if m.Reject {
		if r.cfg.NaiveBacktrack {
			// Raft.js: one index back per rejection, resent with the next
			// heartbeat.
			if m.Index < pr.Match {
				return // stale
			}
			pr.Replicating = false
			pr.inflight = pr.inflight[:0]
			pr.silentBeats = 0
			pr.Next = max(min(pr.Next, m.Index), pr.Match+1)
			pr.probeSent = false
			return
		}
		if !r.backtrack(pr, m) {
			return
		}
		pr.silentBeats = 0
		r.sendAppend(m.From, pr, false)
		return
	}
	if r.bug(BugStaleAck) {
		// Planted bug: the ack is credited with everything sent so far.
		m.Index = max(m.Index, pr.Next-1)
	}
	if m.Index > pr.Match {
		// Only progress counts as an answer to the appends in flight: a
		// heartbeat's ack at the old match must not keep a lost append
		// from being resent.
		pr.silentBeats = 0
		pr.Match = m.Index
		if !pr.Replicating {
			pr.Replicating = true
			pr.probeSent = false
			pr.Next = max(pr.Next, m.Index+1)
		}
	}
	pr.Next = max(pr.Next, pr.Match+1)
	i := 0
	for i < len(pr.inflight) && pr.inflight[i] <= m.Index {
		i++
	}
	// Shifted down, not resliced: the slice keeps its capacity, so the
	// appends that follow do not allocate.
	pr.inflight = pr.inflight[:copy(pr.inflight, pr.inflight[i:])]
	r.transferProgress(m.From, pr)
	// Only an ack beyond the commit index can move it.
	if pr.Match > r.commit && r.maybeCommit() && r.role == Leader && !r.cfg.DeferCommitNotice {
		// Tell every follower the new commit index now.
		for _, id := range r.members() {
			if p := r.prs[id]; p != nil {
				r.sendAppendOrCommit(id, p)
			}
		}
	} else if r.role == Leader {
		r.sendAppendOrCommit(m.From, pr)
	}
}

// backtrack moves pr.Next back after a rejection and reports whether the
// rejection was current (a stale one is ignored).
func (r *Raft) backtrack(pr *Progress, m Message) bool {
	if pr.Replicating {
		if m.Index <= pr.Match {
			return false
		}
		r.resetToProbe(pr)
	} else if pr.Next-1 != m.Index {
		return false
	}
	next := m.RejectHint
	if m.LogTerm > 0 {
		next, _ = r.log.findConflictByTerm(m.RejectHint, m.LogTerm)
	}
	pr.Next = max(min(m.Index, next+1), pr.Match+1)
	pr.probeSent = false
	return true
}
