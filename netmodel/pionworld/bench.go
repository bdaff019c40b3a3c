package pionworld

import (
	"fmt"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
)

// BenchResult is what Bench measured.
type BenchResult struct {
	Nodes      int
	Inflight   int // writes outstanding at a time (1: serialized)
	Writes     int
	Seconds    float64
	PerSecond  float64
	LeaderWait time.Duration
}

func (r BenchResult) String() string {
	mode := "serialized"
	if r.Inflight > 1 {
		mode = fmt.Sprintf("pipelined (%d in flight)", r.Inflight)
	}
	return fmt.Sprintf("%d nodes, %s: %d writes in %.2f s = %.0f writes/s", r.Nodes, mode, r.Writes, r.Seconds, r.PerSecond)
}

// Bench measures committed writes per second at the leader of a running
// cluster: with inflight 1 each write waits for the previous one to be
// applied at the leader (WRaft's benchmark), more keeps that many
// outstanding. It stops after d or maxWrites writes (0: no limit; in a
// synctest bubble, where a write may take no virtual time, set one).
func (c *Cluster) Bench(inflight int, d time.Duration, maxWrites int) (BenchResult, error) {
	t0 := time.Now()
	var lead raft.ID
	for time.Since(t0) < 30*time.Second {
		if ls := c.Leaders(); len(ls) == 1 && c.Status(ls[0]).Commit >= 2 {
			lead = ls[0]
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if lead == 0 {
		return BenchResult{}, fmt.Errorf("pionworld: no leader within 30 s")
	}
	res := BenchResult{Nodes: c.opt.Nodes, Inflight: inflight, LeaderWait: time.Since(t0)}
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
			return res, fmt.Errorf("pionworld: a write took more than 5 s")
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.PerSecond = float64(res.Writes) / res.Seconds
	}
	return res, nil
}
