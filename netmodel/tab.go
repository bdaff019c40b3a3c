package netmodel

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ChatKey is the chat list the paper's chat client appends to.
const ChatKey = "history"

type clientKey struct{ client, seq uint64 }

// Tab is one browser tab running one Raft server. Its handlers run one at
// a time on a single thread: each costs HandlerCost, and work that arrives
// while the tab is busy waits.
type Tab struct {
	ID raft.ID
	w  *World

	alive     bool
	inc       int // incarnation: bumped by kill and restart
	busyUntil sim.Time
	node      *raft.Raft
	status    raft.Status
	stored    raft.Stored // localStorage: survives a kill
	sm        *raft.Store
	timers    [3]*sim.Timer // by raft.TimerKind
	memTimer  *sim.Timer
	pending   map[clientKey]func(raft.Result)
	// reads waiting for their ReadState or for the tab to apply their
	// index (kv.go)
	reads raft.ReadWaiter

	// The tab's task queue: work waits here while the thread is busy. One
	// wake event at a time runs the head task once its cost has elapsed.
	inbox  []task
	head   int
	wake   *sim.Timer
	wakeFn func()    // t.wakeUp, bound once
	fireFn [3]func() // per timer kind, bound once

	browser tabBrowser // timers.go: visibility, throttling, freezing
	storage tabStorage // storage.go: quota and write cost
}

// task is one unit of work on a tab's thread: a message to step, a timer
// to fire, or a function (workloads, the membership loop).
type task struct {
	msg  raft.Message
	fire raft.TimerKind
	fn   func()
}

func (t *Tab) boot(voters []raft.ID) error {
	node, err := raft.New(t.w.raftConfig(t.ID, voters), t.stored)
	if err != nil {
		return fmt.Errorf("tab %d: %w", t.ID, err)
	}
	t.node = node
	t.alive = true
	t.busyUntil = t.w.sim.Now()
	t.status = raft.Status{ID: t.ID}
	t.process()
	return nil
}

// run queues fn on the tab's thread.
func (t *Tab) run(fn func()) { t.enqueue(task{fn: fn}) }

// enqueue queues a task. It runs once the tab is free and the task's
// handler cost has elapsed; its outputs leave then.
func (t *Tab) enqueue(tk task) {
	t.inbox = append(t.inbox, tk)
	if t.wake == nil {
		t.scheduleWake()
	}
}

func (t *Tab) scheduleWake() {
	w := t.w
	if t.frozen() {
		return // a frozen tab runs nothing; thawing schedules the wake
	}
	done := sim.Max(w.sim.Now(), t.busyUntil) + w.opt.HandlerCost
	t.busyUntil = done
	if t.wakeFn == nil {
		t.wakeFn = t.wakeUp
	}
	t.wake = w.sim.At(done, t.wakeFn)
}

func (t *Tab) wakeUp() {
	t.wake = nil
	if !t.alive || t.head >= len(t.inbox) {
		return
	}
	tk := t.inbox[t.head]
	t.inbox[t.head] = task{}
	t.head++
	if t.head == len(t.inbox) {
		t.inbox, t.head = t.inbox[:0], 0
	}
	switch {
	case tk.fn != nil:
		tk.fn()
	case tk.fire != 0:
		if t.startFire(tk.fire) { // timers.go: chain count, cleared timers
			t.node.Fire(tk.fire)
		}
	default:
		t.node.Step(tk.msg)
	}
	t.process()
	t.endTask()
	if t.alive && t.head < len(t.inbox) {
		t.scheduleWake()
	}
}

// clearQueue drops queued work (the tab closed).
func (t *Tab) clearQueue() {
	t.wake.Cancel()
	t.wake = nil
	clear(t.inbox)
	t.inbox, t.head = t.inbox[:0], 0
}

func (t *Tab) deliver(m raft.Message) {
	t.w.record(sim.Event{Kind: sim.KindDeliver, Node: uint64(m.To), Peer: uint64(m.From), Term: m.Term, Index: m.Index, Msg: m.Type.String()})
	t.enqueue(task{msg: m})
}

// process executes the node's pending Ready in the order Raft requires:
// persist, send, apply, arm timers.
func (t *Tab) process() {
	w := t.w
	rd := t.node.Ready()
	if rd.Empty() {
		return
	}
	prev := t.status
	if !t.persist(&rd) {
		return // storage.go: the write failed and the tab stopped
	}
	if snap := rd.Snapshot; snap != nil && snap.Index > prev.Applied {
		// A snapshot from the leader: the state machine starts over from it.
		sm, err := w.restoreStore(snap.Data)
		if err != nil {
			w.Fault(t.ID, "snapshot unreadable: "+err.Error())
			w.Kill(t.ID)
			return
		}
		t.sm = sm
		w.record(sim.Event{Kind: sim.KindSnapshot, Node: uint64(t.ID), Term: snap.Term, Index: snap.Index, Detail: "installed"})
	}
	for _, m := range rd.Messages {
		w.send(m)
	}
	for i := range rd.Committed {
		t.apply(&rd.Committed[i])
	}
	for _, tr := range rd.Timers {
		t.setTimer(tr)
	}
	cur := t.node.Status()
	t.status = cur
	if len(rd.ReadStates) > 0 || t.reads.Busy() {
		t.reads.Serve(rd.ReadStates, cur.Applied)
	}
	t.traceChanges(prev, cur, rd)
	if !sameIDs(cur.Voters, prev.Voters) || !sameIDs(cur.Learners, prev.Learners) {
		w.connectVoters(t.ID, cur.Voters) // conn.go
		w.connectVoters(t.ID, cur.Learners)
	}
	if w.observer != nil && w.violation == nil {
		if err := w.observer.Changed(t.ID, prev, cur, rd.Entries, rd.Committed, t.node); err != nil {
			w.violation = err
			w.record(sim.Event{Kind: sim.KindViolation, Node: uint64(t.ID), Term: cur.Term, Detail: err.Error()})
			w.sim.Stop()
		}
	}
	// Compact last, so the observer saw the batch against the log it
	// was written to.
	t.maybeCompact()
	if cur.Role == raft.Leader && prev.Role != raft.Leader && w.opt.PresenceMembership {
		t.scheduleMembership(w.opt.MembershipInterval)
	}
}

func (t *Tab) traceChanges(prev, cur raft.Status, rd raft.Ready) {
	w := t.w
	id := uint64(t.ID)
	if cur.Term != prev.Term {
		w.record(sim.Event{Kind: sim.KindTerm, Node: id, Term: cur.Term})
	}
	if cur.Role != prev.Role {
		w.record(sim.Event{Kind: sim.KindRole, Node: id, Term: cur.Term, Detail: cur.Role.String()})
	}
	if n := len(rd.Entries); n > 0 {
		w.record(sim.Event{Kind: sim.KindAppend, Node: id, Term: cur.Term, Index: rd.Entries[n-1].Index, Detail: strconv.Itoa(n)})
	}
	if cur.Commit != prev.Commit {
		w.record(sim.Event{Kind: sim.KindCommit, Node: id, Term: cur.Term, Index: cur.Commit})
	}
	if !sameIDs(cur.Voters, prev.Voters) || !sameIDs(cur.Learners, prev.Learners) {
		detail := formatIDs(cur.Voters)
		if len(cur.Learners) > 0 {
			detail += " learners " + formatIDs(cur.Learners)
		}
		w.record(sim.Event{Kind: sim.KindConfig, Node: id, Term: cur.Term, Detail: detail})
	}
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

func (t *Tab) apply(e *raft.Entry) {
	w := t.w
	w.record(sim.Event{Kind: sim.KindApply, Node: uint64(t.ID), Term: e.Term, Index: e.Index})
	if e.Type != raft.EntryNormal {
		return
	}
	res := t.sm.Apply(e.Index, e.Cmd)
	key := clientKey{e.Cmd.Client, e.Cmd.Seq}
	if cb, ok := t.pending[key]; ok {
		delete(t.pending, key)
		cb(res)
	}
}

// scheduleMembership arms the leader's presence check: compare the
// signaling peer list with the configuration, issue at most one change per
// round, adds before removes (paper methodology).
func (t *Tab) scheduleMembership(after sim.Time) {
	w := t.w
	t.memTimer.Cancel()
	t.memTimer = w.sim.After(after, func() {
		t.memTimer = nil
		t.run(func() {
			if t.node.Status().Role != raft.Leader {
				return
			}
			next := w.opt.MembershipInterval
			if t.membershipRound() > 1 {
				next = w.opt.MembershipFastInterval
			}
			t.scheduleMembership(next)
		})
	})
}

// membershipRound proposes at most one change and returns how many changes
// were pending before it.
func (t *Tab) membershipRound() int {
	w := t.w
	if !w.presenceReadable(t.ID) {
		return 0 // the peer list cannot be read now (signaling.go)
	}
	cc, pending := MembershipChange(t.node, w.present, w.opt.Raft.CatchUp)
	if pending == 0 {
		return 0
	}
	err := t.node.ProposeConfChange(cc)
	if err != nil && !errors.Is(err, raft.ErrPendingConfChange) {
		w.record(sim.Event{Kind: sim.KindFault, Node: uint64(t.ID), Detail: "conf change refused: " + err.Error()})
	}
	return pending
}

// Leader is what MembershipChange reads of the leader's Raft node.
type Leader interface {
	Status() raft.Status
	Progress(id raft.ID) *raft.Progress
}

// MembershipChange is one round of the paper's presence-driven membership
// (its harness, kept by both worlds): it compares the tabs present
// (present[id], index 0 unused) with the leader's configuration and
// returns the one change to propose (promotions of caught-up learners
// first, then adds, then removes) and how many changes were pending.
// With catchUp, new servers join as learners.
func MembershipChange(lead Leader, present []bool, catchUp bool) (cc raft.ConfChange, pending int) {
	st := lead.Status()
	n := len(present) - 1
	member := make([]bool, n+1)
	learner := make([]bool, n+1)
	for _, id := range st.Voters {
		member[id] = true
	}
	for _, id := range st.Learners {
		learner[id] = true
	}
	var adds, promotions, removes []raft.ID
	for i := 1; i <= n; i++ {
		switch {
		case present[i] && learner[i]:
			// Caught up: it holds everything committed (Raft dissertation
			// §4.2.1 waits for a round that ends within an election
			// timeout; one round at the commit index is the simple form).
			if pr := lead.Progress(raft.ID(i)); pr != nil && pr.Match >= st.Commit {
				promotions = append(promotions, raft.ID(i))
			}
		case present[i] && !member[i]:
			adds = append(adds, raft.ID(i))
		case !present[i] && (member[i] || learner[i]) && raft.ID(i) != st.ID:
			removes = append(removes, raft.ID(i))
		}
	}
	add := raft.ConfAddNode
	if catchUp {
		add = raft.ConfAddLearner
	}
	pending = len(adds) + len(promotions) + len(removes)
	switch {
	case len(promotions) > 0:
		cc = raft.ConfChange{Type: raft.ConfAddNode, Node: promotions[0]}
	case len(adds) > 0:
		cc = raft.ConfChange{Type: add, Node: adds[0]}
	case len(removes) > 0:
		cc = raft.ConfChange{Type: raft.ConfRemoveNode, Node: removes[0]}
	}
	return cc, pending
}

// maybeCompact snapshots the state machine and compacts the log every
// SnapshotEvery applied entries, or when storage passes SnapshotAtQuota of
// the quota. The snapshot is persisted with the next batch.
func (t *Tab) maybeCompact() {
	w := t.w
	o := &w.opt
	applied := t.status.Applied
	first := t.node.FirstIndex()
	if applied < first {
		return
	}
	due := o.SnapshotEvery > 0 && applied-first+1 >= o.SnapshotEvery
	if q := o.Storage.Quota; q > 0 && o.SnapshotAtQuota > 0 && float64(t.storage.used) > o.SnapshotAtQuota*float64(q) {
		due = true
	}
	if !due {
		return
	}
	if err := t.node.Compact(applied, t.sm.Encode()); err != nil {
		return
	}
	w.record(sim.Event{Kind: sim.KindSnapshot, Node: uint64(t.ID), Term: t.status.Term, Index: applied, Detail: "compacted"})
}

// Submit proposes cmd from a client living in this tab; done is called with
// the result when this tab applies the command. It reports whether the
// proposal left the tab (false: no leader known, or the tab is closed).
func (t *Tab) Submit(cmd raft.Command, done func(raft.Result)) bool {
	if !t.alive {
		return false
	}
	if err := t.node.Propose(cmd); err != nil {
		return false
	}
	t.pending[clientKey{cmd.Client, cmd.Seq}] = done
	return true
}

// Run queues fn on the tab's thread (for workloads living in the tab).
func (t *Tab) Run(fn func()) { t.run(fn) }

// Alive reports whether the tab is open.
func (t *Tab) Alive() bool { return t.alive }

// Incarnation changes every time the tab is killed or restarted.
func (t *Tab) Incarnation() int { return t.inc }

func formatIDs(ids []raft.ID) string {
	b := make([]byte, 0, 4*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, uint64(id), 10)
	}
	return string(b)
}

// TransferLeadership has the current leader hand leadership to `to` (0:
// the live, unfrozen follower with the most entries), as a page does
// before its tab is hidden or closed.
func (w *World) TransferLeadership(to raft.ID) {
	var lead *Tab
	for _, t := range w.tabs[1:] {
		if t.alive && t.status.Role == raft.Leader && (lead == nil || t.status.Term > lead.status.Term) {
			lead = t
		}
	}
	if lead == nil {
		w.Fault(0, "transfer: no leader")
		return
	}
	if to == raft.None {
		var best uint64
		for _, id := range lead.status.Voters {
			pr := lead.node.Progress(id)
			if id == lead.ID || pr == nil || !w.tabs[id].alive || w.tabs[id].frozen() {
				continue
			}
			if to == raft.None || pr.Match > best {
				to, best = id, pr.Match
			}
		}
	}
	w.Fault(lead.ID, "transfer to "+strconv.Itoa(int(to)))
	lead.run(func() {
		if err := lead.node.TransferLeadership(to); err != nil {
			w.Fault(lead.ID, "transfer refused: "+err.Error())
		}
	})
}
