package browserworld

import (
	"sync"
	"time"

	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/raft"
)

// ChatUser is the paper's chat user living in a tab's page (host.Chat in
// the tab program, tab/chat.go), as the harness sees it: what the tab
// last reported. It belongs to the page it was started in: a page that
// closes takes it along, and its state stays as last reported.
type ChatUser struct {
	c   *Cluster
	tab raft.ID

	mu    sync.Mutex
	state ctl.ChatState
}

// StartChat starts chat user id in tab's page, its clock's time 0 at
// start (the run's).
func (c *Cluster) StartChat(tab raft.ID, id uint64, start time.Time) *ChatUser {
	u := &ChatUser{c: c, tab: tab}
	c.mu.Lock()
	c.tabs[tab].chat = u
	c.mu.Unlock()
	c.send(tab, ctl.Msg{Type: ctl.ChatStart, ChatID: id, Start: start.UnixNano()})
	return u
}

// Tab returns the tab the user lives in.
func (u *ChatUser) Tab() raft.ID { return u.tab }

// Push queues lines; they leave at the user's next flush.
func (u *ChatUser) Push(lines int) {
	u.mu.Lock()
	u.state.Pending += lines // until the tab's report says more
	u.mu.Unlock()
	u.c.send(u.tab, ctl.Msg{Type: ctl.ChatPush, Lines: lines})
}

// Pending returns how many lines are not yet appended.
func (u *ChatUser) Pending() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.state.Pending
}

// Acked returns how many lines were appended.
func (u *ChatUser) Acked() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.state.Acked
}

// History returns the user's seqAppends as last reported.
func (u *ChatUser) History() []host.ChatRecord {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]host.ChatRecord(nil), u.state.History...)
}

// reported takes the tab's report.
func (u *ChatUser) reported(s *ctl.ChatState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.state = *s
}

// ChatLines returns how many chat lines tab id had applied at its last
// batch.
func (c *Cluster) ChatLines(id raft.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tabs[id].chatLines
}
