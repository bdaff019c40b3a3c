// Package writebench measures committed writes per second at the leader
// of a real-time cluster (pion's or the browser's): WRaft's benchmark,
// serialized (each write waits for the previous one) or pipelined.
package writebench

import (
	"fmt"
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
}

func (r Result) String() string {
	mode := "serialized"
	if r.Inflight > 1 {
		mode = fmt.Sprintf("pipelined (%d in flight)", r.Inflight)
	}
	return fmt.Sprintf("%d nodes, %s: %d writes in %.2f s = %.0f writes/s", r.Nodes, mode, r.Writes, r.Seconds, r.PerSecond)
}

// Run waits for a leader that has committed its first entries, then
// measures committed writes per second at it: with inflight 1 each write
// waits for the previous one to be applied at the leader, more keeps
// that many outstanding. It stops after d or maxWrites writes (0: no
// limit; in a synctest bubble, where a write may take no virtual time,
// set one).
func Run(c Cluster, inflight int, d time.Duration, maxWrites int) (Result, error) {
	t0 := time.Now()
	var lead raft.ID
	for time.Since(t0) < 30*time.Second {
		if ls := c.Leaders(); len(ls) == 1 && c.Commit(ls[0]) >= 2 {
			lead = ls[0]
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lead == 0 {
		return Result{}, fmt.Errorf("writebench: no leader within 30 s")
	}
	res := Result{Nodes: c.Nodes(), Inflight: inflight, LeaderWait: time.Since(t0)}
	done := make(chan struct{}, inflight)
	var seq uint64
	send := func() {
		seq++
		c.Propose(lead, app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 7, Seq: seq}, func(app.Result) { done <- struct{}{} })
	}
	start := time.Now()
	for range inflight {
		send()
	}
	for time.Since(start) < d && (maxWrites == 0 || res.Writes < maxWrites) {
		select {
		case <-done:
			res.Writes++
			send()
		case <-time.After(5 * time.Second):
			return res, fmt.Errorf("writebench: a write took more than 5 s")
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Writes) / res.Seconds
	}
	return res, nil
}
