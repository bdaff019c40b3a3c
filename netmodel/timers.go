package netmodel

import (
	"fmt"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// BrowserOptions configure tab visibility and timer throttling. The zero
// value turns the browser model off: timers fire exactly when Raft asks,
// and no tab changes visibility unless a scenario says so.
//
// Defaults come from docs/facts/netmodel-parameters.md §1 (Chrome); see
// DefaultBrowserOptions.
type BrowserOptions struct {
	// Throttling: the host turns Raft's requested timer delays into the
	// browser's fire times (nested clamp, hidden alignment, intensive
	// throttling). False: timers fire exactly when asked.
	Throttling bool
	// NestedClampMin is the minimum delay of a timer whose chain count is
	// ChainedLevel (5) or more. 0: no clamp.
	NestedClampMin sim.Time
	// HiddenAlign: while the tab is hidden, timer wake-ups are aligned up to
	// the next multiple of HiddenAlign of virtual time. 0: no alignment.
	HiddenAlign sim.Time
	// IntensiveAlign: chained timers (count >= ChainedLevel) of a tab hidden
	// for more than IntensiveGrace are aligned to this. 0: off.
	IntensiveAlign sim.Time
	// IntensiveGrace is how long a (loaded) page is hidden before intensive
	// throttling starts.
	IntensiveGrace sim.Time
	// WebRTCExemption: an open RTCDataChannel exempts the tab from intensive
	// throttling (Chrome). False: no exemption (Android-like freezing path).
	WebRTCExemption bool
	// Process changes the tabs' visibility at random (visibility.go).
	Process VisibilityProcess
	// TimerLateness is how late a page's timer runs after it is due
	// (a Raft timer, the presence loop's, the chat client's flush), drawn
	// for each timer armed: a real event loop wakes a little after the
	// deadline, and a periodic timer re-armed as it fires drifts by as
	// much each period. The zero value: timers run when due.
	TimerLateness Latency
}

// ChainedLevel is the chain (nesting) count from which a timer is clamped
// to NestedClampMin and may be intensively throttled. Chrome compares with
// ">=", the HTML spec with ">" (facts §1 nestedClampMin: dom_timer.cc,
// crbug 1108877).
const ChainedLevel = 5

// DefaultBrowserOptions returns Chrome's timer behaviour with throttling on
// and the random visibility process off.
func DefaultBrowserOptions() BrowserOptions {
	return BrowserOptions{
		Throttling: true,
		// facts §1 nestedClampMin (V): 4 ms once the chain count is >= 5.
		NestedClampMin: 4 * sim.Millisecond,
		// facts §1 hiddenAlign (V): kDefaultThrottledWakeUpInterval = 1 s.
		// The 3 ms of timer work per aligned wake-up is not modelled.
		HiddenAlign: 1 * sim.Second,
		// facts §1 intensiveAlign (V): 1 min for chained timers.
		IntensiveAlign: 1 * sim.Minute,
		// facts §1 intensiveGrace (V): 60 s for loaded pages (300 s while
		// loading, not modelled).
		IntensiveGrace: 60 * sim.Second,
		// facts §1 webrtcExemptIntensive (V): an open RTCDataChannel
		// disables intensive throttling in Chrome.
		WebRTCExemption: true,
	}
}

func (o *BrowserOptions) validate() error {
	for _, f := range []struct {
		name string
		v    sim.Time
	}{
		{"nested clamp", o.NestedClampMin},
		{"hidden alignment", o.HiddenAlign},
		{"intensive alignment", o.IntensiveAlign},
		{"intensive grace", o.IntensiveGrace},
	} {
		if f.v < 0 {
			return fmt.Errorf("browser: %s must not be negative, got %v", f.name, f.v)
		}
	}
	if o.TimerLateness != (Latency{}) {
		if err := o.TimerLateness.Validate(); err != nil {
			return fmt.Errorf("browser: timer lateness: %w", err)
		}
	}
	return o.Process.validate()
}

// timerLate is how late a page timer armed now runs (BrowserOptions.
// TimerLateness), drawn from a stream of its own so that no other draw
// moves; 0, with nothing drawn, when timers run on time.
func (w *World) timerLate() sim.Time {
	l := &w.opt.Browser.TimerLateness
	if l.Mean == 0 && l.Jitter == 0 {
		return 0
	}
	if w.lateRand == nil {
		w.lateRand = w.sim.Rand("timer-lateness")
	}
	return max(l.Sample(w.lateRand), 0)
}

// tabBrowser is a tab's browser-side state.
type tabBrowser struct {
	vis         Visibility
	visInc      int      // the tab's incarnation when vis was set
	hiddenSince sim.Time // when the tab last left the foreground

	// Per Raft timer kind: the time the browser would run the timer in the
	// foreground (requested delay, clamped), its chain count, and the time
	// its sim event is scheduled for.
	due   [3]sim.Time
	chain [3]int
	at    [3]sim.Time

	// level is the running task's timer nesting level (HTML): its
	// timer's chain count if the task is a timer's (a Raft timer's fire,
	// the chat client's flush), 0 otherwise. A timer armed by the task,
	// whatever its kind, is chained one further.
	level int

	// HTML clearTimeout: a timer task already queued does nothing once its
	// timer was cleared or re-armed. queued counts a kind's fire tasks in
	// the tab's queue, stale how many of the oldest of them were cleared.
	// inc is the incarnation the counts belong to (a kill clears the queue).
	queued [3]int
	stale  [3]int
	inc    int

	proc visProcess // visibility.go
}

func (t *Tab) initBrowser() {
	t.initVisibilityProcess()
}

// frozen reports whether the tab runs nothing right now.
func (t *Tab) frozen() bool { return t.visibility() == Frozen }

// syncTimerCounts forgets the queued-task counts of an earlier incarnation.
func (t *Tab) syncTimerCounts() {
	b := &t.browser
	if b.inc != t.inc {
		b.inc = t.inc
		b.queued = [3]int{}
		b.stale = [3]int{}
		b.level = 0
	}
}

// setTimer arms or stops one of the tab's Raft timers: the host turns the
// requested delay into the browser's fire time.
func (t *Tab) setTimer(tr raft.TimerRequest) {
	w := t.w
	b := &t.browser
	k := tr.Kind
	t.timers[k].Cancel()
	t.timers[k] = nil
	t.syncTimerCounts()
	b.stale[k] = b.queued[k] // clearTimeout: queued fire tasks are void
	if tr.Stop {
		return
	}
	d := sim.FromDuration(tr.After)
	// Chain counting (HTML timer nesting level, facts §1): a timer armed
	// by a timer's task, of any kind, is chained one further than that
	// task; one armed by a message handler starts at 1.
	chain := b.level + 1
	b.chain[k] = chain
	o := &w.opt.Browser
	if o.Throttling && chain >= ChainedLevel && d < o.NestedClampMin {
		d = o.NestedClampMin
	}
	now := w.sim.Now()
	b.due[k] = now + t.sendWork + d + w.timerLate()
	at := sim.Max(now, t.wakeTime(b.due[k], chain))
	b.at[k] = at
	ev := sim.Event{Kind: sim.KindTimerSet, Node: uint64(t.ID), Msg: k.String(), Index: uint64(sim.FromDuration(tr.After))}
	if at != now+sim.FromDuration(tr.After) {
		ev.Detail = "at " + at.String()
	}
	w.record(ev)
	if t.fireFn[k] == nil {
		t.fireFn[k] = func() { t.timerDue(k) }
	}
	t.timers[k] = w.sim.At(at, t.fireFn[k])
}

// timerDue runs when timer k's event comes: the timer fires (its task is
// queued) unless the browser's throttling, which may have tightened since
// the timer was armed (an open datachannel closed), defers it further.
func (t *Tab) timerDue(k raft.TimerKind) {
	w := t.w
	b := &t.browser
	t.timers[k] = nil
	now := w.sim.Now()
	if at := t.wakeTime(b.due[k], b.chain[k]); at > now {
		b.at[k] = at
		t.timers[k] = w.sim.At(at, t.fireFn[k])
		return
	}
	w.record(sim.Event{Kind: sim.KindTimerFire, Node: uint64(t.ID), Msg: k.String()})
	t.syncTimerCounts()
	b.queued[k]++
	t.enqueue(task{fire: k})
}

// startFire is called as a timer task of kind k starts. It reports whether
// the timer still stands: with Throttling on, the host follows HTML's
// clearTimeout, so a queued fire of a timer re-armed or stopped since does
// nothing. (With Throttling off the task runs, as it always did.)
func (t *Tab) startFire(k raft.TimerKind) bool {
	b := &t.browser
	t.syncTimerCounts()
	if b.queued[k] > 0 {
		b.queued[k]--
	}
	if b.stale[k] > 0 {
		b.stale[k]--
		if t.w.opt.Browser.Throttling {
			return false
		}
	}
	b.level = b.chain[k]
	return true
}

// endTask is called when a task and its batch are done.
func (t *Tab) endTask() { t.browser.level = 0 }

// wakeTime returns when a timer that the browser would run at due in the
// foreground, with chain count chain, runs given the tab's visibility now.
// Other timers of the page (a signaling ping) can use it too.
func (t *Tab) wakeTime(due sim.Time, chain int) sim.Time {
	return t.w.opt.Browser.WakeTime(due, chain, t.visibility(), t.browser.hiddenSince,
		func() bool { return t.w.hasOpenChannel(t.ID) })
}

// WakeTime returns when a timer that the browser would run at due in the
// foreground, with chain count chain, runs in a tab whose visibility is
// vis (hidden since hiddenSince); openChannel reports whether the tab has
// an open datachannel. Times are since any fixed origin (hidden alignment
// is to multiples of HiddenAlign from it). Both worlds time their tabs'
// timers with it.
func (o *BrowserOptions) WakeTime(due sim.Time, chain int, vis Visibility, hiddenSince sim.Time, openChannel func() bool) sim.Time {
	if !o.Throttling || vis == Foreground {
		return due
	}
	at := alignUp(due, o.HiddenAlign) // facts §1 hiddenAlign
	// Intensive throttling (facts §1 intensiveAlign, intensiveGrace): a
	// chained timer whose wake-up comes after the tab has been hidden for
	// IntensiveGrace is aligned to IntensiveAlign, unless an open
	// datachannel exempts the tab (facts §1 webrtcExemptIntensive).
	if chain >= ChainedLevel && o.IntensiveAlign > 0 {
		start := hiddenSince + o.IntensiveGrace
		if at > start && !(o.WebRTCExemption && openChannel()) {
			at = sim.Max(at, alignUp(sim.Max(due, start), o.IntensiveAlign))
		}
	}
	return at
}

// retime moves the tab's pending Raft timers after a visibility change.
func (t *Tab) retime() {
	w := t.w
	b := &t.browser
	now := w.sim.Now()
	for k := range t.timers {
		if !t.timers[k].Pending() {
			continue
		}
		at := sim.Max(now, t.wakeTime(b.due[k], b.chain[k]))
		if at == b.at[k] {
			continue
		}
		t.timers[k].Cancel()
		b.at[k] = at
		t.timers[k] = w.sim.At(at, t.fireFn[k])
	}
}

// alignUp rounds x up to a multiple of a (a <= 0: x).
func alignUp(x, a sim.Time) sim.Time {
	if a <= 0 {
		return x
	}
	if r := x % a; r != 0 {
		return x + a - r
	}
	return x
}
