package netmodel

import (
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Connection set-up without a closure per step. Every attempt passes an
// offer and an answer through the signaling server, runs a task on each
// page and arms timers: written as nested closures, each step captured
// the pair and the attempt's generation and so was allocated, about half
// of kill-half's allocations at 41 tabs. Here each step is a function
// bound once per world (connFns) that the queue calls with the pair and
// the generation packed into one word (sim.AtArg, Tab.runArg); a
// signaling message in flight is an index into a reused slice (sigMsg).
// Every step still schedules exactly what, and when, the closures did.

// maxConnNodes is the most tabs a packed connection argument can name.
const maxConnNodes = 1<<16 - 1

// connArg packs the pair a, b and a generation into an event's argument.
// a and b keep their order: which tab started a step decides the order of
// what follows (closeConn's channels, openChanged's tabs).
func connArg(a, b raft.ID, gen uint32) uint64 {
	return uint64(a)<<48 | uint64(b)<<32 | uint64(gen)
}

// unpackConn is connArg's inverse.
func unpackConn(arg uint64) (a, b raft.ID, gen uint32) {
	return raft.ID(arg >> 48), raft.ID(arg >> 32 & 0xffff), uint32(arg)
}

// connFns are the world's connection steps, bound once (initConns).
type connFns struct {
	// Timers of a connection (conn.go).
	setupFailed, iceDone, iceDisconnected, iceFailed, iceRestarted func(uint64)
	// Tasks on a page: answering an offer, starting ICE once answered,
	// and the same three of an ICE restart.
	answer, answered, restartOffer, restartAnswer, restartAnswered func(uint64)
	// A signaling message reaching the server, then its addressee, or
	// expiring (signaling.go); the argument is its index in sig.msgs.
	atServer, arrive, expire func(uint64)
	// A tab's socket (signaling.go): heartbeats, the server's timeout,
	// registering; the argument is the tab's id, with its incarnation
	// where the step checks it (tabArg).
	beat, beatTask, pinged, unheard, reconnect, register func(uint64)
}

// tabArg packs a tab's id and incarnation into an event's argument.
func tabArg(id raft.ID, inc int) uint64 { return uint64(id) | uint64(inc)<<16 }

// unpackTab is tabArg's inverse.
func unpackTab(arg uint64) (id raft.ID, inc uint64) { return raft.ID(arg & 0xffff), arg >> 16 }

func (w *World) bindConnFns() {
	w.conns.fn = connFns{
		setupFailed: w.setupFailed, iceDone: w.iceDoneEvent, iceDisconnected: w.iceDisconnected,
		iceFailed: w.iceFailed, iceRestarted: w.iceRestartedEvent,
		answer: w.answerOffer, answered: w.answered, restartOffer: w.restartOffer,
		restartAnswer: w.restartAnswer, restartAnswered: w.restartAnswered,
		atServer: w.signalAtServer, arrive: w.signalArrive, expire: w.signalExpire,
		beat: w.beat, beatTask: w.beatTask, pinged: w.pinged, unheard: w.unheard,
		reconnect: w.reconnect, register: w.register,
	}
}

// connTrace records a connection event under the pair's lower id: "conn
// <higher id> " and what, which comes in pieces. The detail is put
// together in a buffer on the stack, so that a run that only hashes its
// trace builds no string (sim.Trace.RecordBytes).
func (w *World) connTrace(a, b raft.ID, what ...string) {
	if a > b {
		a, b = b, a
	}
	var buf [96]byte
	d := append(buf[:0], "conn "...)
	d = strconv.AppendUint(d, uint64(b), 10)
	d = append(d, ' ')
	for _, p := range what {
		d = append(d, p...)
	}
	w.sim.Trace().RecordBytes(sim.Event{Time: w.sim.Now(), Kind: sim.KindFault, Node: uint64(a)}, d)
}

// setupFailed: the give-up timer of an attempt (armSetup) fired.
func (w *World) setupFailed(arg uint64) {
	a, b, gen := unpackConn(arg)
	c := w.pair(a, b)
	c.setup = nil
	if c.gen == gen && c.phase == connConnecting {
		w.closeConn(a, b, "set-up failed")
	}
}

// iceDoneEvent: ICE, DTLS and SCTP set-up took its time (iceDone).
func (w *World) iceDoneEvent(arg uint64) { w.iceDone(unpackConn(arg)) }

// iceDisconnected: ICE reports a silent connection disconnected; it fails
// ICEFailed after it went silent, and a broken path restarts ICE.
func (w *World) iceDisconnected(arg uint64) {
	a, b, _ := unpackConn(arg)
	c := w.pair(a, b)
	c.phase = connDisconnected
	w.connTrace(a, b, "disconnected")
	c.iceTimer = w.sim.AtArg(c.deadSince+w.opt.Conn.ICEFailed, w.conns.fn.iceFailed, arg)
	if c.pathBroken && !c.restarting {
		w.iceRestart(a, b)
	}
}

// iceFailed: ICE gave up on the connection; the host closes it.
func (w *World) iceFailed(arg uint64) {
	a, b, _ := unpackConn(arg)
	w.pair(a, b).iceTimer = nil
	w.closeConn(a, b, "ice failed")
}

// iceRestartedEvent: an ICE restart's checks took their time.
func (w *World) iceRestartedEvent(arg uint64) {
	a, b, gen := unpackConn(arg)
	w.iceRestarted(a, b, gen, w.pair(a, b).restartPath)
}

// current unpacks a page task's argument and reports whether the attempt
// it belongs to is still the pair's: a task of a closed or replaced
// attempt does nothing.
func (w *World) current(arg uint64) (a, b raft.ID, gen uint32, ok bool) {
	a, b, gen = unpackConn(arg)
	return a, b, gen, w.pair(a, b).gen == gen
}

// answerOffer runs on the page of b, whom a's offer reached (a frozen page
// answers when thawed): the answer goes back through the server.
func (w *World) answerOffer(arg uint64) {
	if a, b, gen, ok := w.current(arg); ok {
		w.signal(sigAnswer, b, a, gen)
	}
}

// answered runs on the page of a once b's answer reached it: ICE starts.
func (w *World) answered(arg uint64) {
	if a, b, gen, ok := w.current(arg); ok {
		w.iceConnect(a, b, gen)
	}
}

// restartOffer runs on the page of a, which restarts ICE: the new offer.
func (w *World) restartOffer(arg uint64) {
	if a, b, gen, ok := w.current(arg); ok {
		w.signal(sigRestartOffer, a, b, gen)
	}
}

// restartAnswer runs on the page of b, whom the restart's offer reached.
func (w *World) restartAnswer(arg uint64) {
	if a, b, gen, ok := w.current(arg); ok {
		w.signal(sigRestartAnswer, b, a, gen)
	}
}

// restartAnswered runs on the page of a once the restart's answer reached
// it: ICE checks the new path, two round trips.
func (w *World) restartAnswered(arg uint64) {
	a, b, _, ok := w.current(arg)
	if !ok {
		return
	}
	rtt := w.link(a, b).Latency.Mean + w.link(b, a).Latency.Mean
	w.sim.ScheduleArg(w.sim.Now()+2*rtt, w.conns.fn.iceRestarted, arg)
}
