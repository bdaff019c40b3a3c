package scenarios

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ReconfigureAction has the leader propose membership changes: removing
// the Remove tabs and adding the Add tabs, one change each, whether the
// tabs are open or not. It makes membership changes overlap leader
// changes and restarts, where single-server changes are most fragile.
type ReconfigureAction struct {
	Remove []uint64 `yaml:"remove" bound:"node" maxlen:"1001"`
	Add    []uint64 `yaml:"add" bound:"node" maxlen:"1001"`
}

func init() {
	registerFault(faultKind{key: "reconfigure", new: func() FaultAction { return &ReconfigureAction{} }})
	// It found a liveness bug in raft/: a leader that appended its own
	// removal and crashed before replicating it never campaigned again
	// (raft.go, selfRemovalPending).
	registerSwarmKind(swarmKind{kind: KindMembership, rank: 170, minNodes: 3, window: membershipWindow})
}

// KindMembership: live tabs removed from the configuration and added
// back, the removed ones closed and reopened meanwhile.
const KindMembership FaultKind = "membership"

// membershipWindow removes a live tab, closes it halfway through the
// window, and at its end reopens it and adds it back.
func membershipWindow(w *swarmWindow) []Fault {
	mid := w.t + (w.end-w.t)/2
	if mid == w.t {
		mid += sim.Millisecond
	}
	return []Fault{{Name: "remove", Trigger: w.at(w.t), Action: &ReconfigureAction{Remove: w.one}},
		{Name: "close-removed", Trigger: w.at(mid), Action: &KillAction{Target{Nodes: w.one}}},
		{Name: "reopen-removed", Trigger: w.at(max(w.end, mid)), Action: &RestartAction{Nodes: w.one}},
		{Name: "add-back", Trigger: w.at(max(w.end, mid)), Action: &ReconfigureAction{Add: w.one}}}
}

// Key implements FaultAction.
func (a *ReconfigureAction) Key() string { return "reconfigure" }

// Validate implements FaultAction.
func (a *ReconfigureAction) Validate(c *faultCheck) error {
	if len(a.Remove) == 0 && len(a.Add) == 0 {
		return c.errAt("", "name the tabs to remove or add")
	}
	if err := c.nodes("remove", a.Remove); err != nil {
		return err
	}
	return c.nodes("add", a.Add)
}

// Apply implements FaultAction: removals first, then additions (the
// leader takes one change at a time: the others are refused, and traced).
func (a *ReconfigureAction) Apply(r *runner) error {
	for _, id := range a.Remove {
		r.w.Reconfigure(raft.ID(id), false)
	}
	for _, id := range a.Add {
		r.w.Reconfigure(raft.ID(id), true)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *ReconfigureAction) Shrink(k int) (FaultAction, bool) {
	b := &ReconfigureAction{Remove: keepNodes(a.Remove, k), Add: keepNodes(a.Add, k)}
	return b, len(b.Remove)+len(b.Add) > 0
}
