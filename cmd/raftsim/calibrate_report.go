package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/raftsim/raftsim/figures"
	"github.com/raftsim/raftsim/internal/outfile"
)

// writeCalibrationReport writes calibration.md.
func writeCalibrationReport(w io.Writer, c *calibration) error {
	var err error // the first write error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("%s\n", outfile.MarkdownMarker)
	p("# Calibration of the %s profile\n\n", figures.CalibratedProfile)
	p("Written by one command; rerun it to get the same evaluations and the same fit (the simulator is deterministic; `--workers` does not change them):\n\n")
	p("```\n%s\n```\n\n", c.commandLine())
	p("It took %.1f s of wall time on the machine that wrote this file.\n\n", c.wall.Seconds())
	writeCalibrationSetup(p, c)
	writeCalibrationEvals(p, c)
	writeCalibrationBest(p, c)
	writeCalibrationPredictions(p, c)
	p("## Applying the fit\n\n")
	p("`raftsim calibrate` does **not** edit `scenarios/envprofile.go`: applying a fit is a reviewed human step. ")
	p("To apply it, copy `%s`'s values into `slimerjs2015` in `scenarios/envprofile.go` with a comment citing this report, ", fitFileName)
	p("rerun `raftsim figures --out results/`, check that figures 6 and 7 moved for reasons the model explains, ")
	p("and update the calibration section of `docs/figures.md` and `results/README.md`'s notes.\n")
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// writeCalibrationSetup writes what is fitted, to what, and how.
func writeCalibrationSetup(p func(string, ...any), c *calibration) {
	p("## What is fitted\n\n")
	p("**%d free parameters**, starting from the profile's current values (`slimerjs2015` in `scenarios/envprofile.go`), each kept within its bounds:\n\n", len(c.params))
	p("| parameter | start | bounds | first step |\n|---|---|---|---|\n")
	for _, q := range c.params {
		p("| %s | %g %s | %g..%g %s | %g %s |\n", q.Name, q.Start, q.Unit, q.Lo, q.Hi, q.Unit, q.Step, q.Unit)
	}
	p("\nThe handler cost is every handled message's or timer's main-thread time (`world.handler_cost`); the poll cost, every measure's mean cost of one poll of the harness (`poll_cost`); the tab load, each browser's background share of a core on the paper's 8 (`world.tab_load`, `world.cores`).\n\n")
	var by []string
	for i, fig := range c.targets {
		by = append(by, fmt.Sprintf("figure %d: %d", fig.Number, c.pointsBy[i]))
	}
	p("**%d data points**: the paper's per-size means that the sweeps cover, over the curves (%s; sizes up to %d nodes).\n\n", c.points, strings.Join(by, ", "), c.f.maxNodes)
	p("**Objective**: the worst (largest) of the fitted curves' mean relative errors, each the mean over the sizes both have of |ours - paper| / paper between per-size means, as `raftsim figures` reports them. ")
	p("An evaluation runs figures %s (%d runs: %d seeds a point) with the `%s` profile applied and then the two parameters set.\n\n", figureNumbers(c.targets), c.runs, c.f.seeds, figures.CalibratedProfile)
	p("**Optimiser**: Nelder-Mead (`gonum.org/v1/gonum/optimize`) from the start, its first simplex one step along each parameter. ")
	p("A point it proposes outside the bounds is clamped into them (and rounded to whole µs) before it is run, and the optimiser is told the value there plus a penalty per step outside; a point run before is not run again. ")
	p("Budget: %d evaluations; %d made; the optimiser stopped with status %s.\n\n", c.f.maxEvals, len(c.fit.Evals), c.fit.Status)
	p("**Not fitted**, against over-fitting: the Raft.js behaviours (`naive_backtrack`, commits learned from the next append) are fixed booleans justified by Raft.js's code (`docs/raftjs-notes.md`), and the network profile, storage cost and ICE timers are the profile's. ")
	p("Figures %s are not in the objective: they are predictions (below).\n\n", figureNumbers(c.preds))
}

// writeCalibrationEvals writes every evaluation in order.
func writeCalibrationEvals(p func(string, ...any), c *calibration) {
	p("## Every evaluation, in order\n\n")
	first := c.fit.Evals[0].Detail
	p("| # | handler cost | poll cost | tab load |")
	for _, e := range first {
		p(" %s |", e.Label())
	}
	p(" worst | |\n|---|---|---|---|")
	for range first {
		p("---|")
	}
	p("---|---|\n")
	for i, e := range c.fit.Evals {
		costs := figures.CostsAt(e.X)
		p("| %d | %v | %v | %.3f |", i+1, costs.HandlerCost, costs.PollCost, costs.TabLoad)
		for _, ce := range e.Detail {
			p(" %s |", percent(ce.Error))
		}
		var notes []string
		if i == 0 {
			notes = append(notes, "start")
		}
		if i == c.fit.Best {
			notes = append(notes, "**best**")
		}
		if e.Repeat > 0 {
			notes = append(notes, fmt.Sprintf("repeats #%d, not rerun", e.Repeat))
		}
		p(" %s | %s |\n", percent(e.Value), strings.Join(notes, "; "))
	}
	p("\n")
}

// writeCalibrationBest writes the best point beside the start.
func writeCalibrationBest(p func(string, ...any), c *calibration) {
	best, start := c.fit.Evals[c.fit.Best], c.fit.Evals[0]
	p("## The best point\n\n")
	p("Evaluation #%d: **%v**: worst error **%s** (at the start, %s). ", c.fit.Best+1, c.best(), percent(best.Value), percent(start.Value))
	p("Written to `%s`.\n\n", fitFileName)
	p("| curve | start | best | sizes |\n|---|---|---|---|\n")
	for i, e := range best.Detail {
		p("| %s | %s | %s | %d |\n", e.Label(), percent(start.Detail[i].Error), percent(e.Error), e.Sizes)
	}
	p("\n")
}

// writeCalibrationPredictions writes the predicted figures' means at the
// start and at the best point.
func writeCalibrationPredictions(p func(string, ...any), c *calibration) {
	p("## Predictions (not fitted)\n\n")
	p("Figures %s are **not fitted**: they are not in the objective, and the paper gives no data for them (`figures/paperdata/SOURCE.md`), so there is no error to report. ", figureNumbers(c.preds))
	p("Their means per size in seconds, %d seeds a point, at the start and at the best point:\n\n", c.f.seeds)
	for i, fig := range c.preds {
		start, best := c.predStart[i], c.predBest[i]
		p("### Figure %d: %s (`%s`)\n\n| nodes |", fig.Number, fig.Title, fig.Measure)
		for _, cv := range start {
			p(" ET %v start | ET %v best |", cv.ET, cv.ET)
		}
		p("\n|---|")
		for range start {
			p("---|---|")
		}
		p("\n")
		for _, n := range fig.Nodes {
			p("| %d |", n)
			for j := range start {
				p(" %s | %s |", meanAt(start[j].Ours, n), meanAt(best[j].Ours, n))
			}
			p("\n")
		}
		for j := range start {
			if m := start[j].Missing + best[j].Missing; m > 0 {
				p("\nET %v: %d runs (start and best) never reached `%s` and are left out.\n", start[j].ET, m, fig.Measure)
			}
		}
		p("\n")
	}
}
