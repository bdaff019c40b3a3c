package netmodel

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
)

// SampleNormal places a draw at its normal draw's quantile: fed standard
// normal draws, it gives Sample's distribution, and a larger z never a
// shorter delay.
func TestSampleNormalKeepsTheDistribution(t *testing.T) {
	for _, l := range []Latency{
		{Dist: DistLognormal, Mean: 860 * sim.Microsecond, Jitter: 660 * sim.Microsecond},
		{Dist: DistUniform, Mean: 10 * sim.Millisecond, Jitter: 2 * sim.Millisecond},
	} {
		t.Run(string(l.Dist), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var viaSample, viaNormal []float64
			for range 100_000 {
				viaSample = append(viaSample, float64(l.Sample(r)))
				viaNormal = append(viaNormal, float64(l.SampleNormal(r.NormFloat64())))
			}
			m1, sd1 := stat.MeanStdDev(viaSample, nil)
			m2, sd2 := stat.MeanStdDev(viaNormal, nil)
			assert.InEpsilon(t, m1, m2, 0.01, "mean")
			assert.InEpsilon(t, sd1, sd2, 0.02, "sd")
			if l.Dist == DistUniform {
				assert.GreaterOrEqual(t, slices.Min(viaNormal), float64(l.Mean-l.Jitter))
				assert.LessOrEqual(t, slices.Max(viaNormal), float64(l.Mean+l.Jitter))
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
	type key struct {
		from, to, term, index uint64
		msg                   string
	}
	type send struct {
		at    sim.Time
		batch [2]uint64
	}
	sent := map[key][]send{}
	batches := map[[2]uint64]map[uint64]float64{} // (sender, instant): receiver -> delay
	for _, e := range events {
		switch e.Kind {
		case sim.KindSend:
			k := key{e.Node, e.Peer, e.Term, e.Index, e.Msg}
			sent[k] = append(sent[k], send{e.Time, [2]uint64{e.Node, uint64(e.Time)}})
		case sim.KindDeliver:
			k := key{e.Peer, e.Node, e.Term, e.Index, e.Msg}
			if q := sent[k]; len(q) > 0 {
				d := (e.Time - q[0].at).Seconds()
				all = append(all, d)
				if batches[q[0].batch] == nil {
					batches[q[0].batch] = map[uint64]float64{}
				}
				batches[q[0].batch][e.Node] = d
				sent[k] = q[1:]
			}
		}
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
