package scenarios

import "github.com/raftsim/raftsim/sim"

// ReorderAction opens a reordering window: every message is held a
// uniform extra time below Window (0: none, which closes the window), as
// on a path whose packets take routes of different lengths. On unordered
// channels later messages overtake earlier ones (an append before the one
// it follows, a response to an old round after a new one); on ordered
// channels they wait for them.
type ReorderAction struct {
	Window sim.Time `yaml:"window" bound:"0,1h"`
}

// KindReorderWindow: reordering windows (every message held a random
// extra time for a while).
const KindReorderWindow FaultKind = "reorder-window"

func init() {
	registerFault(faultKind{key: "reorder", new: func() FaultAction { return &ReorderAction{} }, modelOnly: true})
	registerSwarmKind(swarmKind{kind: KindReorderWindow, rank: 210, minNodes: 2, window: func(w *swarmWindow) []Fault {
		a := &ReorderAction{Window: logUniform(w.r, 10*sim.Millisecond, 2*sim.Second)}
		return []Fault{{Name: "reorder", Trigger: w.at(w.t), Action: a},
			{Name: "no-reorder", Trigger: w.at(w.end), Action: &ReorderAction{}}}
	}})
}

// Key implements FaultAction.
func (a *ReorderAction) Key() string { return "reorder" }

// Validate implements FaultAction.
func (a *ReorderAction) Validate(*faultCheck) error { return nil }

// Apply implements FaultAction.
func (a *ReorderAction) Apply(r *runner) error { return r.w.Reorder(a.Window) }

// Shrink implements FaultAction.
func (a *ReorderAction) Shrink(int) (FaultAction, bool) { return a, true }
