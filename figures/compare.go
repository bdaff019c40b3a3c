package figures

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// KS returns the two-sample Kolmogorov-Smirnov distance: the largest gap
// between the empirical distribution functions of a and b (0: the same,
// 1: disjoint). NaN-free: empty samples give 1.
func KS(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 1
	}
	x, y := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	i, j, d := 0, 0, 0.0
	for i < len(x) && j < len(y) {
		v := min(x[i], y[j])
		for i < len(x) && x[i] <= v {
			i++
		}
		for j < len(y) && y[j] <= v {
			j++
		}
		gap := float64(i)/float64(len(x)) - float64(j)/float64(len(y))
		d = max(d, gap, -gap)
	}
	return d
}

// KSPValue is the chance that two samples of n and m values drawn from
// one continuous distribution lie at least d apart (KS): the asymptotic
// Kolmogorov distribution with Stephens' small-sample correction,
// Q((sqrt(ne) + 0.12 + 0.11/sqrt(ne)) d) where ne = nm/(n+m) (as in
// Numerical Recipes' kstwo). A small p says the worlds differ; a large
// one says the samples cannot tell them apart, not that they agree.
// Like KSCritical it is a large-sample approximation: read it from about
// ten samples a side. Empty samples give 1.
func KSPValue(d float64, n, m int) float64 {
	if n <= 0 || m <= 0 {
		return 1
	}
	ne := math.Sqrt(float64(n) * float64(m) / float64(n+m))
	return kolmogorovQ((ne + 0.12 + 0.11/ne) * d)
}

// KSCritical is the KS distance above which two samples of n and m values
// differ at significance alpha (in (0, 1)): c(alpha) sqrt((n+m)/(nm)),
// c(alpha) = sqrt(-ln(alpha/2)/2), the large-sample bound (1.358 at 5%).
// At 10 samples a world it is 0.61 at 5%; a distance of 0.15 is
// significant only from about 160 samples a world.
func KSCritical(alpha float64, n, m int) float64 {
	if n <= 0 || m <= 0 {
		return 1
	}
	c := math.Sqrt(-math.Log(alpha/2) / 2)
	return c * math.Sqrt(float64(n+m)/(float64(n)*float64(m)))
}

// kolmogorovQ is the Kolmogorov distribution's survival function,
// 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2), clamped to [0, 1].
func kolmogorovQ(x float64) float64 {
	if x < 0.2 {
		return 1 // the series converges slowly here and sums to 1
	}
	sum, sign := 0.0, 1.0
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*x*x)
		sum += term
		if math.Abs(term) < 1e-12 {
			break
		}
		sign = -sign
	}
	return min(max(2*sum, 0), 1)
}

// Summary is a sample's mean, min, median and max.
type Summary struct {
	N                   int
	Mean, Min, P50, Max float64
}

// Summarize describes a sample.
func Summarize(s []float64) Summary {
	if len(s) == 0 {
		return Summary{}
	}
	x := slices.Sorted(slices.Values(s))
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	return Summary{N: len(x), Mean: sum / float64(len(x)), Min: x[0], P50: x[len(x)/2], Max: x[len(x)-1]}
}

// ECDFPlot draws the empirical distribution functions of named samples.
func ECDFPlot(title string, samples map[string][]float64, order []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "fraction of samples"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = true, true
	for i, name := range order {
		x := slices.Sorted(slices.Values(samples[name]))
		xy := make(plotter.XYs, 0, 2*len(x))
		for k, v := range x {
			xy = append(xy, plotter.XY{X: v, Y: float64(k) / float64(len(x))}, plotter.XY{X: v, Y: float64(k+1) / float64(len(x))})
		}
		if len(xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = palette[i%len(palette)], vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d samples)", name, len(x)), l)
	}
	return p, nil
}
