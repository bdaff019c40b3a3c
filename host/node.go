package host

import (
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Config is how a host keeps its node's state machine and log.
type Config struct {
	// SessionTTL and Bugs configure every state machine the host builds.
	SessionTTL uint64
	Bugs       raft.BugSet
	// SnapshotEvery: snapshot and compact every this many applied
	// entries (0: never); SnapshotAtQuota: also once storage passes this
	// share of Quota (0: never). Quota: the storage's size (0: no limit).
	SnapshotEvery   uint64
	SnapshotAtQuota float64
	Quota           int
}

// Hooks are what a world does with a batch. Every hook is optional.
type Hooks struct {
	// Record receives the node's events for the trace (events.go): term,
	// role, append, commit, config, apply and snapshot, in the order they
	// happen within a batch. The world stamps the time.
	Record func(e sim.Event)
	// RecordBytes, if set, receives the events whose detail the node
	// formats (a configuration's ids) with the detail as bytes, valid
	// only during the call: the node formats into a buffer it reuses,
	// so a world that only hashes its trace (sim.Trace.RecordBytes)
	// allocates nothing for them. Without it Record gets them with
	// Detail set.
	RecordBytes func(e sim.Event, detail []byte)
	// Persisted: a write of written bytes took storage from before to
	// Storage.Used bytes (the model's write cost and storage trace).
	Persisted func(written, before int)
	// Failed: the node cannot go on (its storage is full, or a snapshot
	// it received is unreadable); the world closes the tab. The batch's
	// outputs are dropped.
	Failed func(err error)
	// Installed: the state machine was restored from the leader's
	// snapshot.
	Installed func(snap *raft.Snapshot)
	// Sending sees the batch after it was persisted and before any of its
	// messages leaves (a checker records the acknowledgements sent: on a
	// real stack the peer may act on one before Changed reports it).
	Sending func(rd *raft.Ready)
	// Send carries a message to its peer.
	Send func(m raft.Message)
	// Applied is called for each committed entry, before it is applied.
	Applied func(e *raft.Entry)
	// SetTimer arms or stops a timer.
	SetTimer func(tr raft.TimerRequest)
	// Changed reports the batch once it was executed: the status before
	// and after, and what was persisted and applied (tracing, the
	// checkers, connections, the membership loop).
	Changed func(prev, cur raft.Status, rd *raft.Ready)
	// Compacted: the log was compacted into a snapshot up to index.
	Compacted func(term, index uint64)
}

// Node is one Raft node as its host runs it. Storage survives Crash;
// everything else is memory.
type Node struct {
	ID      raft.ID
	Storage Storage
	// Raft is the node (nil while crashed); SM its state machine; Reads
	// the reads waiting for a ReadIndex answer or for the apply.
	Raft  *raft.Raft
	SM    *app.Store
	Reads raft.ReadWaiter

	cfg    Config
	hooks  Hooks
	status raft.Status
	// recent holds the last messages the node received, newest last,
	// for diagnoses (Recent).
	recent  []raft.Message
	pending map[clientKey]func(app.Result)
	rd      raft.Ready // the batch being processed
	detail  []byte     // the buffer config events are formatted in
}

type clientKey struct{ client, seq uint64 }

// NewNode returns a crashed node with empty storage; Start starts it.
func NewNode(id raft.ID, cfg Config, hooks Hooks) *Node {
	return &Node{ID: id, cfg: cfg, hooks: hooks, status: raft.Status{ID: id}}
}

// Start starts (or restarts) the node from its storage: the state
// machine from the stored snapshot (the entries after it are applied
// again as Raft hands them over), then Raft. The first batch waits for
// the world's first Process.
func (n *Node) Start(rc raft.Config) error {
	sm := app.NewStore(n.cfg.SessionTTL)
	if snap := n.Storage.Stored.Snapshot; snap != nil {
		var err error
		if sm, err = app.RestoreStore(snap.Data, n.cfg.SessionTTL); err != nil {
			return fmt.Errorf("node %d: %w", n.ID, err)
		}
	}
	sm.ApplyRetryTwice = n.cfg.Bugs.Has(raft.BugApplyRetryTwice)
	r, err := raft.New(rc, n.Storage.Stored)
	if err != nil {
		return fmt.Errorf("node %d: %w", n.ID, err)
	}
	n.Raft, n.SM = r, sm
	n.pending = map[clientKey]func(app.Result){}
	n.status = raft.Status{ID: n.ID}
	return nil
}

// RecentCount is how many received messages a node keeps for diagnoses.
const RecentCount = 5

// Step hands m to the node, remembering it among the last RecentCount
// messages received.
func (n *Node) Step(m raft.Message) {
	if n.recent == nil {
		n.recent = make([]raft.Message, 0, RecentCount) // once, not grown
	}
	if len(n.recent) == RecentCount {
		copy(n.recent, n.recent[1:])
		n.recent = n.recent[:RecentCount-1]
	}
	kept := m
	kept.Entries, kept.Snap = nil, nil // a diagnosis names the message, not its payload
	n.recent = append(n.recent, kept)
	n.Raft.Step(m)
}

// Recent returns the last messages the node received, oldest first.
func (n *Node) Recent() []raft.Message { return slices.Clone(n.recent) }

// Crash drops the node's memory; its storage stays.
func (n *Node) Crash() {
	n.Raft = nil
	n.pending = map[clientKey]func(app.Result){}
	n.Reads.Reset()
}

// Status is the node's status as of its last batch.
func (n *Node) Status() raft.Status { return n.status }

// Submit proposes cmd, encoded; done is called with the result when this
// node applies it. The error is the command's, out of the encoding's
// bounds (app.Command.Validate), or Raft's (no leader known, a transfer).
func (n *Node) Submit(cmd app.Command, done func(app.Result)) error {
	return n.SubmitBatch([]app.Command{cmd}, []func(app.Result){done})
}

// SubmitBatch proposes cmds in one Raft batch (raft.ProposeBatch: a
// leader sends them to each follower in one append); done[i] is called
// when this node applies cmds[i]. A command out of the encoding's bounds
// refuses the whole batch, as does Raft.
func (n *Node) SubmitBatch(cmds []app.Command, done []func(app.Result)) error {
	data := make([][]byte, len(cmds))
	for i, cmd := range cmds {
		if err := cmd.Validate(); err != nil {
			return err
		}
		data[i] = cmd.Encode()
	}
	if err := n.Raft.ProposeBatch(data); err != nil {
		return err
	}
	for i, cmd := range cmds {
		n.pending[clientKey{cmd.Client, cmd.Seq}] = done[i]
	}
	return nil
}

// Process executes the node's pending batch in the order Raft requires:
// persist, send, apply, arm timers; then it serves reads, reports the
// batch (Hooks.Changed) and compacts last, so whoever checks the batch
// sees it against the log it was written to. It reports false if the
// node failed (Hooks.Failed).
func (n *Node) Process() bool {
	// The batch lives in the node, not on the heap anew each time: a
	// Ready is valid only until the next call anyway (raft.Ready).
	n.rd = n.Raft.Ready()
	rd := &n.rd
	if rd.Empty() {
		return true
	}
	prev := n.status
	if !n.Persist(rd) {
		return false
	}
	if n.hooks.Sending != nil && len(rd.Messages) > 0 {
		n.hooks.Sending(rd)
	}
	for _, m := range rd.Messages {
		call(n.hooks.Send, m)
	}
	for i := range rd.Committed {
		n.apply(&rd.Committed[i])
	}
	for _, tr := range rd.Timers {
		call(n.hooks.SetTimer, tr)
	}
	cur := n.Raft.Status()
	n.status = cur
	if len(rd.ReadStates) > 0 || n.Reads.Busy() {
		n.Reads.Serve(rd.ReadStates, cur.Applied)
	}
	n.recordBatch(prev, cur, rd)
	if n.hooks.Changed != nil {
		n.hooks.Changed(prev, cur, rd)
	}
	if n.Raft != nil { // Changed may have closed the tab
		n.maybeCompact()
	}
	return true
}

func call[T any](hook func(T), v T) {
	if hook != nil {
		hook(v)
	}
}

// Persist writes a batch's durable parts and, for a snapshot from the
// leader, restores the state machine from it; Process calls it first. It
// reports false if the node failed (Hooks.Failed).
func (n *Node) Persist(rd *raft.Ready) bool {
	before := n.Storage.Used
	written, err := n.Storage.Write(rd, n.cfg.Quota)
	if err != nil {
		n.fail(err)
		return false
	}
	if written > 0 && n.hooks.Persisted != nil {
		n.hooks.Persisted(written, before)
	}
	if snap := rd.Snapshot; snap != nil && snap.Index > n.status.Applied {
		sm, err := app.RestoreStore(snap.Data, n.cfg.SessionTTL)
		if err != nil {
			n.fail(fmt.Errorf("snapshot unreadable: %w", err))
			return false
		}
		sm.ApplyRetryTwice = n.cfg.Bugs.Has(raft.BugApplyRetryTwice)
		n.SM = sm
		n.record(sim.Event{Kind: sim.KindSnapshot, Node: uint64(n.ID), Term: snap.Term, Index: snap.Index, Detail: "installed"})
		call(n.hooks.Installed, snap)
	}
	return true
}

func (n *Node) fail(err error) {
	if n.hooks.Failed != nil {
		n.hooks.Failed(err)
	}
}

func (n *Node) apply(e *raft.Entry) {
	n.record(sim.Event{Kind: sim.KindApply, Node: uint64(n.ID), Term: e.Term, Index: e.Index})
	call(n.hooks.Applied, e)
	if e.Type != raft.EntryNormal {
		return
	}
	cmd := decode(e.Data)
	res := n.SM.Apply(e.Index, cmd)
	key := clientKey{cmd.Client, cmd.Seq}
	if done, ok := n.pending[key]; ok {
		delete(n.pending, key)
		done(res)
	}
}

// decode returns the command of an entry's data. Data that is not a
// command (none, or not an encoding this host wrote) is applied as the
// empty command: like every entry it still ages the store's sessions, and
// it does the same on every node.
func decode(data []byte) app.Command {
	cmd, err := app.DecodeCommand(data)
	if err != nil {
		return app.Command{}
	}
	return cmd
}

// maybeCompact snapshots the state machine and compacts the log every
// SnapshotEvery applied entries, or when storage passes SnapshotAtQuota
// of the quota. Raft hands the snapshot over to persist with the next
// batch.
func (n *Node) maybeCompact() {
	c := &n.cfg
	applied := n.status.Applied
	first := n.Raft.FirstIndex()
	if applied < first {
		return
	}
	due := c.SnapshotEvery > 0 && applied-first+1 >= c.SnapshotEvery
	if c.Quota > 0 && c.SnapshotAtQuota > 0 && float64(n.Storage.Used) > c.SnapshotAtQuota*float64(c.Quota) {
		due = true
	}
	if !due || n.Raft.Compact(applied, n.SM.Encode()) != nil {
		return
	}
	n.record(sim.Event{Kind: sim.KindSnapshot, Node: uint64(n.ID), Term: n.status.Term, Index: applied, Detail: "compacted"})
	if n.hooks.Compacted != nil {
		n.hooks.Compacted(n.status.Term, applied)
	}
}

// Term, Entry, FirstIndex and SnapshotConfig read the node's Raft log
// (the node must be running); with StoredTerm and StoredLastIndex, which
// read its storage, a checker sees both sides of the persist-before-send
// order when a batch leaves (Hooks.Sending).
func (n *Node) Term(i uint64) (uint64, bool) { return n.Raft.Term(i) }

// Entry returns the entry at index i of the node's Raft log.
func (n *Node) Entry(i uint64) (raft.Entry, bool) { return n.Raft.Entry(i) }

// FirstIndex is the first index of the node's Raft log.
func (n *Node) FirstIndex() uint64 { return n.Raft.FirstIndex() }

// SnapshotConfig is the configuration of the node's Raft snapshot.
func (n *Node) SnapshotConfig() (voters, learners []raft.ID, ok bool) { return n.Raft.SnapshotConfig() }

// StoredTerm is the term of the entry storage holds at index i.
func (n *Node) StoredTerm(i uint64) (uint64, bool) { return n.Storage.Term(i) }

// StoredLastIndex is the last index storage holds.
func (n *Node) StoredLastIndex() uint64 { return n.Storage.LastIndex() }
