package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ErrNotOnPion: the scenario uses something the real-stack world does not
// run (yet, or at all).
var ErrNotOnPion = errors.New("not supported on the pion world yet")

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
}

// pionTick is how often the run loop looks at the clock, the fault steps
// due and the exact measures (the real stack has no event to hook).
const pionTick = 5 * time.Millisecond

// RunPion runs the scenario once on the real stack (pion datachannels on
// vnet) in real time, with the WebSocket signaling server on 127.0.0.1
// (see RunPionWith).
func RunPion(sc *Scenario, seed uint64) (*Result, error) {
	return RunPionWith(sc, seed, PionOptions{})
}

// RunPionWith runs the scenario once on the real stack in real time: the
// same cluster, the KV and chat workloads (clients in real time, their
// histories checked with porcupine), the fault steps that mean something
// on a real network (kill, blackhole, partition, heal, loss and
// duplication, signaling down and up), the conditions and measures
// (polled as the paper polled; exact ones every few milliseconds), and
// the safety checker. The profile's mean one-way latency is the router's
// delay. Runs are reproducible in distribution, not event for event, so
// there is no trace hash.
func RunPionWith(sc *Scenario, seed uint64, po PionOptions) (res *Result, err error) {
	// Only panics on this goroutine (the runner's loop) are contained;
	// one in a pion or tab goroutine still ends the process.
	defer containPanic(sc, seed, "pion", &res, &err)
	if err := pionSupported(sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	wallStart := time.Now()
	safety := checker.NewSafety()
	var obsMu sync.Mutex
	wo := sc.WorldOptions()
	prof := wo.Profile
	mode := sc.World.Datachannel.Mode
	opt := pionworld.Options{Nodes: sc.Cluster.Nodes, ElectionTimeout: time.Duration(sc.Cluster.ElectionTimeout),
		Heartbeat: time.Duration(sc.Cluster.Heartbeat), Ordered: !mode.Unordered, MaxRetransmits: -1, Seed: seed,
		PaperBootstrap: sc.Cluster.Bootstrap == "paper", DeferCommitNotice: sc.Cluster.DeferCommitNotice,
		PreVote: sc.Cluster.PreVote, CheckQuorum: sc.Cluster.CheckQuorum, NaiveBacktrack: sc.Cluster.NaiveBacktrack,
		MaxInflight: sc.Cluster.MaxInflight, MaxEntriesPerAppend: sc.Cluster.MaxEntriesPerAppend, MaxBytesPerAppend: sc.Cluster.MaxBytesPerAppend,
		CatchUp: sc.Cluster.CatchUp, SessionTTL: sc.Cluster.SessionTTL,
		// The links as the model resolves them (netmodel.ResolveLink);
		// pionworld/links.go says how vnet applies them.
		Latency: prof.Latency, Loss: prof.Loss, Duplicate: prof.Duplicate, Burst: prof.Burst, Bandwidth: prof.Bandwidth,
		Links: wo.Channel.Links, Browser: wo.Browser, Bugs: wo.Raft.Bugs,
		SnapshotEvery: wo.SnapshotEvery, MaxSnapshotChunk: max(wo.Channel.MaxMessageSize-256, 0),
		Observer: func(node raft.ID, prev, cur raft.Status, persisted, applied []raft.Entry, log pionworld.LogReader) error {
			obsMu.Lock()
			defer obsMu.Unlock()
			return safety.Changed(node, prev, cur, persisted, applied, log.(netmodel.LogReader))
		}}
	if wo.Conn.Setup {
		// ICE's timeouts from the scenario's connection section.
		opt.ICEDisconnected, opt.ICEFailed = time.Duration(wo.Conn.ICEDisconnected), time.Duration(wo.Conn.ICEFailed)
	}
	if mode.Reliability == netmodel.LimitLifetime {
		opt.MaxPacketLifeTime = time.Duration(mode.MaxPacketLifeTime)
	}
	if mode.Reliability == netmodel.LimitRetransmits {
		opt.MaxRetransmits = mode.MaxRetransmits
	}
	var srv *pionworld.SignalServer
	if !po.InProcessSignaling {
		var err error
		if srv, err = pionworld.NewSignalServer(0); err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
		defer srv.Stop() // after the cluster closed (defers run last first)
		opt.SignalingURL = srv.URL()
	}
	c, err := pionworld.New(opt)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer c.Close()
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	p := &pionRun{sc: sc, c: c, srv: srv, start: time.Now(), seed: seed, faultRand: sim.NewStream(seed, "faults"),
		waiting: map[string][]pionStep{}}
	for _, m := range sc.Measures {
		p.ms = append(p.ms, &pionMeasure{Measure: m})
	}
	for i := range sc.Faults {
		f := &sc.Faults[i]
		p.trigger(f.Trigger, func() { p.fault(f) })
	}
	if w := sc.Workload.Chat; w != nil {
		p.trigger(w.Trigger, func() { p.startChat(w) })
	}
	if w := sc.Workload.KV; w != nil {
		p.trigger(w.Trigger, func() { p.startKV(w) })
	}
	p.happened("start", 0)
	p.loop(time.Duration(sc.Limit))
	if p.kv != nil {
		p.kv.Stop()
	}
	for _, ch := range p.chats {
		ch.Stop()
	}
	res = &Result{Scenario: sc.Name, World: "pion", Nodes: sc.Cluster.Nodes,
		ElectionTimeoutMS: float64(sc.Cluster.ElectionTimeout) / float64(sim.Millisecond), Seed: seed,
		Measures: map[string]*float64{}, VirtualSeconds: time.Since(p.start).Seconds(), Safety: "ok", Liveness: "ok",
		Linearizability: checker.LinNA, Replay: sc.ReplayCommand(seed) + " --world pion"}
	for _, m := range p.ms {
		res.MeasureOrder = append(res.MeasureOrder, m.Name)
		if m.done {
			v := (m.end - m.from).Seconds()
			res.Measures[m.Name] = &v
		} else {
			res.Measures[m.Name] = nil
			res.Liveness = "incomplete"
		}
	}
	if v := c.Violation(); v != nil {
		res.Safety, res.Violation = "violated", v.Error()
	}
	p.checkLinearizability(res, po.LinTimeout)
	res.WallSeconds = time.Since(wallStart).Seconds()
	res.OK = res.Safety == "ok" && res.Liveness == "ok" && (res.Linearizability == checker.LinOK || res.Linearizability == checker.LinNA)
	if p.err != nil {
		return res, fmt.Errorf("scenario %s: %w", sc.Name, p.err)
	}
	return res, nil
}

// pionRun is one run on the real stack: everything here is touched by the
// run loop's goroutine only.
type pionRun struct {
	sc        *Scenario
	c         *pionworld.Cluster
	srv       *pionworld.SignalServer // nil: in-process signaling
	start     time.Time
	seed      uint64
	faultRand interface{ IntN(int) int }
	ms        []*pionMeasure
	queue     []pionStep            // steps at a time
	waiting   map[string][]pionStep // steps after a measure completes (at: the wait)
	kv        *pionworld.KVClients
	chats     []*pionworld.ChatClient
	err       error // the first step that failed (a signaling server that could not restart)
}

type pionMeasure struct {
	Measure
	started, done bool
	from, end     sim.Time
	nextPoll      sim.Time
	leaderAtStart raft.ID
}

type pionStep struct {
	at sim.Time
	fn func()
}

func (p *pionRun) now() sim.Time { return sim.Time(time.Since(p.start)) }

// trigger runs fn at t.At, or t.After once measure t.When completes.
func (p *pionRun) trigger(t Trigger, fn func()) {
	if t.At != nil {
		p.queue = append(p.queue, pionStep{*t.At, fn})
		return
	}
	p.waiting[t.When] = append(p.waiting[t.When], pionStep{t.After, fn})
}

// loop runs due steps and checks measures until every measure is done, a
// safety violation, or the limit.
func (p *pionRun) loop(limit time.Duration) {
	for time.Since(p.start) < limit {
		for {
			i := slices.IndexFunc(p.queue, func(s pionStep) bool { return s.at <= p.now() })
			if i < 0 {
				break
			}
			fn := p.queue[i].fn
			p.queue = slices.Delete(p.queue, i, i+1)
			fn()
		}
		remaining := 0
		for _, m := range p.ms {
			if m.done {
				continue
			}
			remaining++
			t := p.now()
			if !m.started || (m.Mode == "polled" && t < m.nextPoll) {
				continue
			}
			if !p.holds(m) {
				m.nextPoll = t + m.Poll + m.PollCost
				continue
			}
			m.done, m.end = true, t
			remaining--
			for _, s := range p.waiting[m.Name] {
				p.queue = append(p.queue, pionStep{t + s.at, s.fn})
			}
			delete(p.waiting, m.Name)
		}
		if remaining == 0 || p.c.Violation() != nil {
			return
		}
		time.Sleep(pionTick)
	}
}

// happened starts the measures that run from event name, which
// happened at at.
func (p *pionRun) happened(name string, at sim.Time) {
	for _, m := range p.ms {
		if !m.started && m.From == name {
			m.started, m.from, m.nextPoll = true, at, at+m.PollCost
			if ls := p.c.Leaders(); len(ls) == 1 {
				m.leaderAtStart = ls[0]
			}
		}
	}
}

func (p *pionRun) fault(f *Fault) {
	c := p.c
	issued := p.now() // the paper starts the clock when the kills are issued
	switch {
	case f.Kill != nil:
		for _, id := range pionPick(c, f.Kill, p.faultRand) {
			c.Kill(id)
		}
	case f.Blackhole != nil:
		for _, id := range pionPick(c, f.Blackhole, p.faultRand) {
			c.Blackhole(id)
		}
	case f.Partition != nil:
		if groups := f.Partition.groups(); groups != nil {
			c.Partition(groups)
		} else {
			c.Cut(raft.ID(f.Partition.From), raft.ID(f.Partition.To))
		}
	case f.Heal:
		c.Heal()
	case f.Loss != nil:
		c.SetLoss(f.Loss.Loss)
		c.SetDuplicate(f.Loss.Duplicate)
	case f.Restart != nil:
		for _, id := range f.Restart.ids(c.Nodes(), c.Alive) {
			if err := c.Restart(id); err != nil && p.err == nil {
				p.err = fmt.Errorf("fault %q: %w", f.Name, err)
			}
		}
	case f.Visibility != nil:
		v, _ := netmodel.ParseVisibility(f.Visibility.State) // validated
		for _, id := range pionPick(c, &f.Visibility.Target, p.faultRand) {
			c.SetVisibility(id, v, time.Duration(p.sc.WorldOptions().Browser.Process.ReloadAfter))
		}
	case f.Discard != nil:
		for _, id := range pionPick(c, &f.Discard.Target, p.faultRand) {
			c.Discard(id, time.Duration(f.Discard.ReloadAfter))
		}
	case f.Transfer != nil:
		c.TransferLeadership(raft.ID(f.Transfer.To))
	case f.Signaling == "down" && p.srv == nil:
		c.SetSignalingDown(true)
	case f.Signaling == "up" && p.srv == nil:
		c.SetSignalingDown(false)
	case f.Signaling == "down":
		p.srv.Stop()
	case f.Signaling == "up":
		err := p.srv.Start() // on the same address
		if err == nil {
			err = c.ReconnectSignaling(context.Background())
		}
		if err != nil && p.err == nil {
			p.err = fmt.Errorf("fault %q: %w", f.Name, err)
		}
	}
	p.happened(f.Name, issued)
}

// startChat starts the chat users: one in the leader's tab (the paper's
// propagate tests), or with Users > 1 user u in tab (u-1) mod n + 1, each
// sending Lines lines.
func (p *pionRun) startChat(w *ChatWorkload) {
	c := p.c
	if w.Users <= 1 {
		var at raft.ID = 1
		if ls := c.Leaders(); len(ls) > 0 {
			at = ls[0]
		}
		p.chats = []*pionworld.ChatClient{c.NewChatClient(at, 1, p.start)}
	} else {
		for u := 1; u <= w.Users; u++ {
			p.chats = append(p.chats, c.NewChatClient(raft.ID((u-1)%c.Nodes()+1), uint64(u), p.start))
		}
	}
	for _, cl := range p.chats {
		cl.Push(w.Lines)
	}
	p.happened("workload", p.now())
}

func (p *pionRun) startKV(w *KVWorkload) {
	p.kv = p.c.StartKV(pionworld.KVOptions{Clients: w.Clients, Keys: w.Keys, Ops: w.Ops, ReadRatio: w.Reads, CasRatio: w.Cas,
		Think: time.Duration(w.Think), Timeout: time.Duration(w.Timeout), Retries: w.Retries,
		ReadMode: netmodel.ReadMode(w.ReadMode), Seed: p.seed, Start: p.start})
	p.happened("workload", p.now())
}

// chatsIdle reports whether every chat user whose tab is open had all its
// lines appended.
func (p *pionRun) chatsIdle() bool {
	for _, cl := range p.chats {
		if cl.Pending() > 0 && p.c.Alive(cl.Tab()) {
			return false
		}
	}
	return true
}

// checkLinearizability checks the clients' histories with porcupine; the
// worst result stands.
func (p *pionRun) checkLinearizability(res *Result, timeout time.Duration) {
	if timeout == 0 {
		timeout = DefaultLinTimeout
	}
	var results []checker.LinResult
	if p.kv != nil {
		ops := kvHistory(p.kv.History())
		res.Operations += len(ops)
		results = append(results, checker.CheckKV(ops, timeout))
	}
	if len(p.chats) > 0 {
		var ops []checker.ChatOp
		for _, cl := range p.chats {
			for _, h := range cl.History() {
				ops = append(ops, checker.ChatOp{Client: h.Client, Value: h.Value, Cnt: h.Cnt,
					Call: int64(h.Call), Return: int64(h.Return), Returned: h.Returned, OK: h.OK, OutCnt: h.OutCnt})
			}
		}
		res.Operations += len(ops)
		results = append(results, checker.CheckChat(ops, timeout))
	}
	rank := map[string]int{checker.LinNA: 0, checker.LinOK: 1, checker.LinUnknown: 2, checker.LinIllegal: 3}
	for _, lin := range results {
		if rank[lin.Result] > rank[res.Linearizability] {
			res.Linearizability, res.LinDetail = lin.Result, lin.Detail
		}
	}
}

// pionSupported reports what the pion world cannot run, and why.
func pionSupported(sc *Scenario) error {
	switch {
	case len(sc.Measures) == 0:
		return fmt.Errorf("a run on pion needs a measure")
	case sc.Workload.KV != nil && sc.Workload.KV.Rate > 0:
		return fmt.Errorf("an open-loop KV workload (rate) is %w", ErrNotOnPion)
	}
	for _, f := range sc.Faults {
		if f.PathChange != nil {
			return fmt.Errorf("fault %q: path_change (a new network path, then an ICE restart) is %w", f.Name, ErrNotOnPion)
		}
	}
	return nil
}

// holds evaluates a measure's condition (conditions.go) over the live
// nodes' published states (the harness polls the tabs as the paper's did).
func (p *pionRun) holds(m *pionMeasure) bool { return conditionHolds(p, m.Until, m.leaderAtStart) }

// The real stack as conditions read it.
func (p *pionRun) nodes() int { return p.c.Nodes() }
func (p *pionRun) liveStatus(id raft.ID) (raft.Status, bool) {
	if !p.c.Alive(id) {
		return raft.Status{}, false
	}
	return p.c.Status(id), p.c.Visibility(id) != netmodel.Frozen
}
func (p *pionRun) chatLines(id raft.ID) int { return p.c.ChatLines(id) }
func (p *pionRun) hasChats() bool           { return len(p.chats) > 0 }
func (p *pionRun) kvDone() bool             { return p.kv != nil && p.kv.Done() }
func (p *pionRun) chatsAcked() int {
	n := 0
	for _, cl := range p.chats {
		n += cl.Acked()
	}
	return n
}

// pionPick chooses the tabs a fault step acts on: the leader first, the
// listed nodes, then random live others (every live tab with All).
func pionPick(c *pionworld.Cluster, k *Target, r interface{ IntN(int) int }) []raft.ID {
	n := c.Nodes()
	chosen := map[raft.ID]bool{}
	var out []raft.ID
	pick := func(id raft.ID) {
		if !chosen[id] && c.Alive(id) {
			chosen[id] = true
			out = append(out, id)
		}
	}
	total := max(k.Count.Of(n), len(k.Nodes))
	if k.All {
		total = n
	}
	if k.Leader {
		total = max(total, 1)
		if ls := c.Leaders(); len(ls) > 0 {
			pick(ls[0])
		}
	}
	for _, id := range k.Nodes {
		pick(raft.ID(id))
	}
	for len(out) < total {
		var cand []raft.ID
		for i := 1; i <= n; i++ {
			if !chosen[raft.ID(i)] && c.Alive(raft.ID(i)) {
				cand = append(cand, raft.ID(i))
			}
		}
		if len(cand) == 0 {
			break
		}
		pick(cand[r.IntN(len(cand))])
	}
	return out
}
