package pionworld

import (
	"sync"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/realkv"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Clients on the real stack, in real time: KV clients (host.KVClients on
// real timers, sending to the node their tab believes leads) and the
// paper's chat users (host.Chat, living in a tab, on its goroutine, as in
// the model). Both record every operation as the model does, with times
// in nanoseconds since Start, for the linearizability checker.

// KVClients are the KV clients of a pion cluster (realkv: host.KVClients
// on real timers).
type KVClients = realkv.Clients

// StartKV starts KV clients against the cluster; readMode says how they
// read (netmodel.ReadIndex or the paper's netmodel.ReadLocal).
func (c *Cluster) StartKV(opt realkv.Options, readMode netmodel.ReadMode) *KVClients {
	return realkv.Start(kvTarget{c, readMode}, opt)
}

// kvTarget is the cluster as the KV clients see it.
type kvTarget struct {
	c    *Cluster
	mode netmodel.ReadMode
}

func (t kvTarget) Nodes() int              { return t.c.Nodes() }
func (t kvTarget) Alive(id raft.ID) bool   { return t.c.Alive(id) }
func (t kvTarget) Lead(id raft.ID) raft.ID { return t.c.Status(id).Lead }
func (t kvTarget) Record(e sim.Event)      { t.c.record(e) }

// Send delivers the attempt from a goroutine of its own: it is called
// with the clients' lock held, and a tab's goroutine may be waiting for
// that lock to deliver a reply.
func (t kvTarget) Send(to raft.ID, a host.KVAttempt, reply func(found bool, out string)) {
	go func() {
		switch {
		case a.Cmd.Op != app.OpGet:
			t.c.Propose(to, a.Cmd, func(res app.Result) {
				if !res.Stale && !res.SessionExpired {
					reply(res.OK, res.Value)
				}
			})
		case t.mode == netmodel.ReadLocal:
			t.c.LocalRead(to, a.Cmd.Key, reply)
		default:
			t.c.ReadIndex(to, a.Cmd.Client<<32|a.Cmd.Seq, a.Cmd.Key, func(ok, found bool, v string) {
				if ok {
					reply(found, v)
				}
			})
		}
	}()
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
