package pionworld

import (
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// The browser around a tab on the real stack: its Raft timers run when
// Chrome would run them given the tab's visibility
// (netmodel.BrowserOptions.WakeTime, the model's rule), and a frozen tab
// runs nothing: the work posted to it waits until it thaws. Only the
// tab's goroutine touches this state.

// tabBrowser is a tab incarnation's browser-side state.
type tabBrowser struct {
	vis         netmodel.Visibility
	hiddenSince sim.Time // since the run's start
	// Per Raft timer kind: the real timer, the time the browser would run
	// it in the foreground (since the run's start), its HTML chain count,
	// and a generation that voids fires of a timer re-armed or stopped
	// since (clearTimeout).
	timers [3]*time.Timer
	due    [3]sim.Time
	chain  [3]int
	gen    [3]uint64
	// running is the timer kind whose task runs (0: none), runningChain
	// its chain count: a timer of the same kind armed by it is chained.
	running      raft.TimerKind
	runningChain int
	held         []func() // work posted while frozen, in order
}

func (b *tabBrowser) frozen() bool { return b.vis == netmodel.Frozen }

func (b *tabBrowser) stopTimers() {
	for k, t := range b.timers {
		if t != nil {
			t.Stop()
			b.timers[k] = nil
		}
	}
}

// since returns the run's time now, the origin hidden tabs' timers align to.
func (c *Cluster) since() sim.Time { return sim.Time(time.Since(c.start)) }

// setTimer arms or stops one of the tab's Raft timers (on its goroutine).
func (n *Node) setTimer(tr raft.TimerRequest) {
	b := &n.browser
	k := tr.Kind
	if b.timers[k] != nil {
		b.timers[k].Stop()
		b.timers[k] = nil
	}
	b.gen[k]++
	if tr.Stop {
		return
	}
	o := &n.c.opt.Browser
	d := sim.FromDuration(tr.After)
	// HTML timer nesting (facts §1): a timer armed by its own fire task is
	// chained, and clamped from ChainedLevel on.
	chain := 1
	if b.running == k {
		chain = b.runningChain + 1
	}
	if o.Throttling && chain >= netmodel.ChainedLevel && d < o.NestedClampMin {
		d = o.NestedClampMin
	}
	b.chain[k] = chain
	b.due[k] = n.c.since() + d
	n.c.record(sim.Event{Kind: sim.KindTimerSet, Node: uint64(n.id), Msg: k.String(), Index: uint64(sim.FromDuration(tr.After))})
	n.armTimer(k)
}

// armTimer schedules timer k's real timer for when the browser runs it.
func (n *Node) armTimer(k raft.TimerKind) {
	b := &n.browser
	now := n.c.since()
	at := max(now, n.wakeTime(b.due[k], b.chain[k]))
	gen := b.gen[k]
	b.timers[k] = time.AfterFunc(time.Duration(at-now), func() { n.post(func() { n.timerDue(k, gen) }) })
}

// timerDue runs on the tab's goroutine when timer k's real timer fired.
func (n *Node) timerDue(k raft.TimerKind, gen uint64) {
	b := &n.browser
	if gen != b.gen[k] {
		return // cleared or re-armed since
	}
	b.timers[k] = nil
	if at := n.wakeTime(b.due[k], b.chain[k]); at > n.c.since() {
		n.armTimer(k) // throttling tightened since it was armed
		return
	}
	b.running, b.runningChain = k, b.chain[k]
	n.c.record(sim.Event{Kind: sim.KindTimerFire, Node: uint64(n.id), Msg: k.String()})
	n.h.Raft.Fire(k)
	n.process()
	b.running = 0
}

// wakeTime applies the browser's timer rules to a timer due at due.
func (n *Node) wakeTime(due sim.Time, chain int) sim.Time {
	return n.c.opt.Browser.WakeTime(due, chain, n.browser.vis, n.browser.hiddenSince, n.hasOpenChannel)
}

// hasOpenChannel reports whether the tab has an open datachannel (which
// exempts it from intensive throttling in Chrome).
func (n *Node) hasOpenChannel() bool {
	for i := range n.dcs {
		if n.dcs[i].Load() != nil {
			return true
		}
	}
	return false
}

// SetVisibility changes tab id's visibility: hidden tabs' timers are
// throttled, a frozen tab runs nothing until it is visible or hidden
// again, and Discarded discards it (Discard). Nothing happens to a tab
// that is not open.
func (c *Cluster) SetVisibility(id raft.ID, v netmodel.Visibility, reloadAfter time.Duration) {
	if v == netmodel.Discarded {
		c.Discard(id, reloadAfter)
		return
	}
	if !c.Alive(id) {
		return
	}
	n := c.node(id)
	n.control(func() { n.setVisibility(v) })
}

func (n *Node) setVisibility(v netmodel.Visibility) {
	b := &n.browser
	old := b.vis
	if v == old {
		return
	}
	b.vis = v
	n.c.mu.Lock()
	if n.c.nodes[n.id] == n {
		n.c.vis[n.id] = v
	}
	n.c.mu.Unlock()
	if old == netmodel.Foreground {
		b.hiddenSince = n.c.since()
	}
	// Pending timers move to their new wake-up.
	for k := range b.timers {
		if b.timers[k] != nil {
			b.timers[k].Stop()
			b.gen[k]++
			n.armTimer(raft.TimerKind(k))
		}
	}
	if old == netmodel.Frozen {
		// Thawed: work through what waited, in order.
		held := b.held
		b.held = nil
		for _, fn := range held {
			fn()
			n.process()
		}
	}
}

// Visibility returns tab id's visibility as its goroutine last set it.
func (c *Cluster) Visibility(id raft.ID) netmodel.Visibility {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vis[id]
}
