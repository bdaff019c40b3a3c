package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgressPrintsPackagesSlowTestsAndFailures(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestQuick"}`,
		`{"Action":"pass","Package":"p","Test":"TestQuick","Elapsed":0.1}`,
		`{"Action":"pass","Package":"p","Test":"TestSlow","Elapsed":5.2}`,
		`{"Action":"output","Package":"p","Test":"TestBad","Output":"bad.go:3: want 1\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestBad","Elapsed":0.3}`,
		`{"Action":"pass","Package":"q","Elapsed":1.5}`,
	}, "\n")
	var out strings.Builder
	code := run(strings.NewReader(in), &out, time.Now())
	assert.Equal(t, 1, code, "a failure")
	assert.NotContains(t, out.String(), "TestQuick")
	assert.Contains(t, out.String(), "p TestSlow (5.2s)")
	assert.Contains(t, out.String(), "FAIL p TestBad")
	assert.Contains(t, out.String(), "bad.go:3: want 1")
	assert.Contains(t, out.String(), "ok   q (1.5s)")
	assert.Equal(t, 0, run(strings.NewReader(`{"Action":"pass","Package":"q"}`), &out, time.Now()))
}
