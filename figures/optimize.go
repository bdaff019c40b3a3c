package figures

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// Param is one free parameter of a fit: where it starts, the bounds no
// evaluation leaves, and the step of the optimiser's first simplex.
type Param struct {
	Name   string  // e.g. "handler cost"
	Unit   string  // e.g. "µs"
	Start  float64 // the starting value, within [Lo, Hi]
	Lo, Hi float64 // every evaluated value is within them
	Step   float64 // the first simplex's step from Start (> 0)
	Round  float64 // evaluated values are multiples of Round (0: not rounded)
}

// Evaluation is one call of a fit's objective.
type Evaluation[T any] struct {
	X      []float64 // the parameters, each within its bounds
	Value  float64   // the objective (+Inf for NaN)
	Detail T         // what the objective reported beside its value
	// Repeat, if positive, is the 1-based number of an earlier
	// evaluation at the same X, whose value and detail were reused
	// without calling the objective again.
	Repeat int
}

// Fit is what Minimize found: every evaluation in order and the best.
type Fit[T any] struct {
	Evals  []Evaluation[T]
	Best   int    // index in Evals of the lowest Value (the first if tied)
	Status string // why the optimiser stopped (gonum's status)
}

// Objective evaluates a fit's parameters, always within their bounds,
// and returns the value to minimise and any detail to keep with it.
type Objective[T any] func(x []float64) (float64, T, error)

// MaxEvals bounds the evaluation budget of Minimize.
const MaxEvals = 500

// Minimize minimises objective over params by Nelder-Mead (gonum's
// optimize.NelderMead), calling it at most maxEvals times (1..MaxEvals),
// one call at a time.
//
// The optimiser moves in steps: its coordinate i is (x_i - Start_i) /
// Step_i, so the first simplex is Start and Start plus one Step in each
// parameter. A point it proposes is clamped into [Lo, Hi] and rounded to
// Round before the objective sees it, so no evaluation is out of bounds;
// the optimiser is told the value there plus a penalty of (1 + |value|)
// per step outside, which leads it back inside. A point evaluated before
// is not evaluated again (the objective is taken to be deterministic):
// its earlier result is reused, and recorded as a repeat. Every call the
// optimiser makes, repeat or not, counts towards maxEvals. If report is
// not nil it is called after each evaluation with its 1-based number.
func Minimize[T any](params []Param, maxEvals int, objective Objective[T], report func(n int, e Evaluation[T])) (*Fit[T], error) {
	if err := checkParams(params, maxEvals); err != nil {
		return nil, err
	}
	fit := &Fit[T]{}
	var failed error
	problem := optimize.Problem{
		Func: func(z []float64) float64 {
			if failed != nil || len(fit.Evals) >= maxEvals {
				return math.Inf(1)
			}
			x, outside := toParams(params, z)
			e, err := fit.evaluate(x, objective)
			if err != nil {
				failed = fmt.Errorf("evaluation %d at %v: %w", len(fit.Evals)+1, x, err)
				return math.Inf(1)
			}
			if report != nil {
				report(len(fit.Evals), e)
			}
			return e.Value + outside*(1+math.Abs(e.Value))
		},
		Status: func() (optimize.Status, error) {
			if failed != nil {
				return optimize.Failure, failed
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{FuncEvaluations: maxEvals, Converger: optimize.NeverTerminate{}, Concurrent: 1}
	res, err := optimize.Minimize(problem, make([]float64, len(params)), settings, &optimize.NelderMead{SimplexSize: 1})
	if failed != nil {
		return fit, failed
	}
	if err != nil {
		return fit, fmt.Errorf("nelder-mead: %w", err)
	}
	fit.Status = res.Status.String()
	return fit, nil
}

// evaluate calls objective at x, or reuses an earlier evaluation there,
// and records the evaluation.
func (fit *Fit[T]) evaluate(x []float64, objective Objective[T]) (Evaluation[T], error) {
	for i, e := range fit.Evals {
		if e.Repeat == 0 && slices.Equal(e.X, x) {
			e.Repeat = i + 1
			fit.Evals = append(fit.Evals, e)
			return e, nil
		}
	}
	v, detail, err := objective(slices.Clone(x))
	if err != nil {
		return Evaluation[T]{}, err
	}
	if math.IsNaN(v) {
		v = math.Inf(1)
	}
	e := Evaluation[T]{X: x, Value: v, Detail: detail}
	fit.Evals = append(fit.Evals, e)
	if v < fit.Evals[fit.Best].Value {
		fit.Best = len(fit.Evals) - 1
	}
	return e, nil
}

// toParams maps the optimiser's coordinates to parameters within their
// bounds, and says how many steps outside the bounds z was.
func toParams(params []Param, z []float64) (x []float64, outside float64) {
	x = make([]float64, len(params))
	for i, p := range params {
		v := p.Start + p.Step*z[i]
		if math.IsNaN(v) {
			v = p.Start
		}
		c := min(max(v, p.Lo), p.Hi)
		outside += math.Abs(v-c) / p.Step
		if p.Round > 0 {
			c = math.Round(c/p.Round) * p.Round
		}
		x[i] = min(max(c, p.Lo), p.Hi)
	}
	return x, outside
}

// checkParams refuses parameters the optimiser cannot use.
func checkParams(params []Param, maxEvals int) error {
	if maxEvals < 1 || maxEvals > MaxEvals {
		return fmt.Errorf("evaluation budget %d: want 1..%d", maxEvals, MaxEvals)
	}
	if len(params) == 0 {
		return errors.New("no free parameter")
	}
	for _, p := range params {
		ok := p.Lo <= p.Start && p.Start <= p.Hi && p.Step > 0 && p.Round >= 0 &&
			!math.IsInf(p.Lo, 0) && !math.IsInf(p.Hi, 0) && !math.IsInf(p.Step, 0)
		if !ok {
			return fmt.Errorf("parameter %s: want finite Lo <= Start <= Hi, Step > 0, Round >= 0, got %+v", p.Name, p)
		}
	}
	return nil
}
