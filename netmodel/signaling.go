package netmodel

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// The signaling server, modeled on PeerJS's (facts §5). With connection
// set-up on, it introduces tabs (offer and answer pass through it), keeps
// the peer list the leader's membership loop reads, and learns of tabs
// through their WebSocket: a clean close at once (PresenceCloseDelay), a
// silent death only when AliveTimeout passes without a heartbeat. Without
// set-up (the first cut) presence follows PresenceCloseDelay and
// PresenceJoinDelay alone, in world.go.

// signaling is the server's state and each tab's socket.
type signaling struct {
	down       bool
	blackholed []bool       // the tab's network is gone: its socket is silent
	open       []bool       // the tab's socket is open (registered since it last opened)
	beat       []*sim.Timer // each tab's next heartbeat
	beatChain  []int        // the heartbeat timer's nesting level
	expiry     []*sim.Timer // the server drops the tab when this fires
	// waiting holds messages sent while the server was down; PeerJS's
	// client queues them until its socket opens again.
	waiting []uint32
	// msgs are the messages in flight or waiting (signal), named by their
	// index; free lists the indices of those delivered, expired or lost,
	// for reuse.
	msgs []sigMsg
	free []uint32
}

// sigKind is what a signaling message carries.
type sigKind uint8

const (
	sigOffer         sigKind = iota // a connection's offer (connect)
	sigAnswer                       // its answer
	sigRestartOffer                 // an ICE restart's offer (iceRestart)
	sigRestartAnswer                // its answer
)

// sigMsg is a message through the signaling server.
type sigMsg struct {
	kind     sigKind
	from, to raft.ID
	inc      int    // the sending page's incarnation: its queue dies with it
	gen      uint32 // the generation of the connection it sets up
}

// initiator returns the pair of a message's connection with the tab that
// started the attempt or restart first.
func (m *sigMsg) initiator() (a, b raft.ID) {
	if m.kind == sigOffer || m.kind == sigRestartOffer {
		return m.from, m.to
	}
	return m.to, m.from
}

func (w *World) initSignaling() {
	n := w.opt.Nodes
	s := &w.conns.sig
	s.blackholed = make([]bool, n+1)
	s.open = make([]bool, n+1)
	s.beat = make([]*sim.Timer, n+1)
	s.beatChain = make([]int, n+1)
	s.expiry = make([]*sim.Timer, n+1)
	for i := 1; i <= n; i++ {
		s.open[i] = true
		w.heard(raft.ID(i))
		w.scheduleBeat(raft.ID(i))
	}
}

// signalingReachable reports whether tab id can talk to the server now.
func (w *World) signalingReachable(id raft.ID) bool {
	s := &w.conns.sig
	return !s.down && !s.blackholed[id] && s.open[id] && w.tabs[id].alive
}

// presenceReadable reports whether tab id can read the server's peer list:
// the leader does not change membership from a list it cannot read (the
// server is down, or the tab's own socket is dead or not yet registered).
// Without connection set-up only an outage hides the list.
func (w *World) presenceReadable(id raft.ID) bool {
	if !w.opt.Conn.Setup {
		return !w.conns.sig.down
	}
	return w.signalingReachable(id) && w.present[id]
}

// signal sends a message (an offer, an answer) from one tab to another
// through the server. While the server is down it waits for it. A message
// for a tab the server does not list expires after ExpireTimeout and the
// sender hears EXPIRE (signalExpire); one for a tab whose socket is silent
// is lost. On arrival the addressee's page handles it (signalArrive).
func (w *World) signal(kind sigKind, from, to raft.ID, gen uint32) {
	s := &w.conns.sig
	m := sigMsg{kind: kind, from: from, to: to, inc: w.tabs[from].inc, gen: gen}
	var i uint32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
		s.msgs[i] = m
	} else {
		i = uint32(len(s.msgs))
		s.msgs = append(s.msgs, m)
	}
	w.signalFrom(i)
}

// signalFrom sends message i, or sends it again once the socket is back:
// what the sending page had queued dies with it (its incarnation).
func (w *World) signalFrom(i uint32) {
	s := &w.conns.sig
	m := &s.msgs[i]
	if t := w.tabs[m.from]; !t.alive || t.inc != m.inc {
		w.signalDone(i) // the page and its socket's queue are gone
		return
	}
	if !w.signalingReachable(m.from) {
		// Held until the socket (re)opens: a modelling choice (U, not
		// in the facts) standing for a host that sends again once its
		// socket is back.
		s.waiting = append(s.waiting, i)
		return
	}
	w.sim.ScheduleArg(w.sim.Now()+w.opt.Conn.SignalingLatency, w.conns.fn.atServer, uint64(i))
}

// signalAtServer: message i reached the server, which passes it on, holds
// it through an outage, or lets it expire.
func (w *World) signalAtServer(arg uint64) {
	o := &w.opt.Conn
	s := &w.conns.sig
	i := uint32(arg)
	switch {
	case s.down:
		s.waiting = append(s.waiting, i)
	case !w.present[s.msgs[i].to]:
		// EXPIRE after expire_timeout (facts §5).
		w.sim.ScheduleArg(w.sim.Now()+o.ExpireTimeout+o.SignalingLatency, w.conns.fn.expire, arg)
	default:
		w.sim.ScheduleArg(w.sim.Now()+o.SignalingLatency, w.conns.fn.arrive, arg)
	}
}

// signalExpire: the server tells the sender of message i that its
// addressee is not listed. A connection's attempt closes (a later send
// tries again); an ICE restart's is left to the ICE failure timeout.
func (w *World) signalExpire(arg uint64) {
	m := w.signalDone(uint32(arg))
	if !w.signalingReachable(m.from) || (m.kind != sigOffer && m.kind != sigAnswer) {
		return
	}
	a, b := m.initiator()
	if c := w.pair(a, b); c.gen == m.gen && c.phase == connConnecting {
		w.closeConn(a, b, "offer expired")
	}
}

// signalArrive: message i reached its addressee's socket. Its page's
// JavaScript handles it (a frozen page when thawed).
func (w *World) signalArrive(arg uint64) {
	m := w.signalDone(uint32(arg))
	if !w.signalingReachable(m.to) {
		return
	}
	var step func(uint64)
	switch m.kind {
	case sigOffer:
		step = w.conns.fn.answer
	case sigAnswer:
		step = w.conns.fn.answered
	case sigRestartOffer:
		step = w.conns.fn.restartAnswer
	case sigRestartAnswer:
		step = w.conns.fn.restartAnswered
	}
	a, b := m.initiator()
	w.tabs[m.to].runArg(step, connArg(a, b, m.gen))
}

// signalDone frees message i's index and returns the message.
func (w *World) signalDone(i uint32) sigMsg {
	s := &w.conns.sig
	s.free = append(s.free, i)
	return s.msgs[i]
}

// scheduleBeat arms tab id's heartbeat: a self-re-arming setTimeout in
// PeerJS (facts §5 pingInterval, V), so a chained timer, throttled as such
// when the tab is hidden, and not run at all while it is frozen (the task
// waits). The chain count starts at 1 when the socket opens and grows by
// one per beat, so from the fifth beat on it is at ChainedLevel and may be
// intensively throttled (facts §1 model note, U). The beat is placed when
// armed; a later visibility change moves it only from the next beat on.
func (w *World) scheduleBeat(id raft.ID) {
	s := &w.conns.sig
	t := w.tabs[id]
	s.beatChain[id]++
	now := w.sim.Now()
	at := sim.Max(now, t.wakeTime(now+w.opt.Conn.PingInterval, s.beatChain[id]))
	s.beat[id] = w.sim.AtArg(at, w.conns.fn.beat, uint64(id))
}

// beat: tab id's heartbeat timer fired; the page sends the ping (beatTask).
func (w *World) beat(arg uint64) {
	id := raft.ID(arg)
	w.conns.sig.beat[id] = nil
	t := w.tabs[id]
	t.runArg(w.conns.fn.beatTask, tabArg(id, t.inc))
}

// beatTask sends the ping, if the page that armed the beat is still there,
// and arms the next beat.
func (w *World) beatTask(arg uint64) {
	id, inc := unpackTab(arg)
	if t := w.tabs[id]; uint64(t.inc) != inc || !t.alive {
		return
	}
	if w.signalingReachable(id) {
		w.sim.ScheduleArg(w.sim.Now()+w.opt.Conn.SignalingLatency, w.conns.fn.pinged, uint64(id))
	}
	w.scheduleBeat(id)
}

// pinged: tab id's ping reached the server, if it still can.
func (w *World) pinged(arg uint64) {
	if id := raft.ID(arg); w.signalingReachable(id) {
		w.heard(id)
	}
}

// heard tells the server it heard from tab id: it is listed, and dropped
// if nothing more comes within AliveTimeout (facts §5 alive_timeout 90 s;
// PeerJS checks every 300 ms, which is within the model's resolution).
func (w *World) heard(id raft.ID) {
	s := &w.conns.sig
	reopened := !s.open[id]
	s.open[id] = true
	if !w.present[id] {
		w.present[id] = true
		w.Fault(id, "signaling lists")
		reopened = true
	}
	if reopened {
		w.flushSignals()
	}
	s.expiry[id].Cancel()
	s.expiry[id] = w.sim.AtArg(w.sim.Now()+w.opt.Conn.AliveTimeout, w.conns.fn.unheard, uint64(id))
}

// unheard: the server heard nothing from tab id for AliveTimeout.
func (w *World) unheard(arg uint64) {
	id := raft.ID(arg)
	w.conns.sig.expiry[id] = nil
	w.present[id] = false
	w.Fault(id, "signaling drops (no heartbeat)")
}

// tabGone is told that tab id closed cleanly: its socket closed, so its
// heartbeats stop; world.Kill removes it from the list.
func (w *World) tabGone(id raft.ID) {
	s := &w.conns.sig
	s.open[id] = false
	s.beat[id].Cancel()
	s.beat[id] = nil
	s.expiry[id].Cancel()
	s.expiry[id] = nil
}

// tabBack is told that tab id reopened: it registers after
// PresenceJoinDelay if it can reach the server (otherwise when the server
// returns or its network heals) and starts its heartbeat.
func (w *World) tabBack(id raft.ID) {
	w.conns.sig.beatChain[id] = 0
	w.scheduleBeat(id)
	w.sim.ScheduleArg(w.sim.Now()+w.opt.PresenceJoinDelay, w.conns.fn.register, tabArg(id, w.tabs[id].inc))
}

// SignalingDown stops the signaling server (an outage). Established
// datachannels survive (facts §5: PeerJS's disconnect "does not close any
// active connections", V); new connections, ICE restarts and presence wait
// until it returns.
//
// Without connection set-up the outage only hides the peer list from the
// leader's membership loop; presence itself is left as it was.
func (w *World) SignalingDown() {
	w.Fault(0, "signaling down")
	s := &w.conns.sig
	if s.down {
		return
	}
	s.down = true
	if !w.opt.Conn.Setup {
		return
	}
	// The server forgets everyone: nobody is listed until it is back and
	// the tabs register again.
	for i := 1; i <= w.opt.Nodes; i++ {
		s.expiry[i].Cancel()
		s.expiry[i] = nil
		w.present[i] = false
	}
	w.pauseSetups()
}

// SignalingUp restarts the signaling server. It starts with an empty peer
// list; every tab that can reach it reconnects and registers after
// PresenceJoinDelay (PeerJS's reconnect re-registers the old id), a frozen
// tab only once thawed. Queued offers and waiting ICE restarts proceed.
func (w *World) SignalingUp() {
	w.Fault(0, "signaling up")
	s := &w.conns.sig
	if !s.down {
		return
	}
	s.down = false
	if !w.opt.Conn.Setup {
		return
	}
	for i := 1; i <= w.opt.Nodes; i++ {
		w.present[i], s.open[i] = false, false
	}
	for i := 1; i <= w.opt.Nodes; i++ {
		w.reregister(raft.ID(i))
	}
	w.resumeSetups()
}

// flushSignals resends what waited for a socket; what still cannot go
// waits again.
func (w *World) flushSignals() {
	s := &w.conns.sig
	waiting := s.waiting
	s.waiting = nil
	for _, i := range waiting {
		w.signalFrom(i)
	}
	w.resumeRestarts()
}

// reregister reconnects tab id's socket after PresenceJoinDelay; the
// reconnect is page JavaScript, so a frozen tab does it when thawed.
func (w *World) reregister(id raft.ID) {
	t := w.tabs[id]
	if !t.alive {
		return
	}
	w.sim.ScheduleArg(w.sim.Now()+w.opt.PresenceJoinDelay, w.conns.fn.reconnect, tabArg(id, t.inc))
}

// reconnect: the page's reconnect runs (a frozen page's when thawed).
func (w *World) reconnect(arg uint64) {
	if t := w.tabs[raft.ID(arg&0xffff)]; t.frozen() {
		t.runArg(w.conns.fn.register, arg)
		return
	}
	w.register(arg)
}

// register: the tab registers with the server, if the page that
// (re)connected is still there and can reach it.
func (w *World) register(arg uint64) {
	id, inc := unpackTab(arg)
	s := &w.conns.sig
	if t := w.tabs[id]; uint64(t.inc) == inc && t.alive && !s.down && !s.blackholed[id] {
		w.heard(id)
	}
}

// healSignaling reconnects the sockets of blackholed tabs (Heal).
func (w *World) healSignaling() {
	if !w.opt.Conn.Setup {
		return
	}
	s := &w.conns.sig
	for i := 1; i <= w.opt.Nodes; i++ {
		if s.blackholed[i] {
			s.blackholed[i] = false
			s.open[i] = false
			w.reregister(raft.ID(i))
		}
	}
}
