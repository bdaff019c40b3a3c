package netmodel

import (
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Faults that make hard interleavings likely: a stalled tab, and
// membership changes of live tabs.

// Pause stalls tab id's thread for d, as a long garbage collection or a
// busy main thread does: work queued meanwhile waits and then runs in
// order, its timers fire late, and what it sends leaves late, possibly
// after a leader change. The tab stays open and connected.
func (w *World) Pause(id raft.ID, d sim.Time) {
	t := w.tabs[id]
	if !t.alive {
		return
	}
	w.Fault(id, "pause "+d.String())
	t.busyUntil = sim.Max(t.busyUntil, w.sim.Now()) + d
	if t.wake != nil {
		t.wake.Cancel()
		t.wake = nil
		t.scheduleWake()
	}
}

// Reconfigure has the leader (of the highest term) propose adding (add)
// or removing tab id, whether or not the tab is open; a refused change
// is traced. With presence membership the leader's loop may undo it
// later (a removed tab that is still present is added back).
func (w *World) Reconfigure(id raft.ID, add bool) {
	lead := w.leaderTab()
	if lead == nil {
		w.Fault(0, "reconfigure: no leader")
		return
	}
	cc := raft.ConfChange{Type: raft.ConfRemoveNode, Node: id}
	what := "remove "
	if add {
		cc.Type, what = raft.ConfAddNode, "add "
	}
	w.Fault(lead.ID, "reconfigure: "+what+strconv.Itoa(int(id)))
	lead.run(func() {
		if lead.host.Raft == nil {
			return
		}
		if err := lead.host.Raft.ProposeConfChange(cc); err != nil {
			w.Fault(lead.ID, "reconfigure refused: "+err.Error())
		}
	})
}

// leaderTab is the open tab that leads the highest term (nil: none).
func (w *World) leaderTab() *Tab {
	var lead *Tab
	for _, t := range w.tabs[1:] {
		if t.alive && t.host.Status().Role == raft.Leader && (lead == nil || t.host.Status().Term > lead.host.Status().Term) {
			lead = t
		}
	}
	return lead
}
