package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Flag values out of their bounds are usage errors (exit 2, the usage
// printed, the flag named), never a panic, a hang or a silent default.
func TestFlagsOutOfBoundsAreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", killHalf, "--nodes", "2147483648"}, "--nodes"},
		{[]string{"run", killHalf, "--nodes", "5000"}, "--nodes"},
		{[]string{"run", killHalf, "--seeds", "0"}, "--seeds"},
		{[]string{"run", killHalf, "--election-timeout", "-1s"}, "--election-timeout"},
		{[]string{"run", killHalf, "--seed", "18446744073709551615", "--seeds", "2"}, "wraps around"},
		{[]string{"bench", "--world", "pion", "--inflight", "-1"}, "--inflight"},
		{[]string{"bench", "--world", "model", "--runs", "-1"}, "--runs"},
		{[]string{"bench", "--duration", "0"}, "--duration"},
		{[]string{"fuzz", "--workers", "100000000"}, "--workers"},
		{[]string{"fuzz", "--seeds", "0"}, "--seeds"},
		{[]string{"fuzz", "--seed", "18446744073709551615", "--seeds", "2"}, "wraps around"},
	}
	for _, tt := range tests {
		code, _, stderr := raftsim(t, tt.args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tt.args, stderr)
		assert.Contains(t, stderr, tt.want, "%v", tt.args)
	}
}

// Hostile scenario files get a positioned error and exit 2.
func TestHostileScenarioFilesExitTwoWithAPosition(t *testing.T) {
	for _, text := range []string{
		"cluster: {nodes: 9223372036854775807}\n",
		"world: {latency: {dist: uniform, mean: 2562047h, jitter: 2562047h}}\n",
		"workload: {kv: {at: 1s, rate: NaN}}\n",
		"world: {loss: .nan}\n",
	} {
		path := filepath.Join(t.TempDir(), "hostile.yaml")
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		code, _, stderr := raftsim(t, "run", path)
		assert.Equal(t, exitUsage, code, "%q: %s", text, stderr)
		assert.Contains(t, stderr, "hostile.yaml:1:", "%q", text)
	}
}

func TestAPanickedRunExitsFour(t *testing.T) {
	failed := scenarios.Result{Safety: "ok", Liveness: "ok", Linearizability: "illegal"}
	panicked := scenarios.Result{Panic: "boom", Safety: "unknown", Liveness: "unknown", Linearizability: "n/a"}
	unknown := scenarios.Result{Safety: "ok", Liveness: "ok", Linearizability: "unknown"}
	assert.Equal(t, exitInternal, exitCode(&panicked))
	assert.True(t, worse(&panicked, &failed), "a panic outranks a failed check")
	assert.True(t, worse(&failed, &unknown))
	assert.False(t, worse(&unknown, &panicked))
}

func TestFuzzListsThePlantedBugs(t *testing.T) {
	code, stdout, _ := raftsim(t, "fuzz", "--list-bugs")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "stale-read\n")
	assert.Contains(t, stdout, "conf-before-own-term-commit")
}

func TestVizPortAndHistoryMisuse(t *testing.T) {
	trace := "../../scenarios/testdata/golden/kill-half.jsonl"
	dir := t.TempDir()
	code, _, stderr := raftsim(t, "viz", trace, "--port", "70000")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "--port")
	code, _, stderr = raftsim(t, "viz", trace, "--out", filepath.Join(dir, "x.html"), "--history", filepath.Join(dir, "missing.html"))
	assert.Equal(t, exitUsage, code, "a missing history is not silently dropped")
	assert.Contains(t, stderr, "--history")

	history := filepath.Join(dir, "h.html")
	require.NoError(t, os.WriteFile(history, []byte("<!doctype html><title>history</title>"), 0o644))
	code, _, stderr = raftsim(t, "viz", trace, "--out", filepath.Join(dir, "kh.html"), "--history", history)
	require.Equal(t, exitOK, code, stderr)
	copied, err := os.ReadFile(filepath.Join(dir, "kh.history.html"))
	require.NoError(t, err)
	assert.Contains(t, string(copied), "<title>history</title>")
	page, err := os.ReadFile(filepath.Join(dir, "kh.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "kh.history.html", "the page links its history")
}
