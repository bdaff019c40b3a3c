package netmodel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Bootstrap says how a cluster forms.
type Bootstrap string

// Bootstrap modes.
const (
	// BootstrapPaper: node 1 starts as leader of a one-server cluster and
	// every other tab joins with no election timer until contacted, added
	// by the leader as signaling reports it present (the paper's set-up).
	BootstrapPaper Bootstrap = "paper"
	// BootstrapStatic: every tab starts with the full configuration and an
	// election decides the first leader (standard Raft).
	BootstrapStatic Bootstrap = "static"
)

// RaftOptions are the Raft settings every tab runs with.
type RaftOptions struct {
	ElectionTimeout     sim.Time
	Heartbeat           sim.Time // 0: ElectionTimeout/5
	PreVote             bool
	CheckQuorum         bool
	MaxInflight         int
	MaxEntriesPerAppend int
	MaxBytesPerAppend   int
	DeferCommitNotice   bool
	// NaiveBacktrack: Raft.js's one-index-per-heartbeat backtracking.
	NaiveBacktrack bool
	// HalfCommitQuorum: Raft.js's commit rule, half the voters rounded up
	// (raft.Config.HalfCommitQuorum).
	HalfCommitQuorum bool
	// HeartbeatOnPropose: Raft.js sends a new entry by a heartbeat run
	// 1 ms later (raft.Config.HeartbeatOnPropose).
	HeartbeatOnPropose bool
	// CatchUp: new servers join as learners and are promoted once caught
	// up; otherwise they join as voters at once (the paper).
	CatchUp bool
	// Bugs: planted bugs (raft.Config.Bugs, and the store's), for testing
	// the checkers only.
	Bugs raft.BugSet
}

// Options configure a World.
type Options struct {
	Nodes     int
	Profile   Profile
	Mode      ChannelMode
	Bootstrap Bootstrap
	// PresenceMembership: the leader adds and removes servers to match the
	// signaling server's peer list (the paper); otherwise membership is
	// static.
	PresenceMembership bool
	// HandlerCost is the CPU time a tab spends on each message or timer it
	// handles; later work waits behind it on the tab's single thread.
	HandlerCost sim.Time
	// StartCost is the CPU time of a page's start of Raft at the run's
	// start (restoring its storage, starting Raft, its code's first
	// run): the pages start together, so with more pages than cores
	// they share them and all are done after StartCost × pages / cores
	// (World.Start). A restarted page does not pay it (its first
	// messages pay WarmupCosts).
	StartCost sim.Time
	// BatchCost is the CPU time a tab spends after each batch its work
	// produced (a handled message or timer that changed the node's state
	// or sent something), once the batch's messages left: what a page
	// does beyond handling the message, such as the browser world's tabs
	// reporting every batch to their harness. Later work waits behind it;
	// on a scheduled machine the page holds its core through it.
	BatchCost sim.Time
	// SendCost is the CPU time a tab spends on each message its batch
	// sends (a real stack's write: framing, encryption, the transport's
	// queue). The host arms a batch's timers after its sends, so a timer
	// re-armed by its own task, such as the leader's heartbeat, runs
	// that much later each period, more with more peers; and later work
	// waits behind it. The messages still leave at the batch's instant:
	// their spacing, tens of microseconds, is below any path's jitter.
	SendCost sim.Time
	// PathCorrelation, in [0, 1), is how much of their path's delay the
	// messages a tab sends at one instant share: the correlation of the
	// normal draws behind their delays (each delay keeps its
	// distribution). On a real stack a broadcast's copies arrive close
	// together, as they share the sender's and the machine's scheduling;
	// independent draws spread them out. 0: independent.
	PathCorrelation float64
	// WarmupCosts are the extra CPU times of a tab's first handled
	// messages after it (re)started, in order: a page's first messages
	// run code for the first time (V8 compiles WebAssembly lazily, a
	// function at its first call), and take longer than the later ones.
	WarmupCosts []sim.Time
	// Machine: the cores the tabs' browsers share (machine.go).
	Machine MachineOptions
	// PresenceCloseDelay is how long the signaling server takes to report a
	// closed tab as gone; PresenceJoinDelay how long a (re)started tab takes
	// to register.
	PresenceCloseDelay sim.Time
	PresenceJoinDelay  sim.Time
	// MembershipInterval and MembershipFastInterval pace the leader's
	// presence check: every 100 ms, 50 ms when more than one change is
	// pending (paper methodology).
	MembershipInterval     sim.Time
	MembershipFastInterval sim.Time
	Raft                   RaftOptions
	// Channel: datachannel and link details (channel.go).
	Channel ChannelOptions
	// Browser: tab visibility and timer throttling (timers.go).
	Browser BrowserOptions
	// KVClientPath: how far the KV clients are from their tabs' pages
	// (kv.go); zero: in the pages.
	KVClientPath KVClientPath
	// Storage: localStorage quota and cost (storage.go).
	Storage StorageOptions
	// Conn: connection set-up, ICE and signaling (conn.go, signaling.go).
	Conn ConnOptions
	// SessionTTL: client sessions are forgotten after this many log
	// entries without a command (app.Store); 0: never.
	SessionTTL uint64
	// SnapshotEvery: a tab snapshots its state machine and compacts its
	// log every this many applied entries (0: never), and also when its
	// storage passes SnapshotAtQuota of the quota (0: never).
	SnapshotEvery   uint64
	SnapshotAtQuota float64
}

// Validate checks the options.
func (o *Options) Validate() error {
	if o.Nodes < 1 {
		return fmt.Errorf("nodes must be at least 1, got %d", o.Nodes)
	}
	if o.Conn.Setup && o.Nodes > maxConnNodes {
		return fmt.Errorf("nodes must be at most %d with connection set-up, got %d", maxConnNodes, o.Nodes)
	}
	if err := o.Profile.Latency.Validate(); err != nil {
		return err
	}
	if o.Profile.Loss < 0 || o.Profile.Loss >= 1 || o.Profile.Duplicate < 0 || o.Profile.Duplicate > 1 {
		return fmt.Errorf("loss must be in [0,1) and duplicate in [0,1]")
	}
	if o.Raft.ElectionTimeout <= 0 {
		return fmt.Errorf("election timeout must be positive")
	}
	if o.HandlerCost < 0 || o.HandlerCost > 10*sim.Second || o.BatchCost < 0 || o.BatchCost > 10*sim.Second {
		return fmt.Errorf("handler and batch costs must be in [0, 10s], got %v and %v", o.HandlerCost, o.BatchCost)
	}
	if o.SendCost < 0 || o.SendCost > sim.Second {
		return fmt.Errorf("send cost must be in [0, 1s], got %v", o.SendCost)
	}
	if !(o.PathCorrelation >= 0 && o.PathCorrelation < 1) {
		return fmt.Errorf("path correlation must be in [0, 1), got %v", o.PathCorrelation)
	}
	if o.StartCost < 0 || o.StartCost > 10*sim.Second {
		return fmt.Errorf("start cost must be in [0, 10s], got %v", o.StartCost)
	}
	for i, c := range o.WarmupCosts {
		if c < 0 || c > 10*sim.Second {
			return fmt.Errorf("warm-up cost %d must be in [0, 10s], got %v", i+1, c)
		}
	}
	if o.MembershipInterval <= 0 || o.MembershipFastInterval <= 0 {
		return fmt.Errorf("membership intervals must be positive")
	}
	for _, check := range []func() error{o.Channel.validate, o.Browser.validate, o.Storage.validate, o.Conn.validate, o.Machine.validate, o.KVClientPath.validate} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// Observer receives a tab's state changes as they happen; a checker
// implements it. A returned error is a violation: the world stops.
type Observer interface {
	// Changed is called after each batch a tab executes. prev is the
	// status before the batch; rd the batch: the entries written to
	// storage (the first one's index is where the stored log was
	// overwritten from), the messages sent, the entries applied.
	Changed(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error
	// Sending is called with a tab's batch after it was persisted and
	// before its messages leave.
	Sending(node raft.ID, rd *raft.Ready, log LogReader)
}

// LogReader reads a tab's current log.
type LogReader interface {
	Term(i uint64) (uint64, bool)
	Entry(i uint64) (raft.Entry, bool)
	// FirstIndex is the first index the log holds; earlier entries are
	// compacted into a snapshot (committed, so a checker skips them).
	FirstIndex() uint64
}

// World is the modeled browser-and-WebRTC world of one run.
type World struct {
	sim      *sim.Sim
	opt      Options
	tabs     []*Tab // index = node id; tabs[0] unused
	chans    [][]channel
	netRand  *rand.Rand
	fastRand *rand.Rand // fast retransmissions' draws (channel.go), made on first use
	delays   delays     // delays.go
	lateRand *rand.Rand // timer lateness (timers.go), made at its first draw
	observer Observer
	present  []bool
	// Violation is the first error an observer returned.
	violation error
	links     linkState     // channel.go
	conns     connState     // conn.go, signaling.go
	takeover  *takeoverHook // churn.go
	live      int           // tabs alive (machine.go)
	machine   scheduler     // machine.go
}

// New builds a world of opt.Nodes tabs, registered with signaling, Raft not
// yet started.
func New(s *sim.Sim, opt Options) (*World, error) {
	if opt.Bootstrap == "" {
		opt.Bootstrap = BootstrapPaper
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	w := &World{sim: s, opt: opt, netRand: s.Rand("net"), machine: scheduler{free: opt.Machine.Cores}}
	n := opt.Nodes
	w.tabs = make([]*Tab, n+1)
	w.present = make([]bool, n+1)
	w.chans = make([][]channel, n+1)
	// One array for all the rows: a row per tab would each round up to
	// an allocation size class.
	allChans := make([]channel, n*(n+1))
	for i := 1; i <= n; i++ {
		w.chans[i], allChans = allChans[:n+1:n+1], allChans[n+1:]
		t := &Tab{ID: raft.ID(i), w: w}
		t.host = t.newHost()
		w.tabs[i] = t
		w.present[i] = true
	}
	w.initLinks()
	w.initConns()
	for _, t := range w.tabs[1:] {
		t.initBrowser()
		t.initStorage()
	}
	return w, nil
}

// SetObserver installs the observer (the safety checker).
func (w *World) SetObserver(o Observer) { w.observer = o }

// Violation returns the first violation an observer reported.
func (w *World) Violation() error { return w.violation }

// Sim returns the world's simulator.
func (w *World) Sim() *sim.Sim { return w.sim }

// Options returns the world's options.
func (w *World) Options() Options { return w.opt }

// Recent returns the last messages tab id received (host.Node.Recent).
func (w *World) Recent(id raft.ID) []raft.Message { return w.tabs[id].host.Recent() }

// Nodes returns the number of tabs.
func (w *World) Nodes() int { return w.opt.Nodes }

// Tab returns tab id (1-based).
func (w *World) Tab(id raft.ID) *Tab { return w.tabs[id] }

func (w *World) record(e sim.Event) {
	e.Time = w.sim.Now()
	w.sim.Trace().Record(e)
}

// recordBytes is record with detail as e's Detail, built only if the
// trace is written (sim.Trace.RecordBytes).
func (w *World) recordBytes(e sim.Event, detail []byte) {
	e.Time = w.sim.Now()
	w.sim.Trace().RecordBytes(e, detail)
}

// Fault records a fault in the trace.
func (w *World) Fault(node raft.ID, detail string) {
	w.record(sim.Event{Kind: sim.KindFault, Node: uint64(node), Detail: detail})
}

// Start starts Raft on every tab at the current time, as the paper's
// harness does once all pages are connected. With a start cost
// (Options.StartCost) the pages are told now and their Raft runs once
// their start is done.
func (w *World) Start() error {
	ready := w.startDone()
	for _, t := range w.tabs[1:] {
		var voters []raft.ID
		switch w.opt.Bootstrap {
		case BootstrapStatic:
			for i := 1; i <= w.opt.Nodes; i++ {
				voters = append(voters, raft.ID(i))
			}
		case BootstrapPaper:
			if t.ID == 1 {
				voters = []raft.ID{1}
			}
		}
		if err := t.load(voters); err != nil {
			return err
		}
		if ready == 0 {
			// At once, each tab's first batch right after its load:
			// a tab that connects to its configuration's members does
			// so before the next tab loads (the traces' order).
			t.process()
		}
	}
	if ready == 0 {
		w.started()
		return nil
	}
	startInc := make([]int, len(w.tabs)) // each tab's incarnation as it starts
	for _, t := range w.tabs[1:] {
		t.occupy(ready)
		startInc[t.ID] = t.inc
	}
	w.sim.After(ready, func() {
		for _, t := range w.tabs[1:] {
			// A tab closed meanwhile has no start to finish; one
			// reopened meanwhile started again as it reloaded.
			if t.alive && t.inc == startInc[t.ID] {
				t.process()
			}
		}
		w.started()
	})
	return nil
}

// startDone is how long the pages take to start (Options.StartCost):
// they start together, each with a core while there are enough, and
// otherwise sharing the cores evenly, as the kernel shares them among
// busy threads, so that all are done at once.
func (w *World) startDone() sim.Time {
	c := w.opt.StartCost
	if cores := w.opt.Machine.Cores; cores > 0 && w.opt.Nodes > cores {
		c = c * sim.Time(w.opt.Nodes) / sim.Time(cores)
	}
	return w.cpuTime(c)
}

// started is what follows the tabs' start: their connections open, if
// the run opens them all at once, and the paper's first server
// campaigns. (If it closed while the pages started, its task is
// dropped; if it was also reopened, it has no configuration yet, as its
// first batch never ran, and its campaign does nothing.)
func (w *World) started() {
	if w.opt.Conn.Setup && w.opt.Conn.OpenAtStart {
		w.openAll() // once every tab is up, before any sends
	}
	if w.opt.Bootstrap == BootstrapPaper {
		t := w.tabs[1]
		t.run(func() { t.host.Raft.Campaign() })
	}
}

// Present reports whether signaling lists tab id.
func (w *World) Present(id raft.ID) bool { return w.present[id] }

// send hands m to the connection layer, if both tabs are open.
func (w *World) send(m raft.Message) {
	from, to := w.tabs[m.From], w.tabs[m.To]
	w.record(sim.Event{Kind: sim.KindSend, Node: uint64(m.From), Peer: uint64(m.To), Term: m.Term, Index: m.Index, Msg: m.Type.String()})
	if to == nil || !to.alive || !from.alive {
		why := "peer closed"
		if to != nil && from.alive && w.opt.Conn.Setup && w.pair(m.From, m.To).closedEnd == m.To {
			why = sentToClosedPage // its peer was not told (conn.go tabClosed)
		}
		w.drop(m, why)
		return
	}
	w.connSend(m)
}

// Kill closes tab id cleanly: its memory and timers are gone, its storage
// stays, its datachannels close (peers see the close event at once) and
// signaling reports it gone after PresenceCloseDelay.
func (w *World) Kill(id raft.ID) {
	t := w.tabs[id]
	if !t.alive {
		return
	}
	t.alive = false
	w.live--
	t.inc++
	for k := range t.timers {
		t.timers[k].Cancel()
		t.timers[k] = nil
	}
	t.memTimer.Cancel()
	t.memTimer = nil
	t.clearQueue()
	t.host.Crash()
	w.Fault(id, "kill")
	w.tabClosed(id)
	inc := t.inc
	w.sim.After(w.opt.PresenceCloseDelay, func() {
		if t.inc == inc {
			w.present[id] = false
		}
	})
}

// Restart reopens a killed tab: Raft restores from storage and the tab
// registers with signaling again after PresenceJoinDelay.
func (w *World) Restart(id raft.ID) error {
	t := w.tabs[id]
	if t.alive {
		return nil
	}
	w.Fault(id, "restart")
	t.inc++
	// Reloaded: the host restores the state machine from the stored
	// snapshot; the entries after it are applied again as Raft hands
	// them over.
	if err := t.boot(nil); err != nil {
		return err
	}
	if w.opt.Conn.Setup {
		w.tabBack(id) // signaling.go: heartbeats and registration
		return nil
	}
	inc := t.inc
	w.sim.After(w.opt.PresenceJoinDelay, func() {
		if t.inc == inc {
			w.present[id] = true
		}
	})
	return nil
}

// Alive reports whether tab id is open.
func (w *World) Alive(id raft.ID) bool { return w.tabs[id].alive }

// Status returns tab id's Raft status and whether the tab is alive.
func (w *World) Status(id raft.ID) (raft.Status, bool) {
	t := w.tabs[id]
	return t.host.Status(), t.alive
}

// Leaders returns the live tabs that believe they lead, in id order.
func (w *World) Leaders() []raft.ID {
	var out []raft.ID
	for _, t := range w.tabs[1:] {
		if t.alive && t.host.Status().Role == raft.Leader {
			out = append(out, t.ID)
		}
	}
	return out
}

// ChatLines returns how many chat lines tab id has applied to the
// "history" list.
func (w *World) ChatLines(id raft.ID) int { return len(w.tabs[id].host.SM.Chat.Lines(ChatKey)) }

// ChatHistory returns tab id's applied chat history.
func (w *World) ChatHistory(id raft.ID) []string { return w.tabs[id].host.SM.Chat.Lines(ChatKey) }

func (w *World) raftConfig(id raft.ID, voters []raft.ID) raft.Config {
	// A snapshot chunk and its header fit one datachannel message; each
	// tab has its own stream, so a tab's draws never shift another's.
	return w.opt.Raft.Config(id, voters, w.sim.Rand("raft/"+strconv.Itoa(int(id))), max(w.opt.Channel.MaxMessageSize-256, 0))
}

// Config is the raft.Config of server id, starting with voters, drawing
// from rnd, with snapshot chunks of at most maxSnapshotChunk bytes: the
// one place the Raft settings are handed to raft/ (every world calls it).
func (o *RaftOptions) Config(id raft.ID, voters []raft.ID, rnd *rand.Rand, maxSnapshotChunk int) raft.Config {
	return raft.Config{
		ID:                  id,
		ElectionTimeout:     time.Duration(o.ElectionTimeout),
		HeartbeatInterval:   time.Duration(o.Heartbeat),
		Voters:              voters,
		PreVote:             o.PreVote,
		CheckQuorum:         o.CheckQuorum,
		MaxInflight:         o.MaxInflight,
		MaxEntriesPerAppend: o.MaxEntriesPerAppend,
		MaxBytesPerAppend:   o.MaxBytesPerAppend,
		DeferCommitNotice:   o.DeferCommitNotice,
		NaiveBacktrack:      o.NaiveBacktrack,
		HalfCommitQuorum:    o.HalfCommitQuorum,
		HeartbeatOnPropose:  o.HeartbeatOnPropose,
		Bugs:                o.Bugs,
		MaxSnapshotChunk:    maxSnapshotChunk,
		Rand:                rnd,
	}
}

// sortedIDs returns the ids with flag set, in order.
func sortedIDs(flags []bool) []raft.ID {
	var out []raft.ID
	for i, ok := range flags {
		if ok && i > 0 {
			out = append(out, raft.ID(i))
		}
	}
	slices.Sort(out)
	return out
}
