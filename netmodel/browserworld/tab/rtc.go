//go:build js && wasm

package main

import (
	"encoding/json"
	"strconv"
	"syscall/js"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/netmodel/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// sigMsg is a message of the project's signaling server
// (pionworld.Signal, which the tab cannot import: pionworld brings pion):
// OPEN when registered, OFFER and ANSWER relayed, EXPIRE when the peer
// named is not connected, ID-TAKEN when another socket holds the id.
type sigMsg struct {
	Type    string `json:"type"`
	Src     int    `json:"src,omitempty"`
	Dst     int    `json:"dst,omitempty"`
	Payload string `json:"payload,omitempty"`
}

const (
	sigOpen    = "OPEN"
	sigOffer   = "OFFER"
	sigAnswer  = "ANSWER"
	sigExpire  = "EXPIRE"
	sigIDTaken = "ID-TAKEN"
)

// peer is the tab's connection to another tab: a PeerConnection and its
// negotiated datachannel (rtc.js).
type peer struct {
	id     raft.ID
	pc, dc js.Value
	open   bool
	fns    []js.Func
	// handlers are where fns are set: unset before the funcs are
	// released, as a closing channel still fires events.
	handlers []handler
}

type handler struct {
	target js.Value
	event  string
}

// newPeer replaces the tab's connection to id with a fresh one.
func (t *tab) newPeer(id raft.ID) *peer {
	t.dropPeer(id)
	o := global.Get("raftsimRTC").Call("newPeer", t.peerConf())
	p := &peer{id: id, pc: o.Get("pc"), dc: o.Get("dc")}
	t.peers[id] = p
	// For probes from the harness (the datachannel benchmarks):
	// window.raftsimChannels[id] is the channel to tab id, and
	// window.raftsimPeers[id] its RTCPeerConnection.
	global.Get("raftsimChannels").Set(strconv.Itoa(int(id)), p.dc)
	global.Get("raftsimPeers").Set(strconv.Itoa(int(id)), p.pc)
	on := func(target js.Value, ev string, fn func(js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			if t.peers[id] == p { // not replaced since
				fn(args[0])
			}
			return nil
		})
		p.fns = append(p.fns, f)
		p.handlers = append(p.handlers, handler{target, ev})
		target.Set(ev, f)
	}
	on(p.dc, "onopen", func(js.Value) { t.channel(p, true) })
	on(p.dc, "onclose", func(js.Value) { t.channel(p, false) })
	on(p.dc, "onmessage", func(ev js.Value) { t.receive(ev.Get("data")) })
	on(p.pc, "onconnectionstatechange", func(js.Value) {
		if s := p.pc.Get("connectionState").String(); s == "failed" || s == "closed" {
			t.dropPeer(id)
		}
	})
	return p
}

// peerConf is the connection's configuration for rtc.js's newPeer: the
// datachannel's mode (RTCDataChannelInit) and the relay, from Init.
func (t *tab) peerConf() js.Value {
	conf := map[string]any{"ordered": true}
	if m := t.init.Channel; m != nil {
		conf["ordered"] = !m.Unordered
		switch m.Reliability {
		case netmodel.LimitRetransmits:
			conf["maxRetransmits"] = m.MaxRetransmits
		case netmodel.LimitLifetime:
			conf["maxPacketLifeTime"] = m.MaxPacketLifeTime.Duration().Milliseconds()
		}
	}
	if r := t.init.Relay; r != nil {
		conf["relay"] = map[string]any{"url": r.URL, "username": r.Username, "credential": r.Credential}
	}
	return js.ValueOf(conf)
}

// dropPeer closes the tab's connection to id, if any.
func (t *tab) dropPeer(id raft.ID) {
	p := t.peers[id]
	if p == nil {
		return
	}
	delete(t.peers, id)
	if p.open {
		t.report(ctl.Msg{Type: ctl.Channel, Peer: id, Open: false})
	}
	for _, h := range p.handlers {
		h.target.Set(h.event, js.Null())
	}
	_ = try(func() { p.pc.Call("close") })
	for _, f := range p.fns {
		f.Release()
	}
}

// channel reports a datachannel opening or closing to the harness.
func (t *tab) channel(p *peer, open bool) {
	p.open = open
	t.report(ctl.Msg{Type: ctl.Channel, Peer: p.id, Open: open})
	if !open {
		t.dropPeer(p.id)
	}
}

// receive hands a datachannel message to Raft, and notes how long its
// handling took (handlerCosts).
func (t *tab) receive(data js.Value) {
	if t.h.Raft == nil || t.dead {
		return
	}
	defer t.handlerCosts.since(performance.Call("now").Float())
	arr := uint8Array.New(data)
	if n := arr.Length(); cap(t.rbuf) < n {
		t.rbuf = make([]byte, n)
	}
	b := t.rbuf[:arr.Length()]
	js.CopyBytesToGo(b, arr)
	m, err := wire.Decode(b)
	if err != nil || m.To != t.id {
		return // garbage never reaches Raft
	}
	t.record(sim.Event{Kind: sim.KindDeliver, Node: uint64(m.To), Peer: uint64(m.From), Term: m.Term, Index: m.Index, Msg: m.Type.String()})
	t.h.Step(m)
	t.process()
}

// send carries a message over the datachannel to its peer; with no open
// channel it is lost (Raft sends again), as PeerJS refuses to send
// before "open".
func (t *tab) send(m raft.Message) {
	p := t.peers[m.To]
	if t.dead {
		return
	}
	t.record(sim.Event{Kind: sim.KindSend, Node: uint64(m.From), Peer: uint64(m.To), Term: m.Term, Index: m.Index, Msg: m.Type.String()})
	if p == nil || !p.open {
		t.record(sim.Event{Kind: sim.KindDrop, Node: uint64(m.From), Peer: uint64(m.To), Term: m.Term, Index: m.Index, Msg: m.Type.String(), Detail: "not connected"})
		return
	}
	t.wbuf = wire.Encode(t.wbuf[:0], &m)
	arr := uint8Array.New(len(t.wbuf))
	js.CopyBytesToJS(arr, t.wbuf)
	_ = try(func() { p.dc.Call("send", arr) }) // a failed send is a lost message
}

// offer starts a connection to id: the offer goes through the signaling
// server; the answer comes back in onSignal.
func (t *tab) offer(id raft.ID) {
	p := t.newPeer(id)
	await(global.Get("raftsimRTC").Call("offer", p.pc), func(sdp js.Value) {
		if t.peers[id] == p {
			t.sig.send(sigMsg{Type: sigOffer, Dst: int(id), Payload: sdp.String()})
		}
	}, func(err string) { t.logf("offer to %d: %s", id, err) })
}

// onSignal handles a message from the signaling server.
func (t *tab) onSignal(b []byte) {
	var s sigMsg
	if err := json.Unmarshal(b, &s); err != nil {
		t.logf("signaling: %v", err)
		return
	}
	from := raft.ID(s.Src)
	switch s.Type {
	case sigOpen:
		t.report(ctl.Msg{Type: ctl.Registered, Restored: t.restored})
	case sigIDTaken: // the previous incarnation's socket is not gone yet
		t.logf("signaling: id %d taken; retrying", t.id)
		var f js.Func
		f = js.FuncOf(func(js.Value, []js.Value) any { f.Release(); t.dialSignal(); return nil })
		global.Call("setTimeout", f, 200)
	case sigOffer: // a peer (re)connects: this tab answers
		p := t.newPeer(from)
		await(global.Get("raftsimRTC").Call("answer", p.pc, s.Payload), func(sdp js.Value) {
			if t.peers[from] == p {
				t.sig.send(sigMsg{Type: sigAnswer, Dst: s.Src, Payload: sdp.String()})
			}
		}, func(err string) { t.logf("answer to %d: %s", from, err) })
	case sigAnswer:
		if p := t.peers[from]; p != nil {
			await(global.Get("raftsimRTC").Call("accept", p.pc, s.Payload), func(js.Value) {},
				func(err string) { t.logf("answer from %d: %s", from, err) })
		}
	case sigExpire: // the peer is not there: it offers when it comes
		t.dropPeer(from)
	}
}

// dialSignal registers the tab with the signaling server. A socket that
// closes (the server went down, or could not be reached) is dialled
// again every signalRetry, as PeerJS's reconnect would, until the tab
// stops; established datachannels go on meanwhile.
func (t *tab) dialSignal() {
	t.sig = dial(t.signalURL+"/peerjs?id="+strconv.Itoa(int(t.id)), func() {}, t.onSignal, func() {
		if t.dead {
			return
		}
		var f js.Func
		f = js.FuncOf(func(js.Value, []js.Value) any {
			f.Release()
			if !t.dead {
				t.dialSignal()
			}
			return nil
		})
		global.Call("setTimeout", f, signalRetry)
	})
}

// signalRetry is how long a tab waits before dialling the signaling
// server again, in ms.
const signalRetry = 500
