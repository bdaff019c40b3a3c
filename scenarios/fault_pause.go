package scenarios

import "github.com/raftsim/raftsim/sim"

// PauseAction stalls the target tabs' threads for For (a long garbage
// collection, a busy main thread): what they receive meanwhile waits,
// their timers fire late, and their answers may arrive after a leader
// change.
type PauseAction struct {
	Target `yaml:",inline"`
	For    sim.Time `yaml:"for" bound:"1ms,1h"`
}

func init() {
	registerFault(faultKind{key: "pause", new: func() FaultAction { return &PauseAction{} }})
	// Swarm window: one tab stalls for the window's length.
	registerSwarmKind(swarmKind{kind: KindPause, rank: 160, minNodes: 1, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "pause", Trigger: w.at(w.t), Action: &PauseAction{Target: Target{Nodes: w.one}, For: max(w.end-w.t, sim.Millisecond)}}}
	}})
}

// KindPause: tabs stalled (GC-like pauses), so stale answers arrive late.
const KindPause FaultKind = "pause"

// Key implements FaultAction.
func (a *PauseAction) Key() string { return "pause" }

// Validate implements FaultAction.
func (a *PauseAction) Validate(c *faultCheck) error {
	if a.For == 0 {
		return c.errAt("for", "a pause needs a length (for: 2s)")
	}
	return c.target("", &a.Target)
}

// Apply implements FaultAction.
func (a *PauseAction) Apply(r *runner) error {
	for _, id := range r.pick(&a.Target, "pause") {
		r.w.Pause(id, a.For)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *PauseAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &PauseAction{Target: t, For: a.For}, ok
}
