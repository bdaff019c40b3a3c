package netmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// MaxMessageSizeLimit is the largest max_message_size accepted: 64 KiB, the
// size every browser takes when SDP says nothing (facts §2 maxMessageSize:
// W3C "update max message size", V).
const MaxMessageSizeLimit = 64 << 10

func (o *ChannelOptions) validate() error {
	if o.MaxMessageSize < 0 || o.MaxMessageSize > MaxMessageSizeLimit {
		return fmt.Errorf("max_message_size must be in 1..%d bytes (0: no limit), got %d", MaxMessageSizeLimit, o.MaxMessageSize)
	}
	if o.SendBufferLimit < 0 {
		return fmt.Errorf("send_buffer_limit must not be negative, got %d", o.SendBufferLimit)
	}
	if _, ok := sctpTimers[o.SCTP]; !ok {
		return fmt.Errorf("sctp must be chrome or pion, got %q", o.SCTP)
	}
	for i, l := range o.Links {
		f := fmt.Sprintf("links[%d]", i)
		if l.Latency != nil {
			if err := l.Latency.Validate(); err != nil {
				return fmt.Errorf("%s.latency: %w", f, err)
			}
		}
		if l.Loss != nil && (*l.Loss < 0 || *l.Loss >= 1) {
			return fmt.Errorf("%s.loss: must be in [0,1), got %v", f, *l.Loss)
		}
		if err := l.Burst.validate(); err != nil {
			return fmt.Errorf("%s.burst: %w", f, err)
		}
		if l.Bandwidth != nil && *l.Bandwidth < 0 {
			return fmt.Errorf("%s.bandwidth: must not be negative, got %v", f, *l.Bandwidth)
		}
		if l.Mode != nil {
			if err := l.Mode.Validate(); err != nil {
				return fmt.Errorf("%s.datachannel: %w", f, err)
			}
		}
	}
	return nil
}

func (g *GilbertElliott) validate() error {
	if g == nil {
		return nil
	}
	for _, p := range []float64{g.PGoodToBad, g.PBadToGood, g.LossGood, g.LossBad} {
		if p < 0 || p > 1 {
			return fmt.Errorf("probabilities must be in [0,1], got %+v", *g)
		}
	}
	return nil
}

// MeanLoss returns the model's long-run loss rate: the stationary share of
// the bad state is PGoodToBad / (PGoodToBad + PBadToGood).
func (g *GilbertElliott) MeanLoss() float64 {
	if g.PGoodToBad+g.PBadToGood == 0 {
		return g.LossGood
	}
	bad := g.PGoodToBad / (g.PGoodToBad + g.PBadToGood)
	return bad*g.LossBad + (1-bad)*g.LossGood
}

// sctpTiming is one SCTP implementation's loss recovery: its
// retransmission timer, a tail-loss probe before it, and how many SACKs
// reporting a chunk missing make its sender retransmit it at once.
type sctpTiming struct {
	rtoMin, rtoMax sim.Time
	// probe, if set, is the first retransmission's wait: a tail-loss
	// probe (RFC 8985), the timer's backoff coming after it.
	probe sim.Time
	// missReports is how many SACKs reporting a chunk missing make its
	// sender retransmit it (fastRetransmit); rack: one is enough once the
	// reported chunk was sent a reordering window after the missing one
	// (RACK, RFC 8985).
	missReports int
	rack        bool
}

// sctpTimers by ChannelOptions.SCTP. Neither gives up on a message: both
// browsers and pion run without a retransmission limit (facts §3).
var sctpTimers = map[string]sctpTiming{
	// Chrome's dcSCTP: RTO min 400 ms; WebRTC caps the backoff at 3 s
	// (facts §3 Chrome row: dcsctp_transport.cc kMaxTimerBackoffDuration,
	// V). At the RTTs modeled SRTT + 4 RTTVAR stays below the minimum.
	// Fast retransmit after three miss indications (RFC 9260 §7.2.4).
	"":       {rtoMin: RTOMin, rtoMax: RTOBackoffCap, missReports: 3},
	"chrome": {rtoMin: RTOMin, rtoMax: RTOBackoffCap, missReports: 3},
	// pion/sctp v1.12.1 (this module's): RTO initial and min 1 s, max 60
	// s (facts §3 pion row: rtx_timer.go, V), and RACK-TLP (RFC 8985;
	// association.go onRackAfterSACK, schedulePTOAfterSendLocked): a
	// chunk is lost once one sent a reordering window (a quarter of the
	// minimum RTT) after it is acknowledged, and a tail-loss probe goes
	// out 2 SRTT + 200 ms after the last send with one chunk in flight
	// (its WCDelAck; 2 ms with more). The probe here is 200 ms: the 2
	// SRTT, a few ms on the paths the pion world runs, is left out.
	"pion": {rtoMin: 1 * sim.Second, rtoMax: 60 * sim.Second, probe: 200 * sim.Millisecond, missReports: 1, rack: true},
}

// rto returns the wait before retransmission number k (0-based): the
// probe first if there is one, then the timer, doubling up to its cap.
func (s sctpTiming) rto(k int) sim.Time {
	if s.probe > 0 {
		if k == 0 {
			return s.probe
		}
		k--
	}
	d := s.rtoMin
	for range k {
		d *= 2
		if d >= s.rtoMax {
			return s.rtoMax
		}
	}
	return d
}

// retransmissionAt returns the first retransmission at or after now of a
// packet first sent at sent and lost every time since, and k: how many
// retransmissions that makes (the timer after it is rto(k)).
func (s sctpTiming) retransmissionAt(sent, now sim.Time) (sim.Time, int) {
	t, k := sent, 0
	for ; t < now; k++ {
		d := s.rto(k)
		if d == s.rtoMax {
			n := (now - t + d - 1) / d
			return t + n*d, k + int(n)
		}
		t += d
	}
	return t, k
}

// nextRetransmission returns the first retransmission at or after now of
// a packet first sent at sent and lost every time since.
func (s sctpTiming) nextRetransmission(sent, now sim.Time) sim.Time {
	t := sent
	for k := 0; t < now; k++ {
		d := s.rto(k)
		if d == s.rtoMax {
			// Backed off to the cap: every later timer is the cap.
			return t + (now-t+d-1)/d*d
		}
		t += d
	}
	return t
}

// link is the effective setting of one directed link: the profile and the
// mode, then every matching override.
type link struct {
	LinkParams
	mode ChannelMode
}

// linkState is the world's per-link settings.
type linkState struct {
	uniform link     // every link, when there are no overrides
	perLink [][]link // [from][to], only with overrides
	sctp    sctpTiming
	// deliveries: the messages in flight on every link (arrive).
	deliveries deliveryPool
}

// initLinks computes the links' settings; SetLoss calls it again.
func (w *World) initLinks() {
	p := &w.opt.Profile
	w.links.uniform, w.links.perLink = w.resolve(*p, nil, 0, 0), nil
	w.links.sctp = sctpTimers[w.opt.Channel.SCTP]
	if len(w.opt.Channel.Links) == 0 {
		return
	}
	n := w.opt.Nodes
	w.links.perLink = make([][]link, n+1)
	for a := 1; a <= n; a++ {
		w.links.perLink[a] = make([]link, n+1)
		for b := 1; b <= n; b++ {
			w.links.perLink[a][b] = w.resolve(*p, w.opt.Channel.Links, raft.ID(a), raft.ID(b))
		}
	}
}

// resolve is one directed link's settings: the profile's, then the
// overrides that match it.
func (w *World) resolve(p Profile, overrides []LinkOverride, from, to raft.ID) link {
	l := link{LinkParams: ResolveLink(p, overrides, from, to), mode: w.opt.Mode}
	for _, o := range overrides {
		if o.matches(from, to) && o.Mode != nil {
			l.mode = *o.Mode
		}
	}
	return l
}

// LinkParams are one directed link's network settings.
type LinkParams struct {
	Latency   Latency
	Loss      float64
	Duplicate float64
	Burst     *GilbertElliott
	Bandwidth float64 // bytes per second; 0: unlimited
}

// ResolveLink returns the settings of the directed link from one tab to
// another: the profile's, changed by every override that matches the link
// in order (later overrides win; a flat loss rate replaces a bursty one).
// Both worlds take their links from here.
func ResolveLink(p Profile, overrides []LinkOverride, from, to raft.ID) LinkParams {
	l := LinkParams{Latency: p.Latency, Loss: p.Loss, Duplicate: p.Duplicate, Burst: p.Burst, Bandwidth: p.Bandwidth}
	for _, o := range overrides {
		if !o.matches(from, to) {
			continue
		}
		if o.Latency != nil {
			l.Latency = *o.Latency
		}
		if o.Loss != nil {
			l.Loss, l.Burst = *o.Loss, nil
		}
		if o.Burst != nil {
			l.Burst = o.Burst
		}
		if o.Bandwidth != nil {
			l.Bandwidth = *o.Bandwidth
		}
	}
	return l
}

func (o *LinkOverride) matches(from, to raft.ID) bool {
	return (o.From == 0 || o.From == from) && (o.To == 0 || o.To == to)
}

func (w *World) link(from, to raft.ID) *link {
	if w.links.perLink == nil {
		return &w.links.uniform
	}
	return &w.links.perLink[from][to]
}

// channel is the directed datachannel from one tab to another.
type channel struct {
	lastArrival sim.Time // ordered delivery: nothing overtakes this
	cut         bool     // partitioned
	held        []raft.Message
	heldBytes   int
	heldSince   sim.Time // when the oldest held message was sent
	heldWhy     string   // why the channel holds them: "partitioned", "path changed"
	// lateFloor is lastArrival when a late message set it (one
	// retransmitted or held at the sender, or the FORWARD-TSN after an
	// abandoned one): a message waiting for that floor on an ordered
	// channel is held behind a late message, and its deliver says so.
	// Waiting a little for a message that merely drew a longer latency
	// is not counted: the model's jitter, not the network holding it.
	lateFloor  sim.Time
	epoch      int      // bumped when the channel closes: in-flight messages die
	sendFreeAt sim.Time // with a bandwidth: when the sender's queue drains
	bad        bool     // Gilbert-Elliott state
	// flights are the messages on a reliable channel whose arrival a
	// change of the loss rate moves, in the order they were scheduled.
	flights []*flight
}

// flight is a message on a reliable channel still being retransmitted, or
// held behind one that is on an ordered channel. Its retransmissions were
// drawn at the loss rate of its first send; when the rate changes, those
// not yet made are drawn again at the new rate (redrawFlights).
type flight struct {
	sent      sim.Time // first transmission
	lastTx    sim.Time // the transmission that gets through
	extra     sim.Time // a duplicate's extra latency
	floor     sim.Time // an ordered channel's lastArrival before it
	floorLate bool     // that floor was set by a late message
	own       sim.Time // its arrival, before waiting behind earlier ones
	why       late     // its retransmissions and hold, for its deliver
	timer     *sim.Timer
	done      bool
	m         raft.Message
	// reports are when the earliest SACKs reporting it missing reach the
	// sender, nReports how many came (fastRetransmit); fastDone: it was
	// fast-retransmitted, which SCTP does once.
	reports  [maxMissReports]sim.Time
	nReports int
	fastDone bool
}

// late is what held a message on its way, for its deliver event (the
// trace's tx, rx and detail): retransmissions or a hold at the sender,
// then a wait at the receiver behind an earlier late message.
type late struct {
	tx   sim.Time // the transmission that got through, if the sender held the message
	rx   sim.Time // when it reached the receiver, if it then waited there
	retx int      // retransmissions before the one that got through
	held string   // why the sender held it: "partitioned", "path changed"
	// queued: it waited at the receiver for the page's thread (a
	// scheduled machine, where pages take turns on the cores).
	queued bool
}

// atSender reports whether the sender held the message: it was
// retransmitted or held by the channel.
func (l late) atSender() bool { return l.retx > 0 || l.held != "" }

// heldReasons words a channel's hold reason for a deliver's detail.
var heldReasons = map[string]string{"partitioned": "held while partitioned", "path changed": "held while the path changed"}

// detail is the deliver's reason: why it was late (empty: it was not).
func (l late) detail() string {
	var s string
	if l.held != "" {
		s = heldReasons[l.held]
		if s == "" {
			s = "held: " + l.held
		}
	}
	if l.retx > 0 {
		s = join(s, "retransmitted "+times(l.retx))
	}
	if l.rx != 0 && !l.queued {
		s = join(s, "held behind an earlier message")
	}
	if l.queued {
		s = join(s, "waited for the page's thread")
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// times words a count of retransmissions: "1 time", "3 times".
func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return strconv.Itoa(n) + " times"
}

// BufferedAmount returns the bytes queued on the channel from one tab to
// another and not yet sent (RTCDataChannel.bufferedAmount): what waits for
// the link's bandwidth, and what a cut reliable channel holds.
func (w *World) BufferedAmount(from, to raft.ID) int {
	return w.bufferedAmount(&w.chans[from][to], w.link(from, to))
}

func (w *World) bufferedAmount(ch *channel, l *link) int {
	n := ch.heldBytes
	if l.Bandwidth > 0 && ch.sendFreeAt > w.sim.Now() {
		n += int(float64(ch.sendFreeAt-w.sim.Now()) / float64(sim.Second) * l.Bandwidth)
	}
	return n
}

// groupOf numbers each tab's group from 1 (0: in no group).
func groupOf(nodes int, groups [][]raft.ID) []int {
	group := make([]int, nodes+1)
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	return group
}

// Partition cuts every link between different groups, both ways. Nodes in
// no group keep their links.
func (w *World) Partition(groups [][]raft.ID) {
	group := groupOf(w.opt.Nodes, groups)
	var cut [][2]raft.ID
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			if a != b && group[a] != 0 && group[b] != 0 && group[a] != group[b] && !w.chans[a][b].cut {
				w.chans[a][b].cut = true
				cut = append(cut, [2]raft.ID{raft.ID(a), raft.ID(b)})
			}
		}
	}
	w.Fault(0, fmt.Sprintf("partition %v", groups))
	for _, c := range cut {
		w.linkCut(c[0], c[1])
	}
}

// Cut cuts the link from one tab to another, one way.
func (w *World) Cut(from, to raft.ID) {
	was := w.chans[from][to].cut
	w.chans[from][to].cut = true
	w.Fault(from, "cut to "+strconv.Itoa(int(to)))
	if !was {
		w.linkCut(from, to)
	}
}

// Heal restores every link (and the network of blackholed tabs). A
// reliable channel then delivers what it held: SCTP retransmits at its
// next timer expiry, which after a long cut runs at the backoff cap, so
// the held messages arrive within the cap.
func (w *World) Heal() {
	var healed [][2]raft.ID
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			ch := &w.chans[a][b]
			if !ch.cut {
				continue
			}
			ch.cut = false
			healed = append(healed, [2]raft.ID{raft.ID(a), raft.ID(b)})
			w.releaseHeld(raft.ID(a), raft.ID(b))
		}
	}
	w.Fault(0, "heal")
	w.healSignaling()
	for _, h := range healed {
		w.linkHealed(h[0], h[1])
	}
}

// releaseHeld sends what a reliable channel held, at SCTP's next
// retransmission: the timer has been backing off since the oldest held
// message was sent, so after a long cut it fires up to the backoff cap
// after the heal, after a short one sooner.
func (w *World) releaseHeld(from, to raft.ID) {
	ch := &w.chans[from][to]
	held := ch.held
	ch.held, ch.heldBytes = nil, 0
	if len(held) == 0 {
		return
	}
	l := w.link(from, to)
	base := w.links.sctp.nextRetransmission(ch.heldSince, w.sim.Now())
	why := late{held: ch.heldWhy}
	for _, m := range held {
		w.schedule(ch, l, m, base+l.Latency.Sample(w.netRand), base, base, why)
	}
}

// hold keeps m on a channel that cannot carry it now (cut, or its path
// broken): a reliable channel keeps retransmitting, an unreliable one
// gives the message up.
func (w *World) hold(ch *channel, l *link, m raft.Message, why string) {
	if l.mode.Reliability != Reliable {
		w.drop(m, why)
		return
	}
	if len(ch.held) == 0 {
		ch.heldSince, ch.heldWhy = w.sim.Now(), why
	}
	ch.held = append(ch.held, m)
	if w.opt.Channel.SendBufferLimit > 0 || l.Bandwidth > 0 {
		ch.heldBytes += m.Size()
	}
}

// closeChannel closes the directed channel: what it holds and what is in
// flight is lost; the cut flag (the network) stays.
func (w *World) closeChannel(from, to raft.ID) {
	ch := &w.chans[from][to]
	for _, m := range ch.held {
		w.drop(m, "channel closed")
	}
	*ch = channel{cut: ch.cut, epoch: ch.epoch + 1, bad: ch.bad}
}

// SetLoss changes the loss and duplication rates of every link; a bursty
// loss model gives way to the flat rate.
func (w *World) SetLoss(loss, duplicate float64) {
	w.opt.Profile.Loss, w.opt.Profile.Duplicate, w.opt.Profile.Burst = loss, duplicate, nil
	w.initLinks()
	w.redrawFlights()
	w.Fault(0, fmt.Sprintf("loss %.3f dup %.3f", loss, duplicate))
}

// transmit puts m on the datachannel from m.From to m.To.
func (w *World) transmit(m raft.Message) {
	ch := &w.chans[m.From][m.To]
	l := w.link(m.From, m.To)
	o := &w.opt.Channel
	size, fragments := 0, 1
	if o.MaxMessageSize > 0 || o.SendBufferLimit > 0 || l.Bandwidth > 0 {
		size = m.Size()
	}
	if o.MaxMessageSize > 0 && size > o.MaxMessageSize {
		// The host splits what the channel would refuse or cut (facts §2:
		// PeerJS chunks for the same reason).
		fragments = (size + o.MaxMessageSize - 1) / o.MaxMessageSize
	}
	if o.SendBufferLimit > 0 && w.bufferedAmount(ch, l)+size > o.SendBufferLimit {
		// Chrome throws OperationError past 16 MiB (facts §2 Backpressure).
		w.drop(m, "send buffer full")
		return
	}
	if ch.cut {
		w.hold(ch, l, m, "partitioned")
		return
	}
	sent := w.sim.Now()
	if l.Bandwidth > 0 {
		// The message leaves once the ones before it have: it is on the
		// wire when its last byte is.
		start := sim.Max(sent, ch.sendFreeAt)
		ch.sendFreeAt = start + sim.Time(float64(size)/l.Bandwidth*float64(sim.Second))
		sent = ch.sendFreeAt
	}
	var arrival sim.Time
	lastTx, why := sent, late{}
	for range fragments {
		at, tx, retx, ok := w.carry(ch, l, m.From, sent)
		if !ok {
			w.lose(m, at, lostReason(fragments, retx))
			return
		}
		arrival = sim.Max(arrival, at)
		lastTx = sim.Max(lastTx, tx)
		why.retx = max(why.retx, retx)
	}
	if fragments > 1 {
		w.record(sim.Event{Kind: sim.KindFault, Node: uint64(m.From), Peer: uint64(m.To), Msg: m.Type.String(), Index: uint64(fragments), Detail: "fragmented"})
	}
	arrival += w.outlier() // delays.go
	w.schedule(ch, l, m, arrival, sent, lastTx, why)
	w.maybeReplay(ch, l, m, arrival, sent, lastTx, why)
	if l.Duplicate > 0 && w.netRand.Float64() < l.Duplicate {
		extra := l.Latency.Sample(w.netRand)
		if f := w.schedule(ch, l, m, arrival+extra, sent, lastTx, why); f != nil {
			f.extra = extra
		}
	}
}

// lostReason is a lost message's drop reason: lost in the network (its
// only transmission), or abandoned by a partially reliable channel after
// retx retransmissions.
func lostReason(fragments, retx int) string {
	s := "lost"
	if retx > 0 {
		s = "abandoned after " + strconv.Itoa(retx) + " retransmission"
		if retx > 1 {
			s += "s"
		}
	}
	if fragments > 1 {
		s += " (a fragment of " + strconv.Itoa(fragments) + ")"
	}
	return s
}

// pathDelay draws the path's delay of a packet that tab from sends now. With
// Options.PathCorrelation, the packets a tab sends at one instant (a
// batch's messages: a broadcast) share part of their draw.
func (w *World) pathDelay(l *link, from raft.ID) sim.Time {
	rho := w.opt.PathCorrelation
	if rho == 0 {
		return l.Latency.Sample(w.netRand)
	}
	t := w.tabs[from]
	if now := w.sim.Now(); !t.batchPathSet || t.batchPathAt != now {
		t.batchPath, t.batchPathAt, t.batchPathSet = w.netRand.NormFloat64(), now, true
	}
	z := math.Sqrt(rho)*t.batchPath + math.Sqrt(1-rho)*w.netRand.NormFloat64()
	return l.Latency.SampleNormal(z)
}

// carry sends one packet (a message or a fragment) put on the wire at sent
// and returns when it arrives, when the transmission that got through
// left and how many retransmissions came before it, retransmitting lost
// transmissions as the channel's reliability allows. ok is false if it
// was abandoned: arrival is then when it was lost, the instant its only
// transmission would have arrived or, after retransmissions, the one its
// sender gave up.
func (w *World) carry(ch *channel, l *link, from raft.ID, sent sim.Time) (arrival, lastTx sim.Time, retx int, ok bool) {
	arrival = sent + w.pathDelay(l, from)
	var elapsed sim.Time
	k := 0
	for ; w.lost(ch, l); k++ {
		wait := w.links.sctp.rto(k)
		abandon := false
		switch l.mode.Reliability {
		case LimitRetransmits:
			abandon = k >= l.mode.MaxRetransmits
		case LimitLifetime:
			// PR-SCTP timed reliability: the sender abandons a message
			// whose lifetime is over when its timer would resend it.
			abandon = elapsed+wait > l.mode.MaxPacketLifeTime
		}
		if abandon {
			if !l.mode.Unordered {
				// Later messages wait until the receiver learns of the
				// abandonment (FORWARD-TSN), at the next timer expiry.
				if tsn := sent + elapsed + wait + l.Latency.Sample(w.netRand); tsn > ch.lastArrival {
					ch.lastArrival, ch.lateFloor = tsn, tsn
				}
			}
			if k > 0 {
				arrival = sent + elapsed + wait
			}
			return arrival, 0, k, false
		}
		elapsed += wait
		arrival += wait
	}
	return arrival, sent + elapsed, k, true
}

// lost draws whether one transmission on the link is lost: with a
// Gilbert-Elliott model the link's state moves first.
func (w *World) lost(ch *channel, l *link) bool {
	return lostOn(ch, l, w.netRand)
}

func lostOn(ch *channel, l *link, r *rand.Rand) bool {
	if g := l.Burst; g != nil {
		var lost bool
		ch.bad, lost = g.Step(ch.bad, r)
		return lost
	}
	return l.Loss > 0 && r.Float64() < l.Loss
}

// Step moves a link's state for one transmission (bad: the state before)
// and draws whether the transmission is lost.
func (g *GilbertElliott) Step(bad bool, r *rand.Rand) (nowBad, lost bool) {
	if bad {
		bad = !(r.Float64() < g.PBadToGood)
	} else {
		bad = r.Float64() < g.PGoodToBad
	}
	p := g.LossGood
	if bad {
		p = g.LossBad
	}
	return bad, p > 0 && r.Float64() < p
}

// schedule delivers m at arrival (later on an ordered channel if an
// earlier message arrives later). sent is the message's first
// transmission and lastTx the one that gets through; why says what held
// it at the sender. On a reliable channel a message still being
// retransmitted, and on an ordered one every message behind it, is kept
// as a flight (returned; nil if not).
func (w *World) schedule(ch *channel, l *link, m raft.Message, arrival, sent, lastTx sim.Time, why late) *flight {
	own := arrival
	var f *flight
	if why.atSender() {
		why.tx = lastTx
	}
	if l.mode.Reliability == Reliable && (lastTx > sent || (!l.mode.Unordered && len(ch.flights) > 0)) {
		f = &flight{m: m, sent: sent, lastTx: lastTx, floor: ch.lastArrival, floorLate: ch.lastArrival == ch.lateFloor, own: arrival, why: why}
		ch.flights = append(ch.flights, f)
	}
	if !l.mode.Unordered {
		arrival, why = ch.behind(arrival, why)
	}
	timer := w.arrive(ch, m, arrival, f, why)
	if f != nil {
		f.timer = timer
	}
	if l.mode.Reliability == Reliable && len(ch.flights) > 0 {
		w.fastRetransmit(ch, l, m.From, m.To, sent, own)
	}
	return f
}

// maxMissReports is the most SACKs reporting a chunk missing any SCTP
// here waits for (sctpTiming.missReports): RFC 9260 §7.2.4's "three
// further miss indications", which dcSCTP and pion/sctp implement.
const maxMissReports = 3

// fastRetransmit is told that a message first sent at sent reaches the
// receiver at own: each earlier flight still missing there then gets a
// SACK reporting it missing, which reaches the sender one mean latency
// later. At the SCTP's missReports-th (with RACK, only for a message
// sent a reordering window after the flight) the sender retransmits it
// at once, once (lost or not at the link's rate; lost, it is left to its
// timer), so a steady flow recovers a loss in about a round trip instead
// of the timer's 400 ms or more. The draws come from their own stream.
func (w *World) fastRetransmit(ch *channel, l *link, from, to raft.ID, sent, own sim.Time) {
	s := &w.links.sctp
	back := w.link(to, from).Latency.Mean
	reorderWindow := l.Latency.Mean / 2 // a quarter of the round trip
	moved := false
	for _, f := range ch.flights {
		if f.done || f.fastDone || f.sent >= sent || f.lastTx <= f.sent || f.own <= own {
			continue
		}
		if s.rack && sent-f.sent <= reorderWindow {
			continue
		}
		if !f.report(own+back, s.missReports) {
			continue
		}
		f.fastDone = true
		at := f.reports[s.missReports-1]
		if at >= f.lastTx || at < w.sim.Now() {
			continue
		}
		if w.fastRand == nil {
			w.fastRand = w.sim.Rand("net-fast-retransmit")
		}
		if lostOn(ch, l, w.fastRand) {
			continue
		}
		_, k := s.retransmissionAt(f.sent, at)
		f.lastTx, f.own = at, at+l.Latency.Sample(w.fastRand)+f.extra
		f.why.retx, f.why.tx = k+1, at
		moved = true
	}
	if moved {
		w.reflow(ch, l)
	}
}

// report adds a SACK reporting f missing, reaching the sender at at,
// keeping the earliest ones; it reports whether there are the needed
// ones.
func (f *flight) report(at sim.Time, needed int) bool {
	n := min(f.nReports, maxMissReports)
	i := n
	for i > 0 && f.reports[i-1] > at {
		i--
	}
	if i < maxMissReports {
		copy(f.reports[i+1:], f.reports[i:])
		f.reports[i] = at
	}
	f.nReports++
	return f.nReports >= needed
}

// behind puts a message reaching the receiver at arrival on an ordered
// channel behind the ones before it: it is delivered at the channel's
// last arrival if that is later, and held there (why.rx) if that floor
// is a late message's. It returns the delivery and why, and moves the
// floor.
func (ch *channel) behind(arrival sim.Time, why late) (sim.Time, late) {
	if arrival < ch.lastArrival && ch.lastArrival == ch.lateFloor {
		why.rx = arrival
	}
	arrival = sim.Max(arrival, ch.lastArrival)
	ch.lastArrival = arrival
	if why.atSender() || why.rx != 0 {
		ch.lateFloor = arrival
	}
	return arrival, why
}

// arrive schedules the delivery of m at arrival. Only a flight's delivery
// can be moved (redrawFlights), so only it gets a timer.
func (w *World) arrive(ch *channel, m raft.Message, arrival sim.Time, f *flight, why late) *sim.Timer {
	from, to := w.tabs[m.From], w.tabs[m.To]
	d := w.links.deliveries.get()
	d.w, d.ch, d.m, d.f, d.why = w, ch, m, f, why
	d.from, d.to = from, to
	d.fromInc, d.toInc, d.epoch = from.inc, to.inc, ch.epoch
	if f != nil {
		return w.sim.At(arrival, d.fn)
	}
	w.sim.Schedule(arrival, d.fn)
	return nil
}

// delivery is one message on its way: what its arrival event checks and
// delivers. Deliveries are pooled by the world and each one's event
// function is bound once, so that carrying a message allocates neither a
// delivery nor a closure. One whose event is cancelled is left to the
// garbage collector.
type delivery struct {
	w                     *World
	ch                    *channel
	m                     raft.Message
	f                     *flight
	why                   late
	from, to              *Tab
	fromInc, toInc, epoch int
	fn                    func() // d.arrived, bound once
}

// arrived runs when the message reaches the far end of the channel.
func (d *delivery) arrived() {
	w, ch, m, f, why := d.w, d.ch, d.m, d.f, d.why
	from, to, fromInc, toInc, epoch := d.from, d.to, d.fromInc, d.toInc, d.epoch
	w.links.deliveries.put(d)
	if ch.epoch != epoch {
		w.drop(m, "channel closed")
		return
	}
	if f != nil {
		f.done = true
		for len(ch.flights) > 0 && ch.flights[0].done {
			ch.flights[0] = nil
			ch.flights = ch.flights[1:]
		}
	}
	if from.inc != fromInc || to.inc != toInc || !to.alive {
		w.drop(m, "channel closed")
		return
	}
	to.deliver(m, why)
}

// deliveryPool is a free list of deliveries, refilled a slab at a time.
type deliveryPool struct {
	free []*delivery
}

const deliverySlab = 32

func (p *deliveryPool) get() *delivery {
	if len(p.free) == 0 {
		slab := make([]delivery, deliverySlab)
		for i := range slab {
			d := &slab[i]
			d.fn = d.arrived
			p.free = append(p.free, d)
		}
	}
	d := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return d
}

// put returns d to the pool. Its fields are left as they are (the next
// arrive overwrites them all): the pool is as large as the most messages
// ever in flight at once, so what they keep alive is bounded.
func (p *deliveryPool) put(d *delivery) { p.free = append(p.free, d) }

// redrawFlights draws again, at the links' new loss rates, the
// retransmissions not yet made of every message in flight: SCTP resends
// at its backed-off timer, and each resend is lost or not at the rate of
// its own time. Ordered channels then deliver in order again. The draws
// come from their own stream, so that the network's other draws stay as
// they were.
func (w *World) redrawFlights() {
	now := w.sim.Now()
	var rng *rand.Rand
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := 1; b <= w.opt.Nodes; b++ {
			ch := &w.chans[a][b]
			if len(ch.flights) == 0 {
				continue
			}
			if rng == nil {
				rng = w.sim.Rand("net-redraw")
			}
			w.redrawChannel(ch, w.link(raft.ID(a), raft.ID(b)), rng, now)
		}
	}
}

// redrawChannel is redrawFlights on one channel: the ordered floor goes
// back to what it was before the first flight, and each flight moves it
// again.
func (w *World) redrawChannel(ch *channel, l *link, rng *rand.Rand, now sim.Time) {
	for _, f := range ch.flights {
		if f.done {
			continue
		}
		if f.lastTx > now {
			t, k := w.links.sctp.retransmissionAt(f.sent, now)
			for ; lostOn(ch, l, rng); k++ {
				t += w.links.sctp.rto(k)
			}
			f.lastTx = t
			f.own = t + l.Latency.Sample(rng) + f.extra
			f.why.retx, f.why.tx = k, 0
			if f.why.atSender() {
				f.why.tx = t
			}
		}
	}
	w.reflow(ch, l)
}

// reflow schedules again the delivery of every flight on ch from its own
// arrival, in order behind one another on an ordered channel.
func (w *World) reflow(ch *channel, l *link) {
	first := ch.flights[0]
	if !l.mode.Unordered {
		ch.lastArrival, ch.lateFloor = first.floor, -1
		if first.floorLate {
			ch.lateFloor = first.floor
		}
	}
	for _, f := range ch.flights {
		if f.done {
			continue
		}
		arrival, why := f.own, f.why
		if !l.mode.Unordered {
			arrival, why = ch.behind(arrival, why)
		}
		f.timer.Cancel()
		f.timer = w.arrive(ch, f.m, arrival, f, why)
	}
}

// drop traces m's loss now, for the reason why.
func (w *World) drop(m raft.Message, why string) { w.lose(m, 0, why) }

// lose traces m's loss, decided now, for the reason why: at the instant
// lost if that is later (the trace's lost), as the drop is traced when
// the network decides the message's fate, which keeps the trace in time
// order and each drop next to its send.
func (w *World) lose(m raft.Message, lost sim.Time, why string) {
	if lost <= w.sim.Now() {
		lost = 0
	}
	w.record(sim.Event{Kind: sim.KindDrop, Node: uint64(m.From), Peer: uint64(m.To), Term: m.Term, Index: m.Index, Msg: m.Type.String(), Detail: why, Lost: lost})
}
