package scenarios

import (
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plantPanic makes every run whose cluster has at least minNodes tabs
// panic one virtual millisecond in, as a bug in raftsim would.
func plantPanic(t *testing.T, minNodes int) {
	startHook = func(sc *Scenario, s *sim.Sim) {
		if sc.Cluster.Nodes >= minNodes {
			s.At(s.Now()+sim.Millisecond, func() { panic("planted panic") })
		}
	}
	t.Cleanup(func() { startHook = nil })
}

func TestAPanicInARunIsAFailedResultNotACrash(t *testing.T) {
	plantPanic(t, 5)
	sc, err := Load("../scenarios/kill-half.yaml")
	require.NoError(t, err)
	res, err := Run(sc, 1, RunOptions{})
	require.NoError(t, err)
	assert.False(t, res.OK)
	assert.Equal(t, "planted panic", res.Panic)
	assert.Contains(t, res.PanicStack, "contain_test.go", "the stack shows where it panicked")
	assert.Contains(t, res.Replay, "--seed 1")
	f := classify(sc, 1, res)
	require.NotNil(t, f)
	assert.Equal(t, FailPanic, f.Kind)

	sc.Cluster.Nodes = 3 // below the planted threshold: an ordinary run
	res, err = Run(sc, 1, RunOptions{})
	require.NoError(t, err)
	assert.Empty(t, res.Panic)
}

// A sweep goes on past a run that panics.
func TestASweepGoesOnPastAPanic(t *testing.T) {
	plantPanic(t, 5)
	sc, err := Parse("sweep.yaml", []byte("name: s\ncluster: {bootstrap: static, membership: static}\nlimit: 3s\nsweep: {nodes: [3, 5, 7]}\nmeasures: [{name: up, until: leader}]\n"))
	require.NoError(t, err)
	res, err := RunSweep(sc, SweepOptions{Workers: 2})
	require.NoError(t, err)
	require.Len(t, res, 3)
	assert.Empty(t, res[0].Panic)
	assert.True(t, res[0].OK)
	assert.Equal(t, "planted panic", res[1].Panic)
	assert.Equal(t, "planted panic", res[2].Panic)
}

// The fuzzer treats a panic as a finding: it shrinks it, and the written
// reproducer panics again when replayed.
func TestFuzzShrinksAPanicAndItsReproducerReplays(t *testing.T) {
	plantPanic(t, 3)
	rep, err := Fuzz(FuzzOptions{Seeds: 30, StopAtFirst: true})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Failures)
	f := rep.Failures[0]
	assert.Equal(t, FailPanic, f.Kind)
	sh, err := Shrink(f, 100)
	require.NoError(t, err)
	assert.Equal(t, FailPanic, sh.Failure.Kind)
	assert.Equal(t, 3, sh.Failure.Scenario.Cluster.Nodes, "shrunk to the smallest cluster that panics")
	path, err := WriteReproducer(t.TempDir(), sh.Failure, sh.Removed)
	require.NoError(t, err)
	sc, err := Load(path)
	require.NoError(t, err)
	res, err := Run(sc, sc.Seed, RunOptions{})
	require.NoError(t, err)
	assert.Equal(t, "planted panic", res.Panic)
}

// A long run reports its progress.
func TestLongRunsReportProgress(t *testing.T) {
	sc, err := Load("../scenarios/kill-half.yaml")
	require.NoError(t, err)
	var calls []RunProgress
	saved := progressEvery
	t.Cleanup(func() { progressEvery = saved })
	progressEvery = 0 // report at every check
	_, err = Run(sc, 1, RunOptions{Progress: func(p RunProgress) { calls = append(calls, p) }})
	require.NoError(t, err)
	require.NotEmpty(t, calls)
	assert.Equal(t, sc.Limit, calls[0].Limit)
	assert.Positive(t, calls[0].Events)
}

// A violation names what its nodes last received, so a reader sees the
// messages that led to it.
func TestAViolationNamesWhatItsNodesLastReceived(t *testing.T) {
	rep, err := Fuzz(FuzzOptions{Seeds: 50, StopAtFirst: true, Swarm: SwarmOptions{PlantedBug: "stale-ack"}})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Failures, "stale-ack is caught by most seeds")
	f := rep.Failures[0]
	res, err := Run(f.Scenario, f.Seed, RunOptions{})
	require.NoError(t, err)
	require.Equal(t, "violated", res.Safety)
	assert.Contains(t, res.Violation, "last received: ")
	assert.Contains(t, res.Violation, "app_resp from ", "the leader's last acknowledgements")
}
