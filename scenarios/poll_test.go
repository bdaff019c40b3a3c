package scenarios

import (
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A poll's cost is drawn around the measure's poll_cost, and a harness on
// a crowded machine is slowed as the tabs are.
func TestPollCostIsDrawnAroundItsMeanAndSlowedOnACrowdedMachine(t *testing.T) {
	for _, tt := range []struct {
		name     string
		cores    int
		slowdown float64
	}{
		{"a core each", 0, 1},
		{"41 tabs at half a core on 8 cores", 8, 41 * 0.5 / 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := load(t, "startup.yaml", 41)
			sc.World.Cores, sc.World.TabLoad = tt.cores, 0.5
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
