package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkKillHalf41 runs kill-half.yaml at 41 nodes, one seed per
// iteration, and reports the virtual/wall ratio.
func BenchmarkKillHalf41(b *testing.B) {
	sc, err := Load("kill-half.yaml")
	require.NoError(b, err)
	nodes := 41
	require.NoError(b, sc.Apply(Overrides{Nodes: &nodes}))
	var virtual, wall float64
	var events uint64
	for i := 0; b.Loop(); i++ {
		res, err := Run(sc, uint64(i+1), RunOptions{})
		require.NoError(b, err)
		require.True(b, res.OK)
		virtual += res.VirtualSeconds
		wall += res.WallSeconds
		events += res.Events
	}
	b.ReportMetric(virtual/wall, "virtual/wall")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
