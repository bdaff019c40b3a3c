package sim

import (
	"math/rand/v2"
)

// Sim is one deterministic run: a virtual clock, the event queue, the run's
// random streams and its trace. A Sim is not safe for concurrent use; a
// sweep runs many Sims, one per goroutine.
type Sim struct {
	now     Time
	seq     uint64
	queue   eventQueue
	timers  []Timer    // unused handles, allocated a slab at a time
	argEvs  []argEvent // the same for AtArg and ScheduleArg
	ctx     timerCtx   // the context of At's handles
	argFree []*Timer   // handles of ScheduleArg events that have run, to reuse
	seed    uint64
	streams map[string]*rand.Rand
	trace   *Trace
	events  uint64
	stopped bool
}

// New returns a simulation at time 0 for the given seed. The trace records
// and hashes every traced event; pass a Trace with a nil writer to hash
// without writing.
func New(seed uint64, trace *Trace) *Sim {
	if trace == nil {
		trace = NewTrace(nil)
	}
	s := &Sim{seed: seed, streams: make(map[string]*rand.Rand), trace: trace}
	s.ctx.sim = s
	return s
}

// Now returns the current virtual time.
func (s *Sim) Now() Time { return s.now }

// Seed returns the run's seed.
func (s *Sim) Seed() uint64 { return s.seed }

// Events returns how many events have been executed.
func (s *Sim) Events() uint64 { return s.events }

// Pending returns how many events are scheduled.
func (s *Sim) Pending() int { return len(s.queue) }

// Trace returns the run's trace.
func (s *Sim) Trace() *Trace { return s.trace }

// Rand returns the named random stream, creating it on first use. Streams
// are looked up, never iterated, so map order cannot leak into a run.
func (s *Sim) Rand(name string) *rand.Rand {
	r, ok := s.streams[name]
	if !ok {
		r = NewStream(s.seed, name)
		s.streams[name] = r
	}
	return r
}

// Timer is a handle to a scheduled event that can be cancelled. Its zero
// value is a timer that is not pending.
type Timer struct {
	ctx  *timerCtx
	slot int // 1 + the event's position in the queue; 0 once run or cancelled
}

// timerCtx is what a handle's event needs besides its queue entry: the
// simulation (nil for a ScheduleArg event, whose handle is reused once it
// has run), and the callback of an AtArg or ScheduleArg event. The
// handles of At share their Sim's; each AtArg event has its own, next to
// its handle (argEvent). The callback is kept out of the queue's entry,
// which stays four words so that the compiler keeps one in registers
// while it sifts the heap (a six-word entry was measurably slower),
// and out of Timer, which At allocates for every event (a 32-byte Timer
// cost BenchmarkTimerEvents a fifth more CPU).
type timerCtx struct {
	sim *Sim
	fn  func(uint64)
	arg uint64
}

// argEvent is an AtArg or ScheduleArg event's handle and context,
// allocated together.
type argEvent struct {
	t   Timer
	ctx timerCtx
}

// Cancel removes the event from the queue if it has not run. It reports
// whether the event was still pending. Cancelling a nil Timer is a no-op.
func (t *Timer) Cancel() bool {
	if t == nil || t.slot == 0 {
		return false
	}
	t.ctx.sim.queue.remove(t.slot - 1)
	return true
}

// Pending reports whether the timer's event is still scheduled.
func (t *Timer) Pending() bool { return t != nil && t.slot != 0 }

// timerSlab is how many handles are allocated at once: a handle outlives
// its event for as long as its holder keeps it, so At's and AtArg's
// handles are not reused (ScheduleArg's, which nobody holds, are), but
// allocating them in slabs makes one allocation of many.
const timerSlab = 128

// At schedules fn at virtual time at (never earlier than now) and returns
// a handle that can cancel it.
func (s *Sim) At(at Time, fn func()) *Timer {
	if at < s.now {
		at = s.now
	}
	t := fromSlab(&s.timers)
	t.ctx = &s.ctx
	s.seq++
	s.queue.push(entry{at: at, seq: s.seq, fn: fn, t: t})
	return t
}

// Schedule schedules fn at virtual time at (never earlier than now), like
// At, for an event that is never cancelled: it returns no handle and
// allocates nothing. It takes a sequence number as At does, so the two
// order alike.
func (s *Sim) Schedule(at Time, fn func()) {
	if at < s.now {
		at = s.now
	}
	s.seq++
	s.queue.push(entry{at: at, seq: s.seq, fn: fn})
}

// AtArg schedules fn(arg) at virtual time at, like At, and returns a
// handle that can cancel it. It is for a caller that would otherwise make
// a closure per event: fn can be bound once (a method value kept in a
// field) and the event's data packed into arg, so that scheduling
// allocates nothing but the handle's share of its slab. It takes a
// sequence number as At does.
func (s *Sim) AtArg(at Time, fn func(uint64), arg uint64) *Timer {
	if at < s.now {
		at = s.now
	}
	ev := fromSlab(&s.argEvs)
	ev.ctx = timerCtx{sim: s, fn: fn, arg: arg}
	ev.t.ctx = &ev.ctx
	s.seq++
	// fn is nil in the entry: Step calls the context's callback.
	s.queue.push(entry{at: at, seq: s.seq, t: &ev.t})
	return &ev.t
}

// fromSlab takes the next unused element of *slab, allocating a new slab
// of timerSlab elements when it is used up. (At, Schedule and AtArg each
// clamp and push inline: a shared push function is not inlined, and cost
// BenchmarkTimerEvents a tenth more.)
func fromSlab[T any](slab *[]T) *T {
	if len(*slab) == 0 {
		*slab = make([]T, timerSlab)
	}
	e := &(*slab)[0]
	*slab = (*slab)[1:]
	return e
}

// ScheduleArg is AtArg for an event that is never cancelled: it returns
// no handle (the event has one all the same, which holds its callback;
// since no one else holds it, it is reused once the event has run).
func (s *Sim) ScheduleArg(at Time, fn func(uint64), arg uint64) {
	if at < s.now {
		at = s.now
	}
	var t *Timer
	if n := len(s.argFree); n > 0 {
		t = s.argFree[n-1]
		s.argFree = s.argFree[:n-1]
	} else {
		ev := fromSlab(&s.argEvs)
		ev.t.ctx = &ev.ctx
		t = &ev.t
	}
	*t.ctx = timerCtx{fn: fn, arg: arg}
	s.seq++
	s.queue.push(entry{at: at, seq: s.seq, t: t})
}

// After schedules fn after the span d.
func (s *Sim) After(d Time, fn func()) *Timer { return s.At(s.now+d, fn) }

// Stop makes the current Run call return after the running event.
func (s *Sim) Stop() { s.stopped = true }

// Stopped reports whether Stop was called.
func (s *Sim) Stopped() bool { return s.stopped }

// Step executes the next event. It returns false if the queue is empty.
func (s *Sim) Step() bool {
	if len(s.queue) == 0 {
		return false
	}
	e := s.queue.pop()
	s.now = e.at
	s.events++
	if e.fn != nil {
		e.fn()
	} else {
		c := e.t.ctx // AtArg or ScheduleArg
		fn, arg := c.fn, c.arg
		if c.sim == nil { // ScheduleArg: its handle can be reused
			c.fn = nil
			s.argFree = append(s.argFree, e.t)
		}
		fn(arg)
	}
	return true
}

// RunUntil executes events until the queue is empty, the next event lies
// after limit, Stop is called, or done (if not nil) returns true after an
// event. The clock is left at the last executed event, or at limit when the
// queue outlives it.
func (s *Sim) RunUntil(limit Time, done func() bool) {
	s.stopped = false
	for len(s.queue) > 0 && !s.stopped {
		if s.queue[0].at > limit {
			s.now = limit
			return
		}
		s.Step()
		if done != nil && done() {
			return
		}
	}
}

// Run executes events until the queue is empty or Stop is called.
func (s *Sim) Run() { s.RunUntil(Time(1<<63-1), nil) }
