package scenarios

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// realIdle bounds how long the runner waits for a change in a real-time
// world: conditions are also looked at this often.
const realIdle = 50 * time.Millisecond

// realTime is what every real-time world (pion, the browser) shares: its
// clock (real time since the start), the runner's timed steps (run on
// the runner's goroutine), the tabs' reports of their batches (from their
// goroutines, one at a time, waking the runner), and the trace (stamped
// with real time, not hashed).
type realTime struct {
	r     *runner
	start time.Time
	// steps are the runner's timed steps, in (time, order) order; only
	// the runner's goroutine touches them.
	steps []realStep
	// obsMu serializes the tabs' reports; dirty says one arrived, and
	// changes wakes the runner.
	obsMu   sync.Mutex
	dirty   atomic.Bool
	changes chan struct{}
	// trace receives every event, from any goroutine, under traceMu;
	// events counts them.
	traceMu sync.Mutex
	trace   *sim.Trace
	events  uint64
}

type realStep struct {
	at sim.Time
	fn func()
}

func newRealTime(r *runner, trace io.Writer) *realTime {
	return &realTime{r: r, changes: make(chan struct{}, 1), trace: sim.NewTrace(trace)}
}

// Now is the time since the start.
func (p *realTime) Now() sim.Time { return sim.Time(time.Since(p.start)) }

// At queues fn for time t (after the steps already queued for t).
func (p *realTime) At(t sim.Time, fn func()) {
	i, _ := slices.BinarySearchFunc(p.steps, t, func(s realStep, t sim.Time) int {
		if s.at <= t {
			return -1
		}
		return 1
	})
	p.steps = slices.Insert(p.steps, i, realStep{t, fn})
}

// Drive runs due steps and calls step, then sleeps until the next step,
// a tab's report, or realIdle.
func (p *realTime) Drive(limit sim.Time, step func(changed bool) bool) {
	for p.Now() < limit {
		for len(p.steps) > 0 && p.steps[0].at <= p.Now() {
			fn := p.steps[0].fn
			p.steps = p.steps[1:]
			fn()
		}
		if step(p.dirty.Swap(false)) {
			return
		}
		wait := min(realIdle, time.Duration(limit-p.Now()))
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

// changed marks the run changed and wakes the runner (any goroutine).
func (p *realTime) changed() {
	p.dirty.Store(true)
	select {
	case p.changes <- struct{}{}:
	default:
	}
}

// sending is a tab's report of a batch about to send (from its
// goroutine), serialized with observe.
func (p *realTime) sending(node raft.ID, rd *raft.Ready, log netmodel.LogReader) {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
	p.r.safety.Sending(node, rd, log)
}

// observe is a tab's report of a batch (from its goroutine).
func (p *realTime) observe(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log netmodel.LogReader) error {
	p.obsMu.Lock()
	defer p.obsMu.Unlock()
	changed, err := p.r.observe(node, prev, cur, rd, log)
	if changed || err != nil {
		p.changed()
	}
	return err
}

// Record writes e to the trace, stamped with the time since the start;
// the tabs' goroutines call it too.
func (p *realTime) Record(e sim.Event) {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	e.Time = p.Now() // under the lock: the trace's times never go back
	p.trace.Record(e)
	p.events++
}

// recordAt writes e to the trace with the time it carries (a world that
// orders its events itself; times must not go back).
func (p *realTime) recordAt(e sim.Event) {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	p.trace.Record(e)
	p.events++
}

func (p *realTime) flush() error {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	return p.trace.Flush()
}

// realWorld is a real-time world as runRealTime drives it.
type realWorld interface {
	World
	// finish stops the world's clients and closes it: no event is
	// traced after it returns.
	finish()
}

// runRealTime runs an opened real-time world w (whose clock and trace
// are rt) to the end of the scenario and assembles the result.
func runRealTime(r *runner, rt *realTime, w realWorld, seed uint64, opts RunOptions, wallStart time.Time) (*Result, error) {
	sc := r.sc
	r.schedule()
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	r.happened("start", 0)
	r.drive(func() bool { return false })
	w.finish()
	if err := rt.flush(); err != nil {
		return nil, fmt.Errorf("scenario %s: writing trace: %w", sc.Name, err)
	}
	res, err := r.result(seed, RunOptions{LinTimeout: opts.LinTimeout, History: opts.History}, wallStart)
	if err != nil {
		return nil, err
	}
	res.Events, res.TraceEvents = rt.events, rt.events
	res.Replay += " --world " + w.Name()
	return res, nil
}
