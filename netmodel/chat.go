package netmodel

import (
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/sim"
)

// The chat client's pacing, its list and its records (host/chat.go).
const (
	ChatFlushInterval = host.ChatFlushInterval
	ChatFlushAfterOK  = host.ChatFlushAfterOK
	ChatTimeout       = host.ChatTimeout
	ChatKey           = host.ChatKey
)

// ChatRecord is one seqAppend as its client saw it.
type ChatRecord = host.ChatRecord

// ChatClient is the paper's chat client (host.Chat) living in a model
// tab: its flush timer is a page timer like Raft's, so a hidden tab's
// browser aligns and throttles it (timers.go), and its work runs on the
// tab's thread.
type ChatClient struct {
	*host.Chat
	tab   *Tab
	flush *sim.Timer
}

// NewChatClient starts a client with id in tab.
func NewChatClient(tab *Tab, id uint64) *ChatClient {
	c := &ChatClient{tab: tab}
	c.Chat = host.NewChat(id, c)
	return c
}

// Tab returns the tab the client lives in.
func (c *ChatClient) Tab() *Tab { return c.tab }

// Now implements host.ChatEnv.
func (c *ChatClient) Now() sim.Time { return c.tab.w.sim.Now() }

// ArmFlush implements host.ChatEnv: the HTML clamp for chained timers,
// then the hidden tab's alignment. The chain is the tab's own count, as
// a browser keeps it: one past the running task's if that task is a
// timer's, whatever timer armed it (the client's count, which knows only
// its own flushes, is for worlds that do not track the page's tasks).
func (c *ChatClient) ArmFlush(after sim.Time, _ int) {
	w := c.tab.w
	c.flush.Cancel()
	chain := c.tab.browser.level + 1
	o := &w.opt.Browser
	if o.Throttling && chain >= ChainedLevel && after < o.NestedClampMin {
		after = o.NestedClampMin
	}
	now := w.sim.Now()
	at := sim.Max(now, c.tab.wakeTime(now+after+w.timerLate(), chain))
	c.flush = w.sim.At(at, func() {
		c.flush = nil
		c.tab.enqueue(task{fn: c.Flush, level: chain})
	})
}

// Submit implements host.ChatEnv.
func (c *ChatClient) Submit(cmd app.Command, done func(app.Result)) bool {
	return c.tab.Submit(cmd, done)
}

// RecordSend implements host.ChatEnv.
func (c *ChatClient) RecordSend(seq uint64) {
	c.tab.w.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.tab.ID), Index: seq, Msg: "seqAppend", Detail: "send"})
}
