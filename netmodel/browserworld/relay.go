package browserworld

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
	"github.com/raftsim/raftsim/netmodel/impair"
	"github.com/raftsim/raftsim/raft"
)

// The relay: how the browser world impairs the network under Chromium.
// The kernel offers no netem here, and a drop in the page's send path
// would be loss above SCTP, a different thing. So when the scenario
// impairs the network, every tab's RTCPeerConnection uses a TURN server
// in the harness (pion/turn) with iceTransportPolicy "relay": its only
// candidates are relayed addresses, and every packet of every
// datachannel (SCTP in DTLS, and ICE's own checks) passes through Go
// code, where impair decides its fate by the scenario's links, seeded and
// per directed link. Chromium's own SCTP then retransmits what is lost
// (facts: 10% loss through such a relay took 1000 serialized echoes to a
// p99 of 1.23 s, nothing lost).
//
// Each tab authenticates as "tabN", so its allocation's relayed socket
// knows its tab; a packet leaves that socket for the peer's relayed
// address, whose tab the relay knows too: (from, to) is the link.

const (
	relayRealm    = "raftsim"
	relayPassword = "raftsim" // the relay listens on 127.0.0.1 only
)

// relay is the harness's TURN server.
type relay struct {
	srv  *turn.Server
	addr string // host:port of the TURN listener
	net  *impair.Network

	// relayed and dropped count the packets between tabs that went on
	// and that impair dropped.
	relayed, dropped atomic.Int64

	mu    sync.Mutex
	owner map[string]raft.ID // relayed address -> its tab
	done  bool               // closed: delayed packets are not sent
}

// newRelay starts a TURN server on 127.0.0.1 whose relayed packets net
// impairs.
func newRelay(net *impair.Network) (*relay, error) {
	ln, err := listenUDP()
	if err != nil {
		return nil, fmt.Errorf("browserworld: relay: %w", err)
	}
	r := &relay{addr: ln.LocalAddr().String(), net: net, owner: map[string]raft.ID{}}
	r.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:             relayRealm,
		AuthHandler:       r.auth,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: ln, RelayAddressGenerator: r}},
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("browserworld: relay: %w", err)
	}
	return r, nil
}

func listenUDP() (net.PacketConn, error) {
	return net.ListenPacket("udp4", "127.0.0.1:0") //nolint:noctx // loopback, no resolution
}

// URL is the relay's address as an RTCIceServer names it.
func (r *relay) URL() string { return "turn:" + r.addr + "?transport=udp" }

// username is tab id's TURN user name.
func username(id raft.ID) string { return "tab" + strconv.Itoa(int(id)) }

// auth lets in the tabs (user tabN, the relay's password).
func (r *relay) auth(ra *turn.RequestAttributes) (string, []byte, bool) {
	id, err := strconv.Atoi(strings.TrimPrefix(ra.Username, "tab"))
	if err != nil || id < 1 || !strings.HasPrefix(ra.Username, "tab") {
		return "", nil, false
	}
	return ra.Username, turn.GenerateAuthKey(ra.Username, relayRealm, relayPassword), true
}

// Validate implements turn.RelayAddressGenerator.
func (r *relay) Validate() error { return nil }

// AllocatePacketConn implements turn.RelayAddressGenerator: a relayed
// socket of the tab that authenticated, whose writes impair decides.
func (r *relay) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	id, err := strconv.Atoi(strings.TrimPrefix(conf.UserID, "tab"))
	if err != nil {
		return nil, nil, fmt.Errorf("browserworld: relay: user %q is not a tab", conf.UserID)
	}
	c, err := listenUDP()
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	r.owner[c.LocalAddr().String()] = raft.ID(id)
	r.mu.Unlock()
	return &relayedConn{PacketConn: c, r: r, from: raft.ID(id)}, c.LocalAddr(), nil
}

var errNoTCPRelay = errors.New("browserworld: relay: TCP relaying is not offered")

// AllocateListener implements turn.RelayAddressGenerator: no TCP.
func (r *relay) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errNoTCPRelay
}

// AllocateConn implements turn.RelayAddressGenerator: no TCP.
func (r *relay) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errNoTCPRelay
}

// tabAt returns the tab whose relayed socket is at addr (0: none).
func (r *relay) tabAt(addr net.Addr) raft.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner[addr.String()]
}

// close stops the server; packets still delayed are not sent.
func (r *relay) close() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	r.srv.Close()
}

// relayedConn is a tab's relayed socket: what it sends to a peer's
// relayed address is the packet on the link from its tab to the peer's.
type relayedConn struct {
	net.PacketConn
	r    *relay
	from raft.ID
}

// WriteTo sends p to addr as impair decides: dropped, delayed (a timer
// sends a copy later; packets with different delays may overtake each
// other, as on a real path with jitter), or sent twice.
func (c *relayedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	f := c.r.net.Decide(int(c.from), int(c.r.tabAt(addr)), len(p), time.Now())
	if f.Drop {
		c.r.dropped.Add(1)
		return len(p), nil
	}
	c.r.relayed.Add(1)
	switch {
	case f.Delay == 0 && !f.Duplicate:
		return c.PacketConn.WriteTo(p, addr)
	}
	b := append([]byte(nil), p...) // p is the caller's buffer
	send := func() {
		c.r.mu.Lock()
		done := c.r.done
		c.r.mu.Unlock()
		if !done {
			_, _ = c.PacketConn.WriteTo(b, addr) // a closed socket: the packet is lost
		}
	}
	copies := 1
	if f.Duplicate {
		copies = 2
	}
	for range copies {
		if f.Delay == 0 {
			send()
		} else {
			time.AfterFunc(f.Delay, send)
		}
	}
	return len(p), nil
}

// RelayCounts returns how many packets between tabs the relay passed on
// and how many it dropped (zeros without Options.Network).
func (c *Cluster) RelayCounts() (relayed, dropped int64) {
	if c.relay == nil {
		return 0, 0
	}
	return c.relay.relayed.Load(), c.relay.dropped.Load()
}
