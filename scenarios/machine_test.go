package scenarios

import (
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A poll's cost is drawn around the measure's poll_cost, and a harness on
// a crowded or slower machine is slowed as the tabs are.
func TestPollCostIsDrawnAroundItsMeanAndSlowedOnACrowdedOrSlowerMachine(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cores    int
		slowdown float64
		scale    float64
	}{
		{"a core each", 0, 1, 0},
		{"41 tabs at half a core on 8 cores", 8, 41 * 0.5 / 8, 0},
		{"the same, on a machine 1.5 times slower", 8, 41 * 0.5 / 8 * 1.5, 1.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := load(t, "startup.yaml", 41)
			sc.World.Cores, sc.World.TabLoad, sc.World.CPUScale = tt.cores, 0.5, tt.scale
			w, err := netmodel.New(sim.New(1, nil), sc.WorldOptions())
			require.NoError(t, err)
			require.NoError(t, w.Start())
			r := newRunner(sc, 1)
			r.w = &modelWorld{World: w}
			m := &measureState{Measure: Measure{PollCost: 30 * sim.Millisecond}}
			const draws = 2000
			var sum float64
			for range draws {
				c := r.pollCost(m).Seconds() / tt.slowdown
				require.GreaterOrEqual(t, c, 0.015-1e-9)
				require.LessOrEqual(t, c, 0.045+1e-9)
				sum += c
			}
			assert.InDelta(t, 0.030, sum/draws, 0.001, "the mean is the poll cost")
			assert.Zero(t, r.pollCost(&measureState{}), "no poll cost, no draw")
		})
	}
}

// On a crowded machine every tab's work takes longer, and so does what
// waits on it: 21 tabs at 0.8 of a core each on 8 cores run their work
// 2.1 times slower, and start-up takes longer than with a core each.
func TestACrowdedMachineSlowsStartUp(t *testing.T) {
	t.Parallel() // model runs only: no real time to disturb
	up := func(cores int) float64 {
		sc := load(t, "startup.yaml", 21)
		sc.World.HandlerCost = sim.Millisecond
		sc.World.Cores, sc.World.TabLoad = cores, 0.8
		sc.Measures[0].Mode = "exact"
		return *requireRunOK(t, sc, 1).Measures["up"]
	}
	alone, crowded := up(0), up(8)
	t.Logf("alone %.3f s, crowded %.3f s", alone, crowded)
	assert.Greater(t, crowded, alone*1.05, "crowded %.3f s against %.3f s", crowded, alone)
}
