package sim

import (
	"cmp"
	"slices"
)

// MessageTrip is one delivered message's way, read off a trace: sent by
// From at Sent, delivered to To at Delivered.
type MessageTrip struct {
	From, To        uint64
	Sent, Delivered Time
}

// MessageDelays returns the time each delivered message took from its
// send to its delivery (MessageTrips).
func MessageDelays(events []Event) []Time {
	var delays []Time
	for _, tr := range MessageTrips(events) {
		delays = append(delays, tr.Delivered-tr.Sent)
	}
	return delays
}

// MessageTrips returns the way of each delivered message, from a trace,
// in the order of delivery: a send is matched with the first later
// delivery of the same message (sender, receiver, type, term and index)
// not yet matched, in the order of time; a drop of a message forgets its
// oldest unmatched send. A second delivery of a message (duplication) and
// a message never delivered give nothing. The events need not be in time
// order (a real world's trace interleaves its tabs).
//
// In the real worlds every tab stamps its own events; the browser
// world's tabs share the machine's clock (performance.timeOrigin), so a
// delay there is exact to the clock's resolution.
func MessageTrips(events []Event) []MessageTrip {
	order := make([]int, 0, len(events))
	for i := range events {
		if k := events[i].Kind; k == KindSend || k == KindDeliver || k == KindDrop {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(events[a].Time, events[b].Time) })
	type message struct {
		from, to, term, index uint64
		msg                   string
	}
	sent := map[message][]Time{}
	var trips []MessageTrip
	for _, i := range order {
		e := &events[i]
		switch e.Kind {
		case KindSend, KindDrop:
			k := message{e.Node, e.Peer, e.Term, e.Index, e.Msg}
			if e.Kind == KindSend {
				sent[k] = append(sent[k], e.Time)
			} else if len(sent[k]) > 0 {
				sent[k] = sent[k][1:]
			}
		case KindDeliver:
			k := message{e.Peer, e.Node, e.Term, e.Index, e.Msg}
			if q := sent[k]; len(q) > 0 {
				trips = append(trips, MessageTrip{From: e.Peer, To: e.Node, Sent: q[0], Delivered: e.Time})
				sent[k] = q[1:]
			}
		}
	}
	return trips
}
