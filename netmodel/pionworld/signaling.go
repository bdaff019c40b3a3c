package pionworld

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// A PeerJS-like signaling server over WebSocket (facts §5): tabs connect
// at /peerjs?id=N, the server answers OPEN, relays OFFER and ANSWER to the
// peer they name, and sends EXPIRE back when that peer is not connected.
// GET /peers lists the connected ids (presence, which the paper's leader
// reads to drive membership). Stop and Start model an outage: established
// datachannels do not need the server.

// Signal types, as PeerJS names them.
const (
	SigOpen      = "OPEN"
	SigOffer     = "OFFER"
	SigAnswer    = "ANSWER"
	SigExpire    = "EXPIRE"
	SigLeave     = "LEAVE"
	SigIDTaken   = "ID-TAKEN"
	SigHeartbeat = "HEARTBEAT"
)

// Signal is one signaling message.
type Signal struct {
	Type    string `json:"type"`
	Src     int    `json:"src,omitempty"`
	Dst     int    `json:"dst,omitempty"`
	Payload string `json:"payload,omitempty"` // an SDP description
}

// SignalServer is the signaling server, bound to 127.0.0.1.
type SignalServer struct {
	addr string
	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	ws   map[int]*websocket.Conn
	wg   sync.WaitGroup
}

// NewSignalServer listens on 127.0.0.1 (port 0: any) and serves.
func NewSignalServer(port int) (*SignalServer, error) {
	s := &SignalServer{addr: "127.0.0.1:" + strconv.Itoa(port)}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

// URL is the server's WebSocket address.
func (s *SignalServer) URL() string { return "ws://" + s.addr }

// Start (re)starts the server on its address.
func (s *SignalServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("signaling: %w", err)
	}
	s.addr = ln.Addr().String()
	s.ln, s.ws = ln, map[int]*websocket.Conn{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /peerjs", s.accept)
	mux.HandleFunc("GET /peers", s.peers)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv := s.srv
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = srv.Serve(ln) }()
	return nil
}

// Stop takes the server down: every socket closes, the peer list is lost.
func (s *SignalServer) Stop() {
	s.mu.Lock()
	srv, conns := s.srv, s.ws
	s.srv, s.ws = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Close()
	for _, c := range conns {
		c.CloseNow()
	}
	s.wg.Wait()
}

func (s *SignalServer) peers(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	var ids []int
	for id := range s.ws {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.Sort(ids)
	w.Header().Set("Content-Type", "application/json")
	// Browser tabs read it from pages served elsewhere (the browser
	// world's leader reads presence with fetch).
	w.Header().Set("Access-Control-Allow-Origin", "*")
	fmt.Fprint(w, "[")
	for i, id := range ids {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprint(w, id)
	}
	fmt.Fprint(w, "]")
}

func (s *SignalServer) accept(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil || id < 1 {
		http.Error(w, "want ?id=N", http.StatusBadRequest)
		return
	}
	// Pages served from another loopback port (browserworld's tabs) may
	// connect; the server listens on 127.0.0.1 only.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: []string{"127.0.0.1:*", "localhost:*"}})
	if err != nil {
		return
	}
	ctx := r.Context()
	s.mu.Lock()
	if s.ws == nil || s.ws[id] != nil {
		s.mu.Unlock()
		_ = wsjson.Write(ctx, c, Signal{Type: SigIDTaken})
		c.Close(websocket.StatusPolicyViolation, "id taken")
		return
	}
	s.ws[id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.ws != nil && s.ws[id] == c {
			delete(s.ws, id)
		}
		s.mu.Unlock()
		c.CloseNow()
	}()
	if wsjson.Write(ctx, c, Signal{Type: SigOpen, Dst: id}) != nil {
		return
	}
	for {
		var m Signal
		if err := wsjson.Read(ctx, c, &m); err != nil {
			return
		}
		m.Src = id
		switch m.Type {
		case SigOffer, SigAnswer:
			s.mu.Lock()
			dst := s.ws[m.Dst]
			s.mu.Unlock()
			if dst == nil || wsjson.Write(ctx, dst, m) != nil {
				_ = wsjson.Write(ctx, c, Signal{Type: SigExpire, Src: m.Dst, Dst: id})
			}
		case SigLeave:
			return
		}
	}
}

// SignalClient is a tab's socket to the server.
type SignalClient struct {
	c  *websocket.Conn
	In chan Signal // what the server sent, until the socket closes
}

// ErrIDTaken: another tab holds this id.
var ErrIDTaken = errors.New("signaling: id taken")

// DialSignal connects tab id to the server at url.
func DialSignal(ctx context.Context, url string, id int) (*SignalClient, error) {
	c, _, err := websocket.Dial(ctx, url+"/peerjs?id="+strconv.Itoa(id), nil)
	if err != nil {
		return nil, fmt.Errorf("signaling: %w", err)
	}
	var open Signal
	if err := wsjson.Read(ctx, c, &open); err != nil {
		c.CloseNow()
		return nil, fmt.Errorf("signaling: %w", err)
	}
	if open.Type != SigOpen {
		c.CloseNow()
		return nil, ErrIDTaken
	}
	cl := &SignalClient{c: c, In: make(chan Signal, 64)}
	go func() {
		defer close(cl.In)
		for {
			var m Signal
			if err := wsjson.Read(context.Background(), c, &m); err != nil {
				return
			}
			cl.In <- m
		}
	}()
	return cl, nil
}

// Send sends a signal.
func (cl *SignalClient) Send(ctx context.Context, m Signal) error { return wsjson.Write(ctx, cl.c, m) }

// Close closes the socket.
func (cl *SignalClient) Close() { cl.c.Close(websocket.StatusNormalClosure, "") }

// CloseNow drops the socket without the closing handshake (a tab that
// crashed or closed).
func (cl *SignalClient) CloseNow() { cl.c.CloseNow() }
