package scenarios

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func load(t testing.TB, file string, nodes int) *Scenario {
	t.Helper()
	sc, err := Load(file)
	require.NoError(t, err)
	require.NoError(t, sc.Apply(Overrides{Nodes: &nodes}))
	return sc
}

// requireRunOK runs sc with seed and requires every check to pass and
// every measure to complete.
func requireRunOK(t *testing.T, sc *Scenario, seed uint64) *Result {
	t.Helper()
	res, err := Run(sc, seed, RunOptions{})
	require.NoError(t, err)
	require.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
	for _, name := range res.MeasureOrder {
		require.NotNil(t, res.Measures[name], "seed %d: %s never completed; replay: %s", seed, name, res.Replay)
		require.Positive(t, *res.Measures[name], "seed %d: %s", seed, name)
	}
	require.True(t, res.OK)
	return res
}

func TestKillHalfRecoversAt41Nodes(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	sc := load(t, "kill-half.yaml", 41)
	for seed := uint64(1); seed <= 20; seed++ {
		requireRunOK(t, sc, seed)
	}
}

// oddSizes returns the odd cluster sizes from..41.
func oddSizes(from int) []int {
	var out []int
	for n := from; n <= 41; n += 2 {
		out = append(out, n)
	}
	return out
}

// requireOKAtEveryOddSize runs file for 20 seeds (3 with -short) at every
// odd size from `from` to 41.
func requireOKAtEveryOddSize(t *testing.T, file string, from int) {
	seeds := uint64(20)
	if testing.Short() {
		seeds = 3
	}
	for _, n := range oddSizes(from) {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			sc := load(t, file, n)
			for seed := uint64(1); seed <= seeds; seed++ {
				requireRunOK(t, sc, seed)
			}
		})
	}
}

func TestStartupComesUpAtEveryOddSize(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	requireOKAtEveryOddSize(t, "startup.yaml", 1)
}

func TestKillLeaderRecoversAtEveryOddSize(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	requireOKAtEveryOddSize(t, "kill-leader.yaml", 3)
}

func TestKillHalfRecoversAtEveryOddSize(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	for _, n := range oddSizes(3) {
		sc := load(t, "kill-half.yaml", n)
		requireRunOK(t, sc, 1)
	}
}

func TestPropagateAppliesEveryLineEverywhere(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	for _, file := range []string{"propagate-1.yaml", "propagate-100.yaml"} {
		for _, n := range []int{1, 3, 21, 41} {
			requireRunOK(t, load(t, file, n), 1)
		}
	}
}

// TestStartupTakesLongerWithMoreNodes: joiners are added one per
// membership round, so start-up grows with the cluster.
func TestStartupTakesLongerWithMoreNodes(t *testing.T) {
	up := func(n int) float64 {
		return *requireRunOK(t, load(t, "startup.yaml", n), 1).Measures["up"]
	}
	small, large := up(5), up(41)
	assert.Greater(t, large, 3*small, "up at 5 nodes %.3fs, at 41 nodes %.3fs", small, large)
}

func TestSameSeedSameTraceHash(t *testing.T) {
	for _, file := range []string{"kill-half.yaml", "propagate-100.yaml"} {
		sc := load(t, file, 9)
		a, err := Run(sc, 3, RunOptions{})
		require.NoError(t, err)
		b, err := Run(sc, 3, RunOptions{})
		require.NoError(t, err)
		c, err := Run(sc, 4, RunOptions{})
		require.NoError(t, err)
		assert.Equal(t, a.TraceHash, b.TraceHash, file)
		assert.Equal(t, a.Events, b.Events, file)
		assert.NotEqual(t, a.TraceHash, c.TraceHash, "%s: another seed gives another hash", file)
	}
}

func TestTraceFileHashesToTheSameValue(t *testing.T) {
	sc := load(t, "kill-half.yaml", 9)
	var buf strings.Builder
	res, err := Run(sc, 5, RunOptions{Trace: &buf})
	require.NoError(t, err)
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	tr := sim.NewTrace(nil)
	for _, e := range events {
		tr.Record(e)
	}
	assert.Equal(t, res.TraceHash, tr.HashHex(), "re-hashing the written trace gives the run's hash")
	assert.Positive(t, len(events))
}

// TestSameSeedSameTraceHashAcrossProcesses runs the scenario in a child
// process (this test binary, re-executed) and compares hashes.
func TestSameSeedSameTraceHashAcrossProcesses(t *testing.T) {
	if os.Getenv("RAFTSIM_HASH_CHILD") != "" {
		sc := load(t, "kill-half.yaml", 21)
		res, err := Run(sc, 11, RunOptions{})
		require.NoError(t, err)
		fmt.Println("HASH", res.TraceHash)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSameSeedSameTraceHashAcrossProcesses$")
	cmd.Env = append(os.Environ(), "RAFTSIM_HASH_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	var child string
	for _, line := range strings.Split(string(out), "\n") {
		if h, ok := strings.CutPrefix(line, "HASH "); ok {
			child = h
		}
	}
	require.NotEmpty(t, child, string(out))
	res, err := Run(load(t, "kill-half.yaml", 21), 11, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, res.TraceHash, child)
}

// With catch-up on, joiners come in as learners and are promoted once
// they hold the log; start-up and recovery still work at 41 nodes.
func TestCatchUpAddsLearnersThenPromotesThem(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	for _, file := range []string{"startup.yaml", "kill-half.yaml"} {
		sc := load(t, file, 41)
		sc.Cluster.CatchUp = true
		for seed := uint64(1); seed <= 5; seed++ {
			res, events := traced(t, sc, seed)
			require.True(t, res.OK, "%s seed %d: %+v", file, seed, res)
			learners := 0
			for _, e := range events {
				if e.Kind == sim.KindConfig && strings.Contains(e.Detail, "learners") {
					learners++
				}
			}
			assert.Positive(t, learners, "%s seed %d: joiners were learners first", file, seed)
		}
	}
}
