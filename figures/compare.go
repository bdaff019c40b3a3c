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
// one continuous distribution lie at least d apart (KS). A small p says
// the worlds differ; a large one says the samples cannot tell them apart,
// not that they agree. Up to exactLimit pairs (n*m) it is exact (ksExact);
// above, the asymptotic Kolmogorov distribution with Stephens'
// small-sample correction, Q((sqrt(ne) + 0.12 + 0.11/sqrt(ne)) d) where
// ne = nm/(n+m) (as in Numerical Recipes' kstwo), which is close there
// but three times too small at 3 samples a side. Empty samples give 1.
func KSPValue(d float64, n, m int) float64 {
	switch {
	case n <= 0 || m <= 0:
		return 1
	case n*m <= exactLimit:
		return ksExact(d, n, m)
	}
	ne := math.Sqrt(float64(n) * float64(m) / float64(n+m))
	return kolmogorovQ((ne + 0.12 + 0.11/ne) * d)
}

// exactLimit is the most pairs of samples (n*m) for which KSPValue and
// KSCritical count orders exactly: a count costs n*m steps, and beyond
// a few hundred samples a side the asymptotic form is as good.
const exactLimit = 250_000

// KSCritical is the KS distance above which two samples of n and m values
// differ at significance alpha (in (0, 1)). Up to exactLimit pairs it is
// exact: the least distance two such samples can have (a multiple of
// 1/lcm(n, m)) whose p-value is at most alpha, or 1 when none is (at 3
// samples a side even disjoint samples have p 0.1). Above, the
// large-sample bound c(alpha) sqrt((n+m)/(nm)), c(alpha) =
// sqrt(-ln(alpha/2)/2) (1.358 at 5%). At 10 samples a world it is 0.7 at
// 5%, at 20 0.45; a distance of 0.15 is significant only from 167
// samples a world.
func KSCritical(alpha float64, n, m int) float64 {
	switch {
	case n <= 0 || m <= 0:
		return 1
	case n*m <= exactLimit:
		return ksExactCritical(alpha, n, m)
	}
	c := math.Sqrt(-math.Log(alpha/2) / 2)
	return c * math.Sqrt(float64(n+m)/(float64(n)*float64(m)))
}

// ksExact is P(D >= d) for samples of n and m values from one continuous
// distribution: every one of the C(n+m, n) orders of the pooled values is
// equally likely, and D is the largest gap |i/n - j/m| on the order's
// path through (i, j), so the chance is one minus the share of paths
// whose gaps all stay below d. w holds, for the row i, each point's share
// of the paths that reach it staying below d: w(i, j) = w(i-1, j)
// i/(i+j) + w(i, j-1) j/(i+j), shares rather than counts so that nothing
// overflows.
func ksExact(d float64, n, m int) float64 {
	below := d - 1e-9 // D is a multiple of 1/lcm(n, m): d itself is reached
	w := make([]float64, m+1)
	for i := 0; i <= n; i++ {
		for j := 0; j <= m; j++ {
			gap := math.Abs(float64(i)/float64(n) - float64(j)/float64(m))
			switch {
			case gap >= below:
				w[j] = 0
			case i == 0 && j == 0:
				w[j] = 1
			case i == 0:
				w[j] = w[j-1]
			case j > 0:
				w[j] = (w[j]*float64(i) + w[j-1]*float64(j)) / float64(i+j)
			}
		}
	}
	return min(max(1-w[m], 0), 1)
}

// ksExactCritical is the least multiple of 1/lcm(n, m) whose exact
// p-value is at most alpha (1 if none is): a binary search, as the
// p-value falls as the distance grows.
func ksExactCritical(alpha float64, n, m int) float64 {
	l := n / gcd(n, m) * m
	lo, hi := 1, l // the answer is in (lo-1, hi]/l
	if ksExact(1, n, m) > alpha {
		return 1
	}
	for lo < hi {
		k := (lo + hi) / 2
		if ksExact(float64(k)/float64(l), n, m) <= alpha {
			hi = k
		} else {
			lo = k + 1
		}
	}
	return float64(hi) / float64(l)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
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
