package writebench

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handover is a cluster of three whose leader, tab 1, steps down after
// it has applied stepDownAfter writes: what it was sent after that is
// never applied (as a real leader drops what it had not committed), and
// tab 2 leads from then on, applying each write once (the KV store's
// sessions). leaderless keeps it without a leader once tab 1 steps down.
type handover struct {
	mu            sync.Mutex
	leader        raft.ID
	applied       map[uint64]bool
	stepDownAfter int
	leaderless    bool
}

func (h *handover) Nodes() int               { return 3 }
func (h *handover) Commit(id raft.ID) uint64 { return 2 }
func (h *handover) Leaders() []raft.ID {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.leader == 0 {
		return nil
	}
	return []raft.ID{h.leader}
}

func (h *handover) Propose(id raft.ID, cmd app.Command, done func(app.Result)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id != h.leader {
		return // refused: not the leader
	}
	if id == 1 && len(h.applied) == h.stepDownAfter {
		h.leader = 2
		if h.leaderless {
			h.leader = 0
		}
		return // lost with the old leader's term
	}
	h.applied[cmd.Seq] = true
	go done(app.Result{})
}

func TestABenchFollowsTheLeaderWhenItChanges(t *testing.T) {
	for _, inflight := range []int{1, 64} {
		synctest.Test(t, func(t *testing.T) {
			h := &handover{leader: 1, applied: map[uint64]bool{}, stepDownAfter: 100}
			res, err := Run(h, inflight, time.Hour, 1000)
			require.NoError(t, err, "inflight %d", inflight)
			assert.Equal(t, 1000, res.Writes, "every write counted once")
			assert.Equal(t, 1, res.LeaderChanges)
			assert.Contains(t, res.String(), "the leader changed 1 times")
			assert.GreaterOrEqual(t, len(h.applied), 1000, "the writes lost with the old leader were applied by the new one")
		})
	}
}

func TestABenchWithoutALeaderStopsAfterFiveSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &handover{leader: 1, applied: map[uint64]bool{}, stepDownAfter: 10, leaderless: true}
		start := time.Now()
		res, err := Run(h, 1, time.Hour, 1000)
		require.ErrorIs(t, err, ErrStalled)
		assert.Equal(t, 10, res.Writes)
		assert.GreaterOrEqual(t, time.Since(start), stallLimit)
	})
}
