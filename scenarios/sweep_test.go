package scenarios

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSweep is startup.yaml at 1, 3, 5 nodes and ET 250 and 500 ms, 3
// seeds a point.
func smallSweep(t *testing.T) *Scenario {
	t.Helper()
	sc, err := Load("startup.yaml")
	require.NoError(t, err)
	sc.Sweep = Sweep{Nodes: []int{1, 3, 5}, ElectionTimeout: []sim.Time{250 * sim.Millisecond, 500 * sim.Millisecond}}
	sc.Seeds = 3
	require.NoError(t, sc.Validate())
	return sc
}

// sweepCSV runs the sweep and returns its CSV without the wall-time
// column (the only one that may differ between runs).
func sweepCSV(t *testing.T, sc *Scenario, opt SweepOptions) string {
	t.Helper()
	res, err := RunSweep(sc, opt)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, sc, res))
	return withoutWall(t, b.String())
}

func withoutWall(t *testing.T, csvText string) string {
	t.Helper()
	tab, err := ReadCSV(strings.NewReader(csvText), "sweep")
	require.NoError(t, err)
	wall := tab.Column("wall_seconds")
	require.GreaterOrEqual(t, wall, 0)
	var b strings.Builder
	for _, row := range append([][]string{tab.Header}, tab.Rows...) {
		row = append(append([]string{}, row[:wall]...), row[wall+1:]...)
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	return b.String()
}

func TestSweepMatchesGolden(t *testing.T) {
	got := sweepCSV(t, smallSweep(t), SweepOptions{Workers: 2})
	const golden = "testdata/golden/sweep-startup.csv"
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
	assert.Equal(t, 1+2*3*3, strings.Count(got, "\n"), "a header and one row per run")
}

func TestSweepResultsDoNotDependOnWorkers(t *testing.T) {
	sc := smallSweep(t)
	one := sweepCSV(t, sc, SweepOptions{Workers: 1})
	for _, w := range []int{2, 4, 7} {
		assert.Equal(t, one, sweepCSV(t, sc, SweepOptions{Workers: w}), "%d workers", w)
	}
}

func TestShardsMergeIntoTheWholeSweep(t *testing.T) {
	sc := smallSweep(t)
	whole := sweepCSV(t, sc, SweepOptions{Workers: 2})
	var tables []*Table
	for k := 1; k <= 3; k++ {
		res, err := RunSweep(sc, SweepOptions{Workers: 2, Shard: k, Shards: 3})
		require.NoError(t, err)
		assert.Len(t, res, 6, "shard %d/3", k)
		var b bytes.Buffer
		require.NoError(t, WriteCSV(&b, sc, res))
		tab, err := ReadCSV(&b, "shard")
		require.NoError(t, err)
		tables = append(tables, tab)
	}
	merged, err := MergeCSV(tables)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, merged.Write(&b))
	assert.Equal(t, whole, withoutWall(t, b.String()))
	_, err = RunSweep(sc, SweepOptions{Shard: 4, Shards: 3})
	assert.ErrorIs(t, err, ErrShard)
}

func TestSweepAxesAreChecked(t *testing.T) {
	_, err := Parse("inline.yaml", []byte("sweep:\n  nodes: [3, 0]\n"))
	assert.ErrorContains(t, err, "inline.yaml:2:14: sweep.nodes[1]")
	_, err = Parse("inline.yaml", []byte("sweep:\n  election_timeout: [250ms, soon]\n"))
	assert.ErrorContains(t, err, "sweep.election_timeout[1]")
}
