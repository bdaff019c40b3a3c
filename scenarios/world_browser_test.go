package scenarios

import (
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
)

func TestCausalPutsEveryDeliveryAfterItsSend(t *testing.T) {
	send := func(at sim.Time, from, to uint64) sim.Event {
		return sim.Event{Time: at, Kind: sim.KindSend, Node: from, Peer: to, Msg: "app", Term: 2, Index: 5}
	}
	deliver := func(at sim.Time, from, to uint64) sim.Event {
		return sim.Event{Time: at, Kind: sim.KindDeliver, Node: to, Peer: from, Msg: "app", Term: 2, Index: 5}
	}
	role := sim.Event{Time: 15, Kind: sim.KindRole, Node: 3}
	tests := []struct {
		name    string
		in, out []sim.Event
	}{
		{"in order: unchanged", []sim.Event{send(10, 1, 2), deliver(12, 1, 2)}, []sim.Event{send(10, 1, 2), deliver(12, 1, 2)}},
		{"a delivery stamped before its send follows it",
			[]sim.Event{deliver(9, 1, 2), role, send(20, 1, 2)},
			[]sim.Event{role, send(20, 1, 2), deliver(20, 1, 2)}},
		{"a delivery whose send was never traced stays",
			[]sim.Event{deliver(9, 1, 2), role},
			[]sim.Event{deliver(9, 1, 2), role}},
		{"of two alike deliveries with one send traced, one waits for it",
			[]sim.Event{deliver(8, 1, 2), deliver(9, 1, 2), send(20, 1, 2)},
			[]sim.Event{deliver(8, 1, 2), send(20, 1, 2), deliver(20, 1, 2)}},
		{"other links wait for nothing",
			[]sim.Event{deliver(9, 1, 2), send(10, 3, 2), deliver(11, 3, 2), send(20, 1, 2)},
			[]sim.Event{send(10, 3, 2), deliver(11, 3, 2), send(20, 1, 2), deliver(20, 1, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := causal(tt.in)
			assert.Equal(t, tt.out, got)
			for i := 1; i < len(got); i++ {
				assert.GreaterOrEqual(t, got[i].Time, got[i-1].Time, "event %d goes back in time", i)
			}
		})
	}
}
