// Package browserworld runs raftsim's Raft in real browser tabs: headless
// Chromium, one page per tab, each in its own browser context (its own
// localStorage), each running the tab program (./tab, compiled to
// WebAssembly) with one host.Node. Tabs talk over WebRTC datachannels,
// introduced through the project's signaling server
// (pionworld.SignalServer); the harness drives them over a WebSocket per
// tab (package ctl) and mirrors each tab's storage from its observations.
package browserworld

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/coder/websocket"
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/netmodel/impair"
	"github.com/raftsim/raftsim/netmodel/pionworld"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Options configure a browser cluster.
type Options struct {
	Nodes int
	// Raft: the Raft settings every tab runs with (as in the model).
	Raft netmodel.RaftOptions
	// Seed seeds each tab incarnation's Raft randomness (with its id and
	// incarnation).
	Seed uint64
	// Observer, if set, sees every tab's batches with the harness's
	// mirror of the tab's storage as the log; calls are serialized.
	Observer func(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error
	// Record, if set, receives each tab's trace events, stamped with the
	// machine's clock in ns since the epoch (ctl.Observation.Events), one
	// tab at a time, before the Observer sees the batch.
	Record func(e sim.Event)
	// Logf, if set, gets the tabs' console output and the harness's notes.
	Logf func(format string, args ...any)
	// Channel is the datachannel every pair of tabs shares (the zero
	// value: ordered and reliable).
	Channel netmodel.ChannelMode
	// Network, if set, impairs every packet between tabs: the tabs then
	// connect through a TURN relay in the harness (relay.go) whose
	// packets it decides; nil: they connect directly on loopback.
	Network *impair.Network
	// PaperBootstrap: the paper's bootstrap. Tab 1 starts as a
	// one-server cluster and campaigns, the others with no
	// configuration (Presence adds them).
	PaperBootstrap bool
	// Presence: the paper's membership. A leader's presence loop (in the
	// tab) adds the tabs the signaling server lists and removes those it
	// does not, one change at a time (netmodel.MembershipChange, as in
	// the model).
	Presence bool
	// Chromium is the browser's path ("": chromium on PATH).
	Chromium string
	// Timeout bounds opening and connecting tabs (0: 60 s); the full
	// mesh gets meshPerPair more per pair of tabs (41 tabs: 820 pairs,
	// which took 3 minutes on the project's 2-core machine).
	Timeout time.Duration
}

// LogReader reads a node's log (the checker's view): the model's, one
// interface for every world.
type LogReader = netmodel.LogReader

// Timings are how long the cluster took to come up.
type Timings struct {
	Build  time.Duration // go build of the tab program
	Launch time.Duration // Chromium up
	Pages  time.Duration // every page open, its wasm running, registered
	Mesh   time.Duration // every datachannel open
}

// Cluster is a browser cluster.
type Cluster struct {
	opt     Options
	dir     string // the wasm, the page files, the browser profile
	ln      net.Listener
	srv     *http.Server
	base    string // http://127.0.0.1:port
	sig     *pionworld.SignalServer
	relay   *relay // nil: no Options.Network
	b       *browser
	tabs    []*tabState // [0] unused
	timings Timings

	mu sync.Mutex // guards the tabs' fields
	// obsMu serializes batch handling: the mirrors, the Observer.
	obsMu     sync.Mutex
	violation error
	// lastBatch is the machine's clock when the latest batch observed
	// ended (ns since the epoch; under obsMu).
	lastBatch sim.Time
	nextReq   uint64
	closeOnce sync.Once
	closed    chan struct{} // closed by Close
}

// tabState is the harness's side of one tab.
type tabState struct {
	id  raft.ID
	bc  cdp.BrowserContextID
	inc int // the incarnation: one more per restart
	// The current incarnation's page and control socket.
	page       context.Context
	closePage  context.CancelFunc
	conn       *outbox // the control socket
	connected  chan *websocket.Conn
	registered chan *ctl.Restored
	alive      bool
	status     raft.Status
	hasStatus  bool
	open       map[raft.ID]bool // datachannels open, as the tab reported
	pending    map[uint64]func(app.Result)
	restored   *ctl.Restored
	// mirror is the tab's storage as its batches wrote it (under obsMu);
	// it survives Kill, as localStorage does.
	mirror host.Storage
	// chat is the chat user living in the tab (nil: none); chatLines the
	// chat lines it had applied at its last batch.
	chat      *ChatUser
	chatLines int
	// discarded: the next incarnation reopens after a discard.
	discarded bool
}

// New builds the tab program, starts the page server, the signaling
// server and Chromium, opens one page per tab and connects every pair;
// Start starts Raft.
func New(opt Options) (_ *Cluster, err error) {
	if opt.Nodes < 1 {
		return nil, fmt.Errorf("browserworld: nodes must be at least 1")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 60 * time.Second
	}
	dir, err := os.MkdirTemp("", "raftsim-browserworld-")
	if err != nil {
		return nil, fmt.Errorf("browserworld: %w", err)
	}
	c := &Cluster{opt: opt, dir: dir, tabs: make([]*tabState, opt.Nodes+1), closed: make(chan struct{})}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	t0 := time.Now()
	if err := buildTab(dir); err != nil {
		return nil, err
	}
	c.timings.Build = time.Since(t0)
	if err := c.serve(); err != nil {
		return nil, err
	}
	t0 = time.Now()
	if c.b, err = launch(opt.Chromium, dir); err != nil {
		return nil, err
	}
	c.timings.Launch = time.Since(t0)
	t0 = time.Now()
	if err := c.openAll(); err != nil {
		return nil, err
	}
	c.timings.Pages = time.Since(t0)
	t0 = time.Now()
	for i := 1; i <= opt.Nodes; i++ {
		var higher []raft.ID
		for j := i + 1; j <= opt.Nodes; j++ {
			higher = append(higher, raft.ID(j))
		}
		c.send(raft.ID(i), ctl.Msg{Type: ctl.Connect, Peers: higher})
	}
	if err := c.waitMesh(opt.Timeout + meshPerPair*time.Duration(opt.Nodes*(opt.Nodes-1)/2)); err != nil {
		return nil, err
	}
	c.timings.Mesh = time.Since(t0)
	return c, nil
}

// serve starts the page server (page files and /ctl) and the signaling
// server, both on 127.0.0.1 at random ports.
func (c *Cluster) serve() error {
	sig, err := pionworld.NewSignalServer(0)
	if err != nil {
		return fmt.Errorf("browserworld: %w", err)
	}
	c.sig = sig
	if c.opt.Network != nil {
		if c.relay, err = newRelay(c.opt.Network); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("browserworld: page server: %w", err)
	}
	c.ln, c.base = ln, "http://"+ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /", pageHandler(c.dir))
	mux.HandleFunc("GET /ctl", c.accept)
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return nil
}

// openAll creates each tab's browser context and opens its page, all at
// once.
func (c *Cluster) openAll() error {
	errs := make([]error, c.opt.Nodes+1)
	var wg sync.WaitGroup
	for i := 1; i <= c.opt.Nodes; i++ {
		bc, err := c.b.newContext()
		if err != nil {
			return err
		}
		c.tabs[i] = &tabState{id: raft.ID(i), bc: bc}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.open(raft.ID(i))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Timings returns how long the cluster took to come up.
func (c *Cluster) Timings() Timings { return c.timings }

// Name is the cluster's label in results.
func (c *Cluster) Name() string { return "browser/" + strconv.Itoa(c.opt.Nodes) }

// Nodes returns the cluster size.
func (c *Cluster) Nodes() int { return c.opt.Nodes }

func (c *Cluster) logf(format string, args ...any) {
	if c.opt.Logf != nil {
		c.opt.Logf(format, args...)
	}
}
