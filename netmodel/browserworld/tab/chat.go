//go:build js && wasm

package main

import (
	"syscall/js"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/sim"
)

// The paper's chat user, living in the page as Raft.js's did: host.Chat
// (the same client as every world's) on the page's clock, its flush loop
// a setTimeout, so the browser's timer rules apply to it. The harness
// starts it and pushes lines; the tab reports its state (pending and
// acknowledged lines, the seqAppend history for the linearizability
// checker) at the end of every task that changed it.

// chatUser is the tab's chat user and its flush timer.
type chatUser struct {
	chat    *host.Chat
	start   sim.Time // the run's time 0, ns since the epoch
	handle  js.Value // the flush setTimeout's id (undefined: none)
	fn      js.Func
	changed bool // to report at the task's end
}

// startChat makes chat user id live in the tab, its clock's time 0 at
// start (ns since the epoch).
func (t *tab) startChat(id uint64, start int64) {
	t.user = &chatUser{start: sim.Time(start)}
	t.user.chat = host.NewChat(id, tabChat{t})
	t.user.changed = true
}

// pushChat queues lines for the user.
func (t *tab) pushChat(lines int) {
	if t.user == nil {
		t.logf("chat: push before start")
		return
	}
	t.user.chat.Push(lines)
	t.user.changed = true
}

// chatReport is the user's state, if it changed since the last report.
func (t *tab) chatReport() (ctl.Msg, bool) {
	u := t.user
	if u == nil || !u.changed {
		return ctl.Msg{}, false
	}
	u.changed = false
	h := append([]host.ChatRecord(nil), u.chat.History...)
	return ctl.Msg{Type: ctl.ChatReport, Chat: &ctl.ChatState{Pending: u.chat.Pending(), Acked: u.chat.Acked, History: h}}, true
}

// chatLines is how many chat lines the tab has applied.
func (t *tab) chatLines() int {
	if t.h == nil || t.h.SM == nil {
		return 0
	}
	return len(t.h.SM.Chat.Lines(netmodel.ChatKey))
}

// tabChat is the tab as the chat client sees it (host.ChatEnv).
type tabChat struct{ t *tab }

// Now is the page's clock since the run's time 0.
func (c tabChat) Now() sim.Time { return nowNanos() - c.t.user.start }

// ArmFlush arms the flush timer: a setTimeout, which the browser clamps
// and throttles by its own rules (chain is the model's account of them).
func (c tabChat) ArmFlush(after sim.Time, _ int) {
	u := c.t.user
	if u.fn.Truthy() {
		global.Call("clearTimeout", u.handle)
		u.fn.Release()
	}
	u.fn = js.FuncOf(func(js.Value, []js.Value) any {
		u.fn.Release()
		u.fn = js.Func{}
		if c.t.dead || c.t.h == nil || c.t.h.Raft == nil {
			return nil
		}
		u.chat.Flush()
		u.changed = true
		c.t.process()
		c.t.requestFlush()
		return nil
	})
	u.handle = global.Call("setTimeout", u.fn, float64(after)/1e6)
}

// Submit proposes cmd at the tab; done runs when the tab applies it.
func (c tabChat) Submit(cmd app.Command, done func(app.Result)) bool {
	t := c.t
	if t.dead || t.h == nil || t.h.Raft == nil {
		return false
	}
	return t.h.Submit(cmd, func(r app.Result) {
		done(r)
		t.user.changed = true
		t.requestFlush()
	}) == nil
}

// RecordSend traces the user's send.
func (c tabChat) RecordSend(seq uint64) {
	c.t.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.t.id), Index: seq, Msg: "seqAppend", Detail: "send"})
}
