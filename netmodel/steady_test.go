package netmodel

import (
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Once a cluster is up and quiet, its heartbeats, their acknowledgements
// and the timers that drive them (the model's message path: send,
// channel, arrival, the tab's queue and handler, Raft's step and Ready)
// allocate nothing but the kernel's timer handles, which come 128 to an
// allocation (sim.timerSlab): events are values in the kernel's queue,
// deliveries pooled, the tabs' queues rings, the machine's run queue
// reused. Without a trace, as in a swarm run.
func TestAQuietClusterAllocatesAlmostNothingPerEvent(t *testing.T) {
	for _, tt := range []struct {
		name    string
		machine MachineOptions
	}{
		{"a core each", MachineOptions{}},
		{"pages taking turns on 2 cores", MachineOptions{Cores: 2, WakeCost: sim.Millisecond}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(5)
			opt.Raft.ElectionTimeout = 200 * sim.Millisecond
			opt.HandlerCost = 30 * sim.Microsecond
			opt.Machine = tt.machine
			s := sim.New(1, nil)
			w, err := New(s, opt)
			require.NoError(t, err)
			require.NoError(t, w.Start())
			s.RunUntil(5*sim.Second, nil)
			require.Len(t, w.Leaders(), 1)
			lead := w.Leaders()[0]
			now := s.Now()
			before := s.Events()
			allocs := testing.AllocsPerRun(20, func() {
				now += sim.Second
				s.RunUntil(now, nil)
			})
			events := float64(s.Events()-before) / 21
			require.Greater(t, events, 100.0, "a second of heartbeats among 5 tabs")
			assert.Less(t, allocs/events, 1.0/100, "%.0f allocations for %.0f events a second", allocs, events)
			assert.Equal(t, []raft.ID{lead}, w.Leaders(), "still the same quiet cluster")
		})
	}
}
