package sim

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMessageDelays(t *testing.T) {
	send := func(at Time, from, to, index uint64) Event {
		return Event{Time: at, Kind: KindSend, Node: from, Peer: to, Term: 1, Index: index, Msg: "app"}
	}
	deliver := func(at Time, from, to, index uint64) Event {
		return Event{Time: at, Kind: KindDeliver, Node: to, Peer: from, Term: 1, Index: index, Msg: "app"}
	}
	drop := func(at Time, from, to, index uint64) Event {
		return Event{Time: at, Kind: KindDrop, Node: from, Peer: to, Term: 1, Index: index, Msg: "app"}
	}
	for _, c := range []struct {
		name   string
		events []Event
		want   []Time
	}{
		{"one message", []Event{send(10, 1, 2, 5), deliver(13, 1, 2, 5)}, []Time{3}},
		{"two links kept apart", []Event{send(10, 1, 2, 5), send(11, 1, 3, 5), deliver(12, 1, 3, 5), deliver(20, 1, 2, 5)}, []Time{1, 10}},
		{"the same message twice, first in first out", []Event{send(10, 1, 2, 5), send(20, 1, 2, 5), deliver(25, 1, 2, 5), deliver(26, 1, 2, 5)}, []Time{15, 6}},
		{"a duplicate gives nothing", []Event{send(10, 1, 2, 5), deliver(12, 1, 2, 5), deliver(14, 1, 2, 5)}, []Time{2}},
		{"a dropped message is forgotten", []Event{send(10, 1, 2, 5), drop(11, 1, 2, 5), send(20, 1, 2, 5), deliver(21, 1, 2, 5)}, []Time{1}},
		{"out of time order, as a real world's tabs interleave", []Event{deliver(13, 1, 2, 5), send(10, 1, 2, 5)}, []Time{3}},
		{"the index tells messages apart", []Event{send(10, 1, 2, 5), send(10, 1, 2, 6), deliver(12, 1, 2, 6), deliver(15, 1, 2, 5)}, []Time{2, 5}},
		{"never delivered", []Event{send(10, 1, 2, 5)}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, MessageDelays(c.events))
		})
	}
}
