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
// then the hidden tab's alignment.
func (c *ChatClient) ArmFlush(after sim.Time, chain int) {
	w := c.tab.w
	c.flush.Cancel()
	o := &w.opt.Browser
	if o.Throttling && chain >= ChainedLevel && after < o.NestedClampMin {
		after = o.NestedClampMin
	}
	now := w.sim.Now()
	at := sim.Max(now, c.tab.wakeTime(now+after, chain))
	c.flush = w.sim.At(at, func() {
		c.flush = nil
		c.tab.run(c.Flush)
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
