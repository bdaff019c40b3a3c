package impair

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
)

// fates draws n packets of 1000 bytes from src to dst, all sent at t0.
func fates(w *Network, src, dst, n int) (drops, dups int, delays []time.Duration) {
	t0 := time.Unix(0, 0)
	for range n {
		f := w.Decide(src, dst, 1000, t0)
		if f.Drop {
			drops++
			continue
		}
		if f.Duplicate {
			dups++
		}
		delays = append(delays, f.Delay)
	}
	return drops, dups, delays
}

func TestDecideFollowsTheLinksSettings(t *testing.T) {
	const n = 4000
	lat := netmodel.Latency{Dist: netmodel.DistConstant, Mean: 2 * sim.Millisecond}
	tests := []struct {
		name           string
		base           netmodel.Profile
		overrides      []netmodel.LinkOverride
		src, dst       int
		minDrop, maxDr int
		wantDups       bool
		delay          time.Duration // of the first packet
	}{
		{"a clean link passes everything at once", netmodel.Profile{}, nil, 1, 2, 0, 0, false, 0},
		{"loss 25%", netmodel.Profile{Loss: 0.25}, nil, 1, 2, n / 5, n * 3 / 10, false, 0},
		{"loss 1 drops everything", netmodel.Profile{Loss: 1}, nil, 2, 1, n, n, false, 0},
		{"duplication", netmodel.Profile{Duplicate: 0.5}, nil, 1, 2, 0, 0, true, 0},
		{"constant latency", netmodel.Profile{Latency: lat}, nil, 1, 2, 0, 0, false, 2 * time.Millisecond},
		{"an override on one directed link only", netmodel.Profile{}, []netmodel.LinkOverride{{From: 2, To: 1, Loss: ptr(1.0)}}, 1, 2, 0, 0, false, 0},
		{"the overridden direction", netmodel.Profile{}, []netmodel.LinkOverride{{From: 2, To: 1, Loss: ptr(1.0)}}, 2, 1, n, n, false, 0},
		{"not a tab: untouched", netmodel.Profile{Loss: 1}, nil, 0, 1, 0, 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New(3, tt.base, tt.overrides, 1)
			drops, dups, delays := fates(w, tt.src, tt.dst, n)
			assert.GreaterOrEqual(t, drops, tt.minDrop)
			assert.LessOrEqual(t, drops, tt.maxDr)
			assert.Equal(t, tt.wantDups, dups > 0)
			if len(delays) > 0 {
				assert.Equal(t, tt.delay, delays[0])
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCutsPartitionsAndHeal(t *testing.T) {
	w := New(4, netmodel.Profile{}, nil, 1)
	drops := func(a, b int) bool { return w.Decide(a, b, 100, time.Now()).Drop }
	w.Partition([][]raft.ID{{1, 2}, {3}})
	assert.False(t, drops(1, 2), "same side")
	assert.True(t, drops(1, 3))
	assert.True(t, drops(3, 2))
	assert.False(t, drops(4, 1), "a tab in no group keeps its links")
	w.Cut(4, 1)
	assert.True(t, drops(4, 1), "cuts add up")
	assert.False(t, drops(1, 4), "a cut is one way")
	w.Heal()
	assert.False(t, drops(1, 3))
	w.CutOff(2, true)
	assert.True(t, drops(2, 4))
	assert.True(t, drops(1, 2))
	assert.False(t, drops(1, 3))
	w.Heal()
	assert.True(t, drops(1, 2), "a cut-off tab stays cut off after a heal")
	w.CutOff(2, false)
	assert.False(t, drops(1, 2))
}

func TestSetLossReplacesABurstAndKeepsOverrides(t *testing.T) {
	burst := &netmodel.GilbertElliott{PGoodToBad: 1, PBadToGood: 0, LossGood: 0, LossBad: 1}
	w := New(3, netmodel.Profile{Burst: burst}, []netmodel.LinkOverride{{From: 3, To: 0, Loss: ptr(1.0)}}, 1)
	assert.True(t, w.Impaired())
	d, _, _ := fates(w, 1, 2, 100)
	assert.Equal(t, 100, d, "always in the bad state")
	w.SetLoss(0)
	d, _, _ = fates(w, 1, 2, 100)
	assert.Zero(t, d)
	d, _, _ = fates(w, 3, 1, 100)
	assert.Equal(t, 100, d, "the override stays")
	assert.False(t, New(3, netmodel.Profile{}, nil, 1).Impaired())
}

func TestBandwidthQueuesPacketsBehindEachOther(t *testing.T) {
	w := New(2, netmodel.Profile{Bandwidth: 1e6}, nil, 1) // 1000 bytes: 1 ms each
	_, _, delays := fates(w, 1, 2, 3)
	assert.Equal(t, []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}, delays)
}

func TestSameSeedSameFates(t *testing.T) {
	p := netmodel.Profile{Loss: 0.3, Duplicate: 0.1, Latency: netmodel.Latency{Dist: netmodel.DistLognormal, Mean: sim.Millisecond, Jitter: sim.Millisecond}}
	_, _, a := fates(New(3, p, nil, 7), 1, 2, 500)
	_, _, b := fates(New(3, p, nil, 7), 1, 2, 500)
	_, _, c := fates(New(3, p, nil, 8), 1, 2, 500)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}
