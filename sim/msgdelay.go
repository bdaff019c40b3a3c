package sim

import (
	"cmp"
	"slices"
)

// MessageDelays returns the time each delivered message took from its
// send to its delivery, from a trace: a send is matched with the first
// later delivery of the same message (sender, receiver, type, term and
// index) not yet matched, in the order of time; a drop of a message
// forgets its oldest unmatched send. A second delivery of a message
// (duplication) and a message never delivered give nothing. The events
// need not be in time order (a real world's trace interleaves its tabs).
//
// In the real worlds every tab stamps its own events; the browser
// world's tabs share the machine's clock (performance.timeOrigin), so a
// delay there is exact to the clock's resolution.
func MessageDelays(events []Event) []Time {
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
	var delays []Time
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
				delays = append(delays, e.Time-q[0])
				sent[k] = q[1:]
			}
		}
	}
	return delays
}
