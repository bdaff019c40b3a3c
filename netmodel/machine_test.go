package netmodel

import (
	"math"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestACrowdedMachineSlowsEveryTabsWorkByTheExcessLoad(t *testing.T) {
	opt := testOptions(8)
	opt.HandlerCost = sim.Millisecond
	opt.Machine = MachineOptions{Cores: 2, TabLoad: 0.5}
	w, _ := newTestWorld(t, opt, 1)
	assert.Equal(t, 2.0, w.CPUSlowdown(), "8 tabs at half a core on 2 cores: twice the load the cores carry")
	assert.Equal(t, 2*sim.Millisecond, w.cpuTime(opt.HandlerCost))
	for id := 1; id <= 5; id++ {
		w.Kill(raft.ID(id))
	}
	assert.Equal(t, 1.0, w.CPUSlowdown(), "3 tabs fit on 2 cores: no slowdown")
	require.NoError(t, w.Restart(1))
	assert.Equal(t, 1.0, w.CPUSlowdown())
	assert.Equal(t, 4, w.live)
}

func TestAMachineOfItsOwnPerTabIsTheDefault(t *testing.T) {
	w, _ := newTestWorld(t, testOptions(40), 1)
	assert.Equal(t, 1.0, w.CPUSlowdown())
}

func TestMachineOptionsRefuseNonsense(t *testing.T) {
	for _, o := range []MachineOptions{{Cores: -1}, {Cores: 8, TabLoad: -0.1}, {Cores: 8, TabLoad: 1.5}, {Cores: 8, TabLoad: math.NaN()}} {
		assert.Error(t, o.validate(), "%+v", o)
	}
	assert.NoError(t, (&MachineOptions{Cores: 8, TabLoad: 0.5}).validate())
}
