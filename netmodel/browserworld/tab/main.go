//go:build js && wasm

// Command tab is one browser tab of the browserworld, compiled to
// WebAssembly: it runs one Raft node (host.Node, the same host as every
// world's) with the browser's own machinery. Messages travel over a
// negotiated RTCDataChannel per peer (rtc.go, rtc.js), set up through the
// project's signaling server; Raft's timers are setTimeout calls, so
// Chrome's timer rules apply; storage is mirrored to localStorage
// (store.go). A WebSocket to the harness (/ctl?id=N on the page's own
// server) carries its commands and the tab's observations (package ctl).
package main

import (
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"strconv"
	"syscall/js"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// tab is the page's state; only the page's thread touches it.
type tab struct {
	id        raft.ID
	init      ctl.Msg // the harness's Init
	signalURL string
	ctl, sig  *socket
	h         *host.Node
	restored  *ctl.Restored
	saved     *saved // what localStorage holds (store.go)
	// events are the trace events since the last batch (record).
	events []sim.Event
	peers  map[raft.ID]*peer
	timers [3]timer
	// dead: storage could not be written, or the harness left; the tab
	// sends nothing more.
	dead       bool
	rbuf, wbuf []byte
	// outbox holds the control messages of the current task; a microtask
	// sends them as one frame when the task ends (report).
	outbox      []ctl.Msg
	flushFn     js.Func
	flushQueued bool
	// presenceArmed: the presence loop's next read is scheduled
	// (presence.go).
	presenceArmed bool
	user          *chatUser // the chat user living in the page (chat.go); nil: none
	discarded     bool      // loaded again after a discard (?discarded=1)
	// handlerCosts: each datachannel message's handling (Step, the
	// batch, its storage and sends), window.raftsimHandlerCosts()
	// (Cluster.HandlerCosts); reportCosts: each report of the task's
	// batches to the harness (encoding and sending the frame),
	// window.raftsimReportCosts() (Cluster.ReportCosts); startCosts:
	// the start of Raft (from storage to its first batch),
	// window.raftsimStartCosts() (Cluster.StartCosts).
	handlerCosts, reportCosts, startCosts costLog
}

// timer is one of Raft's timers as a setTimeout.
type timer struct {
	handle js.Value // setTimeout's id (undefined: not armed)
	fn     js.Func
	armed  bool
}

func main() {
	q, err := url.ParseQuery(global.Get("location").Get("search").String()[1:])
	id, err2 := strconv.Atoi(q.Get("id"))
	if err != nil || err2 != nil || id < 1 {
		global.Get("console").Call("error", "raftsim tab: want ?id=N")
		return
	}
	t := &tab{id: raft.ID(id), peers: map[raft.ID]*peer{}, discarded: q.Get("discarded") == "1"}
	t.flushFn = js.FuncOf(func(js.Value, []js.Value) any { t.flush(); return nil })
	t.handlerCosts.expose("raftsimHandlerCosts")
	t.reportCosts.expose("raftsimReportCosts")
	t.startCosts.expose("raftsimStartCosts")
	global.Set("raftsimChannels", global.Get("Object").New())
	global.Set("raftsimPeers", global.Get("Object").New())
	addr := global.Get("location").Get("host").String()
	t.ctl = dial("ws://"+addr+"/ctl?id="+q.Get("id"), func() {}, t.onCtl, t.stop)
	select {} // the callbacks run the tab
}

// logf sends a line to the harness (and the console).
func (t *tab) logf(format string, args ...any) {
	s := fmt.Sprintf("tab %d: ", t.id) + fmt.Sprintf(format, args...)
	global.Get("console").Call("log", s)
	t.report(ctl.Msg{Type: ctl.Log, Text: s})
}

// report queues m for the harness. Everything reported during one task
// of the page (a datachannel message, a timer, a control frame) leaves
// as one frame when the task ends: a batch's observation and the results
// it applied travel together.
func (t *tab) report(m ctl.Msg) {
	t.requestFlush()
	t.outbox = append(t.outbox, m)
}

// requestFlush makes sure the outbox is sent when the current task ends.
func (t *tab) requestFlush() {
	if !t.flushQueued {
		t.flushQueued = true
		global.Call("queueMicrotask", t.flushFn)
	}
}

// flush sends the queued control messages, and the chat user's state if
// it changed, as one frame.
func (t *tab) flush() {
	t.flushQueued = false
	if m, ok := t.chatReport(); ok {
		t.outbox = append(t.outbox, m)
	}
	msgs := t.outbox
	t.outbox = nil
	if len(msgs) > 0 {
		defer t.reportCosts.since(performance.Call("now").Float())
		t.ctl.send(msgs)
	}
}

// onCtl handles a frame of commands from the harness. Its proposals are
// submitted together once the frame is read (host.Node.SubmitBatch), so
// that one batch (one append to each follower, one write to
// localStorage) carries them all.
func (t *tab) onCtl(b []byte) {
	msgs, err := ctl.DecodeFrame(b)
	if err != nil {
		t.logf("control: %v", err)
		return
	}
	var props []*ctl.Msg
	for i := range msgs {
		switch m := &msgs[i]; m.Type {
		case ctl.Init:
			t.start(*m)
		case ctl.Connect:
			for _, p := range m.Peers {
				t.offer(p)
			}
		case ctl.Start:
			t.startRaft(m.Campaign)
		case ctl.Propose:
			if m.Cmd != nil {
				props = append(props, m)
			}
		case ctl.ChatStart:
			t.startChat(m.ChatID, m.Start)
			t.requestFlush()
		case ctl.ChatPush:
			t.pushChat(m.Lines)
			t.requestFlush()
		}
	}
	if len(props) > 0 {
		t.propose(props)
	}
}

// start restores storage from localStorage and registers with the
// signaling server (the harness hears Registered).
func (t *tab) start(m ctl.Msg) {
	t.init, t.signalURL = m, m.SignalURL
	cfg := host.Config{Bugs: m.Raft.Bugs}
	t.h = host.NewNode(t.id, cfg, host.Hooks{
		Persisted: func(int, int) { t.persisted() },
		Failed:    func(err error) { t.fail(err) },
		Send:      t.send,
		SetTimer:  t.setTimer,
		Record:    t.record,
		Changed: func(prev, cur raft.Status, rd *raft.Ready) {
			t.leading(cur)
			o := ctl.Observe(prev, cur, rd, nowNanos())
			o.ChatLines = t.chatLines()
			o.Events, t.events = t.events, nil
			t.report(ctl.Msg{Type: ctl.Batch, Obs: o})
		},
	})
	s, r, sv, err := loadStorage()
	if err != nil {
		t.fail(err)
		return
	}
	r.Discarded = t.discarded
	t.h.Storage, t.restored, t.saved = s, r, sv
	t.dialSignal()
}

// record keeps a trace event, stamped with the machine's clock, for the
// next batch's observation, if the harness writes a trace.
func (t *tab) record(e sim.Event) {
	if !t.init.Trace {
		return
	}
	e.Time = nowNanos()
	t.events = append(t.events, e)
}

// startRaft starts Raft from storage; its first batch arms the timers.
// campaign: the paper's first server campaigns at once.
func (t *tab) startRaft(campaign bool) {
	defer t.startCosts.since(performance.Call("now").Float())
	m := &t.init
	rnd := mrand.New(mrand.NewPCG(m.Seed, uint64(t.id)|uint64(m.Inc)<<32)) // each incarnation its own stream
	if err := t.h.Start(m.Raft.Config(t.id, m.Voters, rnd, 0)); err != nil {
		t.fail(err)
		return
	}
	if campaign {
		t.h.Raft.Campaign()
	}
	t.process()
}

// persisted mirrors storage to localStorage after the host wrote it, and
// before anything of the batch is sent.
func (t *tab) persisted() {
	if err := saveStorage(&t.h.Storage, t.saved); err != nil {
		t.fail(err) // dead: the batch's messages will not leave
	}
}

// fail stops the node: it cannot go on.
func (t *tab) fail(err error) {
	if t.dead {
		return
	}
	t.report(ctl.Msg{Type: ctl.Failed, Text: err.Error()})
	t.stop()
}

// stop silences the tab: no timer, no connection, no message.
func (t *tab) stop() {
	t.dead = true
	for k := range t.timers {
		t.clearTimer(raft.TimerKind(k))
	}
	for id := range t.peers {
		t.dropPeer(id)
	}
	if t.sig != nil {
		t.sig.close()
	}
}

// process executes the node's pending batch (host.Node.Process).
func (t *tab) process() {
	if t.dead || t.h == nil || t.h.Raft == nil {
		return
	}
	t.h.Process()
}

// propose submits a frame's proposals as one batch and runs Raft; the
// harness hears each result when this tab applies it, or that it was
// refused.
func (t *tab) propose(props []*ctl.Msg) {
	reject := func(why string) {
		for _, m := range props {
			t.report(ctl.Msg{Type: ctl.Result, Req: m.Req, Reject: why})
		}
	}
	if t.dead || t.h == nil || t.h.Raft == nil {
		reject("not running")
		return
	}
	cmds := make([]app.Command, len(props))
	done := make([]func(app.Result), len(props))
	for i, m := range props {
		req := m.Req
		cmds[i] = *m.Cmd
		done[i] = func(r app.Result) { t.report(ctl.Msg{Type: ctl.Result, Req: req, Res: &r}) }
	}
	if err := t.h.SubmitBatch(cmds, done); err != nil {
		reject(err.Error())
		return
	}
	t.process()
}

// setTimer arms or stops a Raft timer: a setTimeout, so the browser's
// clamping and throttling rules apply to it.
func (t *tab) setTimer(tr raft.TimerRequest) {
	k := tr.Kind
	t.clearTimer(k)
	if tr.Stop || t.dead {
		return
	}
	tm := &t.timers[k]
	tm.fn = js.FuncOf(func(js.Value, []js.Value) any {
		tm.fn.Release()
		tm.armed = false
		if t.dead || t.h.Raft == nil {
			return nil
		}
		t.record(sim.Event{Kind: sim.KindTimerFire, Node: uint64(t.id), Msg: k.String()})
		t.h.Raft.Fire(k)
		t.process()
		return nil
	})
	tm.handle = global.Call("setTimeout", tm.fn, float64(tr.After.Microseconds())/1000)
	tm.armed = true
	// Traced as the other worlds trace a timer (compare's heartbeat-period).
	t.record(sim.Event{Kind: sim.KindTimerSet, Node: uint64(t.id), Msg: k.String(), Index: uint64(sim.FromDuration(tr.After))})
}

// clearTimer stops timer k if it is armed.
func (t *tab) clearTimer(k raft.TimerKind) {
	tm := &t.timers[k]
	if !tm.armed {
		return
	}
	global.Call("clearTimeout", tm.handle)
	tm.fn.Release()
	tm.armed = false
}
