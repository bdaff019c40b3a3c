package netmodel

import (
	"fmt"
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ChannelOptions are datachannel and link details beyond the profile. The
// zero value keeps the first-cut behaviour: no size limit, no send buffer
// limit, Chrome's SCTP timers, no per-link overrides.
type ChannelOptions struct {
	// MaxMessageSize is the largest message the host sends in one piece;
	// larger ones are split into fragments and reassembled. 0: no limit.
	MaxMessageSize int
	// SCTP selects the retransmission timers: "chrome" (default) or "pion".
	SCTP string
	// SendBufferLimit is the most bytes a channel may have queued
	// (bufferedAmount); a send past it fails. 0: no limit.
	SendBufferLimit int
	// Links override the profile and mode on single directed links.
	Links []LinkOverride
}

// GilbertElliott is a two-state bursty loss model: each transmission on a
// link first moves the link's state (good to bad with PGoodToBad, bad to
// good with PBadToGood), then is lost with the state's loss rate.
type GilbertElliott struct {
	PGoodToBad, PBadToGood float64
	LossGood, LossBad      float64
}

// LinkOverride replaces settings on the directed links from From to To;
// 0 in From or To matches any tab. Later overrides win.
type LinkOverride struct {
	From, To  raft.ID
	Latency   *Latency
	Loss      *float64
	Burst     *GilbertElliott
	Bandwidth *float64 // bytes per second
	Mode      *ChannelMode
}

// DefaultChannelOptions returns the sourced defaults (facts §2, §3).
func DefaultChannelOptions() ChannelOptions {
	return ChannelOptions{MaxMessageSize: 16 << 10, SCTP: "chrome", SendBufferLimit: 16 << 20}
}

func (o *ChannelOptions) validate() error { return nil }

// BufferedAmount returns the bytes queued on the channel from one tab to
// another and not yet sent (RTCDataChannel.bufferedAmount).
func (w *World) BufferedAmount(from, to raft.ID) int { return 0 }

// linkState is the world's per-link state beyond the channels.
type linkState struct{}

func (w *World) initLinks() {}

// channel is the directed datachannel from one tab to another.
type channel struct {
	lastArrival sim.Time // ordered delivery: nothing overtakes this
	cut         bool     // partitioned
	held        []raft.Message
}

// Partition cuts every link between different groups, both ways. Nodes in
// no group keep their links.
func (w *World) Partition(groups [][]raft.ID) {
	group := make([]int, w.opt.Nodes+1)
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			if a != b && group[a] != 0 && group[b] != 0 && group[a] != group[b] {
				w.chans[a][b].cut = true
			}
		}
	}
	w.Fault(0, fmt.Sprintf("partition %v", groups))
}

// Cut cuts the link from one tab to another, one way.
func (w *World) Cut(from, to raft.ID) {
	w.chans[from][to].cut = true
	w.Fault(from, "cut to "+strconv.Itoa(int(to)))
}

// Heal restores every link. A reliable channel then delivers what it held:
// SCTP retransmits at its next timer expiry, which after a long cut runs at
// the backoff cap, so the held messages arrive within RTOBackoffCap.
func (w *World) Heal() {
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			ch := &w.chans[a][b]
			if !ch.cut {
				continue
			}
			ch.cut = false
			held := ch.held
			ch.held = nil
			if len(held) == 0 {
				continue
			}
			base := w.sim.Now() + sim.Time(w.netRand.Int64N(int64(RTOBackoffCap)))
			for _, m := range held {
				w.schedule(ch, m, base+w.opt.Profile.Latency.Sample(w.netRand))
			}
		}
	}
	w.Fault(0, "heal")
}

// SetLoss changes the loss and duplication rates of every link.
func (w *World) SetLoss(loss, duplicate float64) {
	w.opt.Profile.Loss, w.opt.Profile.Duplicate = loss, duplicate
	w.Fault(0, fmt.Sprintf("loss %.3f dup %.3f", loss, duplicate))
}

// transmit puts m on the datachannel from m.From to m.To.
func (w *World) transmit(m raft.Message) {
	ch := &w.chans[m.From][m.To]
	if ch.cut {
		if !w.opt.Mode.Unordered && w.opt.Mode.Reliability == Reliable {
			ch.held = append(ch.held, m)
			return
		}
		w.drop(m, "partitioned")
		return
	}
	p := &w.opt.Profile
	arrival := w.sim.Now() + p.Latency.Sample(w.netRand)
	for k := 0; p.Loss > 0 && w.netRand.Float64() < p.Loss; k++ {
		if w.opt.Mode.Reliability != Reliable {
			w.drop(m, "lost")
			return
		}
		arrival += rto(k)
	}
	w.schedule(ch, m, arrival)
	if p.Duplicate > 0 && w.netRand.Float64() < p.Duplicate {
		w.schedule(ch, m, arrival+p.Latency.Sample(w.netRand))
	}
}

func (w *World) schedule(ch *channel, m raft.Message, arrival sim.Time) {
	if !w.opt.Mode.Unordered {
		arrival = sim.Max(arrival, ch.lastArrival)
		ch.lastArrival = arrival
	}
	from, to := w.tabs[m.From], w.tabs[m.To]
	fromInc, toInc := from.inc, to.inc
	w.sim.At(arrival, func() {
		if from.inc != fromInc || to.inc != toInc || !to.alive {
			w.drop(m, "channel closed")
			return
		}
		to.deliver(m)
	})
}

func (w *World) drop(m raft.Message, why string) {
	w.record(sim.Event{Kind: sim.KindDrop, Node: uint64(m.From), Peer: uint64(m.To), Term: m.Term, Index: m.Index, Msg: m.Type.String(), Detail: why})
}
