package figures

import (
	"image/color"
	"math"
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
		// Tabulated Kolmogorov survival values: Q(1.36) = 0.0495,
		// Q(1.63) = 0.0098; ne = 50 gives the factor
		// sqrt(50) + 0.12 + 0.11/sqrt(50) = 7.2066.
		{"5% point at 100 a side", 1.36 / 7.2066, 100, 100, 0.0495, 0.001},
		{"1% point at 100 a side", 1.63 / 7.2066, 100, 100, 0.0098, 0.001},
		{"no distance", 0, 10, 10, 1, 0},
		{"disjoint at 10 a side", 1, 10, 10, 0, 0.0001},
		{"empty", 0.5, 0, 10, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.InDelta(t, c.wantP, KSPValue(c.d, c.n, c.m), c.maxError)
		})
	}
	assert.InDelta(t, 0.607, KSCritical(0.05, 10, 10), 0.001)
	assert.InDelta(t, 0.192, KSCritical(0.05, 100, 100), 0.001)
	// The 5% critical distance is the distance whose p-value is about 5%.
	assert.InDelta(t, 0.05, KSPValue(KSCritical(0.05, 200, 200), 200, 200), 0.005)
	assert.Less(t, KSCritical(0.05, 200, 200), 0.15)
	assert.Greater(t, KSCritical(0.05, 150, 150), 0.15)
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
