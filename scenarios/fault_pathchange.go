package scenarios

// PathChangeAction gives the target tabs a new network path: their
// connections go through ICE restarts. A world without paths to change
// (pion on vnet) refuses it with ErrNotOnWorld.
type PathChangeAction struct {
	Target `yaml:",inline"`
}

func init() {
	registerFault(faultKind{key: "path_change", new: func() FaultAction { return &PathChangeAction{} },
		name: func(FaultAction) string { return "path-change" }})
}

// Key implements FaultAction.
func (a *PathChangeAction) Key() string { return "path_change" }

// Validate implements FaultAction.
func (a *PathChangeAction) Validate(c *faultCheck) error { return c.target("", &a.Target) }

// Apply implements FaultAction.
func (a *PathChangeAction) Apply(r *runner) error {
	for _, id := range r.pick(&a.Target, "path change") {
		if err := r.w.PathChange(id); err != nil {
			return err
		}
	}
	return nil
}

// Shrink implements FaultAction.
func (a *PathChangeAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &PathChangeAction{t}, ok
}

// Swarm window: a tab's network path changes.
func init() {
	registerSwarmKind(swarmKind{kind: KindPathChg, rank: 150, minNodes: 2, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "path-change", Trigger: w.at(w.t), Action: &PathChangeAction{Target{Nodes: w.one}}}}
	}})
}
