package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/figures"
	"github.com/raftsim/raftsim/internal/outfile"
	"github.com/spf13/cobra"
)

type calibrateFlags struct {
	out       string
	scenarios string
	seeds     int
	maxEvals  int
	workers   int
	maxNodes  int
}

// Bounds of calibrate's flags.
const (
	maxCalibrateSeeds = 1000
	paperMaxNodes     = 41 // the paper's largest cluster
	minCalibrateNodes = 3  // every figure keeps a size with the paper's data
)

// Kinds of calibrate's outputs.
var (
	calibrationReport = outfile.Markdown
	calibrationFit    = outfile.Prefixed("raftsim calibration fit", "# raftsim calibrate")
)

func newCalibrateCmd(stdout, stderr io.Writer) *cobra.Command {
	var f calibrateFlags
	cmd := &cobra.Command{
		Use:   "calibrate",
		Short: "Fit the slimerjs-2015 profile's three costs to the paper's figures 3-5",
		Long: `calibrate fits the slimerjs-2015 environment profile's three fitted values,
the handler cost (every handled message or timer; 100 us..5 ms), the
poll cost (the mean of every poll of a measure; 0..200 ms) and the tab
load (each browser's background share of a core, of the profile's 8
shared cores; 0..1), to the paper's data, by
Nelder-Mead (gonum) starting from the profile's current values. The
objective is the worst curve's mean relative error over figures 3, 4 and
5 (five curves), each evaluation running those figures' sweeps at --seeds
seeds a point. Figures 6 and 7 are never fitted: they are run once at the
start and at the best point, as predictions.

Output, inside DIR (created if need be; written as raftsim figures writes,
to a temporary file renamed into place, replacing only raftsim's own
files): calibration.md, the report (the command to rerun it, every
evaluation in order, the best point, the predictions), and
slimerjs-2015-fit.yaml, the fitted values. calibrate does not edit
scenarios/envprofile.go: applying a fit is a reviewed human step.

The simulator is deterministic: the same flags give the same evaluations
and fit, whatever --workers. --max-nodes N sweeps only the sizes up to N
nodes (the paper's go to 41): a quick, rougher fit, and the tests' way to
keep a calibration short.`,
		Example: `  raftsim calibrate --out out/calibrate
  raftsim calibrate --seeds 5 --max-evals 20 --max-nodes 21`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return runCalibrate(&f, stdout, stderr) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "out/calibrate", "write the report and the fit into `DIR`")
	fl.StringVar(&f.scenarios, "scenarios", "scenarios", "the scenario files' `DIR`")
	fl.IntVar(&f.seeds, "seeds", 20, fmt.Sprintf("seeds a point (1..%d)", maxCalibrateSeeds))
	fl.IntVar(&f.maxEvals, "max-evals", 40, fmt.Sprintf("evaluation budget (1..%d)", figures.MaxEvals))
	fl.IntVar(&f.workers, "workers", 0, "runs at once (default: one per CPU)")
	fl.IntVar(&f.maxNodes, "max-nodes", paperMaxNodes, fmt.Sprintf("sweep only sizes up to `N` nodes (%d..%d)", minCalibrateNodes, paperMaxNodes))
	return cmd
}

// checkCalibrateFlags refuses flag values out of their bounds.
func checkCalibrateFlags(f *calibrateFlags) error {
	switch {
	case f.out == "":
		return &usageError{fmt.Errorf("--out needs a directory")}
	case f.seeds < 1 || f.seeds > maxCalibrateSeeds:
		return &usageError{fmt.Errorf("--seeds must be in 1..%d, got %d", maxCalibrateSeeds, f.seeds)}
	case f.maxEvals < 1 || f.maxEvals > figures.MaxEvals:
		return &usageError{fmt.Errorf("--max-evals must be in 1..%d, got %d", figures.MaxEvals, f.maxEvals)}
	case f.workers < 0 || f.workers > maxFuzzWorkers:
		return &usageError{fmt.Errorf("--workers must be in 0..%d (0: one per CPU), got %d", maxFuzzWorkers, f.workers)}
	case f.maxNodes < minCalibrateNodes || f.maxNodes > paperMaxNodes:
		return &usageError{fmt.Errorf("--max-nodes must be in %d..%d, got %d", minCalibrateNodes, paperMaxNodes, f.maxNodes)}
	}
	return nil
}

// calibration is what calibrate found, for its report and fit file.
type calibration struct {
	f              *calibrateFlags
	params         []figures.Param
	targets, preds []figures.Figure
	points         int   // the paper's data points fitted
	pointsBy       []int // of them, each target figure's
	runs           int   // runs an evaluation
	fit            *figures.Fit[[]figures.CurveError]
	// predStart and predBest are the predictions' curves (one entry per
	// figure of preds) at the start and at the best point.
	predStart, predBest [][]figures.Curve
	wall                time.Duration
}

func (c *calibration) start() figures.Costs { return figures.CostsAt(c.fit.Evals[0].X) }
func (c *calibration) best() figures.Costs {
	return figures.CostsAt(c.fit.Evals[c.fit.Best].X)
}

func runCalibrate(f *calibrateFlags, stdout, stderr io.Writer) error {
	if err := checkCalibrateFlags(f); err != nil {
		return err
	}
	t0 := time.Now()
	c := &calibration{f: f, targets: figures.PaperFigures(figures.FitTargets, f.maxNodes), preds: figures.PaperFigures(figures.FitPredictions, f.maxNodes)}
	start, err := c.prepare()
	if err != nil {
		return err
	}
	d, err := outfile.Open(f.out)
	if err != nil {
		return &exitError{exitFailed, err}
	}
	defer d.Close()
	r := figures.Runner{Dir: f.scenarios, Seeds: f.seeds, Workers: f.workers, Profile: figures.CalibratedProfile}
	fmt.Fprintf(stderr, "calibrate: figures %s, %d seeds a point, %d runs an evaluation, at most %d evaluations\n",
		figureNumbers(c.targets), f.seeds, c.runs, f.maxEvals)
	if c.fit, err = minimizeCosts(r, c, start, stderr); err != nil {
		return &exitError{exitFailed, fmt.Errorf("calibrating: %w", err)}
	}
	if err := c.predict(r, stderr); err != nil {
		return &exitError{exitFailed, fmt.Errorf("predicting figures %s: %w", figureNumbers(c.preds), err)}
	}
	c.wall = time.Since(t0)
	if _, err := d.Write("calibration.md", calibrationReport, func(w io.Writer) error { return writeCalibrationReport(w, c) }); err != nil {
		return &exitError{exitFailed, err}
	}
	if _, err := d.Write(fitFileName, calibrationFit, func(w io.Writer) error { return writeCalibrationFit(w, c) }); err != nil {
		return &exitError{exitFailed, err}
	}
	best := c.fit.Evals[c.fit.Best]
	fmt.Fprintf(stdout, "calibrate done in %.1f s: %d evaluations; best #%d: %v, worst error %.1f%%; wrote %s\n",
		c.wall.Seconds(), len(c.fit.Evals), c.fit.Best+1, c.best(), 100*best.Value, f.out)
	return nil
}

const fitFileName = figures.CalibratedProfile + "-fit.yaml"

// prepare loads every figure's scenario (a missing or bad one is a usage
// error, found before any run), counts the runs and data points, and
// returns the profile's current costs: where the fit starts.
func (c *calibration) prepare() (figures.Costs, error) {
	for _, fig := range c.targets {
		sc, err := fig.Scenario(c.f.scenarios, c.f.seeds, figures.CalibratedProfile)
		if err != nil {
			return figures.Costs{}, &exitError{exitUsage, err}
		}
		n, err := fig.PaperPoints()
		if err != nil {
			return figures.Costs{}, &exitError{exitFailed, err}
		}
		c.runs += len(sc.Jobs(0, 0))
		c.points += n
		c.pointsBy = append(c.pointsBy, n)
	}
	for _, fig := range c.preds {
		if _, err := fig.Scenario(c.f.scenarios, c.f.seeds, figures.CalibratedProfile); err != nil {
			return figures.Costs{}, &exitError{exitUsage, err}
		}
	}
	start, err := figures.ProfileCosts(c.f.scenarios, figures.CalibratedProfile)
	if err != nil {
		return figures.Costs{}, &exitError{exitUsage, err}
	}
	c.params = figures.CostParams(start)
	return start, nil
}

// minimizeCosts runs the optimiser over the costs, a progress line
// on stderr per evaluation.
func minimizeCosts(r figures.Runner, c *calibration, start figures.Costs, stderr io.Writer) (*figures.Fit[[]figures.CurveError], error) {
	var wall time.Duration
	objective := func(x []float64) (float64, []figures.CurveError, error) {
		t0 := time.Now()
		errs, err := r.Errors(c.targets, figures.CostsAt(x))
		wall = time.Since(t0)
		return figures.Worst(errs), errs, err
	}
	report := func(n int, e figures.Evaluation[[]figures.CurveError]) {
		costs := figures.CostsAt(e.X)
		how := fmt.Sprintf("%.1f s", wall.Seconds())
		if e.Repeat > 0 {
			how = fmt.Sprintf("repeats #%d, not rerun", e.Repeat)
		}
		fmt.Fprintf(stderr, "calibrate: evaluation %d/%d: %v: %s; worst %s (%s)\n",
			n, c.f.maxEvals, costs, curveErrors(e.Detail), percent(e.Value), how)
	}
	return figures.Minimize(c.params, c.f.maxEvals, objective, report)
}

// predict runs the predicted figures at the start and at the best point.
func (c *calibration) predict(r figures.Runner, stderr io.Writer) error {
	fmt.Fprintf(stderr, "calibrate: predicting figures %s (not fitted) at the start and at the best point\n", figureNumbers(c.preds))
	for _, fig := range c.preds {
		s, err := r.Curves(fig, c.start())
		if err != nil {
			return err
		}
		b := s
		if c.best() != c.start() {
			if b, err = r.Curves(fig, c.best()); err != nil {
				return err
			}
		}
		c.predStart = append(c.predStart, s)
		c.predBest = append(c.predBest, b)
	}
	return nil
}

// figureNumbers is "3, 4 and 5".
func figureNumbers(figs []figures.Figure) string {
	var s []string
	for _, f := range figs {
		s = append(s, fmt.Sprint(f.Number))
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// curveErrors is "fig3 37.0%, fig4 16.0%, ...".
func curveErrors(errs []figures.CurveError) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Label()+" "+percent(e.Error))
	}
	return strings.Join(s, ", ")
}

func percent(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// commandLine is the command that reruns the calibration (--workers
// left out: the result does not depend on it).
func (c *calibration) commandLine() string {
	s := fmt.Sprintf("raftsim calibrate --seeds %d --max-evals %d --out %s", c.f.seeds, c.f.maxEvals, c.f.out)
	if c.f.scenarios != "scenarios" {
		s += " --scenarios " + c.f.scenarios
	}
	if c.f.maxNodes != paperMaxNodes {
		s += fmt.Sprintf(" --max-nodes %d", c.f.maxNodes)
	}
	return s
}

// writeCalibrationFit writes the fitted values as YAML.
func writeCalibrationFit(w io.Writer, c *calibration) error {
	best := c.best()
	_, err := fmt.Fprintf(w, `# raftsim calibrate: the %s profile's fitted values (see calibration.md).
# Not applied: copying them into scenarios/envprofile.go is a reviewed human step.
profile: %s
handler_cost: %v
poll_cost: %v
tab_load: %.3f
worst_error: %s
seeds: %d
max_nodes: %d
evaluations: %d
`, figures.CalibratedProfile, figures.CalibratedProfile, best.HandlerCost, best.PollCost, best.TabLoad, yamlFloat(c.fit.Evals[c.fit.Best].Value), c.f.seeds, c.f.maxNodes, len(c.fit.Evals))
	return err
}

// yamlFloat formats v for YAML (4 decimals; .inf for +Inf).
func yamlFloat(v float64) string {
	if math.IsInf(v, 1) {
		return ".inf"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
