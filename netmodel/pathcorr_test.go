package netmodel

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

// SampleNormal places a draw at its normal draw's quantile: fed standard
// normal draws, it gives the distribution's mean and sd (and a uniform's
// range), and a larger z never a shorter delay.
func TestSampleNormalKeepsTheDistribution(t *testing.T) {
	for _, tt := range []struct {
		l  Latency
		sd float64 // the distribution's
	}{
		{Latency{Dist: DistLognormal, Mean: 860 * sim.Microsecond, Jitter: 660 * sim.Microsecond}, float64(660 * sim.Microsecond)},
		{Latency{Dist: DistUniform, Mean: 10 * sim.Millisecond, Jitter: 2 * sim.Millisecond}, float64(4*sim.Millisecond) / math.Sqrt(12)},
	} {
		l := tt.l
		t.Run(string(l.Dist), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var draws []float64
			for range 100_000 {
				draws = append(draws, float64(l.SampleNormal(r.NormFloat64())))
			}
			mean, sd := stat.MeanStdDev(draws, nil)
			assert.InEpsilon(t, float64(l.Mean), mean, 0.01, "mean")
			assert.InEpsilon(t, tt.sd, sd, 0.02, "sd")
			if l.Dist == DistUniform {
				assert.GreaterOrEqual(t, slices.Min(draws), float64(l.Mean-l.Jitter))
				assert.LessOrEqual(t, slices.Max(draws), float64(l.Mean+l.Jitter))
			}
			for z := -4.0; z < 4; z += 0.25 {
				assert.LessOrEqual(t, l.SampleNormal(z), l.SampleNormal(z+0.25))
			}
		})
	}
}

// With a path correlation, the copies of a broadcast share part of their
// delay (pion's at 9 tabs: r 0.50, docs/worlds.md); without, they are
// independent. Either way each delay keeps the path's distribution.
func TestABroadcastsCopiesShareTheirPathDelay(t *testing.T) {
	path := Latency{Dist: DistLognormal, Mean: 860 * sim.Microsecond, Jitter: 660 * sim.Microsecond}
	for _, tt := range []struct {
		correlation float64
		rMin, rMax  float64
	}{
		{0, -0.1, 0.1},
		{0.6, 0.4, 0.6},
	} {
		opt := testOptions(9)
		opt.Profile.Latency = path
		opt.Raft.ElectionTimeout = 500 * sim.Millisecond
		opt.PathCorrelation = tt.correlation
		w, buf := newTestWorld(t, opt, 1)
		w.sim.RunUntil(20*sim.Second, nil)
		xs, ys, all := broadcastDelays(traceEvents(t, w, buf))
		require.Greater(t, len(xs), 1000, "the leader's broadcasts")
		r := stat.Correlation(xs, ys, nil)
		t.Logf("path correlation %v: %d pairs, r = %.3f", tt.correlation, len(xs), r)
		assert.True(t, tt.rMin <= r && r <= tt.rMax, "correlation %v: r = %.3f", tt.correlation, r)
		mean, sd := stat.MeanStdDev(all, nil)
		assert.InEpsilon(t, path.Mean.Seconds(), mean, 0.05, "correlation %v: the path's mean", tt.correlation)
		assert.InEpsilon(t, path.Jitter.Seconds(), sd, 0.1, "correlation %v: the path's sd", tt.correlation)
	}
}

// broadcastDelays pairs the delays (s) of the messages each batch sent,
// by receiver, and returns every delivered message's delay too. The model
// stamps a batch's sends with one instant.
func broadcastDelays(events []sim.Event) (xs, ys, all []float64) {
	type batch struct {
		from uint64
		sent sim.Time
	}
	batches := map[batch]map[uint64]float64{} // receiver -> delay
	for _, tr := range sim.MessageTrips(events) {
		d := (tr.Delivered - tr.Sent).Seconds()
		all = append(all, d)
		b := batch{tr.From, tr.Sent}
		if batches[b] == nil {
			batches[b] = map[uint64]float64{}
		}
		batches[b][tr.To] = d
	}
	for _, b := range batches {
		to := slices.Sorted(maps.Keys(b))
		for i := range to {
			for j := i + 1; j < len(to); j++ {
				xs, ys = append(xs, b[to[i]]), append(ys, b[to[j]])
			}
		}
	}
	return xs, ys, all
}
