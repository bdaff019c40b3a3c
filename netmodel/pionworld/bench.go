package pionworld

import (
	"time"

	"github.com/raftsim/raftsim/netmodel/writebench"
	"github.com/raftsim/raftsim/raft"
)

// BenchResult is what Bench measured.
type BenchResult = writebench.Result

// Bench measures committed writes per second at the leader of the
// running cluster (writebench.Run).
func (c *Cluster) Bench(inflight int, d time.Duration, maxWrites int) (BenchResult, error) {
	return writebench.Run(benchTarget{c}, inflight, d, maxWrites)
}

// benchTarget is the cluster as the benchmark sees it.
type benchTarget struct{ *Cluster }

func (b benchTarget) Commit(id raft.ID) uint64 { return b.Status(id).Commit }
