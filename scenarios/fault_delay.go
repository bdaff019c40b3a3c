package scenarios

import "github.com/raftsim/raftsim/sim"

// DelayAction holds one message in OneIn (0: none, which ends the
// outliers) Extra longer than its link would: a response can then arrive
// after a leader change, an append after a later one.
type DelayAction struct {
	OneIn int      `yaml:"one_in" bound:"0,1000000"`
	Extra sim.Time `yaml:"extra" bound:"0,1h"`
}

// KindDelay: delay outliers (one message in N held for seconds).
const KindDelay FaultKind = "delay"

func init() {
	registerFault(faultKind{key: "delay", new: func() FaultAction { return &DelayAction{} }, modelOnly: true})
	registerSwarmKind(swarmKind{kind: KindDelay, rank: 190, minNodes: 2, window: func(w *swarmWindow) []Fault {
		a := &DelayAction{OneIn: 5 + w.r.IntN(200), Extra: logUniform(w.r, 50*sim.Millisecond, 5*sim.Second)}
		return []Fault{{Name: "delays", Trigger: w.at(w.t), Action: a},
			{Name: "no-delays", Trigger: w.at(w.end), Action: &DelayAction{}}}
	}})
}

// Key implements FaultAction.
func (a *DelayAction) Key() string { return "delay" }

// Validate implements FaultAction.
func (a *DelayAction) Validate(c *faultCheck) error {
	if a.OneIn > 0 && a.Extra == 0 {
		return c.errAt("extra", "a delay outlier needs a length (extra: 2s)")
	}
	return nil
}

// Apply implements FaultAction.
func (a *DelayAction) Apply(r *runner) error { return r.w.Delay(a.OneIn, a.Extra) }

// Shrink implements FaultAction.
func (a *DelayAction) Shrink(int) (FaultAction, bool) { return a, true }
