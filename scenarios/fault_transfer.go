package scenarios

import "github.com/raftsim/raftsim/raft"

// TransferAction hands leadership from the leader to To (0: the most
// up-to-date live follower), before its tab is hidden or closed.
type TransferAction struct {
	To uint64 `yaml:"to" bound:"node"`
}

func init() {
	registerFault(faultKind{key: "transfer", new: func() FaultAction { return &TransferAction{} }})
}

// Key implements FaultAction.
func (a *TransferAction) Key() string { return "transfer" }

// Validate implements FaultAction.
func (a *TransferAction) Validate(c *faultCheck) error {
	if n := c.sc.Cluster.Nodes; a.To > uint64(n) {
		return c.errAt("to", "node %d does not exist (nodes are 1..%d)", a.To, n)
	}
	return nil
}

// Apply implements FaultAction.
func (a *TransferAction) Apply(r *runner) error { r.w.Transfer(raft.ID(a.To)); return nil }

// Shrink implements FaultAction.
func (a *TransferAction) Shrink(k int) (FaultAction, bool) { return a, a.To <= uint64(k) }

// Swarm window: a leadership transfer to a random tab.
func init() {
	registerSwarmKind(swarmKind{kind: KindTransfer, rank: 140, minNodes: 1, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "transfer", Trigger: w.at(w.t), Action: &TransferAction{To: w.one[0]}}}
	}})
}
