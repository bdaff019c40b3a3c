package pionworld

import (
	"github.com/raftsim/raftsim/raft"
)

// Reads for clients, served on a node's goroutine.

// ReadIndex asks node id for a linearizable read of key (raft.ReadIndex):
// done runs on the node's goroutine once the node has applied the read's
// index, with what its store holds, or with ok false if the read was
// rejected (no leader, or the leader lost its role). ctx identifies the
// read on that node.
func (c *Cluster) ReadIndex(id raft.ID, ctx uint64, key string, done func(ok, found bool, value string)) {
	n := c.node(id)
	n.post(func() {
		n.h.Reads.Add(ctx, func(ok bool) {
			if !ok {
				done(false, false, "")
				return
			}
			v, found := n.h.SM.KV.Get(key)
			done(true, found, v)
		})
		n.h.Raft.ReadIndex(ctx)
	})
}

// LocalRead is the paper's read: node id answers from its own store if it
// believes it leads, without asking anyone (a deposed leader that has not
// noticed answers stale). done runs on the node's goroutine, and not at
// all if the node does not lead.
func (c *Cluster) LocalRead(id raft.ID, key string, done func(found bool, value string)) {
	n := c.node(id)
	n.post(func() {
		if n.h.Raft.Status().Role == raft.Leader {
			v, found := n.h.SM.KV.Get(key)
			done(found, v)
		}
	})
}

// ChatLines returns how many chat lines node id has applied (as last
// published by its goroutine).
func (c *Cluster) ChatLines(id raft.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chatLines[id]
}
