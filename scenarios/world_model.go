package scenarios

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// modelWorld is the model (netmodel on the simulator) as the runner
// drives it: virtual time, one event queue, every event traced and
// hashed.
type modelWorld struct {
	*netmodel.World
	s     *sim.Sim
	trace *sim.Trace
	opts  RunOptions
	start time.Time
}

// runModel runs the scenario once with seed in the model.
func runModel(sc *Scenario, seed uint64, opts RunOptions) (res *Result, err error) {
	defer containPanic(sc, seed, "model", &res, &err)
	tr := sim.NewTrace(opts.Trace)
	s := sim.New(seed, tr)
	w, err := netmodel.New(s, sc.WorldOptions())
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	mw := &modelWorld{World: w, s: s, trace: tr, opts: opts, start: time.Now()}
	r := newRunner(sc, seed)
	r.safety.SharedLogs = true // one thread: every tab's log can be read at any time
	r.w = mw
	w.SetObserver(r)
	r.schedule()
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	r.happened("start", s.Now())
	if startHook != nil {
		startHook(sc, s)
	}
	r.drive(func() bool { return opts.MaxEvents != 0 && s.Events() >= opts.MaxEvents })
	if err := tr.Flush(); err != nil {
		return nil, fmt.Errorf("scenario %s: writing trace: %w", sc.Name, err)
	}
	if res, err = r.result(seed, opts, mw.start); err != nil {
		return nil, err
	}
	res.Events, res.TraceEvents, res.TraceHash = s.Events(), tr.Count(), tr.HashHex()
	return res, nil
}

func (m *modelWorld) Name() string             { return "model" }
func (m *modelWorld) Now() sim.Time            { return m.s.Now() }
func (m *modelWorld) At(t sim.Time, fn func()) { m.s.At(t, fn) }

// Drive runs the event queue; step runs after every event.
func (m *modelWorld) Drive(limit sim.Time, step func(changed bool) bool) {
	report := progressReporter(m.s, limit, m.start, m.opts.Progress)
	m.s.RunUntil(limit, func() bool {
		report()
		return step(false) // the observer marks changes itself (runner.Changed)
	})
}

func (m *modelWorld) Record(e sim.Event) {
	e.Time = m.s.Now()
	m.trace.Record(e)
}

func (m *modelWorld) Signaling(up bool) error {
	if up {
		m.SignalingUp()
	} else {
		m.SignalingDown()
	}
	return nil
}

func (m *modelWorld) PathChange(id raft.ID) error { m.World.PathChange(id); return nil }
func (m *modelWorld) Transfer(to raft.ID)         { m.TransferLeadership(to) }

// OnTakeover implements World.
func (m *modelWorld) OnTakeover(fn func(leader raft.ID) bool) (func(), error) {
	return m.World.OnTakeover(fn), nil
}

// Regroup implements World.
func (m *modelWorld) Regroup(groups [][]raft.ID) error { m.World.Regroup(groups); return nil }

// ReconfigureBy implements World.
func (m *modelWorld) ReconfigureBy(lead, id raft.ID, add bool) error {
	m.World.ReconfigureBy(lead, id, add)
	return nil
}

// Delay implements World.
func (m *modelWorld) Delay(oneIn int, extra sim.Time) error {
	m.SetDelayOutliers(oneIn, extra)
	return nil
}

// Replay implements World.
func (m *modelWorld) Replay(share float64, after sim.Time) error {
	m.SetReplay(share, after)
	return nil
}

// Reorder implements World.
func (m *modelWorld) Reorder(window sim.Time) error {
	m.SetReorder(window)
	return nil
}

func (m *modelWorld) StartChat(tab raft.ID, id uint64) ChatUser {
	return modelChat{netmodel.NewChatClient(m.Tab(tab), id)}
}

func (m *modelWorld) StartKV(w *KVWorkload, onDone func()) KVRun {
	kv := m.World.StartKV(netmodel.KVOptions{KVOptions: w.clientOptions(), Clients: w.Clients, ReadMode: netmodel.ReadMode(w.ReadMode)})
	kv.OnDone = onDone
	return kv
}

// modelChat is a model chat client as a ChatUser.
type modelChat struct{ *netmodel.ChatClient }

func (c modelChat) Acked() int                     { return c.ChatClient.Acked }
func (c modelChat) Tab() raft.ID                   { return c.ChatClient.Tab().ID }
func (c modelChat) History() []netmodel.ChatRecord { return c.ChatClient.History }

// progressReporter returns a function to call after every event: every
// 1024 events it looks at the wall clock and calls progress once
// ProgressEvery has passed since the last call.
func progressReporter(s *sim.Sim, limit sim.Time, start time.Time, progress func(RunProgress)) func() {
	if progress == nil {
		return func() {}
	}
	last := start
	return func() {
		if s.Events()&0x3ff != 0 {
			return
		}
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			progress(RunProgress{Now: s.Now(), Limit: limit, Events: s.Events(), Wall: now.Sub(start)})
		}
	}
}
