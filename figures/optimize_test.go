package figures

import (
	"errors"
	"math"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// calibrationLike are two parameters shaped like the calibration's first
// two: handler cost in µs, poll cost in ms (a plane the tests can reason
// about; the third, tab load, behaves alike).
func calibrationLike() []Param {
	return CostParams(Costs{HandlerCost: 1500 * sim.Microsecond, PollCost: 30 * sim.Millisecond})[:2]
}

// bowl is a cheap synthetic objective with its minimum at (a, b), scaled
// like a relative error.
func bowl(a, b float64) Objective[string] {
	return func(x []float64) (float64, string, error) {
		dx, dy := (x[0]-a)/1000, (x[1]-b)/50
		return dx*dx + dy*dy, "bowl", nil
	}
}

func TestMinimizeFindsAKnownMinimumWithinBounds(t *testing.T) {
	tests := []struct {
		name   string
		f      Objective[string]
		budget int
		want   []float64 // the minimum within bounds
		tol    []float64
	}{
		{"interior", bowl(2300, 55), 80, []float64{2300, 55}, []float64{50, 3}},
		{"start is the minimum", bowl(1500, 30), 40, []float64{1500, 30}, []float64{50, 3}},
		{"below both lower bounds", bowl(-800, -40), 80, []float64{100, 0}, []float64{50, 3}},
		{"above the handler bound", bowl(9000, 120), 80, []float64{5000, 120}, []float64{50, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := calibrationLike()
			fit, err := Minimize(params, tt.budget, tt.f, nil)
			require.NoError(t, err)
			require.LessOrEqual(t, len(fit.Evals), tt.budget)
			assert.Equal(t, "FunctionEvaluationLimit", fit.Status)
			best := fit.Evals[fit.Best]
			for i := range tt.want {
				assert.InDelta(t, tt.want[i], best.X[i], tt.tol[i], "%s at the best point %v", params[i].Name, best.X)
			}
			for i, e := range fit.Evals {
				assert.LessOrEqual(t, best.Value, e.Value, "evaluation %d beats the best", i+1)
			}
		})
	}
}

func TestMinimizeNeverEvaluatesOutsideTheBounds(t *testing.T) {
	params := calibrationLike()
	var seen [][]float64
	// The minimum is far outside both bounds: the optimiser keeps pushing
	// against them.
	f := func(x []float64) (float64, string, error) {
		seen = append(seen, x)
		return x[0]/1000 + x[1]/100, "", nil
	}
	fit, err := Minimize(params, 60, f, nil)
	require.NoError(t, err)
	require.NotEmpty(t, seen)
	for _, x := range seen {
		for i, p := range params {
			assert.GreaterOrEqual(t, x[i], p.Lo, "%s", p.Name)
			assert.LessOrEqual(t, x[i], p.Hi, "%s", p.Name)
		}
		assert.Equal(t, math.Round(x[0]), x[0], "handler cost in whole µs")
	}
	assert.Equal(t, []float64{100, 0}, fit.Evals[fit.Best].X)
	repeats := 0
	for _, e := range fit.Evals {
		if e.Repeat > 0 {
			repeats++
			assert.Equal(t, fit.Evals[e.Repeat-1].X, e.X)
		}
	}
	assert.Equal(t, len(fit.Evals), len(seen)+repeats, "a repeated point is not evaluated again")
}

func TestMinimizeIsDeterministicAndKeepsToItsBudget(t *testing.T) {
	for _, budget := range []int{1, 2, 3, 17} {
		var reported []int
		a, err := Minimize(calibrationLike(), budget, bowl(2300, 55), func(n int, e Evaluation[string]) {
			reported = append(reported, n)
			assert.Equal(t, "bowl", e.Detail)
		})
		require.NoError(t, err)
		assert.Len(t, reported, budget, "every evaluation is reported")
		for i, n := range reported {
			assert.Equal(t, i+1, n)
		}
		b, err := Minimize(calibrationLike(), budget, bowl(2300, 55), nil)
		require.NoError(t, err)
		assert.Equal(t, a, b, "budget %d", budget)
		assert.Len(t, a.Evals, budget)
		assert.Equal(t, []float64{1500, 30}, a.Evals[0].X, "the first evaluation is the start")
	}
}

func TestMinimizeRefusesBadInputsAndStopsOnError(t *testing.T) {
	_, err := Minimize(calibrationLike(), 0, bowl(0, 0), nil)
	assert.ErrorContains(t, err, "budget")
	_, err = Minimize(calibrationLike(), MaxEvals+1, bowl(0, 0), nil)
	assert.ErrorContains(t, err, "budget")
	bad := calibrationLike()
	bad[1].Start = 500
	_, err = Minimize(bad, 10, bowl(0, 0), nil)
	assert.ErrorContains(t, err, "poll cost")

	boom := errors.New("boom")
	calls := 0
	fit, err := Minimize(calibrationLike(), 10, func(x []float64) (float64, string, error) {
		calls++
		if calls == 2 {
			return 0, "", boom
		}
		return 1, "", nil
	}, nil)
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "evaluation 2")
	assert.Equal(t, 2, calls, "no evaluation after an error")
	assert.Len(t, fit.Evals, 1)
}

func TestWorstAndCosts(t *testing.T) {
	errs := []CurveError{{Figure: 3, Single: true, Error: 0.2}, {Figure: 5, ET: 250 * sim.Millisecond, Error: 0.4}}
	assert.Equal(t, 0.4, Worst(errs))
	assert.Equal(t, "fig3", errs[0].Label())
	assert.Equal(t, "fig5 ET 250ms", errs[1].Label())
	assert.True(t, math.IsInf(Worst(nil), 1))
	assert.True(t, math.IsInf(Worst(append(errs, CurveError{Error: math.NaN()})), 1))
	c := Costs{HandlerCost: 1234 * sim.Microsecond, PollCost: 31500 * sim.Microsecond, TabLoad: 0.25}
	assert.Equal(t, c, CostsAt([]float64{1234, 31.5, 0.25}))
	p := CostParams(c)
	assert.Equal(t, []float64{1234, 31.5, 0.25}, []float64{p[0].Start, p[1].Start, p[2].Start})
	assert.Equal(t, []float64{100, 5000, 0, 200, 0, 1}, []float64{p[0].Lo, p[0].Hi, p[1].Lo, p[1].Hi, p[2].Lo, p[2].Hi})
	assert.Equal(t, 1.0, CostParams(Costs{TabLoad: 7})[2].Start, "clamped into its bounds")
}

func TestCalibrationFiguresAndPoints(t *testing.T) {
	targets := PaperFigures(FitTargets, 9)
	require.Len(t, targets, 3)
	assert.Equal(t, []int{1, 3, 5, 7, 9}, targets[0].Nodes)
	assert.Len(t, Paper()[0].Nodes, 21, "UpTo does not touch Paper()")
	for _, f := range PaperFigures(FitPredictions, 41) {
		assert.Empty(t, f.Paper, "figure %d is a prediction: the paper has no data for it", f.Number)
	}
	n, err := targets[2].PaperPoints()
	require.NoError(t, err)
	assert.Equal(t, 4+4+5, n, "figure 5 up to 9 nodes: the paper has a 1-node run at ET 1s only")
	total := 0
	for _, f := range PaperFigures(FitTargets, 41) {
		n, err := f.PaperPoints()
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, 21+21+17+17+18, total)
}
