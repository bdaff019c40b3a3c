package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Fault steps as a registry: each kind of step lives in one file
// (fault_*.go) that bundles its YAML form (the action type), its
// validation, its application to a world, its shrinking and, for the
// kinds the swarm draws, its generation (swarm.go's window generators).
// Adding a kind touches that file and, if the worlds lack the capability,
// World.

// FaultAction is what a fault step does; its type is its YAML form.
type FaultAction interface {
	// Key is the step's YAML key ("kill", "partition", ...).
	Key() string
	// Validate checks the action (c gives the scenario and the field).
	Validate(c *faultCheck) error
	// Apply applies it through the runner to the runner's world.
	Apply(r *runner) error
	// Shrink returns the action on a cluster of k nodes, or ok false if
	// nothing is left for it to act on.
	Shrink(k int) (a FaultAction, ok bool)
}

// faultKind is a registered kind of fault step.
type faultKind struct {
	key string
	// new returns a fresh action to decode into (a pointer).
	new func() FaultAction
	// name is the default step name of an action (actionName).
	name func(a FaultAction) string
	// modelOnly: the real stack cannot apply it (it is refused before a
	// run there starts).
	modelOnly bool
}

var faultRegistry = map[string]faultKind{}

// registerFault adds a kind of fault step (from its file's init, or a
// test); it returns a function that removes it again.
func registerFault(k faultKind) (unregister func()) {
	if _, dup := faultRegistry[k.key]; dup {
		panic("scenarios: fault kind " + k.key + " registered twice")
	}
	faultRegistry[k.key] = k
	return func() { delete(faultRegistry, k.key) }
}

// FaultKeys lists the YAML keys of every kind of fault step, sorted.
func FaultKeys() []string {
	keys := make([]string, 0, len(faultRegistry))
	for k := range faultRegistry {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// faultCheck is what a kind's Validate needs: the scenario, the step's
// field path and the measures defined.
type faultCheck struct {
	sc    *Scenario
	field string // "faults[i].KEY"
}

// errAt is a positioned error at sub (relative to the action's field; ""
// is the action itself).
func (c *faultCheck) errAt(sub, format string, args ...any) error {
	return c.sc.errAt(joinField(c.field, sub), format, args...)
}

// nodes checks that ids name tabs of the cluster.
func (c *faultCheck) nodes(sub string, ids []uint64) error {
	n := c.sc.Cluster.Nodes
	for j, id := range ids {
		if id < 1 || id > uint64(n) {
			return c.errAt(fmt.Sprintf("%s[%d]", sub, j), "node %d does not exist (nodes are 1..%d)", id, n)
		}
	}
	return nil
}

// target checks a target at sub.
func (c *faultCheck) target(sub string, t *Target) error {
	return c.sc.validateTarget(joinField(c.field, sub), t)
}

// keepNodes returns the ids at most k.
func keepNodes(ids []uint64, k int) []uint64 {
	var out []uint64
	for _, id := range ids {
		if id <= uint64(k) {
			out = append(out, id)
		}
	}
	return out
}

// decodeYAML reads a fault step: its name and trigger, and exactly one
// action, whose key picks the registered kind.
func (f *Fault) decodeYAML(d *decoder, n *yaml.Node, field string) error {
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, field, "want a mapping of fields, got a %s", nodeKindName(n.Kind))
	}
	var common yaml.Node
	common.Kind, common.Line, common.Column = yaml.MappingNode, n.Line, n.Column
	var actions []*yaml.Node // key, value pairs
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := faultRegistry[k.Value]; ok {
			actions = append(actions, k, n.Content[i+1])
		} else {
			common.Content = append(common.Content, k, n.Content[i+1])
		}
	}
	if err := d.decodeStruct(&common, reflect.ValueOf(f).Elem(), field); err != nil {
		if strings.Contains(err.Error(), "unknown field") {
			return d.errAt(n, field, "%v (fault actions: %s)", err, strings.Join(FaultKeys(), ", "))
		}
		return err
	}
	if len(actions) != 2 {
		return d.errAt(n, field, "a fault step needs exactly one action (%s), got %d", strings.Join(FaultKeys(), ", "), len(actions)/2)
	}
	a := faultRegistry[actions[0].Value].new()
	sub := joinField(field, actions[0].Value)
	d.pos[sub] = pos{actions[1].Line, actions[1].Column}
	if err := d.decode(actions[1], reflect.ValueOf(a).Elem(), sub); err != nil {
		return err
	}
	f.Action = a
	return nil
}

// encodeFault writes a fault step: name and trigger, then the action.
func encodeFault(f Fault) (*yaml.Node, error) {
	m, err := encodeStruct(reflect.ValueOf(f), reflect.ValueOf(Fault{}))
	if err != nil || f.Action == nil {
		return m, err
	}
	v := reflect.ValueOf(f.Action).Elem()
	n, err := encodeValue(v, reflect.Zero(v.Type()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Action.Key(), err)
	}
	if n == nil {
		n = &yaml.Node{Kind: yaml.MappingNode} // an action with every field left out
	}
	m.Content = append(m.Content, scalar("!!str", f.Action.Key()), n)
	return m, nil
}

// actionName is a step's default name.
func (f *Fault) actionName() string {
	if f.Action == nil {
		return "fault"
	}
	if k := faultRegistry[f.Action.Key()]; k.name != nil {
		return k.name(f.Action)
	}
	return f.Action.Key()
}

// validateAction checks the step's action.
func (sc *Scenario) validateAction(i int, f *Fault) error {
	field := fmt.Sprintf("faults[%d]", i)
	if f.Action == nil {
		return sc.errAt(field, "a fault step needs exactly one action (%s), got 0", strings.Join(FaultKeys(), ", "))
	}
	return f.Action.Validate(&faultCheck{sc: sc, field: joinField(field, f.Action.Key())})
}

// shrinkFaults keeps the steps of faults that still act on something on
// k nodes, shrunk to them.
func shrinkFaults(faults []Fault, k int) []Fault {
	var out []Fault
	for _, f := range faults {
		a, ok := f.Action.Shrink(k)
		if ok {
			f.Action = a
			out = append(out, f)
		}
	}
	return out
}

// isAction reports whether f's action is of the given key.
func (f *Fault) isAction(key string) bool { return f.Action != nil && f.Action.Key() == key }

// faultKeysOf lists the action keys of faults, in order.
func faultKeysOf(faults []Fault) []string {
	var keys []string
	for _, f := range faults {
		if f.Action != nil && !slices.Contains(keys, f.Action.Key()) {
			keys = append(keys, f.Action.Key())
		}
	}
	return keys
}
