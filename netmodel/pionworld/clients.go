package pionworld

import (
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Clients on the real stack, in real time: KV clients (host.KVClients on
// real timers, sending to the node their tab believes leads) and the
// paper's chat users (host.Chat, living in a tab, on its goroutine, as in
// the model). Both record every operation as the model does, with times
// in nanoseconds since Start, for the linearizability checker.

// KVOptions configure the KV clients (host.KVOptions, in real time).
type KVOptions struct {
	host.KVOptions
	Clients int
	// ReadMode: netmodel.ReadIndex (linearizable reads) or
	// netmodel.ReadLocal (the paper's reads from the leader's state).
	ReadMode netmodel.ReadMode
	Seed     uint64
	// Start is the run's time 0 for the history.
	Start time.Time
	// OnDone, if set, is called (from any goroutine) when an operation
	// ends, answered or given up.
	OnDone func()
}

// KVClients runs KV clients (host.KVClients, written once for every
// world) against a cluster: each client's timers are real timers, and
// every callback, from a timer or from a tab's goroutine, runs under mu.
type KVClients struct {
	c      *Cluster
	opt    KVOptions
	mu     sync.Mutex
	k      *host.KVClients
	closed bool
}

// StartKV starts opt.Clients KV clients now. Client c starts at tab
// (c-1) mod n + 1, ids apart from the chat users', after a random wait
// below its think time.
func (c *Cluster) StartKV(opt KVOptions) *KVClients {
	k := &KVClients{c: c, opt: opt, k: host.NewKVClients(opt.KVOptions)}
	k.k.OnDone = opt.OnDone
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := 1; i <= opt.Clients; i++ {
		id := uint64(1000 + i)
		home := raft.ID((i-1)%c.opt.Nodes + 1)
		r := mrand.New(mrand.NewPCG(opt.Seed, id))
		open := mrand.New(mrand.NewPCG(opt.Seed, id|1<<63))
		start := sim.Time(r.Int64N(int64(max(opt.Think, sim.Millisecond))))
		k.k.Add(id, uint64(home), &kvEnv{k: k, home: home}, r, open, start)
	}
	return k
}

// Done reports whether every client has issued all its operations, each
// answered or given up.
func (k *KVClients) Done() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.k.Done()
}

// Stop ends the workload: no callback runs after it returns, and open
// operations stay unanswered in the history.
func (k *KVClients) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.k.Stop()
	k.closed = true
}

// History returns a copy of the operations so far, in call order.
func (k *KVClients) History() []netmodel.KVRecord {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.k.History())
}

// locked runs fn under mu unless the workload has stopped.
func (k *KVClients) locked(fn func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.closed {
		fn()
	}
}

// kvEnv is one client on the real stack (host.KVEnv): it sends to the
// node its tab believes leads (home), moving home to the next open tab if
// its own has closed (tabs on the real stack do not reopen by
// themselves).
type kvEnv struct {
	k    *KVClients
	home raft.ID
}

func (e *kvEnv) Now() sim.Time       { return sim.Time(time.Since(e.k.opt.Start)) }
func (e *kvEnv) Available() bool     { return true }
func (e *kvEnv) Record(ev sim.Event) { e.k.c.record(ev) }

func (e *kvEnv) After(d sim.Time, fn func()) func() {
	t := time.AfterFunc(time.Duration(d), func() { e.k.locked(fn) })
	return func() { t.Stop() }
}

// Send delivers the attempt from a goroutine of its own: Send runs under
// mu, and a tab's goroutine may be waiting for mu to deliver a reply.
func (e *kvEnv) Send(a host.KVAttempt) {
	to := e.pick()
	reply := func(found bool, out string) { e.k.locked(func() { a.Reply(found, out) }) }
	c, mode := e.k.c, e.k.opt.ReadMode
	go func() {
		switch {
		case a.Cmd.Op != app.OpGet:
			c.Propose(to, a.Cmd, func(res app.Result) {
				if !res.Stale && !res.SessionExpired {
					reply(res.OK, res.Value)
				}
			})
		case mode == netmodel.ReadLocal:
			c.LocalRead(to, a.Cmd.Key, reply)
		default:
			c.ReadIndex(to, a.Cmd.Client<<32|a.Cmd.Seq, a.Cmd.Key, func(ok, found bool, v string) {
				if ok {
					reply(found, v)
				}
			})
		}
	}()
}

// pick chooses the node the client sends to: the leader its tab believes
// in (as the model's clients: a tab that believes a deposed leader still
// leads keeps its clients asking that one), else its tab itself.
func (e *kvEnv) pick() raft.ID {
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
	if lead := c.Status(e.home).Lead; lead != raft.None && c.Alive(lead) {
		return lead
	}
	return e.home
}

// ChatClient is the paper's chat user (host.Chat, the model's too)
// living in a tab of the real stack: its flush timer is a real timer that
// fires on the tab's goroutine, where the browser's timer rules for the
// tab's visibility (browser.go) may defer it further. mu guards the
// client against the harness's reads.
type ChatClient struct {
	c     *Cluster
	tab   raft.ID
	start time.Time

	mu       sync.Mutex
	chat     *host.Chat
	node     *Node // the tab's incarnation the current flush runs on
	flush    *time.Timer
	flushGen uint64   // voids the fire of a flush timer re-armed since
	flushDue sim.Time // when the flush would run in the foreground (browser.go's clock)
	flushCh  int      // the flush timer's HTML nesting level
	stopped  bool
}

// NewChatClient makes chat user id in tab; start is the run's time 0 (the
// page loaded then: its flush loop runs on multiples of 100 ms from it).
func (c *Cluster) NewChatClient(tab raft.ID, id uint64, start time.Time) *ChatClient {
	cl := &ChatClient{c: c, tab: tab, start: start}
	cl.chat = host.NewChat(id, cl)
	return cl
}

// Tab returns the tab the user lives in.
func (cl *ChatClient) Tab() raft.ID { return cl.tab }

// Push queues lines; they leave at the next flush.
func (cl *ChatClient) Push(lines int) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.chat.Push(lines)
}

// Pending returns how many lines are not yet appended.
func (cl *ChatClient) Pending() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.chat.Pending()
}

// Acked returns how many lines were appended.
func (cl *ChatClient) Acked() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.chat.Acked
}

// History returns a copy of the user's seqAppends.
func (cl *ChatClient) History() []netmodel.ChatRecord {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]netmodel.ChatRecord(nil), cl.chat.History...)
}

// Stop stops the user's flush loop.
func (cl *ChatClient) Stop() {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.stopped = true
	if cl.flush != nil {
		cl.flush.Stop()
	}
}

// Now implements host.ChatEnv: time since the run's start.
func (cl *ChatClient) Now() sim.Time { return sim.Time(time.Since(cl.start)) }

// ArmFlush implements host.ChatEnv (cl.mu held): the HTML clamp for
// chained timers now, the tab's throttling when the timer fires.
func (cl *ChatClient) ArmFlush(after sim.Time, chain int) {
	if cl.stopped {
		return
	}
	if cl.flush != nil {
		cl.flush.Stop()
	}
	if o := &cl.c.opt.Browser; o.Throttling && chain >= netmodel.ChainedLevel {
		after = max(after, o.NestedClampMin)
	}
	cl.flushGen++
	cl.flushCh = chain
	cl.flushDue = cl.c.since() + after
	cl.arm(time.Duration(after), cl.flushGen)
}

// arm sets the real flush timer (cl.mu held).
func (cl *ChatClient) arm(after time.Duration, gen uint64) {
	cl.flush = time.AfterFunc(after, func() {
		n := cl.c.node(cl.tab)
		n.post(func() { cl.due(n, gen) })
	})
}

// due runs on the tab's goroutine when the flush timer fired.
func (cl *ChatClient) due(n *Node, gen uint64) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if gen != cl.flushGen || cl.stopped {
		return
	}
	if at := n.wakeTime(cl.flushDue, cl.flushCh); at > cl.c.since() {
		cl.arm(time.Duration(at-cl.c.since()), gen) // throttled
		return
	}
	cl.node = n
	cl.chat.Flush()
}

// Submit implements host.ChatEnv (on the tab's goroutine, cl.mu held);
// the result comes back on the same goroutine, under cl.mu.
func (cl *ChatClient) Submit(cmd app.Command, done func(app.Result)) bool {
	return cl.node.h.Submit(cmd, func(res app.Result) {
		cl.mu.Lock()
		defer cl.mu.Unlock()
		done(res)
	}) == nil
}

// RecordSend implements host.ChatEnv.
func (cl *ChatClient) RecordSend(seq uint64) {
	cl.c.record(sim.Event{Kind: sim.KindClient, Node: uint64(cl.tab), Index: seq, Msg: "seqAppend", Detail: "send"})
}
