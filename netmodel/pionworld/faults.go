package pionworld

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
)

// Network and signaling faults on the real stack. Packets are dropped in
// the router's chunk filter (world.go), so the PeerConnections see what a
// browser sees: silence. ICE gives up on a pair after ICEFailed (pion's
// default 25 s) of silence and pion does not restart ICE, so a partition
// longer than that ends the pair's connection for good.

// Partition cuts every link between nodes of different groups, both
// ways; nodes in no group keep their links. Cuts add to those in place.
func (c *Cluster) Partition(groups [][]raft.ID) { c.net.Partition(groups) }

// Cut drops every packet from one tab to another (one way).
func (c *Cluster) Cut(from, to raft.ID) { c.net.Cut(from, to) }

// Heal restores every cut link. Blackholed and killed tabs stay gone.
func (c *Cluster) Heal() { c.net.Heal() }

// Blackhole is an unclean end of tab id (a crash, a power cut, a lost
// network): from now on its packets are dropped both ways and its
// goroutine stops, but its PeerConnections are not closed, so the peers
// learn nothing until ICE gives up on them. Its signaling socket drops
// (the server would notice the dead socket; here at once).
func (c *Cluster) Blackhole(id raft.ID) { c.stop(id) }

// stop ends tab id's current incarnation, once: it is no longer alive,
// its packets are dropped both ways, its goroutine stops and its
// signaling socket drops. It reports false if the tab had already ended.
func (c *Cluster) stop(id raft.ID) (*Node, bool) {
	c.mu.Lock()
	n := c.nodes[id]
	if !c.alive[id] {
		c.mu.Unlock()
		return nil, false
	}
	c.alive[id] = false
	c.mu.Unlock()
	c.net.CutOff(id, true)
	close(n.quit)
	c.dropSignal(n)
	return n, true
}

// Kill closes tab id as a tab closing does: its goroutine stops and its
// PeerConnections close (a millisecond later, as the facts advise under
// synctest, and in the background, so that killing several tabs is one
// instant, as the paper's harness issued its kills).
func (c *Cluster) Kill(id raft.ID) {
	n, ok := c.stop(id)
	if !ok {
		return
	}
	c.dropEnds(id, &n.closes)
}

// dropEnds takes tab id's ends of its connections out of their pairs and
// closes them in the background, counted by wg.
func (c *Cluster) dropEnds(id raft.ID, wg *sync.WaitGroup) {
	for peer := 1; peer <= c.opt.Nodes; peer++ {
		if raft.ID(peer) == id {
			continue
		}
		p, side := c.pairOf(id, raft.ID(peer))
		p.mu.Lock()
		pc := p.pcs[side]
		p.pcs[side] = nil
		p.failedAt = time.Time{} // a reopened tab connects at once
		p.mu.Unlock()
		if pc != nil {
			c.closeLater(wg, pc)
		}
	}
}

// ErrClosing: the cluster is closing.
var ErrClosing = errors.New("pionworld: cluster closing")

// Restart reopens tab id, closed or blackholed, as a page reload does:
// a new incarnation starts from what the tab persisted (its Raft term,
// vote and log; the state machine is rebuilt as Raft hands the committed
// entries over again), connects to every open tab and registers with the
// signaling server again. It does nothing to an open tab.
func (c *Cluster) Restart(id raft.ID) error {
	c.mu.Lock()
	old := c.nodes[id]
	alive := c.alive[id]
	c.mu.Unlock()
	if alive {
		return nil
	}
	<-old.done
	// A blackholed tab's ends were never closed: they close now, still in
	// silence, before its packets pass again.
	c.dropEnds(id, &old.closes)
	old.closes.Wait()
	n := c.newNode(id)
	n.inc = old.inc + 1
	// Reloaded: the host restores the state machine from the stored
	// snapshot; the entries after it are applied again as Raft hands
	// them over.
	n.h.Storage = old.h.Storage
	if err := n.h.Start(c.raftConfig(id, nil, n.inc)); err != nil {
		return fmt.Errorf("pionworld: restarting: %w", err)
	}
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.closing {
		return ErrClosing
	}
	c.mu.Lock()
	c.nodes[id], c.alive[id], c.status[id], c.vis[id] = n, true, raft.Status{ID: id}, netmodel.Foreground
	c.mu.Unlock()
	c.net.CutOff(id, false)
	c.wg.Add(1)
	go n.loop()
	n.post(func() {
		for peer := 1; peer <= c.opt.Nodes; peer++ {
			if raft.ID(peer) != id && c.Alive(raft.ID(peer)) {
				c.ensureConnected(id, raft.ID(peer))
			}
		}
	})
	if c.opt.SignalingURL != "" {
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c.sigMu.Lock()
			defer c.sigMu.Unlock()
			_, _ = c.signal(ctx, n) // presence: the leader adds it back
		}()
	}
	return nil
}

// Discard unloads tab id as Chrome discards a background tab (its
// connections close, its memory is lost, its storage kept) and reloads
// it reloadAfter later (Restart).
func (c *Cluster) Discard(id raft.ID, reloadAfter time.Duration) {
	if !c.Alive(id) {
		return
	}
	c.Kill(id)
	if !c.bgStart() {
		return
	}
	go func() {
		defer c.bg.Done()
		t := time.NewTimer(reloadAfter)
		defer t.Stop()
		select {
		case <-t.C:
			_ = c.Restart(id)
		case <-c.closed:
		}
	}()
}

// dropSignal closes tab n's signaling socket at once, if it has one.
func (c *Cluster) dropSignal(n *Node) {
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	if n.sig != nil {
		n.sig.CloseNow()
		n.sig = nil
	}
}

// SetSignalingDown models a signaling outage when the tabs were
// introduced in process (no SignalingURL): while down, the leader cannot
// read presence and makes no membership change. With a real server, stop
// and start the server instead, then ReconnectSignaling.
func (c *Cluster) SetSignalingDown(down bool) { c.sigDown.Store(down) }

// ReconnectSignaling registers every open tab with the signaling server
// again (PeerJS reconnects with the old id), after an outage. Followers
// register first, the leaders last, so that a leader which reads the new
// list finds the others already there rather than removing them.
func (c *Cluster) ReconnectSignaling(ctx context.Context) error {
	if c.opt.SignalingURL == "" {
		return nil
	}
	var first, last []*Node
	c.mu.Lock()
	for _, n := range c.nodes[1:] {
		switch {
		case !c.alive[n.id]:
		case c.status[n.id].Role == raft.Leader:
			last = append(last, n)
		default:
			first = append(first, n)
		}
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var errs []error
	c.sigMu.Lock()
	defer c.sigMu.Unlock()
	for _, n := range append(first, last...) {
		if n.sig != nil {
			n.sig.CloseNow() // its socket died with the server
			n.sig = nil
		}
		cl, err := DialSignal(ctx, c.opt.SignalingURL, int(n.id))
		if err != nil {
			errs = append(errs, fmt.Errorf("pionworld: node %d reconnecting: %w", n.id, err))
			continue
		}
		n.sig = cl
	}
	return errors.Join(errs...)
}
