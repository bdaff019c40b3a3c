package pionworld

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/impair"
	"github.com/raftsim/raftsim/netmodel/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
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
	// ICEDisconnected and ICEFailed bound failure detection, both
	// counted from the last packet heard (0: pion's 5 s and 5 + 25 s).
	ICEDisconnected, ICEFailed time.Duration
	Seed                       uint64
	// PaperBootstrap: node 1 starts as leader of a one-server cluster and
	// the others join with no configuration; the leader adds and removes
	// servers to match presence every 100 ms (50 ms while more than one
	// change is pending), one change a round, adds first: the paper's
	// harness. Off: every node starts with the full configuration.
	PaperBootstrap bool
	// Raft: the Raft settings every tab runs with, as in the model
	// (netmodel.RaftOptions.Config makes each tab's raft.Config).
	Raft netmodel.RaftOptions
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
	// Latency is every link's one-way delay, drawn per packet (zero: none);
	// Burst, if set, replaces Loss with the Gilbert-Elliott model per link;
	// Bandwidth (bytes/s, 0: unlimited) queues a link's packets behind
	// each other; Links override all of these on single directed links.
	// All as netmodel.ResolveLink combines them (links.go says how vnet
	// applies them).
	Latency   netmodel.Latency
	Burst     *netmodel.GilbertElliott
	Bandwidth float64
	Links     []netmodel.LinkOverride
	// MaxPacketLifeTime, if positive (and MaxRetransmits -1), limits how
	// long a message is retransmitted (webrtc.DataChannelInit).
	MaxPacketLifeTime time.Duration
	// Browser: timer throttling and visibility rules for the tabs
	// (browser.go); the zero value: timers fire when asked.
	Browser netmodel.BrowserOptions
	// SnapshotEvery: a tab snapshots its state machine and compacts its
	// log every this many applied entries (0: never); MaxSnapshotChunk
	// bounds a snapshot message's data (0: raft's default).
	SnapshotEvery    uint64
	MaxSnapshotChunk int
	// ReconnectBackoff is how long a tab waits after a failed attempt to
	// connect to a peer before it tries again on the next send (0: 1 s).
	ReconnectBackoff time.Duration
	// SessionTTL: a client session is forgotten after this many log
	// entries without a command from its client (0: never; app.Store).
	SessionTTL uint64
	// Observer, if set, sees every node's batches (the safety checker);
	// calls are serialized.
	Observer func(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error
	// Sending, if set, sees each batch after it was persisted and before
	// its messages leave (serialized with Observer).
	Sending func(node raft.ID, rd *raft.Ready, log LogReader)
	// Record, if set, receives the run's events in the trace format the
	// model writes (the node's events, sends, deliveries, drops, timers),
	// from the tabs' goroutines: it must serialize them and stamp the
	// time.
	Record func(e sim.Event)
}

// LogReader reads a node's log (the checker's view): the model's, one
// interface for every world.
type LogReader = netmodel.LogReader

// Cluster is a real-stack cluster: one vnet router, one vnet.Net and one
// goroutine per tab, a PeerConnection with a negotiated datachannel per
// pair of tabs (links.go).
type Cluster struct {
	opt    Options
	router *vnet.Router
	start  time.Time // time 0 of the run: hidden tabs' timers align to it
	cert   webrtc.Certificate
	nets   []*vnet.Net         // per tab
	delays []*vnet.DelayFilter // per tab: its inbound packets' delay
	// net decides each packet's fate: loss, duplication, delay, cuts, and
	// a tab's cut-off (it ended or is blackholed: its PeerConnections close
	// in silence, so no close races a peer's abort; facts: the teardown
	// hang under synctest).
	net   *impair.Network
	pairs [][]*pair // [a][b] with a < b

	mu sync.Mutex // guards the fields below (never held around Raft)
	// nodes[id] is tab id's current incarnation (a restart makes a new
	// one); [0] unused.
	nodes     []*Node
	status    []raft.Status
	alive     []bool
	violation error
	// chatLines[i]: how many chat lines node i has applied.
	chatLines []int
	vis       []netmodel.Visibility // as the tabs' goroutines last set it

	wg sync.WaitGroup // the nodes' goroutines
	// silent drops every packet: set before closing everything, so that
	// no close races a peer's abort (facts: a teardown hang otherwise).
	silent    atomic.Bool
	ipID      map[string]int // read-only after New
	dupFilter *vnet.DuplicationFilter
	// sigDown: the in-process signaling is down (no SignalingURL): the
	// leader cannot read presence and no connection is set up.
	sigDown atomic.Bool
	sigMu   sync.Mutex // guards the nodes' sig sockets
	httpc   *http.Client
	// bg counts background goroutines (presence reads, connection set-ups
	// and closes) that Close waits for; closing (under bgMu) stops new ones.
	bgMu    sync.Mutex
	closing bool
	closed  chan struct{} // closed when Close starts
	bg      sync.WaitGroup
}

// Node is one incarnation of a tab: its Raft state is owned by its
// goroutine; everything else reaches it through the inbox.
type Node struct {
	id  raft.ID
	c   *Cluster
	inc int // the incarnation: 0 at start, one more per restart
	// dcs[peer] is this tab's open datachannel to peer (nil: none); set by
	// connection set-up, cleared when the channel closes.
	dcs   []atomic.Pointer[webrtc.DataChannel]
	inbox chan func()
	ctl   chan func() // runs even while the tab is frozen (browser.go)
	quit  chan struct{}
	done  chan struct{} // closed when the goroutine has returned
	// closes counts this incarnation's PeerConnection closes in flight; a
	// restart waits for them before the tab's packets pass again.
	closes sync.WaitGroup
	// h runs the Raft node (the same host as the model's tabs): its
	// Ready loop, storage, state machine, client callbacks and reads.
	h        *host.Node
	sig      *SignalClient // socket to the signaling server, if used
	memTimer *time.Timer   // the leader's presence loop
	buf      []byte        // the encoding of the message being sent
	browser  tabBrowser    // browser.go
}

// New builds the cluster: network, connections, nodes. Start starts Raft.
func New(opt Options) (*Cluster, error) {
	if opt.Nodes < 1 {
		return nil, fmt.Errorf("pionworld: nodes must be at least 1")
	}
	if opt.ReconnectBackoff <= 0 {
		opt.ReconnectBackoff = time.Second
	}
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/16", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		return nil, fmt.Errorf("pionworld: router: %w", err)
	}
	n1 := opt.Nodes + 1
	c := &Cluster{opt: opt, router: router, start: time.Now(), nets: make([]*vnet.Net, n1), delays: make([]*vnet.DelayFilter, n1),
		nodes: make([]*Node, n1), status: make([]raft.Status, n1), alive: make([]bool, n1),
		ipID: map[string]int{}, chatLines: make([]int, n1), vis: make([]netmodel.Visibility, n1), closed: make(chan struct{}),
		httpc: &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}}
	// Duplicates: the shaper hands a chunk to this filter, which
	// (probability 1) re-injects a copy after a millisecond; the copy is
	// marked, so it is never copied again.
	c.dupFilter, err = vnet.NewDuplicationFilter(router, vnet.WithDuplicationProbability(1),
		vnet.WithDuplicationExtraDelay(time.Millisecond, time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("pionworld: duplication filter: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pionworld: certificate key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("pionworld: certificate: %w", err)
	}
	c.cert = *cert
	// Without latency or bandwidth anywhere, packets skip the delay
	// filters (a goroutine hop each: WRaft's benchmark runs so).
	delayed := opt.Latency.Mean > 0 || opt.Bandwidth > 0
	for _, l := range opt.Links {
		delayed = delayed || (l.Latency != nil && l.Latency.Mean > 0) || (l.Bandwidth != nil && *l.Bandwidth > 0)
	}
	for i := 1; i <= opt.Nodes; i++ {
		ip := fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)
		c.ipID[ip] = i
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			return nil, fmt.Errorf("pionworld: node %d's network: %w", i, err)
		}
		c.nets[i] = n
		var nic vnet.NIC = n
		if delayed {
			// Every inbound packet waits in the tab's delay filter for
			// the delay the shaper drew for it (links.go).
			d, err := vnet.NewDelayFilter(n)
			if err != nil {
				return nil, fmt.Errorf("pionworld: node %d's delay: %w", i, err)
			}
			c.delays[i], nic = d, d
		}
		if err := router.AddNet(nic); err != nil {
			return nil, fmt.Errorf("pionworld: node %d's network: %w", i, err)
		}
		c.nodes[i] = c.newNode(raft.ID(i))
		c.alive[i] = true
	}
	c.pairs = make([][]*pair, n1)
	for a := 1; a <= opt.Nodes; a++ {
		c.pairs[a] = make([]*pair, n1)
		for b := a + 1; b <= opt.Nodes; b++ {
			c.pairs[a][b] = &pair{}
		}
	}
	c.net = impair.New(opt.Nodes, netmodel.Profile{Latency: opt.Latency, Loss: opt.Loss, Duplicate: opt.Duplicate, Burst: opt.Burst, Bandwidth: opt.Bandwidth},
		opt.Links, opt.Seed)
	router.AddChunkFilter(c.pass(c.dupFilter.ChunkFilter()))
	if err := router.Start(); err != nil {
		return nil, fmt.Errorf("pionworld: router: %w", err)
	}
	for i := 1; i <= opt.Nodes; i++ {
		for j := i + 1; j <= opt.Nodes; j++ {
			if err := c.connect(raft.ID(i), raft.ID(j)); err != nil {
				c.Close()
				return nil, fmt.Errorf("pionworld: connecting %d and %d: %w", i, j, err)
			}
		}
	}
	return c, nil
}

// newNode makes an incarnation of tab id (not started).
func (c *Cluster) newNode(id raft.ID) *Node {
	n := &Node{id: id, c: c, dcs: make([]atomic.Pointer[webrtc.DataChannel], c.opt.Nodes+1),
		inbox: make(chan func(), 4096), ctl: make(chan func(), 16), quit: make(chan struct{}), done: make(chan struct{})}
	cfg := host.Config{SessionTTL: c.opt.SessionTTL, Bugs: c.opt.Raft.Bugs, SnapshotEvery: c.opt.SnapshotEvery}
	n.h = host.NewNode(id, cfg, host.Hooks{
		Record: c.record,
		Failed: func(error) { c.stop(id) }, // an unreadable snapshot
		Sending: func(rd *raft.Ready) {
			if c.opt.Sending != nil {
				c.mu.Lock() // serialized with Observer (changed)
				defer c.mu.Unlock()
				c.opt.Sending(id, rd, n.h)
			}
		},
		Send:     n.send,
		SetTimer: n.setTimer,
		Changed:  n.changed,
	})
	return n
}

// node returns tab id's current incarnation.
func (c *Cluster) node(id raft.ID) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// addrID returns the node at a chunk's address (0: none, whose packets
// impair lets through).
func (c *Cluster) addrID(a net.Addr) int {
	if u, ok := a.(*net.UDPAddr); ok {
		return c.ipID[u.IP.String()]
	}
	return 0
}

// pass is the router's chunk filter: it decides one packet's fate on the
// link between two tabs (c.net) and applies it: false drops it; true lets
// it go on, after its destination's delay filter was set to the delay
// drawn for it (a copy already made by duplicate is not copied again).
func (c *Cluster) pass(duplicate vnet.ChunkFilter) vnet.ChunkFilter {
	return func(ch vnet.Chunk) bool {
		if c.silent.Load() {
			return false
		}
		src, dst := c.addrID(ch.SourceAddr()), c.addrID(ch.DestinationAddr())
		f := c.net.Decide(src, dst, len(ch.UserData()), time.Now())
		if f.Drop {
			return false
		}
		if f.Duplicate {
			duplicate(ch)
		}
		if d := c.delays[dst]; d != nil && src != 0 {
			d.SetDelay(f.Delay)
		}
		return true
	}
}

// SetLoss sets the loss rate of every link; a bursty loss model gives way
// to the flat rate, and per-link overrides stay (as in the model).
func (c *Cluster) SetLoss(p float64) { c.net.SetLoss(p) }

// SetDuplicate sets the share of packets delivered twice on every link.
func (c *Cluster) SetDuplicate(p float64) { c.net.SetDuplicate(p) }

// post queues work for the node's goroutine (dropped if it stopped).
func (n *Node) post(fn func()) {
	select {
	case <-n.quit:
	case n.inbox <- fn:
	}
}

// control queues work that runs even while the tab is frozen.
func (n *Node) control(fn func()) {
	select {
	case <-n.quit:
	case n.ctl <- fn:
	}
}

// raftConfig is tab id's Raft configuration.
func (c *Cluster) raftConfig(id raft.ID, voters []raft.ID, inc int) raft.Config {
	o := &c.opt
	// Each incarnation has its own stream.
	return o.Raft.Config(id, voters, mrand.New(mrand.NewPCG(o.Seed, uint64(id)|uint64(inc)<<32)), o.MaxSnapshotChunk)
}

// Start starts Raft on every node: all members from the start, or the
// paper's bootstrap.
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
		if err := n.h.Start(c.raftConfig(n.id, vs, 0)); err != nil {
			return fmt.Errorf("pionworld: %w", err)
		}
		c.wg.Add(1)
		go n.loop()
		if c.opt.PaperBootstrap && n.id == 1 {
			n.post(func() { n.h.Raft.Campaign() })
		} else {
			n.post(func() {})
		}
	}
	return nil
}

// membership is the leader's presence loop (PaperBootstrap): compare
// the tabs present with the configuration, make at most one change
// (netmodel.MembershipChange, as in the model). ok false: the presence
// list could not be read (signaling down), so nothing changes.
//
// The next read is due next after this one's timer fired (fired), not
// after the list came back: Raft.js's round is synchronous, so its
// period starts when its timer fires; timing it from the answer would
// add the read's round trip (0.5-1 ms on loopback) to every round.
func (n *Node) membership(present []bool, ok bool, fired time.Time) {
	if n.h.Raft.Status().Role != raft.Leader {
		n.memTimer = nil
		return
	}
	pending := 0
	if ok {
		var cc raft.ConfChange
		cc, pending = netmodel.MembershipChange(n.h.Raft, present, n.c.opt.Raft.CatchUp)
		if pending > 0 {
			_ = n.h.Raft.ProposeConfChange(cc)
		}
	}
	next := time.Duration(netmodel.PresenceInterval)
	if pending > 1 {
		next = time.Duration(netmodel.PresenceFastInterval)
	}
	n.schedulePresence(time.Until(fired.Add(next)))
}

// schedulePresence arms the presence loop: after d (0 if negative), the
// list is read off the node's goroutine (an HTTP request to the signaling
// server may take a while) and the answer is posted to it.
func (n *Node) schedulePresence(d time.Duration) {
	c := n.c
	n.memTimer = time.AfterFunc(max(d, 0), func() {
		if !c.bgStart() {
			return
		}
		defer c.bg.Done()
		fired := time.Now()
		present, ok := c.presence(n.id)
		n.post(func() { n.membership(present, ok, fired) })
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
// While the tab is frozen, the inbox's work waits (browser.go).
func (n *Node) loop() {
	defer n.c.wg.Done()
	defer close(n.done)
	for {
		select {
		case <-n.quit:
			n.browser.stopTimers()
			if n.memTimer != nil {
				n.memTimer.Stop()
			}
			return
		case fn := <-n.ctl:
			fn()
			n.process()
		case fn := <-n.inbox:
			if n.browser.frozen() {
				n.browser.held = append(n.browser.held, fn)
				continue
			}
			fn()
			n.process()
		}
	}
}

// process executes the node's pending batch (host.Node.Process).
func (n *Node) process() { n.h.Process() }

// record traces e if the cluster has a trace.
func (c *Cluster) record(e sim.Event) {
	if c.opt.Record != nil {
		c.opt.Record(e)
	}
}

// messageEvent is the trace event of m (a send, deliver or drop).
func messageEvent(k sim.Kind, node, peer raft.ID, m *raft.Message) sim.Event {
	return sim.Event{Kind: k, Node: uint64(node), Peer: uint64(peer), Term: m.Term, Index: m.Index, Msg: m.Type.String()}
}

// send carries a message over the tab's datachannel to its peer.
func (n *Node) send(m raft.Message) {
	n.c.record(messageEvent(sim.KindSend, m.From, m.To, &m))
	dc := n.dcs[m.To].Load()
	if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
		// PeerJS refuses to send before "open": the host starts a
		// connection and Raft sends again later (as the model's host).
		e := messageEvent(sim.KindDrop, m.From, m.To, &m)
		e.Detail = "no open channel"
		n.c.record(e)
		n.c.ensureConnected(n.id, m.To)
		return
	}
	n.buf = wire.Encode(n.buf[:0], &m)
	_ = dc.Send(n.buf) // a failed send is a lost message; Raft retries
}

// changed publishes the batch's outcome: the status and chat lines read
// by conditions, the observer (the checkers), and the membership loop of
// a new leader.
func (n *Node) changed(prev, cur raft.Status, rd *raft.Ready) {
	c := n.c
	if c.opt.PaperBootstrap && cur.Role == raft.Leader && n.memTimer == nil {
		n.schedulePresence(time.Duration(netmodel.PresenceInterval))
	}
	lines := len(n.h.SM.Chat.Lines(netmodel.ChatKey))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[n.id] == n {
		c.status[n.id] = cur
		c.chatLines[n.id] = lines
	}
	if c.opt.Observer != nil && c.violation == nil {
		if err := c.opt.Observer(n.id, prev, cur, rd, n.h.Raft); err != nil {
			c.violation = err
		}
	}
}

func (c *Cluster) statusOf(id raft.ID) raft.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status[id]
}

// Propose submits cmd at node id; done runs (on the node's goroutine)
// when that node applies it. It reports false at once if the node knows
// no leader, through done's absence: done is then never called.
func (c *Cluster) Propose(id raft.ID, cmd app.Command, done func(app.Result)) {
	n := c.node(id)
	n.post(func() {
		_ = n.h.Submit(cmd, done)
	})
}

// TransferLeadership asks the leader (of the highest term, if several
// believe they lead) to hand leadership to to, or with raft.None to its
// most up-to-date live follower (as the model's host does). It reports
// false if no tab leads.
func (c *Cluster) TransferLeadership(to raft.ID) bool {
	lead, alive := c.leader()
	if lead == raft.None {
		return false
	}
	n := c.node(lead)
	n.post(func() {
		target := to
		if target == raft.None {
			var best uint64
			for _, id := range n.h.Raft.Status().Voters {
				if pr := n.h.Raft.Progress(id); id != lead && pr != nil && alive[id] && (target == raft.None || pr.Match > best) {
					target, best = id, pr.Match
				}
			}
		}
		_ = n.h.Raft.TransferLeadership(target)
	})
	return true
}

// leader returns the open tab that leads the highest term (None: none)
// and which tabs are open.
func (c *Cluster) leader() (raft.ID, []bool) {
	var lead raft.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 1; i <= c.opt.Nodes; i++ {
		if c.alive[i] && c.status[i].Role == raft.Leader && (lead == raft.None || c.status[i].Term > c.status[lead].Term) {
			lead = raft.ID(i)
		}
	}
	return lead, append([]bool(nil), c.alive...)
}

// Pause stalls tab id's goroutine for d (a long garbage collection, a
// busy main thread): what reaches it meanwhile waits in its inbox.
func (c *Cluster) Pause(id raft.ID, d time.Duration) {
	if c.Alive(id) {
		c.node(id).post(func() { time.Sleep(d) })
	}
}

// Reconfigure has the leader propose adding (add) or removing tab id. It
// reports false if no tab leads.
func (c *Cluster) Reconfigure(id raft.ID, add bool) bool {
	lead, _ := c.leader()
	if lead == raft.None {
		return false
	}
	cc := raft.ConfChange{Type: raft.ConfRemoveNode, Node: id}
	if add {
		cc.Type = raft.ConfAddNode
	}
	n := c.node(lead)
	n.post(func() { _ = n.h.Raft.ProposeConfChange(cc) })
	return true
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

// Recent returns the last messages tab id's current incarnation received.
// Call it once the cluster is closed (the tab's goroutine owns them).
func (c *Cluster) Recent(id raft.ID) []raft.Message { return c.node(id).h.Recent() }

// Status returns node id's last published status.
func (c *Cluster) Status(id raft.ID) raft.Status { return c.statusOf(id) }

// Violation returns the first error the observer reported.
func (c *Cluster) Violation() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violation
}

// Close stops everything: nodes, connections (concurrently), the router.
func (c *Cluster) Close() error {
	c.bgMu.Lock()
	if !c.closing {
		close(c.closed)
	}
	c.closing = true
	c.bgMu.Unlock()
	for i := 1; i <= c.opt.Nodes; i++ {
		c.mu.Lock()
		alive := c.alive[i]
		c.alive[i] = false
		n := c.nodes[i]
		c.mu.Unlock()
		if alive && n != nil && n.h.Raft != nil {
			close(n.quit)
		}
	}
	c.wg.Wait()
	c.bg.Wait()
	c.silent.Store(true)
	c.dupFilter.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for a := 1; a <= c.opt.Nodes; a++ {
		for b := a + 1; b <= c.opt.Nodes; b++ {
			p := c.pairs[a][b]
			p.mu.Lock()
			pcs := p.pcs
			p.pcs = [2]*webrtc.PeerConnection{}
			p.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, pc := range pcs {
					if pc == nil {
						continue
					}
					// The network is already silent: a transport that finds
					// its pipe closed under it is the expected end.
					if err := pc.Close(); err != nil && !errors.Is(err, io.ErrClosedPipe) {
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
	// vnet's Router.Stop does not wait for its goroutine, and a
	// DelayFilter closed under it blocks that goroutine for good (its
	// onInboundChunk sends on a channel nobody reads any more): a chunk
	// that passed the filters just before the network went silent may
	// still be on its way. Let the router finish first (in a synctest
	// bubble the sleep ends only once it has).
	time.Sleep(routerQuiet)
	for _, d := range c.delays[1:] {
		if d != nil {
			d.Close()
		}
	}
	return errors.Join(errs...)
}

// routerQuiet is how long Close waits between stopping the router and
// closing the delay filters behind it.
const routerQuiet = 10 * time.Millisecond

// Name is the cluster's label in results.
func (c *Cluster) Name() string { return "pion/" + strconv.Itoa(c.opt.Nodes) }
