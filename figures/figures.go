// Package figures redraws the Raft.js-over-WebRTC paper's figures 3-7
// from raftsim sweeps, beside the paper's own measurements, and reports
// how far apart they are.
package figures

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// paperData holds the paper's measured runs (paperdata/SOURCE.md).
//
//go:embed paperdata
var paperData embed.FS

// PaperData returns the embedded copy of the paper's data files, to write
// into results/paper-data.
func PaperData() fs.FS {
	sub, _ := fs.Sub(paperData, "paperdata")
	return sub
}

// Figure is one of the paper's figures: a scenario swept over sizes and
// election timeouts, and the measure it plots.
type Figure struct {
	Name     string // file name (default: fig<Number>)
	Number   int
	Title    string
	File     string // scenario file, relative to the scenarios directory
	Measure  string
	Nodes    []int
	ETs      []sim.Time
	Paper    map[sim.Time]string // ET -> paper data file (per-run rows)
	YLabel   string
	Comments string
}

func oddSizes(from, to int) []int {
	var out []int
	if from == 1 {
		out = append(out, 1)
		from = 3
	}
	for n := from; n <= to; n += 2 {
		out = append(out, n)
	}
	return out
}

var ms = sim.Millisecond

// Paper returns the paper's five figures with its sizes and timers.
func Paper() []Figure {
	ets := []sim.Time{250 * ms, 500 * ms, 1000 * ms}
	return []Figure{
		{Number: 3, Title: "Propagate, commit and apply 1 command", File: "propagate-1.yaml", Measure: "propagated",
			Nodes: oddSizes(1, 41), ETs: []sim.Time{1000 * ms}, Paper: map[sim.Time]string{1000 * ms: "propagate_1.dat"}},
		{Number: 4, Title: "Propagate, commit and apply 100 commands", File: "propagate-100.yaml", Measure: "propagated",
			Nodes: oddSizes(1, 41), ETs: []sim.Time{1000 * ms}, Paper: map[sim.Time]string{1000 * ms: "propagate_100.dat"}},
		{Number: 5, Title: "Initial cluster activation (start-up)", File: "startup.yaml", Measure: "up",
			Nodes: oddSizes(1, 35), ETs: ets, Paper: map[sim.Time]string{250 * ms: "start_et250.dat", 500 * ms: "start_et500.dat", 1000 * ms: "start_et1000.dat"}},
		{Number: 6, Title: "Recovery from leader failure", File: "kill-leader.yaml", Measure: "recovered",
			Nodes: oddSizes(3, 35), ETs: ets},
		{Number: 7, Title: "Recovery from just-under-half failure", File: "kill-half.yaml", Measure: "recovered",
			Nodes: oddSizes(3, 35), ETs: ets},
	}
}

// Sample is one measured run: a size and seconds.
type Sample struct {
	Nodes   int
	Seconds float64
}

// Curve is one series of a figure: all runs at one election timeout.
type Curve struct {
	Label   string // the legend's name (default: "ET <value>")
	ET      sim.Time
	Ours    []Sample
	Paper   []Sample
	Missing int // our runs whose measure never completed
}

// Means returns the mean per size, sizes ascending.
func Means(samples []Sample) []Sample {
	sum := map[int]float64{}
	cnt := map[int]int{}
	var sizes []int
	for _, s := range samples {
		if cnt[s.Nodes] == 0 {
			sizes = append(sizes, s.Nodes)
		}
		sum[s.Nodes] += s.Seconds
		cnt[s.Nodes]++
	}
	slices.Sort(sizes)
	out := make([]Sample, 0, len(sizes))
	for _, n := range sizes {
		out = append(out, Sample{n, sum[n] / float64(cnt[n])})
	}
	return out
}

// MeanRelativeError is the mean over the sizes both have of
// |ours - paper| / paper, comparing means; NaN if none is shared.
func MeanRelativeError(ours, paper []Sample) float64 {
	e, _ := relativeError(ours, paper)
	return e
}

// relativeError is MeanRelativeError and the number of sizes it averages.
func relativeError(ours, paper []Sample) (float64, int) {
	p := map[int]float64{}
	for _, s := range Means(paper) {
		p[s.Nodes] = s.Seconds
	}
	total, n := 0.0, 0
	for _, s := range Means(ours) {
		if v, ok := p[s.Nodes]; ok && v > 0 {
			total += math.Abs(s.Seconds-v) / v
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return total / float64(n), n
}

// CurveError is one curve's mean relative error against the paper's data.
type CurveError struct {
	Figure int
	ET     sim.Time
	// Single: the curve is its figure's only one (named without its ET).
	Single bool
	Error  float64 // MeanRelativeError; NaN if no size is shared
	Sizes  int     // the sizes both have
}

// Label names the curve: "fig3", or "fig5 ET 250ms" in a figure of
// several curves.
func (e CurveError) Label() string {
	if e.Single {
		return fmt.Sprintf("fig%d", e.Figure)
	}
	return fmt.Sprintf("fig%d ET %v", e.Figure, e.ET)
}

// Errors returns the mean relative error of each of the figure's curves
// that has the paper's data, in curve order: what raftsim figures
// reports and raftsim calibrate fits.
func (f Figure) Errors(curves []Curve) []CurveError {
	var out []CurveError
	for _, c := range curves {
		if len(c.Paper) == 0 {
			continue
		}
		e, n := relativeError(c.Ours, c.Paper)
		out = append(out, CurveError{Figure: f.Number, ET: c.ET, Single: len(f.ETs) == 1, Error: e, Sizes: n})
	}
	return out
}

// PaperPoints returns how many of the paper's per-size means the figure's
// sizes cover, over its curves: the data points a fit to it fits.
func (f Figure) PaperPoints() (int, error) {
	n := 0
	for _, et := range f.ETs {
		file, ok := f.Paper[et]
		if !ok {
			continue
		}
		p, err := ReadPaper(file)
		if err != nil {
			return 0, fmt.Errorf("figure %d: %w", f.Number, err)
		}
		for _, m := range Means(p) {
			if slices.Contains(f.Nodes, m.Nodes) {
				n++
			}
		}
	}
	return n, nil
}

// UpTo returns the figure with only its sizes up to n nodes.
func (f Figure) UpTo(n int) Figure {
	f.Nodes = slices.DeleteFunc(slices.Clone(f.Nodes), func(s int) bool { return s > n })
	return f
}

// ReadPaper parses one of the paper's data files.
func ReadPaper(name string) ([]Sample, error) {
	fh, err := PaperData().Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return parsePaper(fh, name)
}

func parsePaper(r io.Reader, name string) ([]Sample, error) {
	var out []Sample
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || (line == 1 && f[0] == "nodes") {
			continue
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("%s:%d: want nodes and time", name, line)
		}
		n, err1 := strconv.Atoi(f[0])
		t, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s:%d: bad row %q", name, line, sc.Text())
		}
		out = append(out, Sample{n, t})
	}
	return out, sc.Err()
}

// Scenario returns the figure's scenario, loaded from dir, swept over the
// figure's sizes and timers with seeds seeds a point, in the given
// network profile ("" keeps the file's).
func (f Figure) Scenario(dir string, seeds int, profile string) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(dir + "/" + f.File)
	if err != nil {
		return nil, err
	}
	sc.Sweep = scenarios.Sweep{Nodes: f.Nodes, ElectionTimeout: f.ETs}
	sc.Seeds = seeds
	if profile != "" {
		if err := sc.UseProfile(profile); err != nil {
			return nil, err
		}
	}
	return sc, sc.Validate()
}

// Curves groups a sweep's results by election timeout and adds the
// paper's runs.
func (f Figure) Curves(results []*scenarios.Result) ([]Curve, error) {
	var curves []Curve
	for _, et := range f.ETs {
		c := Curve{ET: et}
		etMS := float64(et) / float64(sim.Millisecond)
		for _, r := range results {
			if r.ElectionTimeoutMS != etMS {
				continue
			}
			v := r.Measures[f.Measure]
			if v == nil {
				c.Missing++
				continue
			}
			c.Ours = append(c.Ours, Sample{r.Nodes, *v})
		}
		if file, ok := f.Paper[et]; ok {
			p, err := ReadPaper(file)
			if err != nil {
				return nil, err
			}
			c.Paper = p
		}
		curves = append(curves, c)
	}
	return curves, nil
}
