package netmodel

import (
	"strconv"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Chat client pacing (paper methodology): flush the send queue every
// 100 ms, or 1 ms after a success; one command outstanding at a time.
const (
	ChatFlushInterval = 100 * sim.Millisecond
	ChatFlushAfterOK  = 1 * sim.Millisecond
	// ChatTimeout: a command with no reply by then is sent again (U: the
	// paper does not say; only reached under faults).
	ChatTimeout = 1 * sim.Second
)

// ChatClient is the paper's chat client: it sends queued lines with
// seqAppend, retrying a refused line with the counter the refusal returned.
type ChatClient struct {
	tab         *Tab
	id          uint64
	seq         uint64
	cnt         int64
	queue       []string
	outstanding bool
	sentAt      sim.Time
	flush       *sim.Timer
	// chain is the flush timer's HTML nesting level: a flush armed by the
	// previous flush is chained, one armed from a reply or a push is not.
	chain int
	// Sent counts commands sent, Acked lines appended.
	Sent, Acked int
	// History records every seqAppend as the client saw it, for the
	// linearizability checker.
	History []ChatRecord
	open    int // index in History of the outstanding command; -1: none
}

// ChatRecord is one seqAppend as its client saw it.
type ChatRecord struct {
	Client       uint64
	Value        string
	Cnt          int64
	Call, Return sim.Time
	Returned     bool
	OK           bool
	OutCnt       int64
}

// NewChatClient starts a client with id in tab.
func NewChatClient(tab *Tab, id uint64) *ChatClient {
	return &ChatClient{tab: tab, id: id, open: -1}
}

// Push queues n lines. They leave at the client's next flush: its
// 100 ms loop has run since the page loaded (time 0), so the first flush
// comes at the next multiple of ChatFlushInterval (paper methodology:
// pushing does not flush).
func (c *ChatClient) Push(n int) {
	for range n {
		c.queue = append(c.queue, "c"+strconv.FormatUint(c.id, 10)+"-"+strconv.Itoa(len(c.queue)+c.Acked))
	}
	c.chain = 0
	now := c.tab.w.sim.Now()
	c.schedule(alignUp(now, ChatFlushInterval) - now)
}

// Tab returns the tab the client lives in.
func (c *ChatClient) Tab() *Tab { return c.tab }

// Pending returns how many lines are not yet appended.
func (c *ChatClient) Pending() int { return len(c.queue) }

// schedule arms the flush timer. It is a page timer like Raft's, so a
// hidden tab's browser aligns and throttles it (timers.go).
func (c *ChatClient) schedule(after sim.Time) {
	w := c.tab.w
	c.flush.Cancel()
	c.chain++
	o := &w.opt.Browser
	if o.Throttling && c.chain >= ChainedLevel && after < o.NestedClampMin {
		after = o.NestedClampMin
	}
	now := w.sim.Now()
	at := sim.Max(now, c.tab.wakeTime(now+after, c.chain))
	c.flush = w.sim.At(at, func() {
		c.flush = nil
		c.tab.run(c.doFlush)
	})
}

func (c *ChatClient) doFlush() {
	w := c.tab.w
	if len(c.queue) == 0 {
		return
	}
	if c.outstanding && w.sim.Now()-c.sentAt < ChatTimeout {
		c.schedule(ChatFlushInterval)
		return
	}
	c.seq++
	cmd := raft.Command{Op: raft.OpSeqAppend, Key: ChatKey, Value: c.queue[0], Cnt: c.cnt, Client: c.id, Seq: c.seq}
	seq := c.seq
	c.outstanding = c.tab.Submit(cmd, func(res raft.Result) { c.onResult(seq, res) })
	c.sentAt = w.sim.Now()
	// A command sent again replaces the one before, whose answer, if it
	// comes, is ignored: that one stays unanswered in the history.
	c.History = append(c.History, ChatRecord{Client: c.id, Value: cmd.Value, Cnt: cmd.Cnt, Call: w.sim.Now()})
	c.open = len(c.History) - 1
	c.Sent++
	w.record(sim.Event{Kind: sim.KindClient, Node: uint64(c.tab.ID), Index: seq, Msg: "seqAppend", Detail: "send"})
	c.schedule(ChatFlushInterval)
}

func (c *ChatClient) onResult(seq uint64, res raft.Result) {
	if seq != c.seq || res.Stale || res.SessionExpired {
		return // a reply to a command already given up on, or refused
	}
	c.outstanding = false
	c.cnt = res.Cnt
	if c.open >= 0 {
		h := &c.History[c.open]
		h.Return, h.Returned, h.OK, h.OutCnt = c.tab.w.sim.Now(), true, res.OK, res.Cnt
		c.open = -1
	}
	if res.OK {
		c.queue = c.queue[1:]
		c.Acked++
		c.chain = 0 // armed from a message handler: not chained
		c.schedule(ChatFlushAfterOK)
	}
}
