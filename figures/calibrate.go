package figures

import (
	"fmt"
	"math"
	"slices"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// CalibratedProfile is the environment profile raftsim calibrate fits.
const CalibratedProfile = "slimerjs-2015"

// The bounds of the calibration's three free parameters. Handler cost:
// from a tenth of a millisecond (a modern engine handles a message in
// 0.03 ms) to 5 ms a message, past which figure 4's 100 commands at 41
// nodes would take several times the paper's 12.8 s. Poll cost: from
// nothing to 200 ms a poll, twice the start-up harness's 100 ms wait.
// Tab load: from nothing to a whole core per browser
// (world.tab_load's own bounds).
const (
	MinHandlerCost = 100 * sim.Microsecond
	MaxHandlerCost = 5 * sim.Millisecond
	MinPollCost    = 0
	MaxPollCost    = 200 * sim.Millisecond
	MinTabLoad     = 0.0
	MaxTabLoad     = 1.0
)

// FitTargets are the figures a calibration fits: those the paper gives
// data for. FitPredictions are predicted from the fit, never fitted.
var (
	FitTargets     = []int{3, 4, 5}
	FitPredictions = []int{6, 7}
)

// PaperFigures returns the paper's figures with the given numbers, in
// that order, with sizes up to maxNodes only.
func PaperFigures(numbers []int, maxNodes int) []Figure {
	var out []Figure
	for _, n := range numbers {
		i := slices.IndexFunc(Paper(), func(f Figure) bool { return f.Number == n })
		if i >= 0 {
			out = append(out, Paper()[i].UpTo(maxNodes))
		}
	}
	return out
}

// Costs are a profile's fitted values.
type Costs struct {
	HandlerCost sim.Time // every handled message or timer
	PollCost    sim.Time // every poll of a measure (its mean)
	TabLoad     float64  // each browser's background share of a core
}

// String gives the costs as a report names them.
func (c Costs) String() string {
	return fmt.Sprintf("handler cost %v, poll cost %v, tab load %.3f", c.HandlerCost, c.PollCost, c.TabLoad)
}

// Apply sets the costs on sc: its world's handler cost and tab load, and
// every measure's poll cost.
func (c Costs) Apply(sc *scenarios.Scenario) {
	sc.World.HandlerCost = c.HandlerCost
	sc.World.TabLoad = c.TabLoad
	for i := range sc.Measures {
		sc.Measures[i].PollCost = c.PollCost
	}
}

// ProfileCosts reads the costs profile gives figure 3's scenario (from
// the scenarios directory dir): where a calibration starts.
func ProfileCosts(dir, profile string) (Costs, error) {
	sc, err := Paper()[0].Scenario(dir, 1, profile)
	if err != nil {
		return Costs{}, fmt.Errorf("reading profile %s's costs: %w", profile, err)
	}
	if len(sc.Measures) == 0 {
		return Costs{}, fmt.Errorf("reading profile %s's costs: %s has no measure", profile, Paper()[0].File)
	}
	return Costs{HandlerCost: sc.World.HandlerCost, PollCost: sc.Measures[0].PollCost, TabLoad: sc.World.TabLoad}, nil
}

// CostParams returns the calibration's free parameters, starting at c
// (clamped into the bounds): handler cost in µs (step 500, whole µs),
// poll cost in ms (step 20, whole µs) and tab load in cores (step 0.1,
// to a thousandth).
func CostParams(c Costs) []Param {
	us, msf := float64(sim.Microsecond), float64(sim.Millisecond)
	h := min(max(c.HandlerCost, MinHandlerCost), MaxHandlerCost)
	p := min(max(c.PollCost, MinPollCost), MaxPollCost)
	l := min(max(c.TabLoad, MinTabLoad), MaxTabLoad)
	return []Param{
		{Name: "handler cost", Unit: "µs", Start: float64(h) / us, Lo: float64(MinHandlerCost) / us, Hi: float64(MaxHandlerCost) / us, Step: 500, Round: 1},
		{Name: "poll cost", Unit: "ms", Start: float64(p) / msf, Lo: float64(MinPollCost) / msf, Hi: float64(MaxPollCost) / msf, Step: 20, Round: 0.001},
		{Name: "tab load", Unit: "cores", Start: l, Lo: MinTabLoad, Hi: MaxTabLoad, Step: 0.1, Round: 0.001},
	}
}

// CostsAt returns the costs at a point of CostParams' parameters.
func CostsAt(x []float64) Costs {
	return Costs{
		HandlerCost: sim.Time(math.Round(x[0] * float64(sim.Microsecond))),
		PollCost:    sim.Time(math.Round(x[1] * float64(sim.Millisecond))),
		TabLoad:     x[2],
	}
}

// Runner runs the paper's figures in a profile with given costs.
type Runner struct {
	Dir     string // the scenarios directory
	Seeds   int    // seeds a point
	Workers int    // runs at once (0: one per CPU); results do not depend on it
	Profile string // the environment profile, applied before the costs
}

// Curves runs fig's sweep with the runner's profile and then costs c,
// and returns its curves.
func (r Runner) Curves(fig Figure, c Costs) ([]Curve, error) {
	sc, err := fig.Scenario(r.Dir, r.Seeds, r.Profile)
	if err != nil {
		return nil, err
	}
	c.Apply(sc)
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("figure %d with %+v: %w", fig.Number, c, err)
	}
	res, err := scenarios.RunSweep(sc, scenarios.SweepOptions{Workers: r.Workers})
	if err != nil {
		return nil, fmt.Errorf("figure %d: %w", fig.Number, err)
	}
	return fig.Curves(res)
}

// Errors runs figs with costs c and returns every curve's error against
// the paper (curves without the paper's data are left out).
func (r Runner) Errors(figs []Figure, c Costs) ([]CurveError, error) {
	var out []CurveError
	for _, fig := range figs {
		curves, err := r.Curves(fig, c)
		if err != nil {
			return nil, err
		}
		out = append(out, fig.Errors(curves)...)
	}
	return out, nil
}

// Worst is a calibration's objective: the largest of the curves' errors,
// +Inf if any is NaN (no size in common with the paper) or there is none.
func Worst(errs []CurveError) float64 {
	if len(errs) == 0 {
		return math.Inf(1)
	}
	w := 0.0
	for _, e := range errs {
		if math.IsNaN(e.Error) {
			return math.Inf(1)
		}
		w = max(w, e.Error)
	}
	return w
}
