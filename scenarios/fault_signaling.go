package scenarios

// SignalingAction (signaling: down | up) stops or restarts the signaling
// server.
type SignalingAction string

func init() {
	registerFault(faultKind{key: "signaling", new: func() FaultAction { return new(SignalingAction) },
		name: func(a FaultAction) string { return "signaling-" + string(*a.(*SignalingAction)) }})
}

// signaling is a signaling action, for steps built in code.
func signaling(state string) *SignalingAction { s := SignalingAction(state); return &s }

// Key implements FaultAction.
func (a *SignalingAction) Key() string { return "signaling" }

// Validate implements FaultAction.
func (a *SignalingAction) Validate(c *faultCheck) error {
	if *a != "down" && *a != "up" {
		return c.errAt("", "want down or up, got %q", string(*a))
	}
	return nil
}

// Apply implements FaultAction.
func (a *SignalingAction) Apply(r *runner) error { return r.w.Signaling(*a == "up") }

// Shrink implements FaultAction.
func (a *SignalingAction) Shrink(int) (FaultAction, bool) { return a, true }

// Swarm window: a signaling outage.
func init() {
	registerSwarmKind(swarmKind{kind: KindSignaling, rank: 100, minNodes: 1, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "outage", Trigger: w.at(w.t), Action: signaling("down")},
			{Name: "back", Trigger: w.at(w.end), Action: signaling("up")}}
	}})
}
