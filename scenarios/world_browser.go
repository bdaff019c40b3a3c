package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/browserworld"
	"github.com/raftsim/raftsim/netmodel/impair"
	"github.com/raftsim/raftsim/netmodel/realkv"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ErrNotOnBrowser: the scenario uses something the browser world does not
// run (yet). It is an ErrNotOnWorld.
var ErrNotOnBrowser error = notOnWorld("browser")

// browserFaults are the fault steps the browser world runs: a tab's page
// closed (memory gone, localStorage kept) and reopened, or discarded
// (closed, reopened later); hidden (its
// window minimized), frozen and back in the foreground; and, through the relay, loss and
// duplication, partitions and cuts, their heal, and a blackholed tab (its
// packets dropped both ways, then its page closed unheard).
var browserFaults = map[string]bool{"kill": true, "restart": true, "visibility": true, "discard": true, "signaling": true,
	"loss": true, "partition": true, "heal": true, "blackhole": true}

// relayFaults are the fault steps that need the relay.
var relayFaults = map[string]bool{"loss": true, "partition": true, "heal": true, "blackhole": true}

// RunBrowser runs the scenario once in real headless Chromium tabs
// (netmodel/browserworld: raft/ and host/ compiled to WebAssembly, real
// RTCDataChannels), in real time, driven by the same runner as the other
// worlds. Runs are reproducible in distribution, not event for event:
// there is no trace hash.
func RunBrowser(sc *Scenario, seed uint64, opts RunOptions) (res *Result, err error) {
	defer containPanic(sc, seed, WorldBrowser, &res, &err)
	if err := browserSupported(sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	wallStart := time.Now()
	r := newRunner(sc, seed)
	// Each tab reports over its own socket: a follower's acknowledgement
	// may reach the checker after the commit it allowed.
	r.safety.WithoutAckedCommit()
	bw := &browserWorld{realTime: newRealTime(r, opts.Trace), sc: sc, seed: seed,
		vis: map[raft.ID]netmodel.Visibility{}, minimized: map[raft.ID]bool{}}
	r.w = bw
	if err := bw.open(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer bw.c.Close()
	return runRealTime(r, bw.realTime, bw, seed, opts, wallStart)
}

// finish implements realWorld: the clients stop, Chromium closes (no
// report after it), and the held events go to the trace in time order.
func (b *browserWorld) finish() {
	if b.kv != nil {
		b.kv.Stop()
	}
	b.c.Close()
	b.writeTrace()
}

// browserSupported reports what the browser world cannot run, and why.
func browserSupported(sc *Scenario) error {
	switch {
	case len(sc.Measures) == 0:
		return fmt.Errorf("a run in the browser needs a measure")
	}
	for _, f := range sc.Faults {
		if f.Action != nil && !browserFaults[f.Action.Key()] {
			return fmt.Errorf("fault %q: %s (only kill, restart, discard, visibility, signaling, loss, partitions, heal and blackhole so far) is %w", f.Name, f.Action.Key(), ErrNotOnBrowser)
		}
		if v, ok := f.Action.(*VisibilityAction); ok && v.State != "frozen" && v.State != "foreground" && v.State != "hidden" {
			return fmt.Errorf("fault %q: visibility %s (only hidden, frozen and foreground so far) is %w", f.Name, v.State, ErrNotOnBrowser)
		}
	}
	if sc.Browser.Visibility.MeanForeground > 0 {
		return fmt.Errorf("random visibility changes are %w", ErrNotOnBrowser)
	}
	for i, l := range sc.World.Links {
		if l.Datachannel != nil {
			return fmt.Errorf("world.links[%d].datachannel: a mode per directed link (a pair of tabs shares one negotiated channel, configured alike at both ends) is %w", i, ErrNotOnBrowser)
		}
	}
	if sc.World.SCTP != "" && sc.World.SCTP != "chrome" {
		return fmt.Errorf("world.sctp %q (Chromium's own SCTP runs) is %w", sc.World.SCTP, ErrNotOnBrowser)
	}
	return nil
}

// browserNetwork is what the relay does to the scenario's packets; nil if
// nothing ever impairs them, when the tabs connect directly. A one-machine
// profile's latency is the real loopback's between pages, so nothing is
// added for it.
func browserNetwork(sc *Scenario, seed uint64) *impair.Network {
	wo := sc.WorldOptions()
	prof := wo.Profile
	if prof.OneMachine && sc.World.Latency == nil {
		prof.Latency = netmodel.Latency{}
	}
	nw := impair.New(sc.Cluster.Nodes, prof, wo.Channel.Links, seed)
	if nw.Impaired() {
		return nw
	}
	for _, f := range sc.Faults {
		if f.Action != nil && relayFaults[f.Action.Key()] {
			return nw
		}
	}
	return nil
}

// browserWorld is the browser as the runner drives it: real time, tabs
// in Chromium reporting each batch from the harness's goroutines.
type browserWorld struct {
	*realTime
	sc   *Scenario
	seed uint64
	c    *browserworld.Cluster
	kv   *realkv.Clients
	// net impairs the packets in the relay (nil: no relay; every fault
	// that needs it is then absent).
	net *impair.Network
	// vis: the tabs' visibility as set (runner goroutine only; absent:
	// foreground).
	vis map[raft.ID]netmodel.Visibility
	// minimized: the tabs whose window is minimized (hidden, or frozen
	// while hidden).
	minimized map[raft.ID]bool
	// held are the run's trace events, written in time order when the run
	// ends: the tabs report theirs a batch later, over separate sockets,
	// stamped with the machine's clock (evMu guards it).
	evMu sync.Mutex
	held []sim.Event
}

// open starts Chromium and the tabs the scenario describes.
func (b *browserWorld) open() error {
	b.net = browserNetwork(b.sc, b.seed)
	c, err := browserworld.New(browserworld.Options{Nodes: b.sc.Cluster.Nodes, Raft: b.sc.WorldOptions().Raft,
		Channel: b.sc.World.Datachannel.Mode, Network: b.net,
		PaperBootstrap: b.sc.Cluster.Bootstrap == "paper", Presence: b.sc.Cluster.Membership == "presence",
		Seed: b.seed, Observer: b.observeBatch, Record: b.tabEvent})
	if err != nil {
		return err
	}
	b.c = c
	b.start = time.Now()
	return nil
}

// observeBatch shows a tab's batch to the checker: its acknowledgements,
// then the batch.
func (b *browserWorld) observeBatch(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log browserworld.LogReader) error {
	b.sending(node, rd, log)
	return b.observe(node, prev, cur, rd, log)
}

// Record holds a runner's event (a fault step, a measure), stamped now.
func (b *browserWorld) Record(e sim.Event) {
	e.Time = b.Now()
	b.hold(e)
}

// LastBatchAt implements batchClock: when the latest batch the harness
// has observed ended on its page, on the run's clock.
func (b *browserWorld) LastBatchAt() sim.Time {
	return b.c.LastBatch() - sim.Time(b.start.UnixNano())
}

// tabEvent holds a tab's event, stamped with the machine's clock in ns
// since the epoch, on the run's clock.
func (b *browserWorld) tabEvent(e sim.Event) {
	e.Time = max(e.Time-sim.Time(b.start.UnixNano()), 0)
	b.hold(e)
}

func (b *browserWorld) hold(e sim.Event) {
	b.evMu.Lock()
	defer b.evMu.Unlock()
	b.held = append(b.held, e)
}

// writeTrace writes the held events in time order (stable: a tab's own
// events keep theirs).
func (b *browserWorld) writeTrace() {
	b.evMu.Lock()
	defer b.evMu.Unlock()
	slices.SortStableFunc(b.held, func(x, y sim.Event) int { return cmp.Compare(x.Time, y.Time) })
	for _, e := range causal(b.held) {
		b.recordAt(e)
	}
	b.held = nil
}

// message identifies a message in the trace as the page pairs them.
type message struct {
	from, to    uint64
	msg         string
	term, index uint64
}

// messageOf is the message a send or deliver event is about (the zero
// message for other events).
func messageOf(e sim.Event) message {
	switch e.Kind {
	case sim.KindSend:
		return message{e.Node, e.Peer, e.Msg, e.Term, e.Index}
	case sim.KindDeliver:
		return message{e.Peer, e.Node, e.Msg, e.Term, e.Index}
	}
	return message{}
}

// messageCounts counts the sends and the deliveries of each message.
func messageCounts(events []sim.Event) (sends, delivers map[message]int) {
	sends, delivers = map[message]int{}, map[message]int{}
	for _, e := range events {
		switch e.Kind {
		case sim.KindSend:
			sends[messageOf(e)]++
		case sim.KindDeliver:
			delivers[messageOf(e)]++
		}
	}
	return sends, delivers
}

// causal returns the events (in time order) with no delivery ahead of
// its send: the tabs' clocks (performance.timeOrigin + now(), one per
// page) can disagree by more than a datachannel's latency, so a delivery
// stamped before its send waits for it and follows it at its time.
// Messages with the same sender, receiver, type, term and index are
// alike; deliveries of such a message beyond its traced sends (a page
// that closed, or a run that ended, took its last batch's sends with it)
// stay where they are.
func causal(events []sim.Event) []sim.Event {
	sends, delivers := messageCounts(events)
	out := make([]sim.Event, 0, len(events))
	sent, delivered := map[message]int{}, map[message]int{}
	early := map[message][]sim.Event{} // deliveries waiting for a send
	for _, e := range events {
		k := messageOf(e)
		switch e.Kind {
		case sim.KindSend:
			sent[k]++
			out = append(out, e)
			if w := early[k]; len(w) > 0 {
				d := w[0]
				d.Time = e.Time
				out, early[k] = append(out, d), w[1:]
				delivered[k]++
			}
		case sim.KindDeliver:
			if delivered[k] >= sent[k]+max(delivers[k]-sends[k], 0) {
				early[k] = append(early[k], e) // a send comes later
				continue
			}
			delivered[k]++
			out = append(out, e)
		default:
			out = append(out, e)
		}
	}
	return out
}

func (b *browserWorld) Name() string         { return WorldBrowser }
func (b *browserWorld) Start() error         { return b.c.Start() }
func (b *browserWorld) CPUSlowdown() float64 { return 1 } // real tabs on a real CPU
func (b *browserWorld) Nodes() int           { return b.c.Nodes() }
func (b *browserWorld) Violation() error     { return b.c.Violation() }

func (b *browserWorld) Status(id raft.ID) (raft.Status, bool)     { return b.c.Status(id) }
func (b *browserWorld) Leaders() []raft.ID                        { return b.c.Leaders() }
func (b *browserWorld) Visibility(id raft.ID) netmodel.Visibility { return b.vis[id] }

// pageClosed forgets a closed page's visibility: a reopened page starts
// in the foreground, in a normal window.
func (b *browserWorld) pageClosed(id raft.ID) {
	delete(b.vis, id)
	delete(b.minimized, id)
}

// SetVisibility hides a tab (its window minimized: Chromium's rules for
// background pages apply), freezes it (Page.setWebLifecycleState) or
// brings it back to the foreground (thawed, window restored): the states
// browserSupported lets through.
func (b *browserWorld) SetVisibility(id raft.ID, v netmodel.Visibility) {
	was := b.vis[id]
	if was == v {
		return
	}
	b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: "visibility " + v.String()})
	var err error
	switch {
	case v == netmodel.Frozen: // the window stays as it is
		err = b.c.Freeze(id, true)
	case was == netmodel.Frozen:
		err = b.c.Freeze(id, false)
	}
	if hide := v == netmodel.Hidden; err == nil && v != netmodel.Frozen && hide != b.minimized[id] {
		if err = b.c.Hide(id, hide); err == nil {
			b.minimized[id] = hide
		}
	}
	if err != nil {
		b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: err.Error()})
		return
	}
	b.vis[id] = v
}
func (b *browserWorld) ChatLines(id raft.ID) int      { return b.c.ChatLines(id) }
func (b *browserWorld) Recent(raft.ID) []raft.Message { return nil }

func (b *browserWorld) Kill(id raft.ID) {
	b.pageClosed(id)
	b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: "kill (page closed)"})
	b.c.Kill(id)
}

func (b *browserWorld) Restart(id raft.ID) error {
	b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: "restart (page reopened)"})
	if b.net != nil {
		b.net.CutOff(id, false) // a blackholed tab's packets flow again
	}
	return b.c.Restart(id)
}

// The network faults, in the relay (browserNetwork sets it up for them).
func (b *browserWorld) Partition(groups [][]raft.ID) { b.net.Partition(groups) }
func (b *browserWorld) Cut(from, to raft.ID)         { b.net.Cut(from, to) }
func (b *browserWorld) Heal()                        { b.net.Heal() }

// SetLoss sets the relay's loss and duplication on every link.
func (b *browserWorld) SetLoss(loss, duplicate float64) {
	b.net.SetLoss(loss)
	b.net.SetDuplicate(duplicate)
}

// Signaling takes the real signaling server down or brings it back: the
// tabs' sockets close and they dial again; meanwhile presence cannot be
// read, so the leader changes no membership, and no connection is set
// up.
func (b *browserWorld) Signaling(up bool) error {
	detail := "signaling down"
	if up {
		detail = "signaling up"
	}
	b.Record(sim.Event{Kind: sim.KindFault, Detail: detail})
	return b.c.Signaling(up)
}

// Discard closes a tab's page and reopens it after reloadAfter (it
// restores from localStorage), as Chrome's memory saver discards and a
// visit reloads.
func (b *browserWorld) Discard(id raft.ID, reloadAfter sim.Time) {
	b.pageClosed(id)
	b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: "discard (page closed, reopened after " + reloadAfter.String() + ")"})
	b.c.Discard(id, time.Duration(reloadAfter))
}

// Blackhole ends a tab unheard: the relay drops its packets both ways,
// then its page closes (its goodbye packets are dropped too), so its
// peers learn of it only when ICE gives up.
func (b *browserWorld) Blackhole(id raft.ID) {
	b.net.CutOff(id, true)
	b.pageClosed(id)
	b.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: "blackhole (packets dropped, page closed)"})
	b.c.Kill(id)
}

// The faults browserSupported refuses upfront: never called.
func (b *browserWorld) PathChange(raft.ID) error       { return ErrNotOnBrowser }
func (b *browserWorld) Transfer(raft.ID)               {}
func (b *browserWorld) Pause(raft.ID, sim.Time)        {}
func (b *browserWorld) Reconfigure(raft.ID, bool)      {}
func (b *browserWorld) Delay(int, sim.Time) error      { return ErrNotOnBrowser }
func (b *browserWorld) Replay(float64, sim.Time) error { return ErrNotOnBrowser }
func (b *browserWorld) Reorder(sim.Time) error         { return ErrNotOnBrowser }

// StartChat implements World: the user lives in the tab's page
// (browserworld.ChatUser), on the page's clock from the run's start.
func (b *browserWorld) StartChat(tab raft.ID, id uint64) ChatUser {
	return b.c.StartChat(tab, id, b.start)
}

// StartKV implements World: the clients run in the harness on real
// timers (realkv) and send every operation, reads too, through the log,
// so reads are linearizable whatever the read mode says.
func (b *browserWorld) StartKV(w *KVWorkload, _ func()) KVRun {
	b.kv = realkv.Start(browserKV{b}, realkv.Options{KVOptions: w.clientOptions(), Clients: w.Clients,
		Seed: b.seed, Start: b.start, OnDone: b.changed})
	return b.kv
}

// browserKV is the browser cluster as the KV clients see it.
type browserKV struct{ b *browserWorld }

func (k browserKV) Nodes() int            { return k.b.c.Nodes() }
func (k browserKV) Alive(id raft.ID) bool { return k.b.c.Alive(id) }
func (k browserKV) Record(e sim.Event)    { k.b.Record(e) }

func (k browserKV) Lead(id raft.ID) raft.ID {
	st, _ := k.b.c.Status(id)
	return st.Lead
}

// Send proposes the command at tab to from a goroutine of its own (the
// control socket's write may wait).
func (k browserKV) Send(to raft.ID, a host.KVAttempt, reply func(found bool, out string)) {
	go k.b.c.Propose(to, a.Cmd, func(res app.Result) {
		if !res.Stale && !res.SessionExpired {
			reply(res.OK, res.Value)
		}
	})
}

// The membership race's hooks (model only): refused upfront too.
func (b *browserWorld) Regroup([][]raft.ID) error                  { return ErrNotOnBrowser }
func (b *browserWorld) ReconfigureBy(raft.ID, raft.ID, bool) error { return ErrNotOnBrowser }
func (b *browserWorld) OnTakeover(func(raft.ID) bool) (func(), error) {
	return nil, ErrNotOnBrowser
}
