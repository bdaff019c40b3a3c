package scenarios

// BlackholeAction cuts the target tabs off without a close event: their
// packets vanish both ways until a heal.
type BlackholeAction struct {
	Target `yaml:",inline"`
}

func init() {
	registerFault(faultKind{key: "blackhole", new: func() FaultAction { return &BlackholeAction{} }})
}

// Key implements FaultAction.
func (a *BlackholeAction) Key() string { return "blackhole" }

// Validate implements FaultAction.
func (a *BlackholeAction) Validate(c *faultCheck) error { return c.target("", &a.Target) }

// Apply implements FaultAction.
func (a *BlackholeAction) Apply(r *runner) error {
	for _, id := range r.pick(&a.Target, "blackhole") {
		r.w.Blackhole(id)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *BlackholeAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &BlackholeAction{t}, ok
}

// Swarm window: a tab blackholed, healed at the window's end.
func init() {
	registerSwarmKind(swarmKind{kind: KindBlackhole, rank: 130, minNodes: 2, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "blackhole", Trigger: w.at(w.t), Action: &BlackholeAction{Target{Nodes: w.one}}},
			{Name: "heal", Trigger: w.at(w.end), Action: healAll()}}
	}})
}
