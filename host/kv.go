package host

import (
	"strconv"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/sim"
)

// KV clients: browser users whose page issues get, put and cas
// operations on the replicated store, one at a time (or, in an open
// loop, on a schedule), retrying a silent operation with the same
// command, and recording what they saw for the linearizability checker.
// Written once for every world: a world supplies each client's KVEnv
// (its clock, its timers, how an attempt reaches the cluster) and calls
// nothing else.

// KVOptions configure the KV clients.
type KVOptions struct {
	Keys int
	// ReadRatio and CasRatio split the operations; the rest are puts.
	ReadRatio, CasRatio float64
	// Think is the wait between an answer and the next call (closed loop).
	Think sim.Time
	// Timeout is how long a client waits for an answer before it sends
	// the same command again (Retries times), then gives up: the
	// operation is recorded as never returned.
	Timeout sim.Time
	Retries int
	// Ops is how many operations each client issues (0: until stopped).
	Ops int
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

// KVAttempt is one sending of a client's command: the world delivers it
// as its clients do and calls Reply with a valid answer (not with a
// stale or refused one: the client's timeout then sends it again).
// Current reports whether the attempt still matters (its operation is
// still open), so a world may skip work for one already answered.
type KVAttempt struct {
	Cmd     app.Command
	Current func() bool
	Reply   func(found bool, out string)
}

// KVEnv is what a world gives one KV client.
type KVEnv interface {
	Now() sim.Time
	// After runs fn after d, as the world runs the client's callbacks;
	// the returned function cancels it.
	After(d sim.Time, fn func()) (cancel func())
	// Available reports whether the client's page can send now (its tab
	// is open); if not, the client tries again a timeout later.
	Available() bool
	// Send delivers an attempt.
	Send(a KVAttempt)
	// Record writes a client event to the trace.
	Record(e sim.Event)
}

// Rand is the random source the clients draw their commands from.
type Rand interface {
	IntN(n int) int
	ExpFloat64() float64
}

// KVClients runs a world's KV clients and keeps their history.
type KVClients struct {
	opt     KVOptions
	clients []*kvClient
	history []KVRecord
	stopped bool
	// OnDone, if set, is called whenever an operation ends (answered or
	// given up), so a runner can check its conditions again.
	OnDone func()
}

type kvClient struct {
	id       uint64
	tab      uint64 // for the trace
	env      KVEnv
	rand     Rand
	openRand Rand
	seq      uint64
	rec      int // index of the open record in history; -1: none
	cmd      app.Command
	attempts int
	cancel   func()
	done     int
	putCount int
	// open loop: the client that spawned this one-operation client
	parent *kvClient
	opened int // operations started (open loop)
}

// NewKVClients returns a set of KV clients; Add starts each.
func NewKVClients(opt KVOptions) *KVClients { return &KVClients{opt: opt} }

// Add starts client id, living in tab, after start: it draws its
// commands from rand and, in an open loop, its gaps from openRand.
func (k *KVClients) Add(id, tab uint64, env KVEnv, rand, openRand Rand, start sim.Time) {
	c := &kvClient{id: id, tab: tab, env: env, rand: rand, openRand: openRand, rec: -1}
	k.clients = append(k.clients, c)
	if k.opt.Rate > 0 {
		k.openLoop(c)
		return
	}
	env.After(start, func() { k.next(c) })
}

// openLoop starts operations from client c at exponential gaps, each as
// a one-operation client of its own (its own session), so a slow answer
// never holds the next call back.
func (k *KVClients) openLoop(c *kvClient) {
	gap := sim.Time(c.openRand.ExpFloat64() / k.opt.Rate * float64(sim.Second))
	c.env.After(gap, func() {
		if k.stopped || (k.opt.Ops > 0 && c.opened >= k.opt.Ops) {
			return
		}
		c.opened++
		op := &kvClient{id: c.id<<20 | uint64(c.opened), tab: c.tab, env: c.env, rand: c.rand, rec: -1, parent: c}
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

// DrawCommand draws a KV client's next command: a key among keys, then a
// get, cas or put by the ratios. A cas expects lastValue(key), the value
// a client last saw written there (or absent: about half the cases find
// something else); puts counts the client's writes, which name their
// values.
func DrawCommand(r Rand, keys int, readRatio, casRatio float64, client, seq uint64, puts *int, lastValue func(key string) string) app.Command {
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
	if k.stopped || (k.opt.Ops > 0 && c.done >= k.opt.Ops) || (c.parent != nil && c.done > 0) {
		return
	}
	if !c.env.Available() {
		// The user's page is closed; try again later.
		c.env.After(max(k.opt.Timeout, sim.Millisecond), func() { k.next(c) })
		return
	}
	c.seq++
	cmd := DrawCommand(c.rand, k.opt.Keys, k.opt.ReadRatio, k.opt.CasRatio, c.id, c.seq, &c.putCount, k.lastValue)
	c.cmd, c.attempts = cmd, 0
	k.history = append(k.history, KVRecord{Client: c.id, Op: cmd.Op, Key: cmd.Key, Value: cmd.Value, Expect: cmd.Expect, Call: c.env.Now()})
	c.rec = len(k.history) - 1
	c.env.Record(sim.Event{Kind: sim.KindClient, Node: c.tab, Peer: c.id, Index: c.seq, Msg: cmd.Op.String(), Detail: "call " + cmd.Key})
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

// attempt sends the client's command (again) and arms its timeout.
func (k *KVClients) attempt(c *kvClient) {
	c.attempts++
	seq := c.seq
	current := func() bool { return c.seq == seq && c.rec >= 0 }
	c.cancelTimeout()
	c.cancel = c.env.After(k.opt.Timeout, func() {
		c.cancel = nil
		if !current() {
			return
		}
		if c.attempts <= k.opt.Retries {
			k.attempt(c)
			return
		}
		k.giveUp(c)
	})
	c.env.Send(KVAttempt{Cmd: c.cmd, Current: current, Reply: func(found bool, out string) {
		if current() {
			k.finish(c, found, out)
		}
	}})
}

func (c *kvClient) cancelTimeout() {
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
}

func (k *KVClients) finish(c *kvClient, ok bool, out string) {
	h := &k.history[c.rec]
	h.Return, h.Returned, h.Found, h.OK, h.Out = c.env.Now(), true, ok, ok, out
	c.env.Record(sim.Event{Kind: sim.KindClient, Node: c.tab, Peer: c.id, Index: c.seq, Msg: h.Op.String(), Detail: "return"})
	k.close(c)
}

func (k *KVClients) giveUp(c *kvClient) {
	c.env.Record(sim.Event{Kind: sim.KindClient, Node: c.tab, Peer: c.id, Index: c.seq, Msg: c.cmd.Op.String(), Detail: "gave up"})
	k.close(c)
}

func (k *KVClients) close(c *kvClient) {
	c.rec = -1
	c.done++
	c.cancelTimeout()
	if k.OnDone != nil {
		k.OnDone()
	}
	c.env.After(k.opt.Think, func() { k.next(c) })
}
