package browserworld

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/raft"
)

// open opens tab id's current incarnation: its page, then its control
// socket, Init, and waits until it has registered with the signaling
// server.
func (c *Cluster) open(id raft.ID) error {
	c.mu.Lock()
	t := c.tabs[id]
	t.connected = make(chan *websocket.Conn, 1)
	t.registered = make(chan *ctl.Restored, 1)
	t.open, t.pending, t.hasStatus = map[raft.ID]bool{}, map[uint64]func(app.Result){}, false
	connected, registered, inc, discarded := t.connected, t.registered, t.inc, t.discarded
	t.discarded = false
	old := t.closePage // a page whose control socket was lost
	t.closePage = nil
	c.mu.Unlock()
	if old != nil {
		old()
	}
	logf := func(format string, args ...any) { c.logf("tab %d: "+format, append([]any{id}, args...)...) }
	if c.opt.Logf == nil {
		logf = nil
	}
	url := c.base + "/?id=" + strconv.Itoa(int(id))
	if discarded {
		url += "&discarded=1" // Chrome's document.wasDiscarded, for the reloaded page
	}
	page, closePage, err := c.b.openPage(t.bc, url, logf)
	if err != nil {
		return err
	}
	c.mu.Lock()
	t.page, t.closePage = page, closePage
	c.mu.Unlock()
	timeout := time.NewTimer(c.opt.Timeout)
	defer timeout.Stop()
	select {
	case conn := <-connected:
		c.mu.Lock()
		t.conn, t.alive = newOutbox(conn, func(format string, args ...any) { c.logf("tab %d: "+format, append([]any{id}, args...)...) }), true
		c.mu.Unlock()
	case <-timeout.C:
		return fmt.Errorf("browserworld: tab %d: no control socket within %v", id, c.opt.Timeout)
	}
	c.send(id, c.initMsg(id, inc))
	select {
	case r := <-registered:
		if r != nil && r.Storage != nil {
			// The mirror starts again from what the tab restored.
			c.obsMu.Lock()
			t.mirror, r.Storage = *r.Storage, nil
			c.obsMu.Unlock()
		}
		c.mu.Lock()
		t.restored = r
		c.mu.Unlock()
		return nil
	case <-timeout.C:
		return fmt.Errorf("browserworld: tab %d: not registered with the signaling server within %v", id, c.opt.Timeout)
	}
}

// initMsg is the Init of incarnation inc of tab id: the configuration it
// starts with if its storage holds none (every tab a voter, or the
// paper's bootstrap), the Raft settings, the channel and the relay.
func (c *Cluster) initMsg(id raft.ID, inc int) ctl.Msg {
	var voters []raft.ID
	switch {
	case !c.opt.PaperBootstrap:
		for i := 1; i <= c.opt.Nodes; i++ {
			voters = append(voters, raft.ID(i))
		}
	case id == 1 && inc == 0:
		voters = []raft.ID{1}
	}
	m := ctl.Msg{Type: ctl.Init, ID: id, Voters: voters, Raft: &c.opt.Raft, Seed: c.opt.Seed, Inc: inc,
		SignalURL: c.sig.URL(), Trace: c.opt.Record != nil, Channel: &c.opt.Channel,
		Presence: c.opt.Presence, Nodes: c.opt.Nodes}
	if c.relay != nil {
		m.Relay = &ctl.Relay{URL: c.relay.URL(), Username: username(id), Credential: relayPassword}
	}
	return m
}

// accept takes a tab's control socket (/ctl?id=N) and reads it until it
// closes.
func (c *Cluster) accept(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil || id < 1 || id > c.opt.Nodes {
		http.Error(w, "want ?id=N", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	t := c.tabs[id]
	var ch chan *websocket.Conn
	inc := 0
	if t != nil {
		ch, inc = t.connected, t.inc
	}
	c.mu.Unlock()
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(64 << 20)
	select {
	case ch <- conn:
	default: // no incarnation waits for a socket
		conn.CloseNow()
		return
	}
	for {
		_, data, err := conn.Read(context.Background())
		if err != nil {
			c.lost(t, inc, err)
			return
		}
		msgs, err := ctl.DecodeFrame(data)
		if err != nil {
			c.logf("tab %d: control: %v", id, err)
			continue
		}
		for i := range msgs {
			c.handle(t, inc, &msgs[i])
		}
	}
}

// handle takes one message from incarnation inc of tab t.
func (c *Cluster) handle(t *tabState, inc int, m *ctl.Msg) {
	c.mu.Lock()
	current := t.inc == inc
	var done func(app.Result)
	switch m.Type {
	case ctl.Registered:
		if current {
			select {
			case t.registered <- m.Restored:
			default: // registered again (the signaling server restarted)
			}
		}
	case ctl.Channel:
		if current {
			t.open[m.Peer] = m.Open
		}
	case ctl.Result:
		done = t.pending[m.Req]
		delete(t.pending, m.Req)
	case ctl.ChatReport:
		if current && t.chat != nil && m.Chat != nil {
			t.chat.reported(m.Chat)
		}
	}
	c.mu.Unlock()
	switch m.Type {
	case ctl.Batch:
		if current && m.Obs != nil {
			c.batch(t, inc, m.Obs)
		}
	case ctl.Result:
		if m.Res != nil && done != nil {
			done(*m.Res)
		} else if m.Reject != "" {
			c.logf("tab %d: proposal %d refused: %s", t.id, m.Req, m.Reject)
		}
	case ctl.Log:
		c.logf("%s", m.Text)
	case ctl.Failed:
		c.logf("tab %d failed: %s", t.id, m.Text)
	}
}

// batch mirrors a tab's batch into its storage mirror and shows it to
// the Observer (serialized).
func (c *Cluster) batch(t *tabState, inc int, o *ctl.Observation) {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	rd := o.Ready()
	if _, err := t.mirror.Write(&rd, 0); err != nil {
		c.logf("tab %d: mirroring storage: %v", t.id, err)
	}
	c.mu.Lock()
	if t.inc == inc {
		t.status, t.hasStatus, t.chatLines = o.Cur, true, o.ChatLines
	}
	c.mu.Unlock()
	if c.opt.Record != nil {
		for _, e := range o.Events {
			c.opt.Record(e)
		}
	}
	c.lastBatch = max(c.lastBatch, o.At)
	if c.opt.Observer != nil && c.violation == nil {
		if err := c.opt.Observer(t.id, o.Prev, o.Cur, &rd, mirrorLog{&t.mirror}); err != nil {
			c.violation = err
		}
	}
}

// send sends a control message to tab id's current incarnation (lost if
// its socket is gone: the tab is closed).
func (c *Cluster) send(id raft.ID, m ctl.Msg) {
	c.mu.Lock()
	out := c.tabs[id].conn
	c.mu.Unlock()
	if out != nil {
		out.send(m)
	}
}

// waitMesh waits until every open tab has an open datachannel to every
// other open tab.
func (c *Cluster) waitMesh(within time.Duration) error {
	deadline := time.Now().Add(within)
	retry := time.Now().Add(meshRetry)
	for {
		missing := c.missingChannels()
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("browserworld: datachannels not open within %v: %d to %d (and %d more)", within, missing[0][0], missing[0][1], len(missing)-1)
		}
		if time.Now().After(retry) {
			// A set-up that failed (a lost offer, ICE giving up under the
			// load of hundreds of set-ups at once) starts again: the
			// lower id offers anew, which replaces both ends.
			for _, p := range missing {
				a, b := min(p[0], p[1]), max(p[0], p[1])
				c.logf("tab %d: connection to %d not open after %v: offering again", a, b, meshRetry)
				c.send(a, ctl.Msg{Type: ctl.Connect, Peers: []raft.ID{b}})
			}
			retry = time.Now().Add(meshRetry)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// meshRetry is how long a connection may take to open before it is set
// up again: long, as set-ups that are merely slow (hundreds at once on a
// small machine) would only start over.
const meshRetry = 45 * time.Second

// meshPerPair is the time the full mesh gets per pair of tabs, beyond
// Options.Timeout.
const meshPerPair = 250 * time.Millisecond

// missingChannels lists the pairs of open tabs (each pair once, lower id
// first) whose datachannel is not open at both ends.
func (c *Cluster) missingChannels() [][2]raft.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][2]raft.ID
	for _, a := range c.tabs[1:] {
		for _, b := range c.tabs[1:] {
			if a.id < b.id && a.alive && b.alive && (!a.open[b.id] || !b.open[a.id]) {
				out = append(out, [2]raft.ID{a.id, b.id})
			}
		}
	}
	return out
}

// lost: incarnation inc of tab t closed its control socket without the
// harness closing its page (the page crashed, or its program ended), and
// reading it gave err: the tab counts as closed.
func (c *Cluster) lost(t *tabState, inc int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.inc != inc || !t.alive {
		return
	}
	t.alive, t.hasStatus = false, false
	t.inc++
	if t.conn != nil {
		t.conn.close() // stops its writer
	}
	t.conn, t.pending = nil, map[uint64]func(app.Result){}
	c.logf("tab %d: control socket closed (%v); the tab counts as closed (Restart reopens it)", t.id, err)
}
