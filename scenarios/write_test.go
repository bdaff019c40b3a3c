package scenarios

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// sameScenario compares two scenarios as a file describes them (not where
// each field was written).
func sameScenario(t *testing.T, want, got *Scenario, msg string) {
	t.Helper()
	w, g := *want, *got
	w.file, w.pos, g.file, g.pos = "", nil, "", nil
	require.Equal(t, w, g, msg)
}

// Marshal then Parse gives the same scenario back, for every scenario file
// and for random ones with every kind of field set.
func TestMarshalRoundTrips(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	var all []*Scenario
	for _, f := range files {
		sc, err := Load(f)
		require.NoError(t, err)
		all = append(all, sc)
	}
	for seed := uint64(1); seed <= 200; seed++ {
		all = append(all, randomFaultScenario(seed), randomWorldScenario(seed))
	}
	for _, sc := range all {
		data, err := sc.Marshal()
		require.NoError(t, err, sc.Name)
		back, err := Parse(sc.Name+".yaml", data)
		require.NoError(t, err, "%s:\n%s", sc.Name, data)
		sameScenario(t, sc, back, sc.Name+":\n"+string(data))
	}
}

// A scenario with every default writes almost nothing.
func TestMarshalWritesOnlyWhatDiffers(t *testing.T) {
	sc := Default()
	sc.Name = "tiny"
	sc.Cluster.Nodes = 7
	data, err := sc.Marshal()
	require.NoError(t, err)
	require.Equal(t, "name: tiny\ncluster:\n  nodes: 7\n", string(data))
}
