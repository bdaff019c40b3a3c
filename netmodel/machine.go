package netmodel

import (
	"fmt"
	"math"

	"github.com/raftsim/raftsim/sim"
)

// MachineOptions describe the machine the tabs' browsers share. The zero
// value gives every tab a core of its own: its work takes exactly its
// cost.
//
// The model is a static share, not a scheduler: each live tab's browser
// keeps TabLoad of a core busy in the background (rendering, timers,
// its harness connection), and while the live tabs' background load
// exceeds Cores, every tab's own work (handled messages and timers,
// storage writes) takes longer by that excess: the factor is
// max(1, live tabs × TabLoad / Cores). It is meant for many browsers on
// one host, as the paper ran 41 SlimerJS processes on 8 cores.
//
// WakeCost makes the machine a scheduler as well: a page whose thread
// has work waits for one of Cores cores (which must be set), in the order
// the pages became ready; it runs its queued tasks, and the work that
// arrives meanwhile, then the core stays busy WakeCost longer (what
// waking a page costs beyond its handlers and batches: the browser's
// work to wake the page and put it to sleep) before the next waiting
// page gets it. The page's own thread is free
// meanwhile: new work waits for any core. Many pages woken at once are
// then served a few at a time, as the project's VM serves Chromium's
// pages (docs/worlds.md).
type MachineOptions struct {
	// Cores is the number of cores the browsers share (0: one each).
	Cores int
	// TabLoad is the share of one core each live tab uses in the
	// background, in [0, 1].
	TabLoad float64
	// WakeCost is the CPU time each turn of a page on a core costs
	// beyond its tasks; 0 turns the scheduler off.
	WakeCost sim.Time
	// CPUScale is how many times longer every CPU time takes on this
	// machine than on the one the costs were measured on (0 or 1: the
	// same): the tabs' work, their turns, their starts and the
	// harness's polls. The project's VM ran the same code 20-35% slower
	// on some days than on others (docs/worlds.md).
	CPUScale float64
}

func (o *MachineOptions) validate() error {
	switch {
	case o.Cores < 0:
		return fmt.Errorf("machine: cores must not be negative, got %d", o.Cores)
	case math.IsNaN(o.TabLoad) || o.TabLoad < 0 || o.TabLoad > 1:
		return fmt.Errorf("machine: tab load must be in [0, 1], got %v", o.TabLoad)
	case o.WakeCost < 0 || o.WakeCost > 10*sim.Second:
		return fmt.Errorf("machine: wake cost must be in [0, 10s], got %v", o.WakeCost)
	case o.WakeCost > 0 && o.Cores == 0:
		return fmt.Errorf("machine: a wake cost needs cores to take turns on, got cores 0")
	case math.IsNaN(o.CPUScale) || o.CPUScale < 0 || o.CPUScale > 10:
		return fmt.Errorf("machine: CPU scale must be in [0, 10], got %v", o.CPUScale)
	}
	return nil
}

// CPUSlowdown is how many times longer a tab's work takes than its cost
// while the live tabs share the machine (MachineOptions), on a machine
// CPUScale times slower; 1 when they do not crowd a machine as fast as
// the costs'. A harness on the same host is slowed alike.
func (w *World) CPUSlowdown() float64 {
	o := &w.opt.Machine
	f := 1.0
	if o.Cores > 0 {
		f = max(1, float64(w.live)*o.TabLoad/float64(o.Cores))
	}
	if o.CPUScale > 0 {
		f *= o.CPUScale
	}
	return f
}

// cpuTime is the time a tab's work of cost d takes on the shared machine.
func (w *World) cpuTime(d sim.Time) sim.Time {
	if f := w.CPUSlowdown(); f != 1 {
		return sim.Time(math.Round(float64(d) * f))
	}
	return d
}

// scheduler is the machine's run queue (MachineOptions.WakeCost): the
// cores free and the pages waiting for one, first come first served.
type scheduler struct {
	free int // cores free
	// The waiting pages are waiting[next:]; the array is reused rather
	// than resliced away, so a steady run allocates nothing for it.
	waiting []*Tab
	next    int
	freed   func() // w.coreFreed, bound once
}

// scheduled reports whether pages take turns on the machine's cores.
func (w *World) scheduled() bool { return w.opt.Machine.WakeCost > 0 }

// awaitCore queues t's thread for a core, unless it waits already, and
// hands out the cores free.
func (w *World) awaitCore(t *Tab) {
	if !t.waiting {
		t.waiting = true
		m := &w.machine
		if m.next > 0 && len(m.waiting) == cap(m.waiting) {
			n := copy(m.waiting, m.waiting[m.next:])
			clear(m.waiting[n:])
			m.waiting, m.next = m.waiting[:n], 0
		}
		m.waiting = append(m.waiting, t)
	}
	w.dispatch()
}

// dispatch gives free cores to waiting pages that still have work.
func (w *World) dispatch() {
	m := &w.machine
	for m.next < len(m.waiting) && m.free > 0 {
		t := m.waiting[m.next]
		m.waiting[m.next] = nil
		m.next++
		if m.next == len(m.waiting) {
			m.waiting, m.next = m.waiting[:0], 0
		}
		t.waiting = false
		if !t.alive || t.queued == 0 || t.frozen() {
			continue // closed, frozen or served meanwhile: no turn
		}
		m.free--
		t.onCore = true
		t.scheduleWake()
	}
}

// releaseCore ends t's turn: its core stays busy WakeCost longer, then
// goes to the next waiting page.
func (t *Tab) releaseCore() {
	if !t.onCore {
		return
	}
	w := t.w
	t.onCore = false
	if w.machine.freed == nil {
		w.machine.freed = w.coreFreed
	}
	free := sim.Max(t.busyUntil, w.sim.Now()) + w.cpuTime(w.opt.Machine.WakeCost)
	w.sim.Schedule(free, w.machine.freed) // never cancelled: no handle
}

// coreFreed returns a core and hands it on.
func (w *World) coreFreed() {
	w.machine.free++
	w.dispatch()
}
