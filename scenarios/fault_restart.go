package scenarios

import "github.com/raftsim/raftsim/raft"

// RestartAction reopens tabs: the listed Nodes, or all closed ones.
type RestartAction struct {
	Nodes  []uint64 `yaml:"nodes" bound:"node" maxlen:"1001"`
	Killed bool     `yaml:"killed"`
}

func init() {
	registerFault(faultKind{key: "restart", new: func() FaultAction { return &RestartAction{} }})
}

// Key implements FaultAction.
func (a *RestartAction) Key() string { return "restart" }

// Validate implements FaultAction.
func (a *RestartAction) Validate(c *faultCheck) error { return c.nodes("nodes", a.Nodes) }

// Apply implements FaultAction: a tab that cannot restart (an unreadable
// snapshot) is noted, and the run goes on.
func (a *RestartAction) Apply(r *runner) error {
	alive := func(id raft.ID) bool { _, ok := r.w.Status(id); return ok }
	for _, id := range a.ids(r.w.Nodes(), alive) {
		if err := r.w.Restart(id); err != nil {
			r.note(id, "restart failed: "+err.Error())
		}
	}
	return nil
}

// Shrink implements FaultAction.
func (a *RestartAction) Shrink(k int) (FaultAction, bool) {
	b := &RestartAction{Nodes: keepNodes(a.Nodes, k), Killed: a.Killed}
	return b, b.Killed || len(b.Nodes) > 0
}

// ids returns the tabs a restart step reopens: the listed ones, then
// (with Killed) every tab not open, in order.
func (a *RestartAction) ids(nodes int, alive func(raft.ID) bool) []raft.ID {
	var ids []raft.ID
	for _, id := range a.Nodes {
		ids = append(ids, raft.ID(id))
	}
	for i := 1; a.Killed && i <= nodes; i++ {
		if !alive(raft.ID(i)) {
			ids = append(ids, raft.ID(i))
		}
	}
	return ids
}
