package scenarios

import "github.com/raftsim/raftsim/netmodel"

// VisibilityAction puts the target tabs in a visibility state:
// foreground, hidden, frozen or discarded.
type VisibilityAction struct {
	Target `yaml:",inline"`
	State  string `yaml:"state"`
}

func init() {
	registerFault(faultKind{key: "visibility", new: func() FaultAction { return &VisibilityAction{} }})
}

// Key implements FaultAction.
func (a *VisibilityAction) Key() string { return "visibility" }

// Validate implements FaultAction.
func (a *VisibilityAction) Validate(c *faultCheck) error {
	if _, err := netmodel.ParseVisibility(a.State); err != nil {
		return c.errAt("state", "%v", err)
	}
	return c.target("", &a.Target)
}

// Apply implements FaultAction.
func (a *VisibilityAction) Apply(r *runner) error {
	v, _ := netmodel.ParseVisibility(a.State) // validated
	for _, id := range r.pick(&a.Target, "visibility "+a.State) {
		r.w.SetVisibility(id, v)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *VisibilityAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &VisibilityAction{Target: t, State: a.State}, ok
}

// Swarm windows: a tab hidden (throttled timers) or frozen (nothing
// runs), brought back to the foreground at the window's end.
func init() {
	for _, k := range []struct {
		kind        FaultKind
		rank        int
		state, name string
		back        string
	}{{KindHidden, 70, "hidden", "hide", "show"}, {KindFrozen, 80, "frozen", "freeze", "thaw"}} {
		registerSwarmKind(swarmKind{kind: k.kind, rank: k.rank, minNodes: 1, window: func(w *swarmWindow) []Fault {
			return []Fault{{Name: k.name, Trigger: w.at(w.t), Action: &VisibilityAction{Target: Target{Nodes: w.one}, State: k.state}},
				{Name: k.back, Trigger: w.at(w.end), Action: &VisibilityAction{Target: Target{Nodes: w.one}, State: "foreground"}}}
		}})
	}
}
