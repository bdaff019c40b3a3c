package netmodel

import (
	"fmt"
	"math/rand/v2"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// KV clients in model tabs: the clients themselves are host.KVClients
// (written once for every world); this file is how a model tab hosts
// them: its clock and timers, its thread, and its read modes.

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
	host.KVOptions
	Clients  int // client c lives in tab (c-1) % nodes + 1
	ReadMode ReadMode
}

// KVClientPath is how far a KV client is from its tab's page, when it
// is not in the page (Options.KVClientPath): each attempt takes Request
// to reach the page, and each answer Answer to reach the client. The
// real worlds' clients live in their harness, whose commands cross a
// socket to the page and whose answers come back in the page's report
// of its batch (docs/worlds.md). Zero: the client is in the page.
type KVClientPath struct {
	Request, Answer Latency
}

// set reports whether the path has any length.
func (p *KVClientPath) set() bool { return *p != KVClientPath{} }

func (p *KVClientPath) validate() error {
	for _, side := range []struct {
		name string
		l    Latency
	}{{"request", p.Request}, {"answer", p.Answer}} {
		if side.l == (Latency{}) {
			continue // no way to go
		}
		if err := side.l.Validate(); err != nil {
			return fmt.Errorf("KV client %s path: %w", side.name, err)
		}
	}
	return nil
}

// KVRecord is one operation as its client saw it.
type KVRecord = host.KVRecord

// KVClients runs the KV clients of a world (host.KVClients).
type KVClients = host.KVClients

// DrawCommand draws a KV client's next command (host.DrawCommand).
var DrawCommand = host.DrawCommand

// StartKV starts the KV clients now: client c (ids from 1001, apart from
// the chat users') lives in tab (c-1) % nodes + 1 and first calls a
// random time below its think time from now (closed loop).
func (w *World) StartKV(opt KVOptions) *KVClients {
	k := host.NewKVClients(opt.KVOptions)
	r := w.sim.Rand("kv")
	open := w.sim.Rand("kv/open")
	var path *clientPath
	if w.opt.KVClientPath.set() {
		// A stream of its own, so that a path moves no other draw.
		path = &clientPath{KVClientPath: &w.opt.KVClientPath, rand: w.sim.Rand("kv/path")}
	}
	for c := 1; c <= opt.Clients; c++ {
		t := w.tabs[(c-1)%w.opt.Nodes+1]
		var start sim.Time
		if opt.Rate == 0 {
			start = sim.Time(r.IntN(int(max(opt.Think, sim.Millisecond))))
		}
		k.Add(uint64(1000+c), uint64(t.ID), &kvEnv{tab: t, mode: opt.ReadMode, path: path}, r, open, start)
	}
	return k
}

// kvEnv is a KV client's page in a model tab (host.KVEnv).
type kvEnv struct {
	tab  *Tab
	mode ReadMode
	path *clientPath // nil: the client is in the page
}

// clientPath draws the lengths of a KV client's path to its page.
type clientPath struct {
	*KVClientPath
	rand *rand.Rand
}

func (p *clientPath) draw(l Latency) sim.Time {
	if l == (Latency{}) {
		return 0
	}
	return max(l.Sample(p.rand), 0)
}

func (e *kvEnv) Now() sim.Time       { return e.tab.w.sim.Now() }
func (e *kvEnv) Available() bool     { return e.tab.alive }
func (e *kvEnv) Record(ev sim.Event) { e.tab.w.record(ev) }

func (e *kvEnv) After(d sim.Time, fn func()) func() {
	t := e.tab.w.sim.After(d, fn)
	return func() { t.Cancel() }
}

// Send runs the attempt on the client's tab: a write is proposed there
// (Raft forwards it to the leader), a read served as the read mode says.
// A client outside the page reaches it, and hears its answer, along its
// path.
func (e *kvEnv) Send(a host.KVAttempt) {
	if e.path == nil {
		e.run(a)
		return
	}
	s := e.tab.w.sim
	reply := a.Reply
	a.Reply = func(found bool, out string) {
		s.After(e.path.draw(e.path.Answer), func() { reply(found, out) })
	}
	s.After(e.path.draw(e.path.Request), func() { e.run(a) })
}

// run runs the attempt on the client's tab.
func (e *kvEnv) run(a host.KVAttempt) {
	t := e.tab
	t.run(func() {
		if !a.Current() || !t.alive {
			return
		}
		if a.Cmd.Op == app.OpGet {
			e.read(a)
			return
		}
		t.Submit(a.Cmd, func(res app.Result) {
			if !res.Stale && !res.SessionExpired {
				a.Reply(res.OK, res.Value)
			}
		})
	})
}

// read serves a get as the read mode says; a read that cannot be served
// is left to the client's timeout.
func (e *kvEnv) read(a host.KVAttempt) {
	t, w := e.tab, e.tab.w
	key := a.Cmd.Key
	if e.mode != ReadLocal {
		t.readIndex(a.Cmd.Client<<32|a.Cmd.Seq, func(ok bool) {
			if ok && a.Current() {
				v, found := t.host.SM.KV.Get(key)
				a.Reply(found, v)
			}
		})
		return
	}
	// The paper: the read goes to the tab the client's page believes
	// leads, which answers from its own state.
	lead := t.host.Status().Lead
	if lead == raft.None || !w.tabs[lead].alive {
		return
	}
	lt := w.tabs[lead]
	trip := w.link(t.ID, lead).Latency.Mean
	if lead == t.ID {
		trip = 0
	}
	w.sim.After(trip, func() {
		lt.run(func() {
			if !lt.alive || lt.host.Status().Role != raft.Leader {
				return
			}
			v, ok := lt.host.SM.KV.Get(key)
			w.sim.After(trip, func() { a.Reply(ok, v) })
		})
	})
}

// readIndex asks Raft for a linearizable read; done runs on the tab once
// the read may be served (ok) or was rejected.
func (t *Tab) readIndex(ctx uint64, done func(ok bool)) {
	t.host.Reads.Add(ctx, done)
	t.host.Raft.ReadIndex(ctx)
}
