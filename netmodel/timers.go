package netmodel

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

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
