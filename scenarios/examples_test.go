package scenarios

import (
	"testing"

	"github.com/raftsim/raftsim/checker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The files in scenarios/examples do what their descriptions say.

func TestExampleSweepStartUpGrowsWithTheCluster(t *testing.T) {
	sc, err := Load("examples/startup-sweep.yaml")
	require.NoError(t, err)
	results, err := RunSweep(sc, SweepOptions{})
	require.NoError(t, err)
	require.Len(t, results, 4*2*5, "4 sizes x 2 election timeouts x 5 seeds")
	mean := map[int]float64{}
	for _, r := range results {
		require.True(t, r.OK, "seed %d at %d nodes: %s", r.Seed, r.Nodes, r.Violation)
		mean[r.Nodes] += *r.Measures["up"] / 10
	}
	assert.Less(t, mean[3], mean[9])
	assert.Less(t, mean[9], mean[17])
	assert.InDelta(t, 1.0, mean[17], 0.3, "about a second at 17 tabs")
}

func TestExampleLossyKVIsLinearizable(t *testing.T) {
	sc, err := Load("examples/lossy-kv.yaml")
	require.NoError(t, err)
	res, err := Run(sc, 1, RunOptions{})
	require.NoError(t, err)
	assert.True(t, res.OK, res.Violation)
	assert.Equal(t, checker.LinOK, res.Linearizability, res.LinDetail)
	assert.Equal(t, 180, res.Operations, "3 clients x 60 operations")
}

func TestExampleHiddenLeaderIsReplacedWithinTwoSeconds(t *testing.T) {
	sc, err := Load("examples/hidden-leader.yaml")
	require.NoError(t, err)
	for seed := uint64(1); seed <= 5; seed++ {
		res, err := Run(sc, seed, RunOptions{})
		require.NoError(t, err)
		require.True(t, res.OK, res.Violation)
		require.NotNil(t, res.Measures["new-leader"])
		assert.Less(t, *res.Measures["new-leader"], 2.0, "seed %d", seed)
	}
}

func TestExampleBrowserKillHalfRecoversInTheModelToo(t *testing.T) {
	sc, err := Load("examples/browser-kill-half.yaml")
	require.NoError(t, err)
	res, err := Run(sc, 1, RunOptions{})
	require.NoError(t, err)
	require.True(t, res.OK, res.Violation)
	require.NotNil(t, res.Measures["recovered"])
	assert.Less(t, *res.Measures["recovered"], 1.0, "within two election timeouts")
}
