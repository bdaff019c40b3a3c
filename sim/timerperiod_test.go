package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTimerPeriods(t *testing.T) {
	set := func(at Time, node uint64, after Time) Event {
		return Event{Time: at, Kind: KindTimerSet, Node: node, Index: uint64(after), Msg: "heartbeat"}
	}
	fire := func(at Time, node uint64) Event {
		return Event{Time: at, Kind: KindTimerFire, Node: node, Msg: "heartbeat"}
	}
	send := func(at Time, node uint64) Event {
		return Event{Time: at, Kind: KindSend, Node: node, Peer: 9, Msg: "app"}
	}
	for _, c := range []struct {
		name   string
		events []Event
		want   []TimerPeriod
	}{
		{"one period with two sends", []Event{set(0, 1, 100), fire(103, 1), send(104, 1), send(105, 1), set(106, 1, 100)},
			[]TimerPeriod{{Node: 1, After: 100, Late: 3, Work: 3, Sends: 2}}},
		{"a fire not re-armed gives nothing", []Event{set(0, 1, 100), fire(101, 1), send(102, 1)}, nil},
		{"sends outside a period are not counted", []Event{send(1, 1), set(2, 1, 100), send(50, 1), fire(102, 1), set(102, 1, 100)},
			[]TimerPeriod{{Node: 1, After: 100, Late: 0, Work: 0, Sends: 0}}},
		{"a re-arm before the fire starts over", []Event{set(0, 1, 100), set(40, 1, 100), fire(141, 1), set(142, 1, 100)},
			[]TimerPeriod{{Node: 1, After: 100, Late: 1, Work: 1}}},
		{"nodes kept apart, out of time order", []Event{fire(102, 2), set(0, 1, 100), set(0, 2, 100), fire(101, 1), send(103, 2), set(104, 2, 100), set(101, 1, 100)},
			[]TimerPeriod{{Node: 1, After: 100, Late: 1, Work: 0}, {Node: 2, After: 100, Late: 2, Work: 2, Sends: 1}}},
		{"other timers are not this one", []Event{set(0, 1, 100), {Time: 50, Kind: KindTimerFire, Node: 1, Msg: "election"}, fire(100, 1), set(100, 1, 100)},
			[]TimerPeriod{{Node: 1, After: 100}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, TimerPeriods(c.events, "heartbeat"))
		})
	}
}
