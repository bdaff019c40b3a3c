package scenarios

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/netmodel/realkv"
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
	r := newRunner(sc, seed)
	pw := &pionWorld{realTime: newRealTime(r, po.Trace), sc: sc, seed: seed}
	r.w = pw
	if err := pw.open(po.InProcessSignaling); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer pw.close()
	return runRealTime(r, pw.realTime, pw, seed, RunOptions{LinTimeout: po.LinTimeout, History: po.History}, wallStart)
}

// pionWorld is the real stack as the runner drives it: real time, tabs
// on their own goroutines, which report each batch (observe) and wake
// the runner.
type pionWorld struct {
	*realTime
	sc     *Scenario
	seed   uint64
	c      *pionworld.Cluster
	srv    *pionworld.SignalServer // nil: in-process signaling
	kv     *pionworld.KVClients
	chats  []*pionworld.ChatClient
	closed bool
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
	opt := pionworld.Options{Nodes: cl.Nodes, Raft: wo.Raft, Ordered: !mode.Unordered, MaxRetransmits: -1, Seed: seed,
		PaperBootstrap: cl.Bootstrap == "paper", SessionTTL: cl.SessionTTL,
		// The links as the model resolves them (netmodel.ResolveLink);
		// pionworld/links.go says how vnet applies them.
		Latency: prof.Latency, Loss: prof.Loss, Duplicate: prof.Duplicate, Burst: prof.Burst, Bandwidth: prof.Bandwidth,
		Links: wo.Channel.Links, Browser: wo.Browser,
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

// finish implements realWorld: the clients stop, then the cluster
// closes (no event after it: the trace is complete).
func (p *pionWorld) finish() {
	p.stopClients()
	p.close()
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

func (p *pionWorld) Start() error { return p.c.Start() }

// CPUSlowdown is 1: the real stack's CPU is real.
func (p *pionWorld) CPUSlowdown() float64 { return 1 }

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

func (p *pionWorld) Kill(id raft.ID)                { p.c.Kill(id) }
func (p *pionWorld) Restart(id raft.ID) error       { return p.c.Restart(id) }
func (p *pionWorld) Partition(groups [][]raft.ID)   { p.c.Partition(groups) }
func (p *pionWorld) Cut(from, to raft.ID)           { p.c.Cut(from, to) }
func (p *pionWorld) Heal()                          { p.c.Heal() }
func (p *pionWorld) Blackhole(id raft.ID)           { p.c.Blackhole(id) }
func (p *pionWorld) Transfer(to raft.ID)            { p.c.TransferLeadership(to) }
func (p *pionWorld) Delay(int, sim.Time) error      { return ErrNotOnPion }
func (p *pionWorld) Replay(float64, sim.Time) error { return ErrNotOnPion }

// Reorder implements World: not on pion, whose vnet delay filters are
// first in, first out (pionworld/links.go).
func (p *pionWorld) Reorder(sim.Time) error       { return ErrNotOnPion }
func (p *pionWorld) Pause(id raft.ID, d sim.Time) { p.c.Pause(id, time.Duration(d)) }
func (p *pionWorld) Regroup([][]raft.ID) error    { return ErrNotOnPion }

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

// StartKV implements World: an operation's end marks the run changed
// (it is reported from the clients' goroutines).
func (p *pionWorld) StartKV(w *KVWorkload, _ func()) KVRun {
	mode := netmodel.ReadMode(w.ReadMode)
	p.kv = p.c.StartKV(realkv.Options{KVOptions: w.clientOptions(), Clients: w.Clients,
		Seed: p.seed, Start: p.start, OnDone: p.changed, LocalReads: mode == netmodel.ReadLocal}, mode)
	return p.kv
}

var errPathChangeOnPion = fmt.Errorf("path_change (a new network path, then an ICE restart) is %w", ErrNotOnPion)

// pionSupported reports what the pion world cannot run, and why.
func pionSupported(sc *Scenario) error {
	switch {
	case len(sc.Measures) == 0:
		return fmt.Errorf("a run on pion needs a measure")
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
