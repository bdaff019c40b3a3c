package netmodel

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Visibility is a tab's page-lifecycle state (facts §1).
type Visibility uint8

// Visibility states.
const (
	// Foreground: visible; timers run when asked (nested clamp aside).
	Foreground Visibility = iota
	// Hidden: timers aligned to HiddenAlign, chained ones intensively
	// throttled after IntensiveGrace.
	Hidden
	// Frozen: the tab runs nothing; its tasks (messages, timer fires) queue
	// until it is thawed (facts §1 frozen, androidFreeze).
	Frozen
	// Discarded: the tab was unloaded; memory is lost, storage kept, and it
	// reloads later (facts §1 discard, S/U).
	Discarded
)

var visibilityNames = [...]string{"foreground", "hidden", "frozen", "discarded"}

func (v Visibility) String() string {
	if int(v) < len(visibilityNames) {
		return visibilityNames[v]
	}
	return "visibility(" + strconv.Itoa(int(v)) + ")"
}

// ParseVisibility parses "foreground", "hidden", "frozen" or "discarded".
func ParseVisibility(s string) (Visibility, error) {
	for i, n := range visibilityNames {
		if n == s {
			return Visibility(i), nil
		}
	}
	return 0, fmt.Errorf("unknown visibility %q (want foreground, hidden, frozen or discarded)", s)
}

// VisibilityProcess changes each tab's visibility at random, from the
// stream "browser/<id>". All zero: off.
//
// With MeanForeground > 0 a tab alternates between foreground and hidden
// with exponential sojourn times (MeanHidden 0: once hidden it stays
// hidden). FreezeAfterHidden and DiscardAfterHidden apply to every hidden
// spell, whether the process or a scenario hid the tab.
type VisibilityProcess struct {
	MeanForeground, MeanHidden sim.Time
	// FreezeAfterHidden: the tab is frozen after this long hidden
	// (Android-like; facts §1 androidFreeze: 1-5 min, S/U). 0: never.
	FreezeAfterHidden sim.Time
	// DiscardAfterHidden: the tab is discarded after this long hidden
	// (facts §1 discard: minutes to hours, S/U). 0: never.
	DiscardAfterHidden sim.Time
	// ReloadAfter: a tab the process discarded reloads (in the foreground)
	// after this; 0 reloads at once (U: in a browser, when the user comes
	// back to the tab).
	ReloadAfter sim.Time
}

func (p *VisibilityProcess) validate() error {
	if p.MeanForeground < 0 || p.MeanHidden < 0 || p.FreezeAfterHidden < 0 || p.DiscardAfterHidden < 0 || p.ReloadAfter < 0 {
		return fmt.Errorf("browser: visibility process times must not be negative")
	}
	return nil
}

// visProcess is a tab's random-visibility state.
type visProcess struct {
	rand    *rand.Rand
	next    *sim.Timer // the next foreground/hidden switch
	freeze  *sim.Timer
	discard *sim.Timer
	reload  *sim.Timer
}

func (t *Tab) initVisibilityProcess() {
	if t.w.opt.Browser.Process.MeanForeground > 0 {
		t.scheduleHide()
	}
}

func (t *Tab) procRand() *rand.Rand {
	p := &t.browser.proc
	if p.rand == nil {
		p.rand = t.w.sim.Rand("browser/" + strconv.Itoa(int(t.ID)))
	}
	return p.rand
}

// exp draws an exponential sojourn time with the given mean.
func (t *Tab) exp(mean sim.Time) sim.Time {
	return sim.Time(t.procRand().ExpFloat64() * float64(mean))
}

// scheduleHide draws the next foreground sojourn.
func (t *Tab) scheduleHide() {
	p := &t.browser.proc
	p.next.Cancel()
	p.next = t.w.sim.After(t.exp(t.w.opt.Browser.Process.MeanForeground), func() {
		p.next = nil
		t.w.SetVisibility(t.ID, Hidden)
		if m := t.w.opt.Browser.Process.MeanHidden; m > 0 {
			p.next = t.w.sim.After(t.exp(m), func() {
				p.next = nil
				t.w.SetVisibility(t.ID, Foreground)
				t.scheduleHide()
			})
		}
	})
}

// visibility returns the tab's visibility. A tab that was frozen or
// discarded and has since been reopened (Restart) is in the foreground.
func (t *Tab) visibility() Visibility {
	b := &t.browser
	if (b.vis == Frozen || b.vis == Discarded) && t.alive && t.inc != b.visInc {
		b.vis = Foreground
		b.visInc = t.inc
	}
	return b.vis
}

// Visibility returns tab id's visibility.
func (w *World) Visibility(id raft.ID) Visibility { return w.tabs[id].visibility() }

// SetVisibility puts tab id in the foreground, hidden or frozen; setting
// Foreground or Hidden on a frozen tab thaws it, and it works through what
// queued up in order. Discarded discards the tab (Discard, reloading after
// Process.ReloadAfter). A discarded tab stays discarded until it reloads.
// Each change is traced as a fault event.
func (w *World) SetVisibility(id raft.ID, v Visibility) {
	t := w.tabs[id]
	b := &t.browser
	old := t.visibility()
	switch {
	case v == Discarded:
		w.Discard(id, w.opt.Browser.Process.ReloadAfter)
		return
	case v > Discarded:
		panic("netmodel: SetVisibility: " + v.String())
	case old == Discarded:
		w.Fault(id, "visibility "+v.String()+" ignored: discarded")
		return
	case v == old:
		return
	}
	now := w.sim.Now()
	b.vis, b.visInc = v, t.inc
	if old == Foreground {
		b.hiddenSince = now
	}
	w.Fault(id, "visibility "+v.String())
	t.hiddenTimers(old, v)
	t.retime()
	if old == Frozen && t.alive && t.wake == nil && t.queued > 0 {
		t.scheduleWake() // thawed: work through the queue
	}
}

// hiddenTimers arms and cancels the freeze-after-hidden and
// discard-after-hidden timers on a visibility change.
func (t *Tab) hiddenTimers(old, v Visibility) {
	w := t.w
	p := &t.browser.proc
	o := &w.opt.Browser.Process
	if v == Foreground {
		p.freeze.Cancel()
		p.discard.Cancel()
		p.freeze, p.discard = nil, nil
		return
	}
	if v == Hidden && o.FreezeAfterHidden > 0 {
		p.freeze.Cancel()
		p.freeze = w.sim.After(o.FreezeAfterHidden, func() {
			p.freeze = nil
			w.SetVisibility(t.ID, Frozen)
		})
	}
	if old == Foreground && o.DiscardAfterHidden > 0 {
		p.discard.Cancel()
		p.discard = w.sim.After(o.DiscardAfterHidden, func() {
			p.discard = nil
			if t.alive {
				w.Discard(t.ID, o.ReloadAfter)
			}
		})
	}
}

// Discard unloads tab id as a browser does to save memory: like Kill, its
// memory is gone and its storage kept; it reloads from storage (Restart) in
// the foreground after reloadAfter. A closed tab is not discarded.
func (w *World) Discard(id raft.ID, reloadAfter sim.Time) {
	t := w.tabs[id]
	if !t.alive {
		return
	}
	b := &t.browser
	p := &b.proc
	w.Fault(id, "discard")
	w.Kill(id)
	b.vis, b.visInc = Discarded, t.inc
	for _, tm := range []**sim.Timer{&p.next, &p.freeze, &p.discard, &p.reload} {
		(*tm).Cancel()
		*tm = nil
	}
	inc := t.inc
	p.reload = w.sim.After(reloadAfter, func() {
		p.reload = nil
		// Not reopened meanwhile? It reloads in the foreground (visibility
		// treats a reopened tab so).
		if t.inc == inc && !t.alive {
			if err := w.Restart(id); err != nil {
				w.Fault(id, "reload failed: "+err.Error())
			}
		}
		if w.opt.Browser.Process.MeanForeground > 0 && p.next == nil {
			t.scheduleHide()
		}
	})
}
