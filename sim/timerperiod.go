package sim

import (
	"cmp"
	"slices"
)

// TimerPeriod is one period of a timer re-armed by its own task, such as
// the leader's heartbeat, read off a trace: it was armed (timer_set) for
// After, fired Late after that (the event loop's lateness, and in a real
// world the hand-off to the tab's thread), and its task then worked for
// Work, sending Sends messages, before arming it again.
type TimerPeriod struct {
	Node  uint64
	After Time
	Late  Time
	Work  Time
	Sends int
}

// TimerPeriods returns every period of the timer named msg ("heartbeat")
// in a trace: a fire that follows an arming of that timer on its node,
// and is itself followed by the next arming, with the sends the node
// made in between. A timer stopped or re-armed before it fired starts
// over. The events need not be in time order (a real world's trace
// interleaves its tabs); events at the same time keep their order.
func TimerPeriods(events []Event, msg string) []TimerPeriod {
	order := make([]int, 0, len(events))
	for i := range events {
		e := &events[i]
		if (e.Kind == KindTimerSet || e.Kind == KindTimerFire) && e.Msg == msg || e.Kind == KindSend {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(events[a].Time, events[b].Time) })
	type state struct {
		armed, fired bool
		setAt, after Time
		period       TimerPeriod
		fireAt       Time
	}
	nodes := map[uint64]*state{}
	var periods []TimerPeriod
	for _, i := range order {
		e := &events[i]
		s := nodes[e.Node]
		if s == nil {
			s = &state{}
			nodes[e.Node] = s
		}
		switch e.Kind {
		case KindSend:
			if s.fired {
				s.period.Sends++
			}
		case KindTimerFire:
			s.fired = s.armed
			if s.armed {
				s.period = TimerPeriod{Node: e.Node, After: s.after, Late: e.Time - s.setAt - s.after}
				s.fireAt = e.Time
			}
			s.armed = false
		case KindTimerSet:
			if s.fired {
				s.period.Work = e.Time - s.fireAt
				periods = append(periods, s.period)
			}
			s.fired = false
			s.armed, s.setAt, s.after = true, e.Time, Time(e.Index)
		}
	}
	return periods
}
