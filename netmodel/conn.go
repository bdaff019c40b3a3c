package netmodel

import "github.com/raftsim/raftsim/raft"

// ConnOptions configure connection set-up, ICE failure detection and the
// signaling server.
type ConnOptions struct{}

func (o *ConnOptions) validate() error { return nil }

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
