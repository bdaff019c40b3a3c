package netmodel

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ConnOptions configure connection set-up, ICE failure detection and the
// signaling server. The zero value keeps the first cut: every pair of tabs
// is connected from the start, a link is never declared dead, and presence
// follows PresenceCloseDelay and PresenceJoinDelay alone.
type ConnOptions struct {
	// Setup: a connection opens only after the signaling server has passed
	// the offer and answer, plus SetupRTTsMin..SetupRTTsMax round trips of
	// ICE, DTLS and SCTP set-up. It also switches on ICE failure detection
	// and the server's heartbeats (signaling.go).
	Setup                      bool
	SetupRTTsMin, SetupRTTsMax int
	// OpenAtStart: with Setup, every pair of tabs is connected when Raft
	// starts, as when the pages meshed before the harness started Raft
	// (the paper's pages connected through PeerJS as they loaded, 5 s
	// before startChat); a connection closed later is set up again as
	// usual. Without it, tabs connect as their configurations name peers.
	OpenAtStart bool
	// SignalingLatency is the one-way delay between a tab and the server.
	SignalingLatency sim.Time
	// ICEDisconnected and ICEFailed: how long a connection hears nothing
	// before ICE reports it disconnected, then failed (the host closes it).
	ICEDisconnected, ICEFailed sim.Time
	// PingInterval is the client's heartbeat to the server; AliveTimeout
	// how long the server waits for one before dropping the peer;
	// ExpireTimeout how long it keeps a message for an absent peer.
	PingInterval, AliveTimeout, ExpireTimeout sim.Time
}

// DefaultConnOptions returns the sourced defaults (facts §3, §5).
func DefaultConnOptions() ConnOptions {
	return ConnOptions{
		Setup: true,
		// facts §3 Setup (U): ICE 1-2 RTT + DTLS 2 + SCTP 2 + DCEP <= 1,
		// about 4-6 RTTs after offer/answer.
		SetupRTTsMin: 4,
		SetupRTTsMax: 6,
		// U: the facts give no figure. 5 ms one way: a WebSocket hop to
		// a peerjs-server run next to the tabs (its own host, facts §5
		// port 9000), as a test harness or a local deployment does; a
		// public cloud server would be tens of ms. The scenarios'
		// golden traces depend on this value.
		SignalingLatency: 5 * sim.Millisecond,
		// Measured in Chromium 156 (M: the browser world's
		// BenchmarkClosedPageSeenByPeers, docs/worlds.md): a page whose
		// peer went silent sees its connection "disconnected" after 5.06
		// s and "failed" after 15.07 s, libwebrtc's
		// CONNECTION_WRITE_CONNECT_TIMEOUT and CONNECTION_WRITE_TIMEOUT
		// (p2p_constants, facts §3). pion's defaults (5 s, then 25 s
		// more) and Firefox's (30 s) are longer.
		ICEDisconnected: 5 * sim.Second,
		ICEFailed:       15 * sim.Second,
		// facts §5 (V): PeerJS client pingInterval 5 s; server
		// alive_timeout 90 s and expire_timeout 5 s.
		PingInterval:  5 * sim.Second,
		AliveTimeout:  90 * sim.Second,
		ExpireTimeout: 5 * sim.Second,
	}
}

func (o *ConnOptions) validate() error {
	if !o.Setup {
		return nil
	}
	switch {
	case o.SetupRTTsMin < 0 || o.SetupRTTsMax < o.SetupRTTsMin:
		return fmt.Errorf("connection: want 0 <= setup_rtts_min <= setup_rtts_max, got %d..%d", o.SetupRTTsMin, o.SetupRTTsMax)
	case o.SignalingLatency < 0 || o.ExpireTimeout < 0:
		return fmt.Errorf("connection: signaling_latency and expire_timeout must not be negative")
	case o.ICEDisconnected < 0 || o.ICEFailed < o.ICEDisconnected:
		return fmt.Errorf("connection: want 0 <= ice_disconnected <= ice_failed")
	case o.PingInterval <= 0 || o.AliveTimeout <= 0:
		return fmt.Errorf("connection: ping_interval and alive_timeout must be positive")
	}
	return nil
}

// connPhase is where a connection between two tabs is.
type connPhase uint8

const (
	connNew connPhase = iota
	connConnecting
	connOpen
	connDisconnected
	connClosed
)

var connPhaseNames = [...]string{"new", "connecting", "open", "disconnected", "closed"}

// conn is the connection between a pair of tabs (stored once, at [lo][hi]).
type conn struct {
	phase connPhase
	gen   uint32 // bumped by every attempt and close: stale steps check it
	// setup is the host's give-up timer of an attempt that has not opened;
	// iceStarted says the offer and answer are through and ICE, DTLS and
	// SCTP are running (they take setupDur if packets pass); checking says
	// they are through but ICE checks fail on a dead link.
	setup      *sim.Timer
	iceStarted bool
	checking   bool
	setupDur   sim.Time
	// pathBroken: a path change left the connection without a working
	// candidate pair until an ICE restart; path counts path changes, so a
	// restart learns that the path changed again while it ran.
	pathBroken     bool
	path           int
	restarting     bool // an ICE restart is under way
	restartWaiting bool // an ICE restart waits for the signaling server
	// restartPath is path when the restart under way began. (Kept here
	// rather than in its steps: one restart at most is under way per
	// generation, since a restart starts only when none is.)
	restartPath int
	iceTimer    *sim.Timer // the next ICE step of a dead connection
	deadSince   sim.Time
	// closedEnd is the tab whose page closed while the connection was
	// open: its end is gone, but its peer was not told and keeps an open
	// channel until ICE fails (tabClosed). 0 while both ends are there.
	closedEnd raft.ID
}

// connState is the world's connection and signaling state.
type connState struct {
	pairs [][]conn // [lo][hi-lo-1]: each pair once (pair)
	open  []int    // open connections per tab (the WebRTC exemption)
	rand  *rand.Rand
	sig   signaling
	fn    connFns // connevents.go
}

func (w *World) initConns() {
	if !w.opt.Conn.Setup {
		return
	}
	n := w.opt.Nodes
	// One array for all pairs, row lo holding the pairs (lo, hi > lo).
	all := make([]conn, n*(n-1)/2)
	w.conns.pairs = make([][]conn, n+1)
	for lo := 1; lo < n; lo++ {
		w.conns.pairs[lo], all = all[:n-lo:n-lo], all[n-lo:]
	}
	w.conns.open = make([]int, n+1)
	w.conns.rand = w.sim.Rand("conn")
	w.bindConnFns()
	w.initSignaling()
}

// openAll opens every connection between live tabs at once, in pair
// order (OpenAtStart).
func (w *World) openAll() {
	for a := 1; a <= w.opt.Nodes; a++ {
		for b := a + 1; b <= w.opt.Nodes; b++ {
			ta, tb := raft.ID(a), raft.ID(b)
			if !w.tabs[ta].alive || !w.tabs[tb].alive {
				continue
			}
			w.pair(ta, tb).phase = connOpen
			w.connTrace(ta, tb, "open")
			w.openChanged(ta, 1)
			w.openChanged(tb, 1)
		}
	}
}

// pair returns the connection between two different tabs.
func (w *World) pair(a, b raft.ID) *conn {
	if a > b {
		a, b = b, a
	}
	return &w.conns.pairs[a][b-a-1]
}

// ConnState returns the state of the connection between two tabs: "new",
// "connecting", "open", "disconnected" or "closed". Without connection
// set-up every pair of open tabs is "open".
func (w *World) ConnState(a, b raft.ID) string {
	if !w.opt.Conn.Setup {
		if w.tabs[a].alive && w.tabs[b].alive {
			return "open"
		}
		return "closed"
	}
	return connPhaseNames[w.pair(a, b).phase]
}

// sentToClosedPage is the drop reason of a message sent into a connection
// whose far end's page closed unseen (tabClosed).
const sentToClosedPage = "sent to a closed page"

// connSend sends m over the connection between its two tabs, opening one
// first if there is none.
func (w *World) connSend(m raft.Message) {
	if !w.opt.Conn.Setup {
		w.transmit(m)
		return
	}
	c := w.pair(m.From, m.To)
	switch {
	case c.closedEnd == m.From:
		// A reopened page has no connection yet: it offers a new one,
		// which replaces its peer's stale end.
		w.drop(m, "not connected")
		w.connect(m.From, m.To)
		return
	case c.closedEnd != 0:
		w.drop(m, sentToClosedPage)
		return
	}
	switch c.phase {
	case connOpen, connDisconnected:
		if c.pathBroken {
			w.hold(&w.chans[m.From][m.To], w.link(m.From, m.To), m, "path changed")
			return
		}
		w.transmit(m)
	case connConnecting:
		w.drop(m, "not connected")
	default:
		// PeerJS's DataConnection.send refuses before "open"; the host
		// starts a connection and Raft sends again later.
		w.drop(m, "not connected")
		w.connect(m.From, m.To)
	}
}

// connectVoters opens connections from tab id to the members of its
// configuration it is not connected to, as a Raft.js-like host does when
// it learns of servers, so that votes and appends do not wait for a
// connection to open. Sends to anyone else connect on first use.
func (w *World) connectVoters(id raft.ID, voters []raft.ID) {
	if !w.opt.Conn.Setup {
		return
	}
	for _, p := range voters {
		if p == id || !w.tabs[p].alive {
			continue
		}
		if c := w.pair(id, p); c.phase == connNew || c.phase == connClosed || c.closedEnd == id {
			w.connect(id, p)
		}
	}
}

// connect starts a connection from a to b: the offer goes through the
// signaling server, the answer comes back, then ICE, DTLS and SCTP take a
// few round trips. Sends are refused until it opens (connSend).
func (w *World) connect(a, b raft.ID) {
	c := w.pair(a, b)
	if c.closedEnd != 0 {
		// The peer of a reopened page drops its stale connection for the
		// new offer (the browser world's tab does so on an offer; here
		// when the offer leaves, a signaling hop early).
		w.closeConn(a, b, "replaced by a new offer")
	}
	c.phase = connConnecting
	c.iceStarted, c.checking = false, false
	c.pathBroken, c.restarting, c.restartWaiting = false, false, false
	c.gen++
	w.connTrace(a, b, "connecting")
	if !w.conns.sig.down {
		w.armSetup(a, b) // during an outage the offer waits (resumeSetups)
	}
	// The offer reaches b's page, which answers (answerOffer); the
	// answer reaches a's, which starts ICE (answered). If the server
	// does not list the addressee, the attempt closes (signalExpire)
	// and a later send tries again.
	w.signal(sigOffer, a, b, c.gen)
}

// armSetup (re)arms the give-up timer of the attempt between a and b: if it
// has not opened ICEFailed from now, the host closes it and a later send
// tries again (setupFailed). Armed when the offer leaves, and again when
// ICE starts, whose check list fails after about that long with no
// working pair (facts §3: 30 s). Giving up on an offer nobody answers is
// the host's choice (U): PeerJS itself waits for ever.
func (w *World) armSetup(a, b raft.ID) {
	c := w.pair(a, b)
	c.setup.Cancel()
	c.setup = w.sim.AtArg(w.sim.Now()+w.opt.Conn.ICEFailed, w.conns.fn.setupFailed, connArg(a, b, c.gen))
}

// pauseSetups stops the give-up timers of attempts still in the signaling
// exchange: during an outage their offer or answer waits for the server,
// and joins wait for the outage to end.
func (w *World) pauseSetups() {
	w.eachPair(func(a, b raft.ID, c *conn) {
		if c.phase == connConnecting && !c.iceStarted {
			c.setup.Cancel()
			c.setup = nil
		}
	})
}

// resumeSetups rearms them when the server is back.
func (w *World) resumeSetups() {
	w.eachPair(func(a, b raft.ID, c *conn) {
		if c.phase == connConnecting && !c.iceStarted && c.setup == nil {
			w.armSetup(a, b)
		}
	})
}

// eachPair calls fn for every pair of tabs, in id order.
func (w *World) eachPair(fn func(a, b raft.ID, c *conn)) {
	n := w.opt.Nodes
	for a := 1; a <= n; a++ {
		for b := a + 1; b <= n; b++ {
			fn(raft.ID(a), raft.ID(b), w.pair(raft.ID(a), raft.ID(b)))
		}
	}
}

// iceConnect runs ICE, DTLS and SCTP set-up once both descriptions are
// known: a uniform number of round trips (facts §3 Setup: 4-6 RTTs, U).
// The RTT is the mean of the two links' latencies, which is twice the
// profile's mean latency unless a link override says otherwise.
func (w *World) iceConnect(a, b raft.ID, gen uint32) {
	o := &w.opt.Conn
	c := w.pair(a, b)
	c.iceStarted = true
	w.armSetup(a, b)
	rtts := o.SetupRTTsMin + w.conns.rand.IntN(o.SetupRTTsMax-o.SetupRTTsMin+1)
	rtt := w.link(a, b).Latency.Mean + w.link(b, a).Latency.Mean
	c.setupDur = sim.Time(rtts) * rtt
	w.sim.ScheduleArg(w.sim.Now()+c.setupDur, w.conns.fn.iceDone, connArg(a, b, gen))
}

// iceDone ends the set-up: the connection opens if packets pass both ways
// (ICE needs a check and its response). Otherwise ICE keeps checking until
// the link heals (linkHealed) or the set-up timer gives up.
func (w *World) iceDone(a, b raft.ID, gen uint32) {
	c := w.pair(a, b)
	if c.gen != gen || c.phase != connConnecting || !w.tabs[a].alive || !w.tabs[b].alive {
		return
	}
	if w.linkDead(a, b) {
		c.checking = true
		return
	}
	c.checking = false
	c.setup.Cancel()
	c.setup = nil
	c.phase = connOpen
	w.connTrace(a, b, "open")
	w.openChanged(a, 1)
	w.openChanged(b, 1)
}

// openChanged counts a tab's open connections; the first one to open and
// the last one to close change its timer throttling (facts §1
// webrtcExemptIntensive: the exemption is held while a channel is open).
func (w *World) openChanged(id raft.ID, delta int) {
	before := w.conns.open[id] > 0
	w.conns.open[id] += delta
	if (w.conns.open[id] > 0) != before && w.tabs[id].alive {
		w.tabs[id].retime()
	}
}

// closeConn closes the connection between a and b: both channels close and
// what they held or had in flight is lost.
func (w *World) closeConn(a, b raft.ID, why string) {
	c := w.pair(a, b)
	wasOpen := c.phase == connOpen || c.phase == connDisconnected
	closedEnd := c.closedEnd
	c.phase, c.closedEnd = connClosed, 0
	c.iceStarted, c.checking = false, false
	c.pathBroken, c.restarting, c.restartWaiting = false, false, false
	c.gen++
	c.setup.Cancel()
	c.setup = nil
	c.iceTimer.Cancel()
	c.iceTimer = nil
	w.closeChannel(a, b)
	w.closeChannel(b, a)
	w.connTrace(a, b, "closed: ", why)
	if wasOpen {
		for _, end := range [2]raft.ID{a, b} {
			if end != closedEnd { // counted down when its page closed
				w.openChanged(end, -1)
			}
		}
	}
}

// linkDead reports whether packets fail to pass between a and b in either
// direction: ICE needs both (a check and its response).
func (w *World) linkDead(a, b raft.ID) bool {
	c := w.pair(a, b)
	return w.chans[a][b].cut || w.chans[b][a].cut || c.pathBroken || c.closedEnd != 0
}

// tabClosed is told that tab id's page closed. Its datachannels close
// and what was in flight is lost. Its peers are not told: in Chromium
// 156 a closed page's connections stayed open at the other end until
// ICE failed, 15 s later (M: BenchmarkClosedPageSeenByPeers), so an open
// connection keeps its peer's end (closedEnd) until ICE's timeouts close
// it or the reopened page offers again. An attempt still setting up
// ends at once (U: the peer's end would wait for its own give-up timer;
// no Raft message passes either way).
func (w *World) tabClosed(id raft.ID) {
	for i := 1; i <= w.opt.Nodes; i++ {
		peer := raft.ID(i)
		if peer == id {
			continue
		}
		if !w.opt.Conn.Setup {
			w.closeChannel(id, peer)
			w.closeChannel(peer, id)
			continue
		}
		switch c := w.pair(id, peer); c.phase {
		case connConnecting:
			w.closeConn(id, peer, "peer closed")
		case connOpen, connDisconnected:
			if c.closedEnd == 0 {
				w.endClosed(id, peer)
			}
		}
	}
	if w.opt.Conn.Setup {
		w.tabGone(id)
	}
}

// endClosed leaves the open connection between closed and peer with the
// peer's end alone: nothing passes, and ICE at the peer's end starts
// timing out.
func (w *World) endClosed(closed, peer raft.ID) {
	c := w.pair(closed, peer)
	c.closedEnd = closed
	w.closeChannel(closed, peer)
	w.closeChannel(peer, closed)
	w.openChanged(closed, -1)
	var num [20]byte
	w.connTrace(closed, peer, "page closed (", string(strconv.AppendUint(num[:0], uint64(peer), 10)), "'s end stays open)")
	w.iceWatch(closed, peer)
}

// hasOpenChannel reports whether tab id has at least one open datachannel
// (which exempts it from intensive timer throttling in Chrome). A channel
// stays open while ICE reports the connection disconnected.
func (w *World) hasOpenChannel(id raft.ID) bool {
	if w.opt.Conn.Setup {
		return w.conns.open[id] > 0
	}
	for i := 1; i <= w.opt.Nodes; i++ {
		if raft.ID(i) != id && w.tabs[i].alive && w.tabs[id].alive {
			return true
		}
	}
	return false
}

// linkCut is told that the link from one tab to another was cut: ICE on
// that pair starts to time out.
func (w *World) linkCut(from, to raft.ID) {
	if w.opt.Conn.Setup {
		w.iceWatch(from, to)
	}
}

// linkHealed is told that the link from one tab to another works again:
// an attempt whose ICE checks were failing sets up from here (modelled as
// the same number of round trips again, U), and a dead connection stops
// its ICE timeouts.
func (w *World) linkHealed(from, to raft.ID) {
	if !w.opt.Conn.Setup {
		return
	}
	c := w.pair(from, to)
	if w.linkDead(from, to) {
		return
	}
	if c.phase == connConnecting && c.checking {
		c.checking = false
		w.sim.ScheduleArg(w.sim.Now()+c.setupDur, w.conns.fn.iceDone, connArg(from, to, c.gen))
		return
	}
	if c.iceTimer == nil {
		return
	}
	c.iceTimer.Cancel()
	c.iceTimer = nil
	if c.phase == connDisconnected {
		c.phase = connOpen
		w.connTrace(from, to, "open again")
	}
}

// iceWatch starts ICE's timeouts on a connection that stopped hearing its
// peer: disconnected after ICEDisconnected, failed (and closed by the host,
// as pion would not) after ICEFailed, unless packets pass again before.
func (w *World) iceWatch(a, b raft.ID) {
	c := w.pair(a, b)
	if (c.phase != connOpen && c.phase != connDisconnected) || c.iceTimer != nil {
		return
	}
	c.deadSince = w.sim.Now()
	// iceDisconnected, then iceFailed; the generation is not needed, as
	// every close cancels iceTimer.
	c.iceTimer = w.sim.AtArg(c.deadSince+w.opt.Conn.ICEDisconnected, w.conns.fn.iceDisconnected, connArg(a, b, 0))
}

// Blackhole cuts tab id off the network, both ways and from signaling,
// without any close event (an unclean death as the peers see it): its
// connections fail by ICE timeouts, and the server drops it AliveTimeout
// after its last heartbeat. Heal restores it.
func (w *World) Blackhole(id raft.ID) {
	var cut [][2]raft.ID
	for i := 1; i <= w.opt.Nodes; i++ {
		if raft.ID(i) == id {
			continue
		}
		for _, l := range [][2]raft.ID{{id, raft.ID(i)}, {raft.ID(i), id}} {
			if ch := &w.chans[l[0]][l[1]]; !ch.cut {
				ch.cut = true
				cut = append(cut, l)
			}
		}
	}
	w.Fault(id, "blackhole")
	if w.opt.Conn.Setup {
		w.conns.sig.blackholed[id] = true
	}
	for _, l := range cut {
		w.linkCut(l[0], l[1])
	}
}

// PathChange changes tab id's network path (a cellular IP change, a mesh
// reroute): its connections stop carrying packets until an ICE restart,
// which the host starts through the signaling server once ICE reports the
// connection disconnected (facts §4: recovering needs an ICE restart,
// which needs signaling). Attempts still setting up fail. Without
// connection set-up it does nothing but trace.
func (w *World) PathChange(id raft.ID) {
	w.Fault(id, "path change")
	if !w.opt.Conn.Setup {
		return
	}
	for i := 1; i <= w.opt.Nodes; i++ {
		if raft.ID(i) == id {
			continue
		}
		c := w.pair(id, raft.ID(i))
		switch c.phase {
		case connOpen, connDisconnected:
			c.pathBroken = true
			c.path++
			if c.iceTimer == nil {
				w.iceWatch(id, raft.ID(i))
			} else if c.phase == connDisconnected && !c.restarting {
				// ICE had already reported it (a cut): restart at once.
				w.iceRestart(id, raft.ID(i))
			}
		case connConnecting:
			w.closeConn(id, raft.ID(i), "path changed during set-up")
		}
	}
}

// iceRestart renegotiates a connection whose path broke: a new offer and
// answer through the signaling server, then ICE checks on the new path
// (2 round trips; DTLS and SCTP survive, U). The host's JavaScript drives
// it, so a frozen page restarts when thawed. While either tab cannot reach
// the server the restart waits (facts §5: no ICE restart while the server
// is down), and ICEFailed closes the connection if it comes first.
func (w *World) iceRestart(a, b raft.ID) {
	c := w.pair(a, b)
	if !w.signalingReachable(a) || !w.signalingReachable(b) {
		c.restartWaiting = true
		return
	}
	c.restartWaiting, c.restarting = false, true
	c.restartPath = c.path
	w.connTrace(a, b, "ice restart")
	// The offer leaves from a's page (restartOffer) and reaches b's,
	// which answers (restartAnswer); the answer reaches a's, where ICE
	// checks the new path (restartAnswered), then iceRestarted. If the
	// server does not list the addressee, the ICE failure timeout closes
	// the connection.
	w.tabs[a].runArg(w.conns.fn.restartOffer, connArg(a, b, c.gen))
}

// iceRestarted ends an ICE restart: the connection carries packets again
// and the reliable channels send what they held, unless the path changed
// again meanwhile (another restart) or a link is cut (ICE still fails
// unless it heals).
func (w *World) iceRestarted(a, b raft.ID, gen uint32, path int) {
	c := w.pair(a, b)
	if c.gen != gen || !c.restarting {
		return
	}
	c.restarting = false
	if c.path != path {
		w.iceRestart(a, b)
		return
	}
	c.pathBroken = false
	// Held because the path broke; a cut direction keeps holding until
	// Heal releases it.
	for _, d := range [][2]raft.ID{{a, b}, {b, a}} {
		if !w.chans[d[0]][d[1]].cut {
			w.releaseHeld(d[0], d[1])
		}
	}
	if w.linkDead(a, b) {
		return
	}
	c.iceTimer.Cancel()
	c.iceTimer = nil
	c.phase = connOpen
	w.connTrace(a, b, "open again")
}

// resumeRestarts resumes the ICE restarts that waited for the server.
func (w *World) resumeRestarts() {
	w.eachPair(func(a, b raft.ID, c *conn) {
		if c.restartWaiting {
			w.iceRestart(a, b)
		}
	})
}
