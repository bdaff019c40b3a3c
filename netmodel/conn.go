package netmodel

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// ConnOptions configure connection set-up, ICE failure detection and the
// signaling server.
// The zero value keeps the first cut: every pair of tabs is connected from
// the start and a link is never declared dead.
type ConnOptions struct {
	// Setup: a connection opens only after the signaling server has passed
	// the offer and answer, plus SetupRTTsMin..SetupRTTsMax round trips of
	// ICE, DTLS and SCTP set-up.
	Setup                      bool
	SetupRTTsMin, SetupRTTsMax int
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
func DefaultConnOptions() ConnOptions { return ConnOptions{} }

func (o *ConnOptions) validate() error { return nil }

// SignalingDown stops the signaling server (an outage); SignalingUp
// restarts it.
func (w *World) SignalingDown() {}

// SignalingUp restarts the signaling server.
func (w *World) SignalingUp() {}

// Blackhole cuts tab id off the network, both ways and from signaling,
// without any close event (an unclean death as the peers see it). Heal
// restores it.
func (w *World) Blackhole(id raft.ID) {}

// PathChange changes tab id's network path (a cellular IP change, a mesh
// reroute): its connections stop working until an ICE restart, which needs
// the signaling server.
func (w *World) PathChange(id raft.ID) {}

// ConnState returns the state of the connection between two tabs: "new",
// "connecting", "open", "disconnected", "failed" or "closed".
func (w *World) ConnState(a, b raft.ID) string { return "open" }

// linkCut is told that the link from one tab to another was cut; linkHealed
// that it works again.
func (w *World) linkCut(from, to raft.ID)    {}
func (w *World) linkHealed(from, to raft.ID) {}

// connState is the world's connection and signaling state.
type connState struct{}

func (w *World) initConns() {}

// connSend sends m over the connection between its two tabs. In this first
// cut every pair of tabs is connected from the start.
func (w *World) connSend(m raft.Message) { w.transmit(m) }

// tabClosed is told that tab id closed cleanly: its datachannels close,
// and the peers see the close event at once.
func (w *World) tabClosed(id raft.ID) {
	for i := 1; i <= w.opt.Nodes; i++ {
		w.chans[id][i] = channel{cut: w.chans[id][i].cut}
		w.chans[i][id] = channel{cut: w.chans[i][id].cut}
	}
}

// hasOpenChannel reports whether tab id has at least one open datachannel
// (which exempts it from intensive timer throttling in Chrome).
func (w *World) hasOpenChannel(id raft.ID) bool {
	for i := 1; i <= w.opt.Nodes; i++ {
		if raft.ID(i) != id && w.tabs[i].alive && w.tabs[id].alive {
			return true
		}
	}
	return false
}
