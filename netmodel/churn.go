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
	t.occupy(d)
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
	w.propose(lead, id, add)
}

// ReconfigureBy has tab lead propose adding (add) or removing tab id: a
// tab that does not lead (or no longer does when the proposal runs on its
// thread) refuses it, and the refusal is traced.
func (w *World) ReconfigureBy(lead, id raft.ID, add bool) {
	t := w.tabs[lead]
	if !t.alive {
		w.Fault(lead, "reconfigure: tab closed")
		return
	}
	w.propose(t, id, add)
}

// propose queues a membership change on lead's thread.
func (w *World) propose(lead *Tab, id raft.ID, add bool) {
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

// takeoverHook is a reaction armed for the next leader change.
type takeoverHook struct {
	fn func(leader raft.ID) bool
}

// OnTakeover arms fn to run once, when a tab next becomes leader (of a
// term it did not lead before), just before that tab's first batch as
// leader leaves: what fn does to the network applies to the new leader's
// first messages (its no-op), as when links change while an election
// ends. fn returns false to let this leader pass and wait for the next.
// Arming again replaces an armed hook; cancel disarms this one.
func (w *World) OnTakeover(fn func(leader raft.ID) bool) (cancel func()) {
	h := &takeoverHook{fn: fn}
	w.takeover = h
	return func() {
		if w.takeover == h {
			w.takeover = nil
		}
	}
}

// tookOver runs the armed takeover hook if tab t's batch, about to
// leave, is its first as leader of its term.
func (t *Tab) tookOver() {
	w := t.w
	prev, cur := t.host.Status(), t.host.Raft.Status()
	if cur.Role != raft.Leader || (prev.Role == raft.Leader && prev.Term == cur.Term) {
		return
	}
	h := w.takeover
	w.Fault(t.ID, "takeover: term "+strconv.FormatUint(cur.Term, 10))
	if h.fn(t.ID) && w.takeover == h {
		w.takeover = nil
	}
}

// Regroup redraws the partition: links within a group work again (a
// reliable channel delivers what it held), links between groups are cut
// both ways. Tabs in no group keep their links. Unlike Heal it leaves the
// signaling server as it is.
func (w *World) Regroup(groups [][]raft.ID) {
	group := groupOf(w.opt.Nodes, groups)
	var healed [][2]raft.ID
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			ch := &w.chans[a][b]
			if a != b && ch.cut && group[a] != 0 && group[a] == group[b] {
				ch.cut = false
				healed = append(healed, [2]raft.ID{raft.ID(a), raft.ID(b)})
				w.releaseHeld(raft.ID(a), raft.ID(b))
			}
		}
	}
	w.Partition(groups) // traces the new groups
	for _, h := range healed {
		w.linkHealed(h[0], h[1])
	}
}
