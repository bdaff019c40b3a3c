package pionworld

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/raftsim/raftsim/netmodel/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Links: what the network does to each packet (netmodel/impair decides
// it), and the PeerConnections between tabs.
//
// vnet has no per-packet jitter and no per-link delay (its router-wide
// MaxJitter sleeps the router goroutine holding the router lock: facts).
// So every tab's Net sits behind a vnet.DelayFilter, and the router's
// chunk filter, which runs for one packet at a time just before the
// router hands that packet to its destination's filter, sets that filter's
// delay to the one drawn for this packet on this directed link. A
// DelayFilter is a FIFO: a packet never overtakes an earlier one to the
// same tab, so jitter here delays the packets behind a slow one (as on a
// tab's one access link) where the model draws each message's latency on
// its own.

// pair is the connection between tabs a < b: a PeerConnection at each end
// (nil: none), replaced as a whole when the tabs connect again.
type pair struct {
	mu         sync.Mutex
	pcs        [2]*webrtc.PeerConnection // [0]: a's end, [1]: b's end
	connecting bool                      // connect is running
	startedAt  time.Time                 // the last attempt's start
	failedAt   time.Time                 // the last failed attempt
}

// mayStart reports whether a new attempt to connect may start now (p.mu
// held): none running, none failed within backoff, and the last one
// either has lost an end (closed, or ICE failed) or did not open its
// channel within setup (the model's host gives up on a set-up after
// ICEFailed too).
func (p *pair) mayStart(now time.Time, open bool, setup, backoff time.Duration) bool {
	switch {
	case p.connecting, now.Sub(p.failedAt) < backoff:
		return false
	case p.pcs[0] == nil || p.pcs[1] == nil:
		return true
	}
	return !open && now.Sub(p.startedAt) >= setup
}

// pairOf returns the pair of tabs a and b and the index of a's end.
func (c *Cluster) pairOf(a, b raft.ID) (*pair, int) {
	if a < b {
		return c.pairs[a][b], 0
	}
	return c.pairs[b][a], 1
}

func (c *Cluster) api(id raft.ID) *webrtc.API {
	se := webrtc.SettingEngine{}
	se.SetNet(c.nets[id])
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(false)
	se.DisableCloseByDTLS(true) // facts: avoids a teardown hang in synctest
	if c.opt.ICEDisconnected > 0 {
		// pion/ice counts its failed timeout from disconnected
		// (agent.go: totalTimeToFailure = failed + disconnected); ours
		// counts both from the last packet heard, as the model does.
		se.SetICETimeouts(c.opt.ICEDisconnected, max(c.opt.ICEFailed-c.opt.ICEDisconnected, 0), c.opt.ICEDisconnected/4)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// ensureConnected starts connecting tab from to tab to in the background
// unless an attempt is under way or the last one failed less than
// ReconnectBackoff ago. Called on the sender's goroutine.
func (c *Cluster) ensureConnected(from, to raft.ID) {
	if from == to || to < 1 || int(to) > c.opt.Nodes {
		return
	}
	p, _ := c.pairOf(from, to)
	setup := c.opt.ICEFailed
	if setup <= 0 {
		setup = 30 * time.Second // pion's 5 s disconnected + 25 s failed
	}
	open := c.node(from).dcs[to].Load() != nil
	p.mu.Lock()
	now := time.Now()
	if !p.mayStart(now, open, setup, c.opt.ReconnectBackoff) {
		p.mu.Unlock()
		return
	}
	p.connecting, p.startedAt = true, now
	p.mu.Unlock()
	if !c.bgStart() {
		p.mu.Lock()
		p.connecting = false
		p.mu.Unlock()
		return
	}
	go func() {
		defer c.bg.Done()
		if err := c.connect(from, to); err != nil {
			p.mu.Lock()
			p.failedAt = time.Now()
			p.mu.Unlock()
		}
	}()
}

// errPeerGone: the tab to connect to is not open (the signaling server
// would answer EXPIRE).
var errPeerGone = errors.New("peer not open")

// connect opens a PeerConnection between tabs a and b, replacing the
// ends they had, with a negotiated datachannel in the cluster's mode;
// offer and answer go through the signaling server (or in process), once
// gathering is complete (no trickle needed on vnet).
func (c *Cluster) connect(a, b raft.ID) (err error) {
	p, ia := c.pairOf(a, b)
	defer func() {
		p.mu.Lock()
		p.connecting = false
		p.mu.Unlock()
	}()
	na, nb := c.node(a), c.node(b)
	if !c.Alive(a) || !c.Alive(b) {
		return errPeerGone
	}
	if c.opt.SignalingURL == "" && c.sigDown.Load() {
		return fmt.Errorf("pionworld: signaling is down")
	}
	conf := webrtc.Configuration{Certificates: []webrtc.Certificate{c.cert}}
	pa, err := c.api(a).NewPeerConnection(conf)
	if err != nil {
		return err
	}
	pb, err := c.api(b).NewPeerConnection(conf)
	if err != nil {
		pa.Close()
		return err
	}
	// The new ends replace the old ones, which the hosts close.
	p.mu.Lock()
	old := p.pcs
	p.pcs[ia], p.pcs[1-ia] = pa, pb
	p.startedAt = time.Now()
	p.mu.Unlock()
	for _, pc := range old {
		if pc != nil {
			c.closeLater(nil, pc)
		}
	}
	negotiated, id := true, uint16(0)
	init := &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id, Ordered: &c.opt.Ordered}
	if c.opt.MaxRetransmits >= 0 {
		mr := uint16(c.opt.MaxRetransmits)
		init.MaxRetransmits = &mr
	} else if c.opt.MaxPacketLifeTime > 0 {
		ms := uint16(min(c.opt.MaxPacketLifeTime.Milliseconds(), math.MaxUint16))
		init.MaxPacketLifeTime = &ms
	}
	for _, side := range []struct {
		self *Node
		peer raft.ID
		pc   *webrtc.PeerConnection
	}{{na, b, pa}, {nb, a, pb}} {
		dc, err := side.pc.CreateDataChannel("raft", init)
		if err != nil {
			return err
		}
		c.attach(side.self, side.peer, side.pc, dc)
	}
	if c.opt.SignalingURL != "" {
		c.sigMu.Lock() // one exchange at a time on the tabs' sockets
		defer c.sigMu.Unlock()
	}
	offer, err := c.describe(pa, func() (webrtc.SessionDescription, error) { return pa.CreateOffer(nil) }, na, nb, SigOffer, webrtc.SDPTypeOffer)
	if err != nil {
		return err
	}
	if err := pb.SetRemoteDescription(offer); err != nil {
		return err
	}
	answer, err := c.describe(pb, func() (webrtc.SessionDescription, error) { return pb.CreateAnswer(nil) }, nb, na, SigAnswer, webrtc.SDPTypeAnswer)
	if err != nil {
		return err
	}
	return pa.SetRemoteDescription(answer)
}

// describe sets pc's local description (made by create) once ICE
// gathering is complete (no trickle needed on vnet) and returns it as
// the peer receives it: through the signaling server (c.sigMu held) as
// message typ from one tab to the other, or as it is in process.
func (c *Cluster) describe(pc *webrtc.PeerConnection, create func() (webrtc.SessionDescription, error),
	from, to *Node, typ string, sdpType webrtc.SDPType) (webrtc.SessionDescription, error) {
	d, err := create()
	if err != nil {
		return d, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return d, err
	}
	<-gathered
	d = *pc.LocalDescription()
	if c.opt.SignalingURL == "" {
		return d, nil
	}
	sdp, err := c.relay(from, to, typ, d.SDP)
	return webrtc.SessionDescription{Type: sdpType, SDP: sdp}, err
}

// attach wires one end of a connection to its tab: messages go to the
// tab's goroutine, the channel is the tab's once open and no longer once
// closed, and the host closes the PeerConnection when ICE fails (pion
// leaves the channel open otherwise, facts), as the model's host does.
func (c *Cluster) attach(self *Node, peer raft.ID, pc *webrtc.PeerConnection, dc *webrtc.DataChannel) {
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		m, err := wire.Decode(msg.Data)
		if err != nil {
			return // garbage never reaches Raft
		}
		self.post(func() {
			c.record(messageEvent(sim.KindDeliver, m.To, m.From, &m))
			self.h.Step(m)
		})
	})
	dc.OnOpen(func() { self.dcs[peer].Store(dc) })
	dc.OnClose(func() { self.dcs[peer].CompareAndSwap(dc, nil) })
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s != webrtc.ICEConnectionStateFailed {
			return
		}
		self.dcs[peer].CompareAndSwap(dc, nil)
		p, side := c.pairOf(self.id, peer)
		p.mu.Lock()
		if p.pcs[side] == pc {
			p.pcs[side] = nil
		}
		p.mu.Unlock()
		c.closeLater(nil, pc)
	})
}

// closeLater closes pc in the background, a millisecond from now (the
// facts' advice under synctest), counted by wg if not nil and by the
// cluster's background group.
func (c *Cluster) closeLater(wg *sync.WaitGroup, pc *webrtc.PeerConnection) {
	if !c.bgStart() {
		return // Close closes what is left
	}
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		defer c.bg.Done()
		if wg != nil {
			defer wg.Done()
		}
		time.Sleep(time.Millisecond)
		pc.Close()
	}()
}

// relay sends a description from one tab to another through the
// signaling server and returns what arrived.
func (c *Cluster) relay(from, to *Node, typ, sdp string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := c.signal(ctx, from)
	if err != nil {
		return "", err
	}
	dst, err := c.signal(ctx, to)
	if err != nil {
		return "", err
	}
	if err := src.Send(ctx, Signal{Type: typ, Dst: int(to.id), Payload: sdp}); err != nil {
		return "", err
	}
	select {
	case m, ok := <-dst.In:
		if !ok || m.Type != typ || m.Src != int(from.id) {
			return "", fmt.Errorf("signaling: got %+v, want %s from %d", m, typ, from.id)
		}
		return m.Payload, nil
	case m := <-src.In:
		return "", fmt.Errorf("signaling: %s for %d", m.Type, to.id)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// signal returns node n's socket to the signaling server, dialing it on
// first use.
func (c *Cluster) signal(ctx context.Context, n *Node) (*SignalClient, error) {
	if n.sig == nil {
		cl, err := DialSignal(ctx, c.opt.SignalingURL, int(n.id))
		if err != nil {
			return nil, err
		}
		n.sig = cl
	}
	return n.sig, nil
}
