package scenarios

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ErrNotOnPion: the scenario uses something the real-stack world does not
// run (yet, or at all). It is an ErrNotOnWorld.
var ErrNotOnPion error = notOnWorld("pion")

// notOnWorld is ErrNotOnWorld for one world, named in its message.
type notOnWorld string

func (w notOnWorld) Error() string        { return "not supported on the " + string(w) + " world yet" }
func (w notOnWorld) Is(target error) bool { return target == ErrNotOnWorld }

// PionOptions are per-run settings of RunPionWith.
type PionOptions struct {
	// InProcessSignaling introduces the tabs in process and models a
	// signaling outage with a flag the leader's presence loop reads,
	// instead of starting the WebSocket signaling server: runs inside a
	// testing/synctest bubble need it (a bubble cannot wait on real
	// sockets).
	InProcessSignaling bool
	// LinTimeout bounds the linearizability check (0: DefaultLinTimeout).
	LinTimeout time.Duration
	// Trace, if not nil, receives the run's trace (the model's format,
	// stamped with real time since the start, not hashed); History the
	// porcupine page.
	Trace, History io.Writer
}

// pionIdle bounds how long the runner waits for a change on the real
// stack: a KV client finishing its last operation reports nothing, so
// conditions are also looked at this often.
const pionIdle = 50 * time.Millisecond

// RunPion runs the scenario once on the real stack (pion datachannels on
// vnet) in real time, with the WebSocket signaling server on 127.0.0.1
// (see RunPionWith).
func RunPion(sc *Scenario, seed uint64) (*Result, error) {
	return RunPionWith(sc, seed, PionOptions{})
}

// RunPionWith runs the scenario once on the real stack in real time,
// driven by the same runner as the model: the same conditions, measures,
// fault targets and checks. The profile's mean one-way latency is the
// router's delay. Runs are reproducible in distribution, not event for
// event, so there is no trace hash.
func RunPionWith(sc *Scenario, seed uint64, po PionOptions) (res *Result, err error) {
	// Only panics on this goroutine (the runner's) are contained; one in
	// a pion or tab goroutine still ends the process.
	defer containPanic(sc, seed, "pion", &res, &err)
	if err := pionSupported(sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	wallStart := time.Now()
	r := newRunner(sc, sim.NewStream(seed, "faults"))
	pw := &pionWorld{sc: sc, seed: seed, r: r, changes: make(chan struct{}, 1), trace: sim.NewTrace(po.Trace)}
	r.w = pw
	if err := pw.open(po.InProcessSignaling); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer pw.close()
	r.schedule()
	if err := pw.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	r.happened("start", 0)
	r.drive(func() bool { return false })
	pw.stopClients()
	pw.close() // no event after this point: the trace is complete
	if err := pw.flush(); err != nil {
		return nil, fmt.Errorf("scenario %s: writing trace: %w", sc.Name, err)
	}
	if res, err = r.result(seed, RunOptions{LinTimeout: po.LinTimeout, History: po.History}, wallStart); err != nil {
		return nil, err
	}
	res.Events = pw.events
	res.Replay += " --world pion"
	return res, nil
}

// pionWorld is the real stack as the runner drives it: real time, tabs
// on their own goroutines, which report each batch (observe) and wake
// the runner.
type pionWorld struct {
	sc    *Scenario
	seed  uint64
	r     *runner
	c     *pionworld.Cluster
	srv   *pionworld.SignalServer // nil: in-process signaling
	start time.Time
	// steps are the runner's timed steps, in (time, order) order; only
	// the runner's goroutine touches them.
	steps []pionStep
	// obsMu serializes the tabs' reports; dirty says one arrived, and
	// changes wakes the runner.
	obsMu   sync.Mutex
	dirty   atomic.Bool
	changes chan struct{}
	kv      *pionworld.KVClients
	chats   []*pionworld.ChatClient
	// trace receives every event, from any goroutine, under traceMu;
	// events counts them.
	traceMu sync.Mutex
	trace   *sim.Trace
	events  uint64
	closed  bool
}

type pionStep struct {
	at sim.Time
	fn func()
}

// open builds the cluster (and the signaling server) the scenario
// describes.
func (p *pionWorld) open(inProcessSignaling bool) error {
	opt := pionOptions(p.sc, p.seed)
	opt.Observer, opt.Record, opt.Sending = p.observe, p.Record, p.sending
	if !inProcessSignaling {
		srv, err := pionworld.NewSignalServer(0)
		if err != nil {
			return err
		}
		p.srv, opt.SignalingURL = srv, srv.URL()
	}
	c, err := pionworld.New(opt)
	if err != nil {
		if p.srv != nil {
			p.srv.Stop()
		}
		return err
	}
	p.c = c
	// The clock starts now: the tabs' goroutines read it from their first
	// event on.
	p.start = time.Now()
	return nil
}

// pionOptions are the cluster options the scenario describes.
func pionOptions(sc *Scenario, seed uint64) pionworld.Options {
	wo := sc.WorldOptions()
	prof, mode, cl := wo.Profile, sc.World.Datachannel.Mode, &sc.Cluster
	opt := pionworld.Options{Nodes: cl.Nodes, ElectionTimeout: time.Duration(cl.ElectionTimeout),
		Heartbeat: time.Duration(cl.Heartbeat), Ordered: !mode.Unordered, MaxRetransmits: -1, Seed: seed,
		PaperBootstrap: cl.Bootstrap == "paper", DeferCommitNotice: cl.DeferCommitNotice,
		PreVote: cl.PreVote, CheckQuorum: cl.CheckQuorum, NaiveBacktrack: cl.NaiveBacktrack,
		MaxInflight: cl.MaxInflight, MaxEntriesPerAppend: cl.MaxEntriesPerAppend, MaxBytesPerAppend: cl.MaxBytesPerAppend,
		CatchUp: cl.CatchUp, SessionTTL: cl.SessionTTL,
		// The links as the model resolves them (netmodel.ResolveLink);
		// pionworld/links.go says how vnet applies them.
		Latency: prof.Latency, Loss: prof.Loss, Duplicate: prof.Duplicate, Burst: prof.Burst, Bandwidth: prof.Bandwidth,
		Links: wo.Channel.Links, Browser: wo.Browser, Bugs: wo.Raft.Bugs,
		SnapshotEvery: wo.SnapshotEvery, MaxSnapshotChunk: max(wo.Channel.MaxMessageSize-256, 0)}
	if wo.Conn.Setup {
		// ICE's timeouts from the scenario's connection section.
		opt.ICEDisconnected, opt.ICEFailed = time.Duration(wo.Conn.ICEDisconnected), time.Duration(wo.Conn.ICEFailed)
	}
	switch mode.Reliability {
	case netmodel.LimitLifetime:
		opt.MaxPacketLifeTime = time.Duration(mode.MaxPacketLifeTime)
	case netmodel.LimitRetransmits:
		opt.MaxRetransmits = mode.MaxRetransmits
	}
	return opt
}

// sending is the tabs' report of a batch about to send (from their
// goroutines), serialized with observe.
func (p *pionWorld) sending(node raft.ID, rd *raft.Ready, log pionworld.LogReader) {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
	p.r.safety.Sending(node, rd, log)
}

// observe is the tabs' report of each batch (from their goroutines).
func (p *pionWorld) observe(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log pionworld.LogReader) error {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
	changed, err := p.r.observe(node, prev, cur, rd, log)
	if changed || err != nil {
		p.dirty.Store(true)
		select {
		case p.changes <- struct{}{}:
		default:
		}
	}
	return err
}

// close closes the cluster, then the signaling server; it may be called
// again.
func (p *pionWorld) close() {
	if p.closed {
		return
	}
	p.closed = true
	p.c.Close()
	if p.srv != nil {
		p.srv.Stop()
	}
}

func (p *pionWorld) stopClients() {
	if p.kv != nil {
		p.kv.Stop()
	}
	for _, ch := range p.chats {
		ch.Stop()
	}
}

func (p *pionWorld) Name() string { return "pion" }

func (p *pionWorld) Start() error  { return p.c.Start() }
func (p *pionWorld) Now() sim.Time { return sim.Time(time.Since(p.start)) }

// At queues fn for time t (after the steps already queued for t).
func (p *pionWorld) At(t sim.Time, fn func()) {
	i, _ := slices.BinarySearchFunc(p.steps, t, func(s pionStep, t sim.Time) int {
		if s.at <= t {
			return -1
		}
		return 1
	})
	p.steps = slices.Insert(p.steps, i, pionStep{t, fn})
}

// Drive runs due steps and calls step, then sleeps until the next step,
// a tab's report, or pionIdle.
func (p *pionWorld) Drive(limit sim.Time, step func(changed bool) bool) {
	for p.Now() < limit {
		for len(p.steps) > 0 && p.steps[0].at <= p.Now() {
			fn := p.steps[0].fn
			p.steps = p.steps[1:]
			fn()
		}
		if step(p.dirty.Swap(false)) {
			return
		}
		wait := min(pionIdle, time.Duration(limit-p.Now()))
		if len(p.steps) > 0 {
			wait = min(wait, time.Duration(p.steps[0].at-p.Now()))
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-p.changes:
		case <-t.C:
		}
		t.Stop()
	}
}

func (p *pionWorld) Nodes() int { return p.c.Nodes() }
func (p *pionWorld) Status(id raft.ID) (raft.Status, bool) {
	if !p.c.Alive(id) {
		return raft.Status{}, false
	}
	return p.c.Status(id), true
}
func (p *pionWorld) Visibility(id raft.ID) netmodel.Visibility { return p.c.Visibility(id) }
func (p *pionWorld) Leaders() []raft.ID                        { return p.c.Leaders() }
func (p *pionWorld) ChatLines(id raft.ID) int                  { return p.c.ChatLines(id) }
func (p *pionWorld) Violation() error                          { return p.c.Violation() }
func (p *pionWorld) Recent(id raft.ID) []raft.Message          { return p.c.Recent(id) }

// Record writes e to the trace, stamped with the time since the start;
// the tabs' goroutines call it too.
func (p *pionWorld) Record(e sim.Event) {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	e.Time = p.Now()
	p.trace.Record(e)
	p.events++
}

func (p *pionWorld) flush() error {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	return p.trace.Flush()
}

func (p *pionWorld) Kill(id raft.ID)                { p.c.Kill(id) }
func (p *pionWorld) Restart(id raft.ID) error       { return p.c.Restart(id) }
func (p *pionWorld) Partition(groups [][]raft.ID)   { p.c.Partition(groups) }
func (p *pionWorld) Cut(from, to raft.ID)           { p.c.Cut(from, to) }
func (p *pionWorld) Heal()                          { p.c.Heal() }
func (p *pionWorld) Blackhole(id raft.ID)           { p.c.Blackhole(id) }
func (p *pionWorld) Transfer(to raft.ID)            { p.c.TransferLeadership(to) }
func (p *pionWorld) Delay(int, sim.Time) error      { return ErrNotOnPion }
func (p *pionWorld) Replay(float64, sim.Time) error { return ErrNotOnPion }
func (p *pionWorld) Pause(id raft.ID, d sim.Time)   { p.c.Pause(id, time.Duration(d)) }
func (p *pionWorld) Regroup([][]raft.ID) error      { return ErrNotOnPion }

// OnTakeover implements World: pion cannot act between a tab's election
// and its first messages.
func (p *pionWorld) OnTakeover(func(raft.ID) bool) (func(), error) { return nil, ErrNotOnPion }

// ReconfigureBy implements World.
func (p *pionWorld) ReconfigureBy(raft.ID, raft.ID, bool) error { return ErrNotOnPion }

// Reconfigure implements World.
func (p *pionWorld) Reconfigure(id raft.ID, add bool) {
	if !p.c.Reconfigure(id, add) {
		p.Record(sim.Event{Kind: sim.KindFault, Detail: "reconfigure: no leader"})
	}
}
func (p *pionWorld) PathChange(raft.ID) error           { return errPathChangeOnPion }
func (p *pionWorld) Discard(id raft.ID, after sim.Time) { p.c.Discard(id, time.Duration(after)) }

func (p *pionWorld) SetLoss(loss, duplicate float64) {
	p.c.SetLoss(loss)
	p.c.SetDuplicate(duplicate)
}

func (p *pionWorld) SetVisibility(id raft.ID, v netmodel.Visibility) {
	p.c.SetVisibility(id, v, time.Duration(p.sc.WorldOptions().Browser.Process.ReloadAfter))
}

// Signaling stops or restarts the signaling server (on its address), or
// with in-process signaling sets the outage flag.
func (p *pionWorld) Signaling(up bool) error {
	switch {
	case p.srv == nil:
		p.c.SetSignalingDown(!up)
	case !up:
		p.srv.Stop()
	default:
		if err := p.srv.Start(); err != nil {
			return err
		}
		return p.c.ReconnectSignaling(context.Background())
	}
	return nil
}

func (p *pionWorld) StartChat(tab raft.ID, id uint64) ChatUser {
	cl := p.c.NewChatClient(tab, id, p.start)
	p.chats = append(p.chats, cl)
	return cl
}

func (p *pionWorld) StartKV(w *KVWorkload, _ func()) KVRun {
	p.kv = p.c.StartKV(pionworld.KVOptions{Clients: w.Clients, Keys: w.Keys, Ops: w.Ops, ReadRatio: w.Reads, CasRatio: w.Cas,
		Think: time.Duration(w.Think), Timeout: time.Duration(w.Timeout), Retries: w.Retries,
		ReadMode: netmodel.ReadMode(w.ReadMode), Seed: p.seed, Start: p.start})
	return p.kv
}

var errPathChangeOnPion = fmt.Errorf("path_change (a new network path, then an ICE restart) is %w", ErrNotOnPion)

// pionSupported reports what the pion world cannot run, and why.
func pionSupported(sc *Scenario) error {
	switch {
	case len(sc.Measures) == 0:
		return fmt.Errorf("a run on pion needs a measure")
	case sc.Workload.KV != nil && sc.Workload.KV.Rate > 0:
		return fmt.Errorf("an open-loop KV workload (rate) is %w", ErrNotOnPion)
	}
	for _, f := range sc.Faults {
		if f.isAction("path_change") {
			return fmt.Errorf("fault %q: %w", f.Name, errPathChangeOnPion)
		}
		if f.Action != nil && faultRegistry[f.Action.Key()].modelOnly {
			return fmt.Errorf("fault %q: %s is %w", f.Name, f.Action.Key(), ErrNotOnPion)
		}
	}
	return nil
}
