package scenarios

import "github.com/raftsim/raftsim/sim"

// ReplayAction sends Share of the messages again (0: none, which ends
// the replays), each copy arriving up to After later: old appends, votes,
// responses and snapshot chunks from earlier terms reach their peers.
type ReplayAction struct {
	Share float64  `yaml:"share" bound:"0,1"`
	After sim.Time `yaml:"after" bound:"0,1h"`
}

// KindReplay: old messages replayed late.
const KindReplay FaultKind = "replay"

func init() {
	registerFault(faultKind{key: "replay", new: func() FaultAction { return &ReplayAction{} }, modelOnly: true})
	registerSwarmKind(swarmKind{kind: KindReplay, rank: 200, minNodes: 2, window: func(w *swarmWindow) []Fault {
		a := &ReplayAction{Share: 0.01 + 0.2*w.r.Float64(), After: logUniform(w.r, 50*sim.Millisecond, 5*sim.Second)}
		return []Fault{{Name: "replays", Trigger: w.at(w.t), Action: a},
			{Name: "no-replays", Trigger: w.at(w.end), Action: &ReplayAction{}}}
	}})
}

// Key implements FaultAction.
func (a *ReplayAction) Key() string { return "replay" }

// Validate implements FaultAction.
func (a *ReplayAction) Validate(c *faultCheck) error {
	if a.Share > 0 && a.After == 0 {
		return c.errAt("after", "replays need a lateness (after: 2s)")
	}
	return nil
}

// Apply implements FaultAction.
func (a *ReplayAction) Apply(r *runner) error { return r.w.Replay(a.Share, a.After) }

// Shrink implements FaultAction.
func (a *ReplayAction) Shrink(int) (FaultAction, bool) { return a, true }
