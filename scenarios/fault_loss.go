package scenarios

// LossAction changes every link's loss and duplication rates.
type LossAction struct {
	Loss      float64 `yaml:"loss" bound:"0,1"`
	Duplicate float64 `yaml:"duplicate" bound:"0,1"`
}

func init() {
	registerFault(faultKind{key: "loss", new: func() FaultAction { return &LossAction{} }})
}

// Key implements FaultAction.
func (a *LossAction) Key() string { return "loss" }

// Validate implements FaultAction.
func (a *LossAction) Validate(c *faultCheck) error {
	if a.Loss == 1 {
		return c.errAt("loss", "must be below 1 (a link that loses everything is a partition)")
	}
	return nil
}

// Apply implements FaultAction.
func (a *LossAction) Apply(r *runner) error { r.w.SetLoss(a.Loss, a.Duplicate); return nil }

// Shrink implements FaultAction.
func (a *LossAction) Shrink(int) (FaultAction, bool) { return a, true }
