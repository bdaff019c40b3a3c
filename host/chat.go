package host

import (
	"strconv"

	"github.com/raftsim/raftsim/app"
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
	// ChatKey is the chat list the paper's chat client appends to.
	ChatKey = "history"
)

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

// ChatEnv is what a world gives the chat client: its clock, its flush
// timer, and the tab it submits to.
type ChatEnv interface {
	Now() sim.Time
	// ArmFlush arms the flush timer after a delay; chain is the timer's
	// HTML nesting level (a flush armed by the previous flush is
	// chained), which the tab's browser may clamp and throttle by.
	ArmFlush(after sim.Time, chain int)
	// Submit proposes cmd at the tab; done runs when the tab applies it.
	// It reports whether the proposal left the tab.
	Submit(cmd app.Command, done func(app.Result)) bool
	// RecordSend records the client's send (seq) in the trace.
	RecordSend(seq uint64)
}

// Chat is the paper's chat client, written once for every world: it sends
// queued lines with seqAppend, one at a time, sends a line again after
// ChatTimeout without an answer, and retries a refused line with the
// counter the refusal returned. The world calls Push, Flush (when the
// flush timer fires) and runs results on the tab's thread.
type Chat struct {
	ID  uint64
	env ChatEnv

	seq         uint64
	cnt         int64
	queue       []string
	outstanding bool
	sentAt      sim.Time
	chain       int
	// Sent counts commands sent, Acked lines appended.
	Sent, Acked int
	// History records every seqAppend as the client saw it, for the
	// linearizability checker.
	History []ChatRecord
	open    int // index in History of the outstanding command; -1: none
}

// NewChat returns chat client id living in env's tab.
func NewChat(id uint64, env ChatEnv) *Chat { return &Chat{ID: id, env: env, open: -1} }

// Push queues n lines. They leave at the client's next flush: its
// 100 ms loop has run since the page loaded (time 0), so the first flush
// comes at the next multiple of ChatFlushInterval (paper methodology:
// pushing does not flush).
func (c *Chat) Push(n int) {
	for range n {
		c.queue = append(c.queue, "c"+strconv.FormatUint(c.ID, 10)+"-"+strconv.Itoa(len(c.queue)+c.Acked))
	}
	c.chain = 0
	now := c.env.Now()
	c.schedule((now+ChatFlushInterval-1)/ChatFlushInterval*ChatFlushInterval - now)
}

// Pending returns how many lines are not yet appended.
func (c *Chat) Pending() int { return len(c.queue) }

func (c *Chat) schedule(after sim.Time) {
	c.chain++
	c.env.ArmFlush(after, c.chain)
}

// Flush runs when the flush timer fires, on the tab's thread.
func (c *Chat) Flush() {
	if len(c.queue) == 0 {
		return
	}
	now := c.env.Now()
	if c.outstanding && now-c.sentAt < ChatTimeout {
		c.schedule(ChatFlushInterval)
		return
	}
	c.seq++
	seq := c.seq
	cmd := app.Command{Op: app.OpSeqAppend, Key: ChatKey, Value: c.queue[0], Cnt: c.cnt, Client: c.ID, Seq: seq}
	c.outstanding = c.env.Submit(cmd, func(res app.Result) { c.result(seq, res) })
	c.sentAt = now
	// A command sent again replaces the one before, whose answer, if it
	// comes, is ignored: that one stays unanswered in the history.
	c.History = append(c.History, ChatRecord{Client: c.ID, Value: cmd.Value, Cnt: cmd.Cnt, Call: now})
	c.open = len(c.History) - 1
	c.Sent++
	c.env.RecordSend(seq)
	c.schedule(ChatFlushInterval)
}

func (c *Chat) result(seq uint64, res app.Result) {
	if seq != c.seq || res.Stale || res.SessionExpired {
		return // a reply to a command already given up on, or refused
	}
	c.outstanding = false
	c.cnt = res.Cnt
	if c.open >= 0 {
		h := &c.History[c.open]
		h.Return, h.Returned, h.OK, h.OutCnt = c.env.Now(), true, res.OK, res.Cnt
		c.open = -1
	}
	if res.OK {
		c.queue = c.queue[1:]
		c.Acked++
		c.chain = 0 // armed from a message handler: not chained
		c.schedule(ChatFlushAfterOK)
	}
}
