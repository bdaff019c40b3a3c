package scenarios

import (
	"fmt"

	"github.com/raftsim/raftsim/raft"
)

// PartitionAction cuts links between groups of nodes (both ways, or with
// OneWay only from the first group to the others: an asymmetric
// partition), or one way from From to To.
type PartitionAction struct {
	Groups [][]uint64 `yaml:"groups" bound:"node" maxlen:"1001"`
	OneWay bool       `yaml:"one_way"`
	From   uint64     `yaml:"from" bound:"node"`
	To     uint64     `yaml:"to" bound:"node"`
}

func init() {
	registerFault(faultKind{key: "partition", new: func() FaultAction { return &PartitionAction{} }})
}

// Key implements FaultAction.
func (a *PartitionAction) Key() string { return "partition" }

// Validate implements FaultAction.
func (a *PartitionAction) Validate(c *faultCheck) error {
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
	if groups := a.groups(); groups != nil && a.OneWay {
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

// Shrink implements FaultAction: groups lose the nodes above k; a cut of
// a link to a node above k goes.
func (a *PartitionAction) Shrink(k int) (FaultAction, bool) {
	b := *a
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
	registerSwarmKind(swarmKind{kind: KindCut, rank: 50, minNodes: 2, window: func(w *swarmWindow) []Fault {
		ids := w.nodes(2)
		return []Fault{{Name: "cut", Trigger: w.at(w.t), Action: &PartitionAction{From: ids[0], To: ids[1]}},
			{Name: "heal", Trigger: w.at(w.end), Action: healAll()}}
	}})
}

// KindAsymmetric: asymmetric partitions (a group hears the others, they
// do not hear it), healed at the window's end.
const KindAsymmetric FaultKind = "asymmetric"
