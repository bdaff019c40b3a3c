package figures

import (
	"image/color"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestMeansAndRelativeError(t *testing.T) {
	ours := []Sample{{3, 1}, {3, 3}, {5, 4}, {7, 9}}
	paper := []Sample{{3, 2}, {5, 5}, {5, 5}, {9, 1}}
	assert.Equal(t, []Sample{{3, 2}, {5, 4}, {7, 9}}, Means(ours))
	// Shared sizes 3 (2 vs 2: 0%) and 5 (4 vs 5: 20%).
	assert.InDelta(t, 0.10, MeanRelativeError(ours, paper), 1e-12)
	assert.True(t, math.IsNaN(MeanRelativeError(ours, nil)))
}

func TestPaperDataIsEmbeddedAndParses(t *testing.T) {
	for _, f := range Paper() {
		for _, file := range f.Paper {
			s, err := ReadPaper(file)
			require.NoError(t, err, file)
			assert.NotEmpty(t, s, file)
		}
	}
	s, err := ReadPaper("start_et500.dat")
	require.NoError(t, err)
	assert.Equal(t, Sample{3, 0.643}, s[0])
	_, err = parsePaper(strings.NewReader("nodes time label\n3 x y\n"), "bad.dat")
	assert.ErrorContains(t, err, "bad.dat:2")
}

func TestPlotWritesPNGAndSVG(t *testing.T) {
	f := Paper()[2]
	curves := []Curve{{ET: f.ETs[0], Ours: []Sample{{3, 0.5}, {5, 0.8}}, Paper: []Sample{{3, 0.4}, {5, 0.9}}}}
	p, err := Plot(f, curves, "test")
	require.NoError(t, err)
	base := filepath.Join(t.TempDir(), "fig5")
	require.NoError(t, Save(p, base))
	for _, ext := range []string{".png", ".svg"} {
		st, err := os.Stat(base + ext)
		require.NoError(t, err)
		assert.Positive(t, st.Size())
	}
}

func TestKS(t *testing.T) {
	assert.Equal(t, 0.0, KS([]float64{1, 2, 3}, []float64{3, 1, 2}))
	assert.Equal(t, 1.0, KS([]float64{1, 2}, []float64{5, 6}))
	assert.InDelta(t, 0.5, KS([]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6}), 1e-12)
	assert.Equal(t, 1.0, KS(nil, []float64{1}))
	s := Summarize([]float64{3, 1, 2})
	assert.Equal(t, Summary{N: 3, Mean: 2, Min: 1, P50: 2, Max: 3}, s)
}

func TestKSSignificance(t *testing.T) {
	for _, c := range []struct {
		name     string
		d        float64
		n, m     int
		wantP    float64
		maxError float64
	}{
		// Past exactLimit, the asymptotic form: tabulated Kolmogorov
		// survival values Q(1.36) = 0.0495, Q(1.63) = 0.0098; ne = 500
		// gives the factor sqrt(500) + 0.12 + 0.11/sqrt(500) = 22.4856.
		{"5% point at 1000 a side", 1.36 / 22.4856, 1000, 1000, 0.0495, 0.001},
		{"1% point at 1000 a side", 1.63 / 22.4856, 1000, 1000, 0.0098, 0.001},
		// Exact: of the C(2n, n) orders of two samples of n, the two
		// that keep them apart (2 (n!)^2 / (2n)!).
		{"disjoint at 3 a side", 1, 3, 3, 0.1, 1e-12},
		{"disjoint at 5 a side", 1, 5, 5, 2.0 / 252, 1e-12},
		{"disjoint at 10 a side", 1, 10, 10, 2.0 / 184756, 1e-12},
		{"no distance", 0, 10, 10, 1, 0},
		{"empty", 0.5, 0, 10, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.InDelta(t, c.wantP, KSPValue(c.d, c.n, c.m), c.maxError)
		})
	}
	assert.InDelta(t, 0.0607, KSCritical(0.05, 1000, 1000), 0.0001, "the large-sample bound past exactLimit")
	assert.Equal(t, 1.0, KSCritical(0.05, 3, 3), "no two samples of 3 differ at 5%")
	// The critical distance is the least one whose p-value is at most 5%:
	// the next smaller one possible is above 5%.
	for _, nm := range [][2]int{{10, 10}, {20, 20}, {10, 20}, {160, 160}, {7, 13}} {
		n, m := nm[0], nm[1]
		crit := KSCritical(0.05, n, m)
		step := 1 / float64(n/gcd(n, m)*m)
		assert.LessOrEqual(t, KSPValue(crit, n, m), 0.05, "%d, %d: %v", n, m, crit)
		assert.Greater(t, KSPValue(crit-step, n, m), 0.05, "%d, %d: %v", n, m, crit)
	}
	assert.Less(t, KSCritical(0.05, 200, 200), 0.15)
	assert.Greater(t, KSCritical(0.05, 150, 150), 0.15)
}

// The exact p-value agrees with counting every order of two small samples
// by brute force.
func TestExactKSAgreesWithEveryOrder(t *testing.T) {
	for _, nm := range [][2]int{{2, 3}, {4, 4}, {3, 6}, {5, 4}} {
		n, m := nm[0], nm[1]
		// Each order is a bit mask of which of the n+m ranks the first
		// sample holds; its D is that of two samples with those ranks.
		var ds []float64
		for mask := 0; mask < 1<<(n+m); mask++ {
			if bits.OnesCount(uint(mask)) != n {
				continue
			}
			var a, b []float64
			for r := range n + m {
				if mask&(1<<r) != 0 {
					a = append(a, float64(r))
				} else {
					b = append(b, float64(r))
				}
			}
			ds = append(ds, KS(a, b))
		}
		for _, d := range ds {
			atLeast := 0
			for _, e := range ds {
				if e >= d-1e-9 {
					atLeast++
				}
			}
			assert.InDelta(t, float64(atLeast)/float64(len(ds)), KSPValue(d, n, m), 1e-12, "%d, %d: D %v", n, m, d)
		}
	}
}

func TestECDFPlotGivesEachWorldItsOwnColour(t *testing.T) {
	samples := map[string][]float64{"model": {1, 2}, "pion": {1.5, 3}, "browser": {2.5, 3.5}}
	p, err := ECDFPlot("t", samples, []string{"model", "pion", "browser"})
	require.NoError(t, err)
	c := vgimg.New(400, 300)
	p.Draw(draw.New(c))
	img := c.Image()
	for i := range 3 {
		want := color.RGBAModel.Convert(palette[i])
		found := false
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y && !found; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X && !found; x++ {
				found = color.RGBAModel.Convert(img.At(x, y)) == want
			}
		}
		assert.True(t, found, "world %d is drawn in colour %v", i, want)
	}
}
