package scenarios

// KindMembershipBurst: several membership changes requested at once (an
// operator or a script removing two tabs, then adding them back), which
// Raft must take one at a time: the leader refuses a change while an
// earlier one is uncommitted (single-server changes, Raft dissertation
// §4.1), and refusals are traced.
const KindMembershipBurst FaultKind = "membership-burst"

func init() {
	registerSwarmKind(swarmKind{kind: KindMembershipBurst, rank: 230, minNodes: 4, window: func(w *swarmWindow) []Fault {
		ids := w.nodes(2)
		return []Fault{{Name: "remove-two", Trigger: w.at(w.t), Action: &ReconfigureAction{Remove: ids}},
			{Name: "add-two", Trigger: w.at(w.end), Action: &ReconfigureAction{Add: ids}}}
	}})
}
