package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFuzzCleanSeedsExitZero(t *testing.T) {
	code, out, errOut := raftsim(t, "fuzz", "--seeds", "40", "--out", t.TempDir())
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "40 seeds (1..40)")
	assert.Contains(t, out, "0 failed")
}

// Hunting a planted bug: caught, shrunk, written; the reproducer fails
// again under `raftsim run` (exit 1).
func TestFuzzHuntsAPlantedBugAndWritesAReplayableReproducer(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := raftsim(t, "fuzz", "--plant-bug", "even-majority", "--seeds", "200", "--out", dir, "--shrink-runs", "100")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Contains(t, out, "planted bug even-majority caught at seed")
	assert.Contains(t, out, "removed:")
	files, err := filepath.Glob(filepath.Join(dir, "fuzz-*-even-majority.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	code, out, _ = raftsim(t, "run", files[0])
	assert.Equal(t, exitFailed, code, out)
	assert.Contains(t, out, "safety violated")
}

// A catch rate runs every seed: a bug that fails most seeds is caught by
// more than one of 20, and one reproducer is written.
func TestFuzzCatchRateCountsEverySeedThatCatchesTheBug(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := raftsim(t, "fuzz", "--plant-bug", "even-majority", "--seeds", "20", "--catch-rate", "--no-shrink", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	m := regexp.MustCompile(`caught by (\d+) of 20 seeds`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	n, _ := strconv.Atoi(m[1])
	assert.Greater(t, n, 1, out)
	files, err := filepath.Glob(filepath.Join(dir, "fuzz-*.yaml"))
	require.NoError(t, err)
	assert.Len(t, files, 1)
}

func TestFuzzMisuse(t *testing.T) {
	for _, args := range [][]string{
		{"fuzz", "--catch-rate"},
		{"fuzz", "--plant-bug", "no-such-bug"},
		{"fuzz", "--seeds", "-1"},
		{"fuzz", "--max-nodes", "0"},
		{"fuzz", "extra"},
		{"fuzz", "--duration", "soon"},
	} {
		code, _, errOut := raftsim(t, args...)
		assert.Equal(t, exitUsage, code, "%v", args)
		assert.Contains(t, errOut, "Usage:", "%v", args)
	}
	_, _, errOut := raftsim(t, "fuzz", "--plant-bug", "no-such-bug")
	assert.Contains(t, errOut, "vote-not-persisted", "the valid names are listed")
}
