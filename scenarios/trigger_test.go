package scenarios

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// killAfterUp returns how long after the up measure ended kill-leader's
// kill came, in a traced run of seed.
func killAfterUp(t *testing.T, sc *Scenario, seed uint64) sim.Time {
	t.Helper()
	events, _ := tracedRun(t, sc, seed)
	var up, kill sim.Time = -1, -1
	for _, e := range events {
		switch {
		case e.Kind == sim.KindMeasure && e.Msg == "up" && up < 0:
			up = e.Time
		case e.Kind == sim.KindFault && strings.HasPrefix(e.Detail, "kill ") && kill < 0:
			kill = e.Time
		}
	}
	require.True(t, up >= 0 && kill >= 0, "seed %d: up and the kill traced", seed)
	return kill - up
}

func TestAJitteredKillLandsAnywhereInTheHeartbeatPeriod(t *testing.T) {
	sc := load(t, "kill-leader.yaml", 5)
	for seed := uint64(1); seed <= 3; seed++ {
		assert.Equal(t, 3*sim.Second, killAfterUp(t, sc, seed), "seed %d: without jitter, exactly after", seed)
	}
	sc.Faults[0].Jitter = 100 * sim.Millisecond
	seen := map[sim.Time]bool{}
	for seed := uint64(1); seed <= 6; seed++ {
		d := killAfterUp(t, sc, seed)
		assert.True(t, d >= 3*sim.Second && d < 3*sim.Second+100*sim.Millisecond, "seed %d: %v", seed, d)
		assert.Equal(t, d, killAfterUp(t, sc, seed), "seed %d: the same draw again", seed)
		seen[d] = true
	}
	assert.Len(t, seen, 6, "each seed its own point of the period")
}
