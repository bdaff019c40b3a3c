package pionworld

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/raftsim/raftsim/raft"
)

// Network and signaling faults on the real stack. Packets are dropped in
// the router's chunk filter (world.go), so the PeerConnections see what a
// browser sees: silence. ICE gives up on a pair after ICEFailed (pion's
// default 25 s) of silence and pion does not restart ICE, so a partition
// longer than that ends the pair's connection for good.

// Partition cuts every link between nodes of different groups, both
// ways; nodes in no group keep their links. Cuts add to those in place.
func (c *Cluster) Partition(groups [][]raft.ID) {
	group := make([]int, c.opt.Nodes+1)
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	c.editCuts(func(cut func(from, to int)) {
		for a := 1; a <= c.opt.Nodes; a++ {
			for b := 1; b <= c.opt.Nodes; b++ {
				if a != b && group[a] != 0 && group[b] != 0 && group[a] != group[b] {
					cut(a, b)
				}
			}
		}
	})
}

// Cut drops every packet from one tab to another (one way).
func (c *Cluster) Cut(from, to raft.ID) {
	c.editCuts(func(cut func(from, to int)) { cut(int(from), int(to)) })
}

// Heal restores every cut link. Blackholed and killed tabs stay gone.
func (c *Cluster) Heal() { c.cuts.Store(nil) }

// editCuts replaces the cut matrix with a copy that edit adds cuts to.
func (c *Cluster) editCuts(edit func(cut func(from, to int))) {
	n := c.opt.Nodes + 1
	m := make([]bool, n*n)
	if old := c.cuts.Load(); old != nil {
		copy(m, *old)
	}
	edit(func(from, to int) { m[from*n+to] = true })
	c.cuts.Store(&m)
}

// Blackhole is an unclean end of tab id (a crash, a power cut, a lost
// network): from now on its packets are dropped both ways and its
// goroutine stops, but its PeerConnections are not closed, so the peers
// learn nothing until ICE gives up on them. Its signaling socket drops
// (the server would notice the dead socket; here at once).
func (c *Cluster) Blackhole(id raft.ID) { c.stop(id) }

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
