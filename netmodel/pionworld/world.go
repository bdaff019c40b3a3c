package pionworld

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
)

// Options configure a real-stack cluster.
type Options struct {
	Nodes           int
	ElectionTimeout time.Duration
	Heartbeat       time.Duration // 0: ElectionTimeout/5
	// Ordered and MaxRetransmits (-1: reliable) select the datachannel
	// mode (webrtc.DataChannelInit).
	Ordered        bool
	MaxRetransmits int
	// ICEDisconnected and ICEFailed bound failure detection (0: pion's
	// 5 s and 25 s).
	ICEDisconnected, ICEFailed time.Duration
	Seed                       uint64
	// PaperBootstrap: node 1 starts as leader of a one-server cluster and
	// the others join with no configuration; the leader adds and removes
	// servers to match presence every 100 ms (50 ms while more than one
	// change is pending), one change a round, adds first: the paper's
	// harness. Off: every node starts with the full configuration.
	PaperBootstrap bool
	// DeferCommitNotice: followers learn commits from the next append.
	DeferCommitNotice bool
	// Raft settings passed to raft.Config as they are.
	PreVote, CheckQuorum, NaiveBacktrack                bool
	MaxInflight, MaxEntriesPerAppend, MaxBytesPerAppend int
	// SignalingURL, if set, introduces the tabs through the WebSocket
	// signaling server there (offer and answer relayed); otherwise they are
	// exchanged in process (synctest bubbles cannot wait on real sockets).
	SignalingURL string
	// Loss drops this share of packets on every link once the cluster is
	// built (a vnet chunk filter drawing from a seeded stream); SetLoss
	// changes it. Duplicate delivers this share of packets twice (a copy
	// re-injected into the router a millisecond later); SetDuplicate
	// changes it.
	Loss, Duplicate float64
	// Delay is the one-way delay of every packet: vnet's router-wide
	// MinDelay, a FIFO delay with no reordering. There is no jitter and no
	// per-link delay: vnet's MaxJitter sleeps the router goroutine while it
	// holds the router lock and stalls the whole network (facts).
	Delay time.Duration
	// SessionTTL: a client session is forgotten after this many log
	// entries without a command from its client (0: never; raft.Store).
	SessionTTL uint64
	// Observer, if set, sees every node's batches (the safety checker);
	// calls are serialized.
	Observer func(node raft.ID, prev, cur raft.Status, persisted, applied []raft.Entry, log LogReader) error
}

// LogReader reads a node's log (the checker's view).
type LogReader interface {
	Term(i uint64) (uint64, bool)
	Entry(i uint64) (raft.Entry, bool)
	FirstIndex() uint64
}

// Cluster is a real-stack cluster: one vnet router, one vnet.Net and one
// goroutine per node, a PeerConnection with a negotiated datachannel per
// pair.
type Cluster struct {
	opt    Options
	router *vnet.Router
	nodes  []*Node // index = id; [0] unused

	mu        sync.Mutex // guards the published statuses and the observer
	status    []raft.Status
	alive     []bool
	violation error
	wg        sync.WaitGroup
	// silent drops every packet: set before closing everything, so that
	// no close races a peer's abort (facts: a teardown hang otherwise).
	silent atomic.Bool
	loss   atomic.Uint64 // float64 bits: the packet loss rate
	// cutOff[i]: node i's packets are dropped (its tab closed): its
	// PeerConnections close in silence, so no close races a peer's abort
	// (facts: the teardown hang under synctest).
	cutOff []atomic.Bool
	ipID   map[string]int // read-only after New
	// cuts[from*(n+1)+to]: packets from one tab to another are dropped (a
	// partition or a one-way cut); nil: none. Replaced, never changed.
	cuts      atomic.Pointer[[]bool]
	dup       atomic.Uint64 // float64 bits: the packet duplication rate
	dupFilter *vnet.DuplicationFilter
	// sigDown: the in-process signaling is down (no SignalingURL): the
	// leader cannot read presence.
	sigDown atomic.Bool
	sigMu   sync.Mutex // guards the nodes' sig sockets
	httpc   *http.Client
	// chatLines[i]: how many chat lines node i has applied (under mu).
	chatLines []int
	// bg counts background goroutines (presence reads) that Close waits
	// for; closing (under bgMu) stops new ones.
	bgMu    sync.Mutex
	closing bool
	bg      sync.WaitGroup
}

// Node is one tab: its Raft state is owned by its goroutine; everything
// else reaches it through the inbox.
type Node struct {
	id       raft.ID
	c        *Cluster
	net      *vnet.Net
	pcs      map[raft.ID]*webrtc.PeerConnection
	dcs      map[raft.ID]*webrtc.DataChannel
	inbox    chan func()
	quit     chan struct{}
	r        *raft.Raft
	stored   raft.Stored
	timers   [3]*time.Timer
	sm       *raft.Store
	sig      *SignalClient                   // socket to the signaling server, if used
	memTimer *time.Timer                     // the leader's presence loop
	pending  map[[2]uint64]func(raft.Result) // (client, seq) -> reply
	applied  uint64                          // the last index applied
	// reads waiting for ReadIndex answers or for the node to apply their
	// index.
	reads raft.ReadWaiter
}

// New builds the cluster: network, connections, nodes. Start starts Raft.
func New(opt Options) (*Cluster, error) {
	if opt.Nodes < 1 {
		return nil, fmt.Errorf("pionworld: nodes must be at least 1")
	}
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/16", MinDelay: opt.Delay, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		return nil, fmt.Errorf("pionworld: router: %w", err)
	}
	c := &Cluster{opt: opt, router: router, nodes: make([]*Node, opt.Nodes+1),
		status: make([]raft.Status, opt.Nodes+1), alive: make([]bool, opt.Nodes+1),
		cutOff: make([]atomic.Bool, opt.Nodes+1), ipID: map[string]int{}, chatLines: make([]int, opt.Nodes+1),
		httpc: &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}}
	// Duplicates: the filter below hands a chunk to this filter, which
	// (probability 1) re-injects a copy after a millisecond; the copy is
	// marked, so it is never copied again.
	c.dupFilter, err = vnet.NewDuplicationFilter(router, vnet.WithDuplicationProbability(1),
		vnet.WithDuplicationExtraDelay(time.Millisecond, time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("pionworld: duplication filter: %w", err)
	}
	duplicate := c.dupFilter.ChunkFilter()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pionworld: certificate key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("pionworld: certificate: %w", err)
	}
	for i := 1; i <= opt.Nodes; i++ {
		ip := fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)
		c.ipID[ip] = i
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			return nil, fmt.Errorf("pionworld: node %d's network: %w", i, err)
		}
		if err := router.AddNet(n); err != nil {
			return nil, fmt.Errorf("pionworld: node %d's network: %w", i, err)
		}
		c.nodes[i] = &Node{id: raft.ID(i), c: c, net: n, pcs: map[raft.ID]*webrtc.PeerConnection{}, dcs: map[raft.ID]*webrtc.DataChannel{},
			inbox: make(chan func(), 4096), quit: make(chan struct{}), sm: raft.NewStore(opt.SessionTTL), pending: map[[2]uint64]func(raft.Result){}}
		c.alive[i] = true
	}
	// The router calls its filters one chunk at a time, from its goroutine
	// (holding its lock): the streams need no lock of their own.
	lossRand := mrand.New(mrand.NewPCG(opt.Seed, 0x1055))
	dupRand := mrand.New(mrand.NewPCG(opt.Seed, 0xd0b))
	router.AddChunkFilter(func(ch vnet.Chunk) bool {
		if c.silent.Load() {
			return false
		}
		src, dst := c.addrID(ch.SourceAddr()), c.addrID(ch.DestinationAddr())
		if c.cutOff[src].Load() || c.cutOff[dst].Load() {
			return false
		}
		if cuts := c.cuts.Load(); cuts != nil && (*cuts)[src*(opt.Nodes+1)+dst] {
			return false
		}
		if loss := math.Float64frombits(c.loss.Load()); loss > 0 && lossRand.Float64() < loss {
			return false
		}
		if d := math.Float64frombits(c.dup.Load()); d > 0 && dupRand.Float64() < d {
			duplicate(ch) // a copy already made is not copied again
		}
		return true
	})
	if err := router.Start(); err != nil {
		return nil, fmt.Errorf("pionworld: router: %w", err)
	}
	for i := 1; i <= opt.Nodes; i++ {
		for j := i + 1; j <= opt.Nodes; j++ {
			if err := c.connect(c.nodes[i], c.nodes[j], *cert); err != nil {
				c.Close()
				return nil, fmt.Errorf("pionworld: connecting %d and %d: %w", i, j, err)
			}
		}
	}
	c.SetLoss(opt.Loss)
	c.SetDuplicate(opt.Duplicate)
	return c, nil
}

// addrID returns the node at a chunk's address (0: none; cutOff[0] and
// the cuts of node 0 are never set).
func (c *Cluster) addrID(a net.Addr) int {
	if u, ok := a.(*net.UDPAddr); ok {
		return c.ipID[u.IP.String()]
	}
	return 0
}

func (c *Cluster) api(n *Node) *webrtc.API {
	se := webrtc.SettingEngine{}
	se.SetNet(n.net)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(false)
	se.DisableCloseByDTLS(true) // facts: avoids a teardown hang in synctest
	if c.opt.ICEDisconnected > 0 {
		se.SetICETimeouts(c.opt.ICEDisconnected, c.opt.ICEFailed, c.opt.ICEDisconnected/4)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// connect opens a PeerConnection between a and b with a negotiated
// datachannel, exchanging offer and answer in process once gathering is
// complete (no trickle needed on vnet).
func (c *Cluster) connect(a, b *Node, cert webrtc.Certificate) error {
	conf := webrtc.Configuration{Certificates: []webrtc.Certificate{cert}}
	pa, err := c.api(a).NewPeerConnection(conf)
	if err != nil {
		return err
	}
	pb, err := c.api(b).NewPeerConnection(conf)
	if err != nil {
		return err
	}
	a.pcs[b.id], b.pcs[a.id] = pa, pb
	negotiated, id := true, uint16(0)
	init := &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id, Ordered: &c.opt.Ordered}
	if c.opt.MaxRetransmits >= 0 {
		mr := uint16(c.opt.MaxRetransmits)
		init.MaxRetransmits = &mr
	}
	for _, side := range []struct {
		self, peer *Node
		pc         *webrtc.PeerConnection
	}{{a, b, pa}, {b, a, pb}} {
		dc, err := side.pc.CreateDataChannel("raft", init)
		if err != nil {
			return err
		}
		side.self.dcs[side.peer.id] = dc
		self := side.self
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			m, err := Decode(msg.Data)
			if err != nil {
				return // garbage never reaches Raft
			}
			self.post(func() { self.r.Step(m) })
		})
	}
	offer, err := pa.CreateOffer(nil)
	if err != nil {
		return err
	}
	ga := webrtc.GatheringCompletePromise(pa)
	if err := pa.SetLocalDescription(offer); err != nil {
		return err
	}
	<-ga
	remoteOffer := *pa.LocalDescription()
	if c.opt.SignalingURL != "" {
		// Through the server: a sends OFFER to b, b answers.
		c.sigMu.Lock()
		defer c.sigMu.Unlock()
		sdp, err := c.relay(a, b, SigOffer, remoteOffer.SDP)
		if err != nil {
			return err
		}
		remoteOffer = webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}
	}
	if err := pb.SetRemoteDescription(remoteOffer); err != nil {
		return err
	}
	answer, err := pb.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gb := webrtc.GatheringCompletePromise(pb)
	if err := pb.SetLocalDescription(answer); err != nil {
		return err
	}
	<-gb
	remoteAnswer := *pb.LocalDescription()
	if c.opt.SignalingURL != "" {
		sdp, err := c.relay(b, a, SigAnswer, remoteAnswer.SDP)
		if err != nil {
			return err
		}
		remoteAnswer = webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}
	}
	return pa.SetRemoteDescription(remoteAnswer)
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

// SetLoss sets the share of packets dropped on every link.
func (c *Cluster) SetLoss(p float64) { c.loss.Store(math.Float64bits(p)) }

// SetDuplicate sets the share of packets delivered twice.
func (c *Cluster) SetDuplicate(p float64) { c.dup.Store(math.Float64bits(p)) }

// post queues work for the node's goroutine (dropped if it stopped).
func (n *Node) post(fn func()) {
	select {
	case <-n.quit:
	case n.inbox <- fn:
	}
}

// Start starts Raft on every node, all members from the start.
func (c *Cluster) Start() error {
	voters := make([]raft.ID, 0, c.opt.Nodes)
	for i := 1; i <= c.opt.Nodes; i++ {
		voters = append(voters, raft.ID(i))
	}
	for _, n := range c.nodes[1:] {
		vs := voters
		if c.opt.PaperBootstrap {
			vs = nil
			if n.id == 1 {
				vs = []raft.ID{1}
			}
		}
		r, err := raft.New(raft.Config{ID: n.id, ElectionTimeout: c.opt.ElectionTimeout, HeartbeatInterval: c.opt.Heartbeat,
			Voters: vs, DeferCommitNotice: c.opt.DeferCommitNotice, PreVote: c.opt.PreVote, CheckQuorum: c.opt.CheckQuorum,
			NaiveBacktrack: c.opt.NaiveBacktrack, MaxInflight: c.opt.MaxInflight, MaxEntriesPerAppend: c.opt.MaxEntriesPerAppend,
			MaxBytesPerAppend: c.opt.MaxBytesPerAppend, Rand: mrand.New(mrand.NewPCG(c.opt.Seed, uint64(n.id)))}, raft.Stored{})
		if err != nil {
			return fmt.Errorf("pionworld: node %d: %w", n.id, err)
		}
		n.r = r
		c.wg.Add(1)
		go n.loop()
		if c.opt.PaperBootstrap && n.id == 1 {
			n.post(func() { n.r.Campaign() })
		} else {
			n.post(func() {})
		}
	}
	return nil
}

// membership is the leader's presence loop (PaperBootstrap): compare
// the tabs present with the configuration, make at most one change. ok
// false: the presence list could not be read (signaling down), so nothing
// changes.
func (n *Node) membership(present []bool, ok bool) {
	c := n.c
	if n.r.Status().Role != raft.Leader {
		n.memTimer = nil
		return
	}
	st := n.r.Status()
	member := map[raft.ID]bool{}
	for _, id := range st.Voters {
		member[id] = true
	}
	var adds, removes []raft.ID
	for i := 1; ok && i <= c.opt.Nodes; i++ {
		id := raft.ID(i)
		switch {
		case present[i] && !member[id]:
			adds = append(adds, id)
		case !present[i] && member[id] && id != n.id:
			removes = append(removes, id)
		}
	}
	switch {
	case len(adds) > 0:
		_ = n.r.ProposeConfChange(raft.ConfChange{Type: raft.ConfAddNode, Node: adds[0]})
	case len(removes) > 0:
		_ = n.r.ProposeConfChange(raft.ConfChange{Type: raft.ConfRemoveNode, Node: removes[0]})
	}
	next := 100 * time.Millisecond
	if len(adds)+len(removes) > 1 {
		next = 50 * time.Millisecond
	}
	n.schedulePresence(next)
}

// schedulePresence arms the presence loop: after d, the list is read off
// the node's goroutine (an HTTP request to the signaling server may take
// a while) and the answer is posted to it.
func (n *Node) schedulePresence(d time.Duration) {
	c := n.c
	n.memTimer = time.AfterFunc(d, func() {
		if !c.bgStart() {
			return
		}
		defer c.bg.Done()
		present, ok := c.presence(n.id)
		n.post(func() { n.membership(present, ok) })
	})
}

// bgStart registers a background goroutine unless the cluster is closing.
func (c *Cluster) bgStart() bool {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.closing {
		return false
	}
	c.bg.Add(1)
	return true
}

// presence returns the tabs present as tab self sees them: the signaling
// server's /peers list if there is a server, else the open tabs. ok false:
// the list cannot be read (the server is down, or self is not registered
// with it, as after an outage before it reconnected).
func (c *Cluster) presence(self raft.ID) (present []bool, ok bool) {
	present = make([]bool, c.opt.Nodes+1)
	if c.opt.SignalingURL == "" {
		if c.sigDown.Load() {
			return nil, false
		}
		c.mu.Lock()
		copy(present, c.alive)
		c.mu.Unlock()
		return present, true
	}
	ids, err := c.peers()
	if err != nil {
		return nil, false
	}
	for _, id := range ids {
		if id >= 1 && id <= c.opt.Nodes {
			present[id] = true
		}
	}
	return present, present[self]
}

// peers reads the signaling server's peer list.
func (c *Cluster) peers() ([]int, error) {
	url := "http" + strings.TrimPrefix(c.opt.SignalingURL, "ws") + "/peers"
	resp, err := c.httpc.Get(url)
	if err != nil {
		return nil, fmt.Errorf("pionworld: presence: %w", err)
	}
	defer resp.Body.Close()
	var ids []int
	if err := json.NewDecoder(resp.Body).Decode(&ids); err != nil {
		return nil, fmt.Errorf("pionworld: presence: %w", err)
	}
	return ids, nil
}

// loop is the node's goroutine: it alone touches the node's Raft state.
func (n *Node) loop() {
	defer n.c.wg.Done()
	for {
		select {
		case <-n.quit:
			for _, t := range n.timers {
				if t != nil {
					t.Stop()
				}
			}
			if n.memTimer != nil {
				n.memTimer.Stop()
			}
			return
		case fn := <-n.inbox:
			fn()
			n.process()
		}
	}
}

func (n *Node) process() {
	rd := n.r.Ready()
	if rd.Empty() {
		return
	}
	c := n.c
	prev := c.statusOf(n.id)
	if rd.HardStateChanged {
		n.stored.HardState = rd.HardState
	}
	if len(rd.Entries) > 0 {
		first := rd.Entries[0].Index
		n.stored.Entries = append(n.stored.Entries[:first-1], rd.Entries...)
	}
	var buf []byte
	for i := range rd.Messages {
		m := &rd.Messages[i]
		dc := n.dcs[m.To]
		if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
			continue
		}
		buf = Encode(buf[:0], m)
		_ = dc.Send(buf) // a failed send is a lost message; Raft retries
	}
	for i := range rd.Committed {
		e := &rd.Committed[i]
		n.applied = e.Index
		if e.Type != raft.EntryNormal {
			continue
		}
		res := n.sm.Apply(e.Index, e.Cmd)
		key := [2]uint64{e.Cmd.Client, e.Cmd.Seq}
		if done, ok := n.pending[key]; ok {
			delete(n.pending, key)
			done(res)
		}
	}
	n.reads.Serve(rd.ReadStates, n.applied)
	for _, tr := range rd.Timers {
		k := tr.Kind
		if n.timers[k] != nil {
			n.timers[k].Stop()
			n.timers[k] = nil
		}
		if tr.Stop {
			continue
		}
		n.timers[k] = time.AfterFunc(tr.After, func() { n.post(func() { n.r.Fire(k) }) })
	}
	cur := n.r.Status()
	if c.opt.PaperBootstrap && cur.Role == raft.Leader && n.memTimer == nil {
		n.schedulePresence(100 * time.Millisecond)
	}
	lines := len(n.sm.Chat.Lines(netmodel.ChatKey))
	c.mu.Lock()
	c.status[n.id] = cur
	c.chatLines[n.id] = lines
	if c.opt.Observer != nil && c.violation == nil {
		if err := c.opt.Observer(n.id, prev, cur, rd.Entries, rd.Committed, n.r); err != nil {
			c.violation = err
		}
	}
	c.mu.Unlock()
}

func (c *Cluster) statusOf(id raft.ID) raft.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status[id]
}

// Propose submits cmd at node id; done runs (on the node's goroutine)
// when that node applies it. It reports false at once if the node knows
// no leader, through done's absence: done is then never called.
func (c *Cluster) Propose(id raft.ID, cmd raft.Command, done func(raft.Result)) {
	n := c.nodes[id]
	n.post(func() {
		if n.r.Propose(cmd) == nil {
			n.pending[[2]uint64{cmd.Client, cmd.Seq}] = done
		}
	})
}

// Leaders returns the live nodes that believe they lead.
func (c *Cluster) Leaders() []raft.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []raft.ID
	for i := 1; i <= c.opt.Nodes; i++ {
		if c.alive[i] && c.status[i].Role == raft.Leader {
			out = append(out, raft.ID(i))
		}
	}
	return out
}

// Alive reports whether node id's tab is open.
func (c *Cluster) Alive(id raft.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alive[id]
}

// Nodes returns the cluster size.
func (c *Cluster) Nodes() int { return c.opt.Nodes }

// Status returns node id's last published status.
func (c *Cluster) Status(id raft.ID) raft.Status { return c.statusOf(id) }

// Violation returns the first error the observer reported.
func (c *Cluster) Violation() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violation
}

// stop ends tab id, once: it is no longer alive, its packets are dropped
// both ways, its goroutine stops and its signaling socket drops. It
// reports false if the tab had already ended.
func (c *Cluster) stop(id raft.ID) (*Node, bool) {
	n := c.nodes[id]
	c.mu.Lock()
	if !c.alive[id] {
		c.mu.Unlock()
		return nil, false
	}
	c.alive[id] = false
	c.mu.Unlock()
	c.cutOff[id].Store(true)
	close(n.quit)
	c.dropSignal(n)
	return n, true
}

// Kill closes node id as a tab closing does: its goroutine stops and its
// PeerConnections close (a millisecond later, as the facts advise under
// synctest), so the peers see the close.
func (c *Cluster) Kill(id raft.ID) {
	n, ok := c.stop(id)
	if !ok {
		return
	}
	// The closes run in the background, so that killing several tabs is
	// one instant, as the paper's harness issued its kills.
	for _, pc := range n.pcs {
		time.AfterFunc(time.Millisecond, func() { pc.Close() })
	}
}

// Close stops everything: nodes, connections (concurrently), the router.
func (c *Cluster) Close() error {
	c.bgMu.Lock()
	c.closing = true
	c.bgMu.Unlock()
	for i := 1; i <= c.opt.Nodes; i++ {
		c.mu.Lock()
		alive := c.alive[i]
		c.alive[i] = false
		c.mu.Unlock()
		if alive && c.nodes[i] != nil && c.nodes[i].r != nil {
			close(c.nodes[i].quit)
		}
	}
	c.wg.Wait()
	c.bg.Wait()
	c.silent.Store(true)
	c.dupFilter.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, n := range c.nodes[1:] {
		if n == nil {
			continue
		}
		for peer, pc := range n.pcs {
			if peer < n.id {
				continue // each connection's two ends are closed by the lower id's loop below
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, p := range []*webrtc.PeerConnection{pc, c.nodes[peer].pcs[n.id]} {
					// The network is already silent: a transport that finds
					// its pipe closed under it is the expected end.
					if err := p.Close(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	c.sigMu.Lock()
	for _, n := range c.nodes[1:] {
		if n != nil && n.sig != nil {
			n.sig.Close()
			n.sig = nil
		}
	}
	c.sigMu.Unlock()
	c.httpc.CloseIdleConnections()
	if err := c.router.Stop(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Name is the cluster's label in results.
func (c *Cluster) Name() string { return "pion/" + strconv.Itoa(c.opt.Nodes) }
