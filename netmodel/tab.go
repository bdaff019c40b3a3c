package netmodel

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Tab is one browser tab running one Raft server. Its handlers run one at
// a time on a single thread: each costs HandlerCost, and work that arrives
// while the tab is busy waits.
type Tab struct {
	ID raft.ID
	w  *World

	alive     bool
	inc       int // incarnation: bumped by kill and restart
	busyUntil sim.Time
	// handled counts the messages the tab handled since it (re)started
	// (Options.WarmupCosts); taskCost is what the task its wake runs
	// costs.
	handled  int
	taskCost sim.Time
	// host runs the Raft node: its Ready loop, its storage (localStorage:
	// survives a kill), state machine, client callbacks and reads.
	host     *host.Node
	timers   [3]*sim.Timer // by raft.TimerKind
	memTimer *sim.Timer

	// The tab's task queue: work waits here while the thread is busy. One
	// wake event at a time runs the head task once its cost has elapsed.
	// It is a ring: queued tasks from inbox[head] on, wrapping around, so
	// that a tab that stays busy through a burst reuses the slots of the
	// tasks it ran instead of growing the array.
	inbox  []task
	head   int
	queued int
	wake   *sim.Timer
	wakeFn func() // t.wakeUp, bound once
	// With a scheduled machine (machine.go): the thread holds a core
	// (onCore) or waits in the machine's queue for one (waiting).
	onCore, waiting bool
	fireFn          [3]func() // per timer kind, bound once
	// The membership loop's timer and task, bound once.
	memFired, memRound func()
	// sendWork is what the running batch's sends cost so far
	// (Options.SendCost): its timers are armed after it.
	sendWork sim.Time
	// batchPath is the standard normal draw the paths of what the tab
	// sends at batchPathAt share (Options.PathCorrelation).
	batchPath    float64
	batchPathAt  sim.Time
	batchPathSet bool

	browser tabBrowser // timers.go: visibility, throttling, freezing
	storage tabStorage // storage.go: quota and write cost
}

// task is one unit of work on a tab's thread: a message to step, a timer
// to fire, or a function (workloads, the membership loop), or a bound
// function and its argument (connection set-up: connevents.go).
type task struct {
	msg   raft.Message
	fire  raft.TimerKind
	fn    func()
	fnArg func(uint64)
	arg   uint64
	// level is the timer nesting level of a function run as a page
	// timer's task (the chat client's flush); 0 for other functions.
	level int
	// why and arrived: a message's lateness and arrival, kept to trace
	// its delivery when the page runs it (a scheduled machine: deliver).
	why     late
	arrived sim.Time
}

// isMessage reports whether the task hands a message to Raft (the
// others run a function or fire a timer).
func (tk *task) isMessage() bool { return tk.fn == nil && tk.fnArg == nil && tk.fire == 0 }

// newHost returns the tab's host: the world's side of each batch.
func (t *Tab) newHost() *host.Node {
	w := t.w
	cfg := host.Config{SessionTTL: w.opt.SessionTTL, Bugs: w.opt.Raft.Bugs, SnapshotEvery: w.opt.SnapshotEvery,
		SnapshotAtQuota: w.opt.SnapshotAtQuota, Quota: w.opt.Storage.Quota}
	return host.NewNode(t.ID, cfg, host.Hooks{
		Record:      w.record,
		RecordBytes: w.recordBytes,
		Persisted:   t.persisted,
		Failed:      t.failed,
		Sending: func(rd *raft.Ready) {
			if w.observer != nil {
				w.observer.Sending(t.ID, rd, t.host)
			}
			if w.takeover != nil {
				t.tookOver() // churn.go
			}
		},
		Send:     t.send,
		SetTimer: t.setTimer,
		Changed:  t.changed,
	})
}

// boot starts the tab's node from its storage.
func (t *Tab) boot(voters []raft.ID) error {
	if err := t.load(voters); err != nil {
		return err
	}
	t.process()
	return nil
}

// load opens the tab and makes its node from its storage; its Raft runs
// from its first process (boot).
func (t *Tab) load(voters []raft.ID) error {
	t.alive = true
	t.w.live++
	t.busyUntil = t.w.sim.Now()
	t.handled = 0
	if err := t.host.Start(t.w.raftConfig(t.ID, voters)); err != nil {
		t.alive = false
		t.w.live--
		return fmt.Errorf("tab %d: %w", t.ID, err)
	}
	return nil
}

// run queues fn on the tab's thread.
func (t *Tab) run(fn func()) { t.enqueue(task{fn: fn}) }

// runArg queues fn(arg) on the tab's thread.
func (t *Tab) runArg(fn func(uint64), arg uint64) { t.enqueue(task{fnArg: fn, arg: arg}) }

// enqueue queues a task. It runs once the tab is free and the task's
// handler cost has elapsed; its outputs leave then.
func (t *Tab) enqueue(tk task) {
	if t.queued == len(t.inbox) {
		// Full: unroll the ring into an array twice the size (at least
		// 8 tasks: most tabs queue that many while connections open).
		ring := make([]task, max(8, 2*len(t.inbox)))
		n := copy(ring, t.inbox[t.head:])
		copy(ring[n:], t.inbox[:t.head])
		t.inbox, t.head = ring, 0
	}
	t.inbox[(t.head+t.queued)%len(t.inbox)] = tk
	t.queued++
	if t.wake == nil {
		t.scheduleWake()
	}
}

func (t *Tab) scheduleWake() {
	w := t.w
	if t.frozen() {
		t.releaseCore()
		return // a frozen tab runs nothing; thawing schedules the wake
	}
	if w.scheduled() && !t.onCore {
		w.awaitCore(t) // it runs when a core is its
		return
	}
	t.taskCost = w.cpuTime(w.opt.HandlerCost + t.warmupCost())
	done := sim.Max(w.sim.Now(), t.busyUntil) + t.taskCost
	t.busyUntil = done
	if t.wakeFn == nil {
		t.wakeFn = t.wakeUp
	}
	t.wake = w.sim.At(done, t.wakeFn)
}

func (t *Tab) wakeUp() {
	t.wake = nil
	if !t.alive || t.queued == 0 {
		t.releaseCore()
		return
	}
	tk := t.inbox[t.head]
	t.inbox[t.head] = task{}
	t.head = (t.head + 1) % len(t.inbox)
	t.queued--
	switch {
	case tk.fn != nil:
		t.browser.level = tk.level
		tk.fn()
	case tk.fnArg != nil:
		tk.fnArg(tk.arg)
	case tk.fire != 0:
		if t.startFire(tk.fire) { // timers.go: chain count, cleared timers
			t.host.Raft.Fire(tk.fire)
		}
	default:
		if t.w.scheduled() {
			t.traceQueuedDelivery(tk)
		}
		t.handled++
		t.host.Step(tk.msg)
	}
	t.process()
	t.endTask()
	switch {
	case t.wake != nil:
		// The task queued more work, and its wake is set.
	case t.alive && t.queued > 0:
		t.scheduleWake()
	default:
		t.releaseCore()
	}
}

// warmupCost is what the next task costs beyond the handler cost: a
// message among the first the tab handles pays its warm-up cost.
func (t *Tab) warmupCost() sim.Time {
	warm := t.w.opt.WarmupCosts
	if t.handled >= len(warm) || !t.inbox[t.head].isMessage() {
		return 0
	}
	return warm[t.handled]
}

// occupy keeps the tab's thread busy for d more after what it does now:
// its later work waits, and its outputs so far have left.
func (t *Tab) occupy(d sim.Time) { t.busyUntil = sim.Max(t.busyUntil, t.w.sim.Now()) + d }

// clearQueue drops queued work (the tab closed).
func (t *Tab) clearQueue() {
	t.wake.Cancel()
	t.wake = nil
	clear(t.inbox)
	t.head, t.queued = 0, 0
	t.releaseCore()
}

// deliver queues m for the node and traces its delivery, with what held
// it on its way (why): at once, or, on a scheduled machine, where pages
// wait their turn for a core, when the page runs it (as a real page's
// message handler sees it), with its arrival as the time it reached the
// receiver.
func (t *Tab) deliver(m raft.Message, why late) {
	tk := task{msg: m}
	if t.w.scheduled() {
		tk.why, tk.arrived = why, t.w.sim.Now()
	} else {
		t.traceDelivery(m, why)
	}
	t.enqueue(tk)
}

// traceQueuedDelivery traces the delivery of a message the page runs
// now, ending its handler: if it started after it arrived, it waited for
// the page's thread, and its arrival is when it reached the receiver.
func (t *Tab) traceQueuedDelivery(tk task) {
	why := tk.why
	if started := t.w.sim.Now() - t.taskCost; started > tk.arrived {
		why.queued = true
		if why.rx == 0 {
			why.rx = tk.arrived
		}
	}
	t.traceDelivery(tk.msg, why)
}

func (t *Tab) traceDelivery(m raft.Message, why late) {
	t.w.record(sim.Event{Kind: sim.KindDeliver, Node: uint64(m.To), Peer: uint64(m.From), Term: m.Term, Index: m.Index, Msg: m.Type.String(),
		Detail: why.detail(), Tx: why.tx, Rx: why.rx})
}

// process executes the node's pending batch (host.Node.Process).
func (t *Tab) process() { t.host.Process() }

// send is the host's send of one of the batch's messages: the world
// carries it, and the tab owes its cost (Options.SendCost) until the
// batch ends (changed).
func (t *Tab) send(m raft.Message) {
	if c := t.w.opt.SendCost; c > 0 {
		t.sendWork += t.w.cpuTime(c)
	}
	t.w.send(m)
}

// changed is the world's part of a batch once it ran: the trace, the
// connections a new configuration needs, the observer (the checkers),
// and the membership loop of a new leader.
func (t *Tab) changed(prev, cur raft.Status, rd *raft.Ready) {
	w := t.w
	if t.sendWork > 0 {
		t.occupy(t.sendWork)
		t.sendWork = 0
	}
	if w.opt.BatchCost > 0 {
		t.occupy(w.cpuTime(w.opt.BatchCost))
	}
	if host.ConfigChanged(prev, cur) {
		w.connectVoters(t.ID, cur.Voters) // conn.go
		w.connectVoters(t.ID, cur.Learners)
	}
	if w.observer != nil && w.violation == nil {
		if err := w.observer.Changed(t.ID, prev, cur, rd, t.host.Raft); err != nil {
			w.violation = err
			w.record(sim.Event{Kind: sim.KindViolation, Node: uint64(t.ID), Term: cur.Term, Detail: err.Error()})
			w.sim.Stop()
		}
	}
	if cur.Role == raft.Leader && prev.Role != raft.Leader && w.opt.PresenceMembership {
		t.scheduleMembership(w.opt.MembershipInterval)
	}
}

// scheduleMembership arms the leader's presence check: compare the
// signaling peer list with the configuration, issue at most one change per
// round, adds before removes (paper methodology).
func (t *Tab) scheduleMembership(after sim.Time) {
	t.memTimer.Cancel()
	if t.memFired == nil {
		t.memFired = func() {
			t.memTimer = nil
			t.run(t.memRound)
		}
		t.memRound = t.membershipTask
	}
	t.memTimer = t.w.sim.After(after+t.w.timerLate(), t.memFired)
}

// membershipTask is the leader's round on its thread; it arms the next.
func (t *Tab) membershipTask() {
	w := t.w
	if t.host.Raft.Status().Role != raft.Leader {
		return
	}
	next := w.opt.MembershipInterval
	if t.membershipRound() > 1 {
		next = w.opt.MembershipFastInterval
	}
	t.scheduleMembership(next)
}

// membershipRound proposes at most one change and returns how many changes
// were pending before it.
func (t *Tab) membershipRound() int {
	w := t.w
	if !w.presenceReadable(t.ID) {
		return 0 // the peer list cannot be read now (signaling.go)
	}
	cc, pending := MembershipChange(t.host.Raft, w.present, w.opt.Raft.CatchUp)
	if pending == 0 {
		return 0
	}
	err := t.host.Raft.ProposeConfChange(cc)
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

// The leader's presence loop reads the peer list every PresenceInterval,
// every PresenceFastInterval while more than one change is pending (the
// paper's methodology; Raft.js's rtc.js addRemoveServersAsync): the pace
// of every world's loop.
const (
	PresenceInterval     = 100 * sim.Millisecond
	PresenceFastInterval = 50 * sim.Millisecond
)

// MembershipChange is one round of the paper's presence-driven membership
// (its harness, kept by both worlds): it compares the tabs present
// (present[id], index 0 unused) with the leader's configuration and
// returns the one change to propose (promotions of caught-up learners
// first, then adds, then removes) and how many changes were pending.
// With catchUp, new servers join as learners.
func MembershipChange(lead Leader, present []bool, catchUp bool) (cc raft.ConfChange, pending int) {
	st := lead.Status()
	n := len(present) - 1
	// Who is a member or a learner, on the stack up to 255 tabs: the
	// leader runs a round every 50-100 ms.
	const member, learner = 1, 2
	var stack [256]uint8
	var role []uint8
	if n < len(stack) {
		role = stack[:n+1]
	} else {
		role = make([]uint8, n+1)
	}
	for _, id := range st.Voters {
		role[id] |= member
	}
	for _, id := range st.Learners {
		role[id] |= learner
	}
	// The changes pending, and the first of each kind (the lowest id).
	var promotion, add, remove raft.ID
	first := func(kind *raft.ID, id raft.ID) {
		pending++
		if *kind == 0 {
			*kind = id
		}
	}
	for i := 1; i <= n; i++ {
		id := raft.ID(i)
		switch {
		case present[i] && role[i]&learner != 0:
			// Caught up: it holds everything committed (Raft dissertation
			// §4.2.1 waits for a round that ends within an election
			// timeout; one round at the commit index is the simple form).
			if pr := lead.Progress(id); pr != nil && pr.Match >= st.Commit {
				first(&promotion, id)
			}
		case present[i] && role[i]&member == 0:
			first(&add, id)
		case !present[i] && role[i] != 0 && id != st.ID:
			first(&remove, id)
		}
	}
	addType := raft.ConfAddNode
	if catchUp {
		addType = raft.ConfAddLearner
	}
	switch {
	case promotion != 0:
		cc = raft.ConfChange{Type: raft.ConfAddNode, Node: promotion}
	case add != 0:
		cc = raft.ConfChange{Type: addType, Node: add}
	case remove != 0:
		cc = raft.ConfChange{Type: raft.ConfRemoveNode, Node: remove}
	}
	return cc, pending
}

// Submit proposes cmd from a client living in this tab; done is called with
// the result when this tab applies the command. It reports whether the
// proposal left the tab (false: no leader known, or the tab is closed).
func (t *Tab) Submit(cmd app.Command, done func(app.Result)) bool {
	if !t.alive {
		return false
	}
	return t.host.Submit(cmd, done) == nil
}

// Run queues fn on the tab's thread (for workloads living in the tab).
func (t *Tab) Run(fn func()) { t.run(fn) }

// Alive reports whether the tab is open.
func (t *Tab) Alive() bool { return t.alive }

// Incarnation changes every time the tab is killed or restarted.
func (t *Tab) Incarnation() int { return t.inc }

// TransferLeadership has the current leader hand leadership to `to` (0:
// the live, unfrozen follower with the most entries), as a page does
// before its tab is hidden or closed.
func (w *World) TransferLeadership(to raft.ID) {
	lead := w.leaderTab()
	if lead == nil {
		w.Fault(0, "transfer: no leader")
		return
	}
	if to == raft.None {
		var best uint64
		for _, id := range lead.host.Status().Voters {
			pr := lead.host.Raft.Progress(id)
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
		if err := lead.host.Raft.TransferLeadership(to); err != nil {
			w.Fault(lead.ID, "transfer refused: "+err.Error())
		}
	})
}
