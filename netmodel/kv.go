package netmodel

import (
	"strconv"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// KV clients: browser users whose page (a tab) issues get, put and cas
// operations on the replicated store, one at a time, and records what it
// saw for the linearizability checker.

// ReadMode says how a client reads.
type ReadMode string

// Read modes.
const (
	// ReadIndex: a linearizable read (raft.ReadIndex), served by the
	// client's tab once it has applied the read index.
	ReadIndex ReadMode = "readindex"
	// ReadLocal: the paper's reads, served from the state of the tab that
	// believes it leads, without asking anyone; a deposed leader that has
	// not noticed answers stale.
	ReadLocal ReadMode = "local"
)

// KVOptions configure the KV clients.
type KVOptions struct {
	Clients int // client c lives in tab (c-1) % nodes + 1
	Keys    int
	// ReadRatio and CasRatio split the operations; the rest are puts.
	ReadRatio, CasRatio float64
	// Think is the wait between an answer and the next call (closed loop).
	Think sim.Time
	// Timeout is how long a client waits for an answer before it retries
	// the same command (Retries times), then gives up: the operation is
	// recorded as never returned.
	Timeout sim.Time
	Retries int
	// Ops is how many operations each client issues (0: until stopped).
	Ops      int
	ReadMode ReadMode
	// Rate, if positive, makes the load open: each client starts an
	// operation every 1/Rate seconds on average (exponential gaps),
	// whether or not the earlier ones were answered. 0: closed loop.
	Rate float64
}

// KVRecord is one operation as its client saw it.
type KVRecord struct {
	Client       uint64
	Op           app.Op
	Key, Value   string
	Expect       string
	Call, Return sim.Time
	Returned     bool
	Found, OK    bool
	Out          string
}

// KVClients runs the KV clients of a world.
type KVClients struct {
	w       *World
	opt     KVOptions
	clients []*kvClient
	history []KVRecord
	stopped bool
	rand    interface{ IntN(int) int }
	// OnDone, if set, is called whenever an operation ends (answered or
	// given up), so a harness can re-check its conditions.
	OnDone func()
}

type kvClient struct {
	id       uint64
	tab      *Tab
	seq      uint64
	rec      int // index of the open record in history; -1: none
	cmd      app.Command
	attempts int
	timer    *sim.Timer
	done     int
	putCount int
	// open loop: the client that spawned this one-operation client
	parent *kvClient
	opened int // operations started (open loop)
}

// StartKV starts the KV clients now.
func (w *World) StartKV(opt KVOptions) *KVClients {
	k := &KVClients{w: w, opt: opt}
	r := w.sim.Rand("kv")
	k.rand = r
	for c := 1; c <= opt.Clients; c++ {
		id := uint64(1000 + c) // apart from the chat client's ids
		cl := &kvClient{id: id, tab: w.tabs[(c-1)%w.opt.Nodes+1], rec: -1}
		k.clients = append(k.clients, cl)
		if opt.Rate > 0 {
			k.openLoop(cl)
			continue
		}
		w.sim.After(sim.Time(r.IntN(int(max(opt.Think, sim.Millisecond)))), func() { k.next(cl) })
	}
	return k
}

// openLoop starts operations from client c at exponential gaps, each as
// a one-operation client of its own (its own session), so a slow answer
// never holds the next call back.
func (k *KVClients) openLoop(c *kvClient) {
	w := k.w
	gap := sim.Time(w.sim.Rand("kv/open").ExpFloat64() / k.opt.Rate * float64(sim.Second))
	w.sim.After(gap, func() {
		if k.stopped || (k.opt.Ops > 0 && c.opened >= k.opt.Ops) {
			return
		}
		c.opened++
		op := &kvClient{id: c.id<<20 | uint64(c.opened), tab: c.tab, rec: -1, parent: c}
		k.clients = append(k.clients, op)
		k.next(op)
		k.openLoop(c)
	})
}

// Stop ends the workload: no new operations start; open ones stay open.
func (k *KVClients) Stop() { k.stopped = true }

// History returns the operations so far, in call order. Operations still
// open count as never returned.
func (k *KVClients) History() []KVRecord { return k.history }

// Pending returns how many operations are open.
func (k *KVClients) Pending() int {
	n := 0
	for _, c := range k.clients {
		if c.rec >= 0 {
			n++
		}
	}
	return n
}

// Done reports whether every client has issued its Ops and been answered.
func (k *KVClients) Done() bool {
	for _, c := range k.clients {
		switch {
		case c.rec >= 0:
			return false
		case c.parent != nil:
		case k.opt.Rate > 0 && k.opt.Ops > 0 && c.opened < k.opt.Ops:
			return false
		case k.opt.Rate == 0 && k.opt.Ops > 0 && c.done < k.opt.Ops:
			return false
		}
	}
	return k.opt.Ops > 0
}

// DrawCommand draws a KV client's next command (both worlds' clients
// use it): a key among keys, then a get, cas or put by the ratios. A cas
// expects lastValue(key), the value a client last saw written there (or
// absent: about half the cases find something else); puts counts the
// client's writes, which name their values.
func DrawCommand(r interface{ IntN(int) int }, keys int, readRatio, casRatio float64, client, seq uint64, puts *int, lastValue func(key string) string) app.Command {
	key := "k" + strconv.Itoa(r.IntN(max(keys, 1)))
	cmd := app.Command{Key: key, Client: client, Seq: seq}
	x := float64(r.IntN(1000)) / 1000
	switch {
	case x < readRatio:
		cmd.Op = app.OpGet
		return cmd
	case x < readRatio+casRatio:
		cmd.Op = app.OpCAS
		cmd.Expect = lastValue(key)
	default:
		cmd.Op = app.OpPut
	}
	*puts++
	cmd.Value = "c" + strconv.FormatUint(client, 10) + "-" + strconv.Itoa(*puts)
	return cmd
}

// next starts the client's next operation.
func (k *KVClients) next(c *kvClient) {
	w := k.w
	if k.stopped || (k.opt.Ops > 0 && c.done >= k.opt.Ops) || (c.parent != nil && c.done > 0) {
		return
	}
	if !c.tab.alive {
		// The user's page is closed; try again later.
		w.sim.After(max(k.opt.Timeout, sim.Millisecond), func() { k.next(c) })
		return
	}
	c.seq++
	cmd := DrawCommand(k.rand, k.opt.Keys, k.opt.ReadRatio, k.opt.CasRatio, c.id, c.seq, &c.putCount, k.lastValue)
	key := cmd.Key
	c.cmd, c.attempts = cmd, 0
	k.history = append(k.history, KVRecord{Client: c.id, Op: cmd.Op, Key: cmd.Key, Value: cmd.Value, Expect: cmd.Expect, Call: w.sim.Now()})
	c.rec = len(k.history) - 1
	w.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.tab.ID), Peer: c.id, Index: c.seq, Msg: cmd.Op.String(), Detail: "call " + key})
	k.attempt(c)
}

// lastValue is a recent value of key in the history, for a cas to expect.
func (k *KVClients) lastValue(key string) string {
	for i := len(k.history) - 1; i >= 0 && i >= len(k.history)-20; i-- {
		if h := &k.history[i]; h.Key == key && (h.Op == app.OpPut || h.Op == app.OpCAS) && h.Returned {
			return h.Value
		}
	}
	return ""
}

// attempt sends the client's command (again) from its tab.
func (k *KVClients) attempt(c *kvClient) {
	w := k.w
	c.attempts++
	seq := c.seq
	c.timer.Cancel()
	c.timer = w.sim.After(k.opt.Timeout, func() {
		c.timer = nil
		if c.seq != seq || c.rec < 0 {
			return
		}
		if c.attempts <= k.opt.Retries {
			k.attempt(c)
			return
		}
		k.giveUp(c)
	})
	t := c.tab
	t.run(func() {
		if c.seq != seq || c.rec < 0 || !t.alive {
			return
		}
		cmd := c.cmd
		if cmd.Op == app.OpGet {
			k.read(c, seq)
			return
		}
		t.Submit(cmd, func(res app.Result) {
			if c.seq == seq && c.rec >= 0 && !res.Stale && !res.SessionExpired {
				k.finish(c, res.OK, res.Value)
			}
		})
	})
}

// read serves a get as the read mode says.
func (k *KVClients) read(c *kvClient, seq uint64) {
	t := c.tab
	key := c.cmd.Key
	switch k.opt.ReadMode {
	case ReadLocal:
		// The paper: the read goes to the tab the client's page believes
		// leads, which answers from its own state.
		lead := t.host.Status().Lead
		if lead == raft.None || !k.w.tabs[lead].alive {
			return // no leader known: the timeout retries
		}
		lt := k.w.tabs[lead]
		trip := k.w.link(t.ID, lead).Latency.Mean
		if lead == t.ID {
			trip = 0
		}
		k.w.sim.After(trip, func() {
			lt.run(func() {
				if !lt.alive || lt.host.Status().Role != raft.Leader {
					return
				}
				v, ok := lt.host.SM.KV.Get(key)
				k.w.sim.After(trip, func() {
					if c.seq == seq && c.rec >= 0 {
						k.finish(c, ok, v)
					}
				})
			})
		})
	default:
		t.readIndex(uint64(c.id)<<32|seq, func(ok bool) {
			if !ok || c.seq != seq || c.rec < 0 {
				return // rejected: the timeout retries
			}
			v, found := t.host.SM.KV.Get(key)
			k.finish(c, found, v)
		})
	}
}

func (k *KVClients) finish(c *kvClient, ok bool, out string) {
	w := k.w
	h := &k.history[c.rec]
	h.Return, h.Returned, h.Found, h.OK, h.Out = w.sim.Now(), true, ok, ok, out
	w.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.tab.ID), Peer: c.id, Index: c.seq, Msg: h.Op.String(), Detail: "return"})
	k.close(c)
}

func (k *KVClients) giveUp(c *kvClient) {
	w := k.w
	w.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.tab.ID), Peer: c.id, Index: c.seq, Msg: c.cmd.Op.String(), Detail: "gave up"})
	k.close(c)
}

func (k *KVClients) close(c *kvClient) {
	c.rec = -1
	c.done++
	c.timer.Cancel()
	c.timer = nil
	if k.OnDone != nil {
		k.OnDone()
	}
	k.w.sim.After(k.opt.Think, func() { k.next(c) })
}

// readIndex asks Raft for a linearizable read; done runs on the tab once
// the read may be served (ok) or was rejected.
func (t *Tab) readIndex(ctx uint64, done func(ok bool)) {
	t.host.Reads.Add(ctx, done)
	t.host.Raft.ReadIndex(ctx)
}
