// Package writebench measures committed writes per second at the leader
// of a real-time cluster (pion's or the browser's): WRaft's benchmark,
// serialized (each write waits for the previous one) or pipelined.
package writebench

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
)

// Cluster is what the benchmark needs of a running cluster.
type Cluster interface {
	Nodes() int
	Leaders() []raft.ID
	// Commit is tab id's commit index as last reported.
	Commit(id raft.ID) uint64
	// Propose submits cmd at tab id; done runs when the tab applies it.
	Propose(id raft.ID, cmd app.Command, done func(app.Result))
}

// Result is what Run measured.
type Result struct {
	Nodes      int
	Inflight   int // writes outstanding at a time (1: serialized)
	Writes     int
	Seconds    float64
	PerSecond  float64
	LeaderWait time.Duration
	// LeaderChanges counts the times the leader changed during the
	// measurement: the writes outstanding at the old leader were sent
	// again to the new one (the KV store's sessions apply each once).
	LeaderChanges int
}

func (r Result) String() string {
	mode := "serialized"
	if r.Inflight > 1 {
		mode = fmt.Sprintf("pipelined (%d in flight)", r.Inflight)
	}
	s := fmt.Sprintf("%d nodes, %s: %d writes in %.2f s = %.0f writes/s", r.Nodes, mode, r.Writes, r.Seconds, r.PerSecond)
	if r.LeaderChanges > 0 {
		s += fmt.Sprintf(" (the leader changed %d times: its outstanding writes were sent again)", r.LeaderChanges)
	}
	return s
}

const (
	// stallLimit is how long the benchmark waits for a write to be
	// applied before it gives up.
	stallLimit = 5 * time.Second
	// leaderCheck is how long the benchmark waits for a write before it
	// looks for a new leader: a leader that steps down (its heartbeats
	// late on a loaded machine) drops what it had not committed.
	leaderCheck = 250 * time.Millisecond
)

// ErrStalled is returned when no write was applied within stallLimit at
// the same leader.
var ErrStalled = errors.New("writebench: a write took more than 5 s")

// Run waits for a leader that has committed its first entries, then
// measures committed writes per second at it: with inflight 1 each write
// waits for the previous one to be applied at the leader, more keeps
// that many outstanding. If the leader changes meanwhile, the writes
// outstanding are sent again to the new one. It stops after d or
// maxWrites writes (0: no limit; in a synctest bubble, where a write may
// take no virtual time, set one).
func Run(c Cluster, inflight int, d time.Duration, maxWrites int) (Result, error) {
	t0 := time.Now()
	lead := waitLeader(c, 30*time.Second)
	if lead == 0 {
		return Result{}, fmt.Errorf("writebench: no leader within 30 s")
	}
	res := Result{Nodes: c.Nodes(), Inflight: inflight, LeaderWait: time.Since(t0)}
	b := &bench{c: c, lead: lead, pending: map[uint64]bool{}, wake: make(chan struct{}, 1)}
	start := time.Now()
	for range inflight {
		b.send()
	}
	progress := start
	for time.Since(start) < d && (maxWrites == 0 || res.Writes < maxWrites) {
		if n := b.takeAnswered(); n > 0 {
			for ; n > 0 && (maxWrites == 0 || res.Writes < maxWrites); n-- {
				res.Writes++
				b.send()
			}
			progress = time.Now()
			continue
		}
		select {
		case <-b.wake:
		case <-time.After(leaderCheck):
		}
		stalled := time.Since(progress)
		if stalled >= leaderCheck && b.followLeader() {
			res.LeaderChanges++
			progress = time.Now()
		} else if stalled > stallLimit {
			return res, fmt.Errorf("%w (at leader %d, %d writes outstanding)", ErrStalled, b.lead, b.outstanding())
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Writes) / res.Seconds
	}
	return res, nil
}

// waitLeader returns the one leader once it has committed its first
// entries, or 0 if none has within limit.
func waitLeader(c Cluster, limit time.Duration) raft.ID {
	for t0 := time.Now(); time.Since(t0) < limit; time.Sleep(5 * time.Millisecond) {
		if ls := c.Leaders(); len(ls) == 1 && c.Commit(ls[0]) >= 2 {
			return ls[0]
		}
	}
	return 0
}

// bench is one measurement's writes: those outstanding, and those
// answered that the loop has not counted yet (the tabs answer from their
// own goroutines).
type bench struct {
	c    Cluster
	lead raft.ID
	seq  uint64
	wake chan struct{}

	mu       sync.Mutex
	pending  map[uint64]bool // the Seqs of the writes outstanding
	answered int
}

// send proposes the next write at the leader.
func (b *bench) send() {
	b.seq++
	b.mu.Lock()
	b.pending[b.seq] = true
	b.mu.Unlock()
	b.propose(b.seq)
}

// propose proposes write seq (every write puts the same key, as
// WRaft's benchmark does) at the leader.
func (b *bench) propose(seq uint64) {
	cmd := app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 7, Seq: seq}
	b.c.Propose(b.lead, cmd, func(app.Result) { b.answer(seq) })
}

// answer counts write seq answered, once (a write sent again may be
// answered by both leaders).
func (b *bench) answer(seq uint64) {
	b.mu.Lock()
	if b.pending[seq] {
		delete(b.pending, seq)
		b.answered++
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *bench) takeAnswered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.answered
	b.answered = 0
	return n
}

func (b *bench) outstanding() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// followLeader moves to a new leader, if there is one, and sends it the
// writes outstanding, in order.
func (b *bench) followLeader() bool {
	ls := b.c.Leaders()
	if len(ls) != 1 || ls[0] == b.lead {
		return false
	}
	b.lead = ls[0]
	b.mu.Lock()
	seqs := slices.Sorted(maps.Keys(b.pending))
	b.mu.Unlock()
	for _, seq := range seqs {
		b.propose(seq)
	}
	return true
}
