package browserworld

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/raftsim/raftsim/netmodel/writebench"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Start starts Raft in every open tab: every member in the configuration
// from the start, or the paper's bootstrap (Options.PaperBootstrap).
func (c *Cluster) Start() error {
	for i := 1; i <= c.opt.Nodes; i++ {
		if !c.Alive(raft.ID(i)) {
			return fmt.Errorf("browserworld: tab %d is not open", i)
		}
		c.send(raft.ID(i), ctl.Msg{Type: ctl.Start, Campaign: c.opt.PaperBootstrap && i == 1})
	}
	return nil
}

// Status returns tab id's status as of its last batch, and whether its
// page is open. An open page that has reported no batch yet (its Raft
// not started, or its first report on its way) is live with a blank
// status: a follower with no configuration, which no condition counts as
// a member. (Reported as closed instead, it let "up" hold before the
// other pages had reported: 3 of 10 runs of a 3-tab start-up were "up"
// at 7 ms.)
func (c *Cluster) Status(id raft.ID) (raft.Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tabs[id]
	if !t.hasStatus {
		return raft.Status{ID: id}, t.alive
	}
	return t.status, t.alive
}

// Alive reports whether tab id's page is open.
func (c *Cluster) Alive(id raft.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tabs[id].alive
}

// Leaders returns the open tabs that believe they lead.
func (c *Cluster) Leaders() []raft.ID {
	var out []raft.ID
	for i := 1; i <= c.opt.Nodes; i++ {
		if st, ok := c.Status(raft.ID(i)); ok && st.Role == raft.Leader {
			out = append(out, raft.ID(i))
		}
	}
	return out
}

// Propose submits cmd at tab id; done runs (on the goroutine reading that
// tab's control socket) when the tab applies it. If the tab refuses it
// (no leader known, not running), done is never called.
func (c *Cluster) Propose(id raft.ID, cmd app.Command, done func(app.Result)) {
	c.mu.Lock()
	c.nextReq++
	req := c.nextReq
	t := c.tabs[id]
	if t.alive && done != nil {
		t.pending[req] = done
	}
	c.mu.Unlock()
	c.send(id, ctl.Msg{Type: ctl.Propose, Req: req, Cmd: &cmd})
}

// Restored returns what tab id's current incarnation found in its
// localStorage when it loaded.
func (c *Cluster) Restored(id raft.ID) ctl.Restored {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.tabs[id].restored; r != nil {
		return *r
	}
	return ctl.Restored{}
}

// Mirror returns the harness's copy of tab id's storage, as the tab's
// batches wrote it (it survives Kill, as localStorage does).
func (c *Cluster) Mirror(id raft.ID) host.Storage {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	return c.tabs[id].mirror
}

// Kill closes tab id's page: its memory is gone, its browser context and
// localStorage stay. The datachannels to it close as its peers notice.
func (c *Cluster) Kill(id raft.ID) {
	c.mu.Lock()
	t := c.tabs[id]
	if !t.alive {
		c.mu.Unlock()
		return
	}
	t.alive, t.hasStatus = false, false
	t.inc++ // what the closed page still sends is ignored
	closePage, conn := t.closePage, t.conn
	t.closePage, t.conn, t.pending = nil, nil, map[uint64]func(app.Result){}
	c.mu.Unlock()
	if closePage != nil {
		closePage()
	}
	if conn != nil {
		conn.close()
	}
}

// Signaling takes the signaling server down (up false: every tab's
// socket closes and the peer list is lost; established datachannels stay)
// or brings it back on its address (the tabs dial again and register).
func (c *Cluster) Signaling(up bool) error {
	if !up {
		c.sig.Stop()
		return nil
	}
	if err := c.sig.Start(); err != nil {
		return fmt.Errorf("browserworld: %w", err)
	}
	return nil
}

// Discard discards tab id as Chrome's memory saver does: the page
// closes (memory gone, localStorage kept) and reopens reloadAfter later,
// restoring from localStorage, unless the cluster closed meanwhile.
func (c *Cluster) Discard(id raft.ID, reloadAfter time.Duration) {
	if !c.Alive(id) {
		return
	}
	c.Kill(id)
	c.mu.Lock()
	c.tabs[id].discarded = true
	c.mu.Unlock()
	go func() {
		t := time.NewTimer(reloadAfter)
		defer t.Stop()
		select {
		case <-t.C:
			if err := c.Restart(id); err != nil {
				c.logf("tab %d: reloading after a discard: %v", id, err)
			}
		case <-c.closed:
		}
	}()
}

// Restart reopens tab id in its browser context: the tab restores its
// storage from localStorage, offers a connection to every open tab, and
// starts Raft.
func (c *Cluster) Restart(id raft.ID) error {
	if c.Alive(id) {
		return fmt.Errorf("browserworld: tab %d is open", id)
	}
	if err := c.open(id); err != nil {
		return err
	}
	var peers []raft.ID
	for i := 1; i <= c.opt.Nodes; i++ {
		if raft.ID(i) != id && c.Alive(raft.ID(i)) {
			peers = append(peers, raft.ID(i))
		}
	}
	c.send(id, ctl.Msg{Type: ctl.Connect, Peers: peers})
	c.send(id, ctl.Msg{Type: ctl.Start})
	return nil
}

// WaitMesh waits until every open tab has an open datachannel to every
// other open tab.
func (c *Cluster) WaitMesh(within time.Duration) error { return c.waitMesh(within) }

// Memory is what a tab's page uses: its JavaScript heap and the Go
// program's linear memory.
type Memory struct{ JSHeap, Wasm int64 }

// Memory measures tab id's page (performance.memory, the wasm memory).
func (c *Cluster) Memory(id raft.ID) (Memory, error) {
	c.mu.Lock()
	page := c.tabs[id].page
	alive := c.tabs[id].alive
	c.mu.Unlock()
	if !alive {
		return Memory{}, fmt.Errorf("browserworld: tab %d is not open", id)
	}
	m, err := chromedp.Run(page, chromedp.Evaluate[Memory](`({JSHeap: performance.memory.usedJSHeapSize, Wasm: window.raftsimWasm.exports.mem.buffer.byteLength})`))
	if err != nil {
		return Memory{}, fmt.Errorf("browserworld: tab %d's memory: %w", id, err)
	}
	return m, nil
}

// Violation returns the first error the Observer reported.
func (c *Cluster) Violation() error {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	return c.violation
}

// Close stops everything: the tabs' sockets, Chromium (its whole process
// group: no process of it is left), the servers, the temporary files.
func (c *Cluster) Close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.mu.Lock()
		var closers []context.CancelFunc
		for _, t := range c.tabs[1:] {
			if t == nil {
				continue
			}
			t.alive = false
			t.inc++
			if t.conn != nil {
				t.conn.close()
			}
			if t.closePage != nil {
				closers = append(closers, t.closePage)
			}
		}
		c.mu.Unlock()
		if c.b != nil {
			c.b.close()
		}
		var wg sync.WaitGroup
		for _, f := range closers { // the browser is gone: these return soon
			wg.Go(f)
		}
		wg.Wait()
		if c.srv != nil {
			c.srv.Close()
		}
		if c.sig != nil {
			c.sig.Stop()
		}
		if c.relay != nil {
			c.relay.close()
		}
		_ = os.RemoveAll(c.dir)
	})
}

// mirrorLog reads a tab's log from the harness's mirror of its storage.
type mirrorLog struct{ s *host.Storage }

func (l mirrorLog) Term(i uint64) (uint64, bool) { return l.s.Term(i) }

func (l mirrorLog) Entry(i uint64) (raft.Entry, bool) {
	off := l.s.Offset()
	if i <= off || i > l.s.LastIndex() {
		return raft.Entry{}, false
	}
	return l.s.Stored.Entries[i-off-1], true
}

func (l mirrorLog) FirstIndex() uint64 { return l.s.Offset() + 1 }

// Freeze freezes tab id's page (frozen: true) or thaws it, as Chrome
// freezes a background tab (the DevTools protocol's
// Page.setWebLifecycleState): a frozen page runs no task, so no
// datachannel message is handled and no timer fires until it thaws, when
// what queued runs in order.
func (c *Cluster) Freeze(id raft.ID, frozen bool) error {
	page, err := c.openPageOf(id)
	if err != nil {
		return err
	}
	state := cdppage.SetWebLifecycleStateStateActive
	if frozen {
		state = cdppage.SetWebLifecycleStateStateFrozen
	}
	ctx, cancel := context.WithTimeout(page, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, cdppage.SetWebLifecycleState, cdppage.SetWebLifecycleStateParams{State: state}); err != nil {
		return fmt.Errorf("browserworld: tab %d: %s: %w", id, state, err)
	}
	return nil
}

// Hide minimizes tab id's window (hidden: document.visibilityState
// becomes "hidden", and Chromium's rules for background pages apply to
// it: timer alignment and throttling, unless an exemption such as open
// peer connections holds) or restores it (hidden false).
func (c *Cluster) Hide(id raft.ID, hidden bool) error {
	page, err := c.openPageOf(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(page, 5*time.Second)
	defer cancel()
	tid := chromedp.FromContext(page).Target.TargetID
	w, err := chromedp.CallBrowser(ctx, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{TargetID: tid})
	if err != nil {
		return fmt.Errorf("browserworld: tab %d's window: %w", id, err)
	}
	state := cdpbrowser.WindowStateNormal
	if hidden {
		state = cdpbrowser.WindowStateMinimized
	}
	_, err = chromedp.CallBrowser(ctx, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{WindowID: w.WindowID, Bounds: &cdpbrowser.Bounds{WindowState: state}})
	if err != nil {
		return fmt.Errorf("browserworld: tab %d: window %s: %w", id, state, err)
	}
	return nil
}

// VisibilityState returns tab id's document.visibilityState ("visible",
// "hidden").
func (c *Cluster) VisibilityState(id raft.ID) (string, error) {
	page, err := c.openPageOf(id)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(page, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string]("document.visibilityState"))
}

// HandlerCosts returns how long tab id took to handle each datachannel
// message since the last call (ms, in order: Raft's step, the batch it
// caused, its localStorage writes and sends), up to the last 100,000.
func (c *Cluster) HandlerCosts(id raft.ID) ([]float64, error) {
	return c.costs(id, "raftsimHandlerCosts")
}

// ReportCosts returns how long tab id took to report its batches to the
// harness since the last call (ms, one per task that reported: encoding
// the frame and sending it over the control socket), up to the last
// 100,000. The page's thread does this after the task's sends left.
func (c *Cluster) ReportCosts(id raft.ID) ([]float64, error) {
	return c.costs(id, "raftsimReportCosts")
}

// StartCosts returns how long tab id took to start Raft since the last
// call (ms: from making its node to the end of its first batch, the
// report to the harness aside), one per start. All pages start at once when the harness says
// start, so on a crowded machine this is the time the page had to share
// its core.
func (c *Cluster) StartCosts(id raft.ID) ([]float64, error) {
	return c.costs(id, "raftsimStartCosts")
}

// costs calls the page's window[fn]() (the tab's costLog.expose).
func (c *Cluster) costs(id raft.ID, fn string) ([]float64, error) {
	page, err := c.openPageOf(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(page, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[[]float64]("window."+fn+"()"))
}

// ChannelOpen reports whether tab from has reported its datachannel to
// tab to open (as of its last report).
func (c *Cluster) ChannelOpen(from, to raft.ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tabs[from].open[to]
}

// openPageOf returns tab id's page, if it is open.
func (c *Cluster) openPageOf(id raft.ID) (context.Context, error) {
	c.mu.Lock()
	t := c.tabs[id]
	page, alive := t.page, t.alive
	c.mu.Unlock()
	if !alive || page == nil {
		return nil, fmt.Errorf("browserworld: tab %d is not open", id)
	}
	return page, nil
}

// Bench measures committed writes per second at the leader of the
// running cluster (writebench.Run: WRaft's benchmark).
func (c *Cluster) Bench(inflight int, d time.Duration, maxWrites int) (writebench.Result, error) {
	return writebench.Run(benchTarget{c}, inflight, d, maxWrites)
}

// benchTarget is the cluster as the benchmark sees it.
type benchTarget struct{ *Cluster }

func (b benchTarget) Commit(id raft.ID) uint64 {
	st, _ := b.Status(id)
	return st.Commit
}

// LastBatch is the machine's clock (ns since the epoch) when the latest
// batch the harness has observed ended on its page: when the state the
// Observer last saw came to be, a few milliseconds before the harness
// heard of it.
func (c *Cluster) LastBatch() sim.Time {
	c.obsMu.Lock()
	defer c.obsMu.Unlock()
	return c.lastBatch
}
