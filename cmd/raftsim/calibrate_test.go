package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"
)

// calibrateFit is slimerjs-2015-fit.yaml.
type calibrateFit struct {
	Profile     string  `yaml:"profile"`
	HandlerCost string  `yaml:"handler_cost"`
	PollCost    string  `yaml:"poll_cost"`
	TabLoad     float64 `yaml:"tab_load"`
	WorstError  float64 `yaml:"worst_error"`
	Seeds       int     `yaml:"seeds"`
	MaxNodes    int     `yaml:"max_nodes"`
	Evaluations int     `yaml:"evaluations"`
}

// quickCalibrate runs a small calibration (1 seed, 3 evaluations: about
// 2.5 s at the paper's sizes) into a new directory and returns its two
// files.
func quickCalibrate(t *testing.T, extra ...string) (report, fit string) {
	t.Helper()
	if testing.Short() {
		t.Skip("three evaluations of figures 3-5: not with -short")
	}
	dir := t.TempDir()
	args := append([]string{"calibrate", "--scenarios", "../../scenarios", "--seeds", "1", "--max-evals", "3", "--out", dir}, extra...)
	code, stdout, stderr := raftsim(t, args...)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Contains(t, stdout, "calibrate done")
	assert.Contains(t, stderr, "calibrate: evaluation 3/3:", "progress goes to stderr")
	r, err := os.ReadFile(filepath.Join(dir, "calibration.md"))
	require.NoError(t, err)
	f, err := os.ReadFile(filepath.Join(dir, "slimerjs-2015-fit.yaml"))
	require.NoError(t, err)
	return string(r), string(f)
}

func TestCalibrateWritesAReportAndAFit(t *testing.T) {
	report, fitText := quickCalibrate(t)

	var fit calibrateFit
	require.NoError(t, yaml.Unmarshal([]byte(fitText), &fit), fitText)
	assert.Equal(t, "slimerjs-2015", fit.Profile)
	assert.Equal(t, 1, fit.Seeds)
	assert.Equal(t, 41, fit.MaxNodes)
	assert.Equal(t, 3, fit.Evaluations)
	handler, err := time.ParseDuration(fit.HandlerCost)
	require.NoError(t, err)
	poll, err := time.ParseDuration(fit.PollCost)
	require.NoError(t, err)
	assert.True(t, handler >= 100*time.Microsecond && handler <= 5*time.Millisecond, "handler cost %v", handler)
	assert.True(t, poll >= 0 && poll <= 200*time.Millisecond, "poll cost %v", poll)
	assert.True(t, fit.TabLoad >= 0 && fit.TabLoad <= 1, "tab load %v", fit.TabLoad)
	assert.True(t, fit.WorstError > 0 && fit.WorstError < 10, "worst error %v", fit.WorstError)

	assert.Contains(t, report, "raftsim calibrate --seeds 1 --max-evals 3 --out ")
	assert.Contains(t, report, "**3 free parameters**")
	assert.Contains(t, report, "**94 data points**", "21 + 21 (figures 3, 4) + 17 + 17 + 18 (figure 5's curves)")
	assert.Contains(t, report, "Predictions (not fitted)")
	assert.Contains(t, report, "does **not** edit `scenarios/envprofile.go`")
	_, evals, ok := strings.Cut(report, "## Every evaluation, in order")
	require.True(t, ok, "the report has its evaluations")
	evals, _, _ = strings.Cut(evals, "\n## ")
	var numbers []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \| \d[^|]* \| \d[^|]* \|`).FindAllStringSubmatch(evals, -1) {
		n, _ := strconv.Atoi(m[1])
		numbers = append(numbers, n)
	}
	assert.Equal(t, []int{1, 2, 3}, numbers, "the report lists every evaluation, in order")
	assert.Contains(t, report, "| fig5 ET 250ms |")
	assert.Contains(t, report, "### Figure 7:")
}

func TestCalibrateIsDeterministic(t *testing.T) {
	r1, f1 := quickCalibrate(t, "--max-nodes", "21")
	r2, f2 := quickCalibrate(t, "--max-nodes", "21", "--workers", "1")
	assert.Contains(t, f1, "max_nodes: 21\n")
	assert.Contains(t, r1, "**53 data points**", "sizes up to 21: 11 + 11 (figures 3, 4) + 10 + 10 + 11 (figure 5)")
	assert.Contains(t, r1, "--max-nodes 21", "the command line to rerun it")
	assert.Equal(t, f1, f2, "the same flags give the same fit, whatever --workers")
	// The reports differ only in the wall time and the output directory.
	strip := func(s string) string {
		s = regexp.MustCompile(`It took [0-9.]+ s`).ReplaceAllString(s, "")
		return regexp.MustCompile(`--out \S+`).ReplaceAllString(s, "")
	}
	assert.Equal(t, strip(r1), strip(r2))
}

func TestCalibrateMisuseExitsTwo(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--seeds", "0"}, "--seeds"},
		{[]string{"--seeds", "1001"}, "--seeds"},
		{[]string{"--max-evals", "0"}, "--max-evals"},
		{[]string{"--max-evals", "501"}, "--max-evals"},
		{[]string{"--workers", "-1"}, "--workers"},
		{[]string{"--max-nodes", "2"}, "--max-nodes"},
		{[]string{"--max-nodes", "42"}, "--max-nodes"},
		{[]string{"--out", ""}, "--out"},
		{[]string{"--seeds", "many"}, "--seeds"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--scenarios", filepath.Join(t.TempDir(), "none")}, "propagate-1.yaml"},
	}
	for _, tt := range tests {
		args := append([]string{"calibrate", "--out", out}, tt.args...)
		code, _, stderr := raftsim(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tt.args, stderr)
		assert.Contains(t, stderr, tt.want, "%v", tt.args)
		if !strings.Contains(tt.want, ".yaml") {
			assert.Contains(t, stderr, "Usage:", "%v: usage is printed", tt.args)
		}
	}
	_, err := os.Stat(out)
	assert.ErrorIs(t, err, os.ErrNotExist, "misuse writes nothing")
}
