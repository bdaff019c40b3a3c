package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// viz A B writes one page holding both traces and says where they first
// differ; more than two traces is a usage error.
func TestVizComparesTwoTraces(t *testing.T) {
	a, b := "../../viz/testdata/kill-half-9.jsonl", "../../viz/testdata/kill-half-9-changed.jsonl"
	out := filepath.Join(t.TempDir(), "ab.html")
	code, stdout, stderr := raftsim(t, "viz", a, b, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "2217 and 2217 events; first difference at event 1909")
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(page), `<script type="application/json" id="trace">{"traces":[{"name":"`+a+`"`)
	assert.Contains(t, string(page), `{"name":"`+b+`"`)
	assert.Contains(t, string(page), `"compare":{"firstDiffIndex":1908,`)
	assert.Equal(t, 1, strings.Count(string(page), `id="trace"`), "one data block")

	code, stdout, stderr = raftsim(t, "viz", a, a, "--out", out)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "the same events")

	code, _, stderr = raftsim(t, "viz", a, b, a, "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "got 3 arguments")
	code, _, stderr = raftsim(t, "viz", a, filepath.Join(t.TempDir(), "missing.jsonl"), "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "missing.jsonl")
}
