// Package realkv hosts the KV clients (host.KVClients, written once for
// every world) on a real-time cluster, pion's or the browser's: real
// timers, and every callback, from a timer or from a tab's goroutine,
// under one lock.
package realkv

import (
	"github.com/raftsim/raftsim/app"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Cluster is what the clients need of a real-time cluster.
type Cluster interface {
	Nodes() int
	// Alive reports whether tab id is open.
	Alive(id raft.ID) bool
	// Lead is the leader tab id believes in (raft.None: none known).
	Lead(id raft.ID) raft.ID
	// Send delivers an attempt's command to tab to and calls reply with a
	// valid answer, if one comes (from any goroutine). It must not block
	// for long: it is called with the clients' lock held.
	Send(to raft.ID, a host.KVAttempt, reply func(found bool, out string))
	// Record writes a client event to the run's trace (any goroutine).
	Record(e sim.Event)
}

// Options configure the clients.
type Options struct {
	host.KVOptions
	Clients int
	Seed    uint64
	// Start is the run's time 0 for the history.
	Start time.Time
	// OnDone, if set, is called (from any goroutine) when an operation
	// ends, answered or given up.
	OnDone func()
	// LocalReads: a get goes to the tab the client's tab believes leads,
	// which answers from its own state (the paper's reads), as the
	// model's clients do; everything else goes to the client's own tab.
	LocalReads bool
}

// Clients runs KV clients against a cluster.
type Clients struct {
	c      Cluster
	opt    Options
	mu     sync.Mutex
	k      *host.KVClients
	closed bool
}

// Start starts opt.Clients clients now. Client c starts at tab (c-1) mod
// n + 1, ids apart from the chat users', after a random wait below its
// think time.
func Start(c Cluster, opt Options) *Clients {
	k := &Clients{c: c, opt: opt, k: host.NewKVClients(opt.KVOptions)}
	k.k.OnDone = opt.OnDone
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := 1; i <= opt.Clients; i++ {
		id := uint64(1000 + i)
		home := raft.ID((i-1)%c.Nodes() + 1)
		r := mrand.New(mrand.NewPCG(opt.Seed, id))
		open := mrand.New(mrand.NewPCG(opt.Seed, id|1<<63))
		start := sim.Time(r.Int64N(int64(max(opt.Think, sim.Millisecond))))
		k.k.Add(id, uint64(home), &env{k: k, home: home}, r, open, start)
	}
	return k
}

// Done reports whether every client has issued all its operations, each
// answered or given up.
func (k *Clients) Done() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.k.Done()
}

// Stop ends the workload: no callback runs after it returns, and open
// operations stay unanswered in the history.
func (k *Clients) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.k.Stop()
	k.closed = true
}

// History returns a copy of the operations so far, in call order.
func (k *Clients) History() []host.KVRecord {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.k.History())
}

// locked runs fn under mu unless the workload has stopped.
func (k *Clients) locked(fn func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		fn()
	}
}

// env is one client (host.KVEnv): it sends to the tab its own tab
// believes leads (home), moving home to the next open tab if its own has
// closed (tabs of a real cluster do not reopen by themselves).
type env struct {
	k    *Clients
	home raft.ID
}

func (e *env) Now() sim.Time       { return sim.Time(time.Since(e.k.opt.Start)) }
func (e *env) Available() bool     { return true }
func (e *env) Record(ev sim.Event) { e.k.c.Record(ev) }

func (e *env) After(d sim.Time, fn func()) func() {
	t := time.AfterFunc(time.Duration(d), func() { e.k.locked(fn) })
	return func() { t.Stop() }
}

// Send delivers the attempt; the reply comes back under the lock.
func (e *env) Send(a host.KVAttempt) {
	to := e.pick()
	if a.Cmd.Op == app.OpGet && e.k.opt.LocalReads {
		to = e.k.c.Lead(to)
		if to == raft.None || !e.k.c.Alive(to) {
			return // no leader known: left to the client's timeout
		}
	}
	e.k.c.Send(to, a, func(found bool, out string) {
		e.k.locked(func() { a.Reply(found, out) })
	})
}

// pick chooses the tab the client sends to: its own tab, as the model's
// clients do (a write is proposed there and Raft forwards it to the
// leader; the answer comes when that tab applies it), or the next open
// tab if its own closed.
func (e *env) pick() raft.ID {
	c := e.k.c
	if !c.Alive(e.home) {
		n := raft.ID(c.Nodes())
		for i := raft.ID(1); i <= n; i++ {
			if id := (e.home-1+i)%n + 1; c.Alive(id) {
				e.home = id
				break
			}
		}
	}
	return e.home
}
