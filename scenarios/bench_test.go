package scenarios

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
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

// BenchmarkHeartbeatOnTheRealStack runs kill-leader.yaml at 3, 9 and 21
// tabs on pion, traced, one seed per iteration, and reports what the leader's
// heartbeat periods hold (sim.TimerPeriods): how late its timer ran
// after it was due (a Go timer, then the hand-off to the tab's
// goroutine), and the task's work before the re-arm (the host arms
// timers after the batch's sends) as a least-squares line in the
// messages it sent: a fixed part and a part per message; and the
// standard deviation of a whole period's excess over its interval
// (lateness and work). The pion-vm environment's timer lateness (its
// mean, and the period's deviation, since the model's send cost is
// fixed and its lateness carries all of a period's chance) and its send
// cost come from here, at 9 tabs; 3 and 21 say how far they carry.
func BenchmarkHeartbeatOnTheRealStack(b *testing.B) {
	for _, nodes := range []int{3, 9, 21} {
		b.Run(fmt.Sprintf("%d-tabs", nodes), func(b *testing.B) { benchHeartbeatOnTheRealStack(b, nodes) })
	}
}

func benchHeartbeatOnTheRealStack(b *testing.B, nodes int) {
	sc := load(b, "kill-leader.yaml", nodes)
	var late, sends, work, excess []float64
	for i := 0; b.Loop(); i++ {
		var trace bytes.Buffer
		res, err := Run(sc, uint64(i+1), RunOptions{World: WorldPion, Trace: &trace})
		require.NoError(b, err)
		require.True(b, res.OK)
		events, err := sim.ReadTrace(&trace)
		require.NoError(b, err)
		for _, p := range sim.TimerPeriods(events, raft.TimerHeartbeat.String()) {
			late = append(late, float64(p.Late)/float64(sim.Microsecond))
			sends = append(sends, float64(p.Sends))
			work = append(work, float64(p.Work)/float64(sim.Microsecond))
			excess = append(excess, float64(p.Late+p.Work)/float64(sim.Microsecond))
		}
	}
	mean, sd := stat.MeanStdDev(late, nil)
	fixed, perSend := stat.LinearRegression(sends, work, nil, false)
	excessSD := stat.StdDev(excess, nil)
	b.ReportMetric(float64(len(late)), "periods")
	b.ReportMetric(mean, "late-mean-us")
	b.ReportMetric(sd, "late-sd-us")
	b.ReportMetric(fixed, "work-fixed-us")
	b.ReportMetric(perSend, "work-per-send-us")
	b.ReportMetric(excessSD, "period-excess-sd-us")
}
