package scenarios

import (
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// PartitionAction cuts links between groups of nodes (both ways, or with
// OneWay only from the first group to the others: an asymmetric
// partition), or one way from From to To. Isolate makes the groups when
// the step fires: the tabs it picks (the leader, say, as Jepsen's
// nemeses isolate primaries) against all the others.
type PartitionAction struct {
	Groups  [][]uint64 `yaml:"groups" bound:"node" maxlen:"1001"`
	Isolate *Target    `yaml:"isolate"`
	OneWay  bool       `yaml:"one_way"`
	From    uint64     `yaml:"from" bound:"node"`
	To      uint64     `yaml:"to" bound:"node"`
}

func init() {
	registerFault(faultKind{key: "partition", new: func() FaultAction { return &PartitionAction{} }})
}

// Key implements FaultAction.
func (a *PartitionAction) Key() string { return "partition" }

// Validate implements FaultAction.
func (a *PartitionAction) Validate(c *faultCheck) error {
	if a.Isolate != nil {
		if len(a.Groups) > 0 || a.From != 0 || a.To != 0 {
			return c.errAt("isolate", "give isolate, groups, or from and to, not several")
		}
		return c.target("isolate", a.Isolate)
	}
	for g, ids := range a.Groups {
		if err := c.nodes(fmt.Sprintf("groups[%d]", g), ids); err != nil {
			return err
		}
	}
	if len(a.Groups) > 0 {
		return nil
	}
	if err := c.nodes("from", []uint64{a.From}); err != nil {
		return err
	}
	return c.nodes("to", []uint64{a.To})
}

// Apply implements FaultAction.
func (a *PartitionAction) Apply(r *runner) error {
	groups := a.groups()
	if a.Isolate != nil {
		if groups = isolated(r, r.pick(a.Isolate, "partition")); groups == nil {
			return nil
		}
	}
	if groups != nil && a.OneWay {
		for _, from := range groups[0] {
			for _, g := range groups[1:] {
				for _, to := range g {
					r.w.Cut(from, to)
				}
			}
		}
	} else if groups != nil {
		r.w.Partition(groups)
	} else {
		r.w.Cut(raft.ID(a.From), raft.ID(a.To))
	}
	return nil
}

// isolated returns the groups of tabs picked against the others (nil if
// none was picked, or all were).
func isolated(r *runner, picked []raft.ID) [][]raft.ID {
	n := r.w.Nodes()
	if len(picked) == 0 || len(picked) >= n {
		return nil
	}
	var rest []raft.ID
	for id := raft.ID(1); id <= raft.ID(n); id++ {
		if !slices.Contains(picked, id) {
			rest = append(rest, id)
		}
	}
	return [][]raft.ID{picked, rest}
}

// Shrink implements FaultAction: groups lose the nodes above k; a cut of
// a link to a node above k goes.
func (a *PartitionAction) Shrink(k int) (FaultAction, bool) {
	b := *a
	if a.Isolate != nil {
		t := *a.Isolate
		t.Nodes = keepNodes(t.Nodes, k)
		b.Isolate = &t
		return &b, t.Leader || t.All || t.Count.N > 0 || t.Count.Minority || len(t.Nodes) > 0
	}
	if len(a.Groups) == 0 {
		return &b, a.From <= uint64(k) && a.To <= uint64(k)
	}
	b.Groups = nil
	for _, g := range a.Groups {
		if g = keepNodes(g, k); len(g) > 0 {
			b.Groups = append(b.Groups, g)
		}
	}
	return &b, len(b.Groups) >= 2
}

// groups returns a partition step's groups (nil: a one-way cut).
func (a *PartitionAction) groups() [][]raft.ID {
	if len(a.Groups) == 0 {
		return nil
	}
	groups := make([][]raft.ID, len(a.Groups))
	for g, ids := range a.Groups {
		for _, id := range ids {
			groups[g] = append(groups[g], raft.ID(id))
		}
	}
	return groups
}

// Swarm windows: a two-way partition into two groups, and a one-way cut
// of a single link, each healed at the window's end.
func init() {
	registerSwarmKind(swarmKind{kind: KindPartition, rank: 40, minNodes: 2, window: func(w *swarmWindow) []Fault {
		k := 1 + w.r.IntN(w.n-1)
		ids := w.nodes(w.n)
		return []Fault{{Name: "partition", Trigger: w.at(w.t), Action: &PartitionAction{Groups: [][]uint64{ids[:k], ids[k:]}}},
			{Name: "heal", Trigger: w.at(w.end), Action: healAll()}}
	}})
	registerSwarmKind(swarmKind{kind: KindAsymmetric, rank: 180, minNodes: 2, window: func(w *swarmWindow) []Fault {
		k := 1 + w.r.IntN(w.n-1)
		ids := w.nodes(w.n)
		return []Fault{{Name: "one-way", Trigger: w.at(w.t), Action: &PartitionAction{Groups: [][]uint64{ids[:k], ids[k:]}, OneWay: true}},
			{Name: "heal", Trigger: w.at(w.end), Action: healAll()}}
	}})
	// The leader stays cut off for 1-8 s, whatever the window's length:
	// long enough for the others to elect a successor and commit while it
	// still believes it leads.
	registerSwarmKind(swarmKind{kind: KindIsolateLeader, rank: 220, minNodes: 3, window: func(w *swarmWindow) []Fault {
		heal := w.t + logUniform(w.r, sim.Second, 8*sim.Second)
		return []Fault{{Name: "isolate-leader", Trigger: w.at(w.t), Action: &PartitionAction{Isolate: &Target{Leader: true}}},
			{Name: "heal", Trigger: w.at(heal), Action: healAll()}}
	}})
	registerSwarmKind(swarmKind{kind: KindCut, rank: 50, minNodes: 2, window: func(w *swarmWindow) []Fault {
		ids := w.nodes(2)
		return []Fault{{Name: "cut", Trigger: w.at(w.t), Action: &PartitionAction{From: ids[0], To: ids[1]}},
			{Name: "heal", Trigger: w.at(w.end), Action: healAll()}}
	}})
}

// KindIsolateLeader: the leader of the moment cut off from every other
// tab (it goes on believing it leads while the others elect anew),
// healed at the window's end.
const KindIsolateLeader FaultKind = "isolate-leader"

// KindAsymmetric: asymmetric partitions (a group hears the others, they
// do not hear it), healed at the window's end.
const KindAsymmetric FaultKind = "asymmetric"
