package pionworld

import (
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Clients on the real stack, in real time: KV clients (one goroutine
// each, sending to the node their tab believes leads) and the
// paper's chat users (living in a tab, on its goroutine, as in the model).
// Both record every operation as netmodel records, with times in
// nanoseconds since Start, for the linearizability checker.

// KVOptions configure the KV clients (as netmodel.KVOptions, in real
// time; no open loop).
type KVOptions struct {
	Clients, Keys, Ops int
	// ReadRatio and CasRatio split the operations; the rest are puts.
	ReadRatio, CasRatio float64
	// Think is the wait between an answer and the next call.
	Think time.Duration
	// Timeout is how long a client waits for an answer before it sends
	// the same command again (to the leader its tab believes in then),
	// Retries times; then it gives up and the operation stays unanswered
	// in the history.
	Timeout time.Duration
	Retries int
	// ReadMode: netmodel.ReadIndex (linearizable reads) or
	// netmodel.ReadLocal (the paper's reads from the leader's state).
	ReadMode netmodel.ReadMode
	Seed     uint64
	// Start is the run's time 0 for the history.
	Start time.Time
}

// KVClients runs KV clients against a cluster.
type KVClients struct {
	c       *Cluster
	opt     KVOptions
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
	running atomic.Int64 // clients that have not finished their operations

	mu      sync.Mutex // guards history
	history []netmodel.KVRecord
}

// kvReply is one answer to a client's command.
type kvReply struct {
	ok  bool
	out string
}

// StartKV starts opt.Clients KV clients now. Client c starts at tab
// (c-1) mod n + 1, ids apart from the chat users'.
func (c *Cluster) StartKV(opt KVOptions) *KVClients {
	k := &KVClients{c: c, opt: opt, stop: make(chan struct{})}
	for i := 1; i <= opt.Clients; i++ {
		k.running.Add(1)
		k.wg.Add(1)
		go k.run(uint64(1000+i), raft.ID((i-1)%c.opt.Nodes+1))
	}
	return k
}

// Done reports whether every client has issued all its operations, each
// answered or given up.
func (k *KVClients) Done() bool { return k.opt.Ops > 0 && k.running.Load() == 0 }

// Stop ends the workload and waits for the clients: open operations stay
// unanswered in the history.
func (k *KVClients) Stop() {
	k.stopped.Do(func() { close(k.stop) })
	k.wg.Wait()
}

// History returns a copy of the operations so far, in call order.
func (k *KVClients) History() []netmodel.KVRecord {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]netmodel.KVRecord(nil), k.history...)
}

func (k *KVClients) now() sim.Time { return sim.Time(time.Since(k.opt.Start)) }

// sleep waits d or until the workload stops (false).
func (k *KVClients) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-k.stop:
		return false
	}
}

// run is one client: one operation at a time, Ops of them.
func (k *KVClients) run(id uint64, home raft.ID) {
	defer k.wg.Done()
	r := mrand.New(mrand.NewPCG(k.opt.Seed, id))
	if !k.sleep(time.Duration(r.Int64N(int64(max(k.opt.Think, time.Millisecond))))) {
		return
	}
	puts := 0
	for seq := uint64(1); seq <= uint64(k.opt.Ops); seq++ {
		cmd := netmodel.DrawCommand(r, k.opt.Keys, k.opt.ReadRatio, k.opt.CasRatio, id, seq, &puts, k.lastValue)
		key := cmd.Key
		k.mu.Lock()
		k.history = append(k.history, netmodel.KVRecord{Client: id, Op: cmd.Op, Key: key, Value: cmd.Value, Expect: cmd.Expect, Call: k.now()})
		rec := len(k.history) - 1
		k.mu.Unlock()
		// Every attempt's answer lands here: any of them answers the
		// operation (a retry is the same command, applied once).
		replies := make(chan kvReply, k.opt.Retries+1)
	attempts:
		for attempt := 0; attempt <= k.opt.Retries; attempt++ {
			k.send(k.pick(&home), cmd, replies)
			t := time.NewTimer(k.opt.Timeout)
			select {
			case rp := <-replies:
				t.Stop()
				k.mu.Lock()
				h := &k.history[rec]
				h.Return, h.Returned, h.Found, h.OK, h.Out = k.now(), true, rp.ok, rp.ok, rp.out
				k.mu.Unlock()
				break attempts
			case <-t.C:
			case <-k.stop:
				t.Stop()
				return
			}
		}
		if !k.sleep(k.opt.Think) {
			return
		}
	}
	k.running.Add(-1)
}

// pick chooses the node a client sends to: the leader its tab believes
// in (as the model's clients: a tab that believes a deposed leader still
// leads keeps its clients asking that one), else its tab itself. If its
// tab has closed, the client moves to the next open tab (on the real
// stack tabs do not reopen, so a client there would wait for good).
func (k *KVClients) pick(home *raft.ID) raft.ID {
	c := k.c
	if !c.Alive(*home) {
		n := raft.ID(c.Nodes())
		for i := raft.ID(1); i <= n; i++ {
			if id := (*home-1+i)%n + 1; c.Alive(id) {
				*home = id
				break
			}
		}
	}
	if lead := c.Status(*home).Lead; lead != raft.None && c.Alive(lead) {
		return lead
	}
	return *home
}

// send sends the command to node id; its answer, if any, goes to replies
// (never blocking the node's goroutine).
func (k *KVClients) send(id raft.ID, cmd app.Command, replies chan<- kvReply) {
	reply := func(rp kvReply) {
		select {
		case replies <- rp:
		default:
		}
	}
	switch {
	case cmd.Op != app.OpGet:
		k.c.Propose(id, cmd, func(res app.Result) {
			if !res.Stale && !res.SessionExpired {
				reply(kvReply{res.OK, res.Value})
			}
		})
	case k.opt.ReadMode == netmodel.ReadLocal:
		k.c.LocalRead(id, cmd.Key, func(found bool, v string) { reply(kvReply{found, v}) })
	default:
		k.c.ReadIndex(id, cmd.Client<<32|cmd.Seq, cmd.Key, func(ok, found bool, v string) {
			if ok {
				reply(kvReply{found, v})
			}
		})
	}
}

// lastValue is a recent value of key in the history, for a cas to expect.
func (k *KVClients) lastValue(key string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := len(k.history) - 1; i >= 0 && i >= len(k.history)-20; i-- {
		if h := &k.history[i]; h.Key == key && (h.Op == app.OpPut || h.Op == app.OpCAS) && h.Returned {
			return h.Value
		}
	}
	return ""
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
