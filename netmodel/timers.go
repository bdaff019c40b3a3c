package netmodel

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// BrowserOptions configure tab visibility and timer throttling.
type BrowserOptions struct{}

func (o *BrowserOptions) validate() error { return nil }

// tabBrowser is a tab's browser-side state.
type tabBrowser struct{}

func (t *Tab) initBrowser() {}

// frozen reports whether the tab runs nothing right now.
func (t *Tab) frozen() bool { return false }

// setTimer arms or stops one of the tab's Raft timers.
func (t *Tab) setTimer(tr raft.TimerRequest) {
	w := t.w
	k := tr.Kind
	t.timers[k].Cancel()
	t.timers[k] = nil
	if tr.Stop {
		return
	}
	d := sim.FromDuration(tr.After)
	w.record(sim.Event{Kind: sim.KindTimerSet, Node: uint64(t.ID), Msg: k.String(), Index: uint64(d)})
	if t.fireFn[k] == nil {
		t.fireFn[k] = func() {
			t.timers[k] = nil
			w.record(sim.Event{Kind: sim.KindTimerFire, Node: uint64(t.ID), Msg: k.String()})
			t.enqueue(task{fire: k})
		}
	}
	t.timers[k] = w.sim.After(d, t.fireFn[k])
}
