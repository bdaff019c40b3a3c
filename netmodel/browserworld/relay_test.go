package browserworld

import (
	"testing"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/impair"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Through the relay at 10% loss, on an ordered reliable channel and on an
// unordered one with at most 5 retransmissions, every put is applied:
// Chromium's own SCTP retransmits what the relay drops.
func TestWritesSurviveLossThroughTheRelay(t *testing.T) {
	needLong(t, "two clusters at 10% loss")
	modes := map[string]netmodel.ChannelMode{
		"ordered reliable":                     netmodel.OrderedReliable,
		"unordered, at most 5 retransmissions": {Unordered: true, Reliability: netmodel.LimitRetransmits, MaxRetransmits: 5},
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			a := &applied{data: map[raft.ID][][]byte{}}
			nw := impair.New(3, netmodel.Profile{Loss: 0.1}, nil, 3)
			c := newClusterWith(t, 3, a, func(o *Options) { o.Network, o.Channel = nw, mode })
			require.NoError(t, c.Start())
			lead := waitLeader(t, c, raft.None, 20*time.Second)
			for seq := uint64(1); seq <= 30; seq++ {
				r := propose(t, c, lead, app.Command{Op: app.OpAppend, Key: "k", Value: "x", Client: 1, Seq: seq})
				require.True(t, r.OK)
			}
			relayed, dropped := c.RelayCounts()
			t.Logf("relay: %d packets passed, %d dropped", relayed, dropped)
			assert.Greater(t, dropped, relayed/20, "about a tenth dropped")
			assert.Less(t, dropped, relayed/5)
			require.NoError(t, c.Violation())
		})
	}
}

// A leader cut off by a partition in the relay is replaced by the
// majority; after the heal it follows the new leader.
func TestPartitionedLeaderIsReplacedThroughTheRelay(t *testing.T) {
	needLong(t, "a partition and its heal")
	nw := impair.New(3, netmodel.Profile{}, nil, 4)
	c := newClusterWith(t, 3, nil, func(o *Options) { o.Network = nw })
	require.NoError(t, c.Start())
	old := waitLeader(t, c, raft.None, 20*time.Second)
	var rest []raft.ID
	for i := raft.ID(1); i <= 3; i++ {
		if i != old {
			rest = append(rest, i)
		}
	}
	t0 := time.Now()
	nw.Partition([][]raft.ID{{old}, rest})
	require.Eventually(t, func() bool {
		st, ok := c.Status(rest[0])
		return ok && st.Lead != old && st.Lead != raft.None
	}, 20*time.Second, 5*time.Millisecond, "the majority elects another leader")
	st, _ := c.Status(rest[0])
	t.Logf("tab %d leads %v after the partition", st.Lead, time.Since(t0).Round(time.Millisecond))
	nw.Heal()
	require.Eventually(t, func() bool {
		s, ok := c.Status(old)
		return ok && s.Role == raft.Follower && s.Lead == st.Lead
	}, 20*time.Second, 5*time.Millisecond, "the old leader follows after the heal")
	require.NoError(t, c.Violation())
}
