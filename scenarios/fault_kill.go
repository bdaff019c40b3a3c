package scenarios

// KillAction closes the targeted tabs cleanly: memory and timers gone,
// storage kept, datachannels closed (peers see the close at once).
type KillAction struct {
	Target `yaml:",inline"`
}

func init() {
	registerFault(faultKind{key: "kill", new: func() FaultAction { return &KillAction{} }})
}

// Key implements FaultAction.
func (a *KillAction) Key() string { return "kill" }

// Validate implements FaultAction.
func (a *KillAction) Validate(c *faultCheck) error { return c.target("", &a.Target) }

// Apply implements FaultAction.
func (a *KillAction) Apply(r *runner) error {
	for _, id := range r.pick(&a.Target, "kill") {
		r.w.Kill(id)
	}
	return nil
}

// Shrink implements FaultAction.
func (a *KillAction) Shrink(k int) (FaultAction, bool) {
	t, ok := a.Target.shrink(k)
	return &KillAction{t}, ok
}

// shrink is the target on k nodes: the listed nodes above k go; ok false
// if it then picks nothing.
func (t Target) shrink(k int) (Target, bool) {
	t.Nodes = keepNodes(t.Nodes, k)
	return t, t.All || t.Leader || t.Count.Of(k) > 0 || len(t.Nodes) > 0
}

// Swarm windows: crashes (tabs killed, restarted from storage at the
// window's end) and churn (the leader's tab closes, then comes back).
func init() {
	registerSwarmKind(swarmKind{kind: KindCrash, rank: 60, minNodes: 1, window: func(w *swarmWindow) []Fault {
		// Up to a minority, but now and then a majority: a cluster that
		// loses its majority must stay safe, and recover after.
		k := 1 + w.r.IntN(max(1, (w.n-1)/2))
		if w.r.IntN(5) == 0 {
			k = 1 + w.r.IntN(w.n)
		}
		ids := w.nodes(k)
		return []Fault{{Name: "crash", Trigger: w.at(w.t), Action: &KillAction{Target{Nodes: ids}}},
			{Name: "restart", Trigger: w.at(w.end), Action: &RestartAction{Nodes: ids}}}
	}})
	registerSwarmKind(swarmKind{kind: KindChurn, rank: 110, minNodes: 2, window: func(w *swarmWindow) []Fault {
		return []Fault{{Name: "close-leader", Trigger: w.at(w.t), Action: &KillAction{Target{Leader: true}}},
			{Name: "reopen", Trigger: w.at(w.end), Action: &RestartAction{Killed: true}}}
	}})
}
