package scenarios

import "github.com/raftsim/raftsim/sim"

// DiscardAction discards the target tabs, which reload from storage after
// ReloadAfter.
type DiscardAction struct {
	Target      `yaml:",inline"`
	ReloadAfter sim.Time `yaml:"reload_after" bound:"0,24h"`
}

func init() {
	registerFault(faultKind{key: "discard", new: func() FaultAction { return &DiscardAction{} }})
}

// Key implements FaultAction.
func (a *DiscardAction) Key() string { return "discard" }

// Validate implements FaultAction.
func (a *DiscardAction) Validate(c *faultCheck) error { return c.target("", &a.Target) }

// Apply implements FaultAction.
func (a *DiscardAction) Apply(r *runner) error {
	for _, id := range r.pick(&a.Target, "discard") {
		r.w.Discard(id, a.ReloadAfter)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *DiscardAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &DiscardAction{Target: t, ReloadAfter: a.ReloadAfter}, ok
}

// Swarm window: a tab discarded, reloaded at the window's end.
func init() {
	registerSwarmKind(swarmKind{kind: KindDiscard, rank: 90, minNodes: 1, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "discard", Trigger: w.at(w.t), Action: &DiscardAction{Target: Target{Nodes: w.one}, ReloadAfter: w.end - w.t}}}
	}})
}
