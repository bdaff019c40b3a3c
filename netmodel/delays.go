package netmodel

import (
	"math/rand/v2"
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Delay outliers, reordering windows and replays: the faults that make a stale message arrive
// long after later ones (a response from an earlier term, an old
// snapshot chunk). Both draw from their own random stream, created when
// first switched on, so a run without them draws exactly as before.

// delays is the world's delay-outlier and replay settings.
type delays struct {
	r *rand.Rand
	// oneIn: one message in oneIn is held extra longer (0: off).
	oneIn int
	extra sim.Time
	// replay: the share of messages sent again up to after later (0: off).
	replay float64
	after  sim.Time
	// reorder: every message is held a uniform extra time below it (0:
	// off).
	reorder sim.Time
}

func (w *World) delayRand() *rand.Rand {
	if w.delays.r == nil {
		w.delays.r = w.sim.Rand("delays")
	}
	return w.delays.r
}

// SetDelayOutliers holds one message in oneIn (0: none) extra longer than
// its link would: on an ordered channel the messages behind it wait too
// (head-of-line blocking), on an unordered one they overtake it.
func (w *World) SetDelayOutliers(oneIn int, extra sim.Time) {
	w.delays.oneIn, w.delays.extra = oneIn, extra
	w.Fault(0, "delay outliers 1 in "+strconv.Itoa(oneIn)+" by "+extra.String())
}

// SetReplay sends the given share of messages again, each copy arriving
// a uniform time up to after later: old appends, votes, responses and
// snapshot chunks reach their peer long after they were current.
func (w *World) SetReplay(share float64, after sim.Time) {
	w.delays.replay, w.delays.after = share, after
	w.Fault(0, "replay "+strconv.FormatFloat(share, 'f', 3, 64)+" up to "+after.String())
}

// SetReorder holds every message a uniform extra time below window (0:
// none), as a path whose packets take routes of different lengths does:
// on an unordered channel later messages overtake earlier ones, on an
// ordered channel they wait for them (head-of-line blocking).
func (w *World) SetReorder(window sim.Time) {
	w.delays.reorder = window
	w.Fault(0, "reorder window "+window.String())
}

// outlier returns the extra delay of a message about to be scheduled.
func (w *World) outlier() sim.Time {
	var extra sim.Time
	if w.delays.oneIn > 0 && w.delayRand().IntN(w.delays.oneIn) == 0 {
		extra = w.delays.extra
	}
	if w.delays.reorder > 0 {
		extra += sim.Time(w.delayRand().Int64N(int64(w.delays.reorder)))
	}
	return extra
}

// maybeReplay schedules a late copy of m (after its original).
func (w *World) maybeReplay(ch *channel, l *link, m raft.Message, arrival, sent, lastTx sim.Time, why late) {
	if w.delays.replay <= 0 || w.delays.after <= 0 || w.delayRand().Float64() >= w.delays.replay {
		return
	}
	late := sim.Time(w.delayRand().Int64N(int64(w.delays.after))) + 1
	if f := w.schedule(ch, l, m, arrival+late, sent, lastTx, why); f != nil {
		f.extra = late
	}
}
