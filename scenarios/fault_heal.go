package scenarios

// HealAction (heal: true) restores every link cut by partitions, cuts and
// blackholes.
type HealAction bool

func init() {
	registerFault(faultKind{key: "heal", new: func() FaultAction { return new(HealAction) }})
}

// Key implements FaultAction.
func (a *HealAction) Key() string { return "heal" }

// Validate implements FaultAction.
func (a *HealAction) Validate(c *faultCheck) error {
	if !*a {
		return c.errAt("", "write heal: true (heal: false does nothing)")
	}
	return nil
}

// Apply implements FaultAction.
func (a *HealAction) Apply(r *runner) error { r.w.Heal(); return nil }

// Shrink implements FaultAction.
func (a *HealAction) Shrink(int) (FaultAction, bool) { return a, true }

// healAll is a heal action, for steps built in code.
func healAll() *HealAction { h := HealAction(true); return &h }
