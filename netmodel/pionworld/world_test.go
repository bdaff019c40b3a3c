package pionworld

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/netmodel/wire"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitLeader waits (in the bubble's virtual time) for exactly one live
// leader other than not.
func waitLeader(t *testing.T, c *Cluster, not raft.ID, within time.Duration) raft.ID {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if ls := c.Leaders(); len(ls) == 1 && ls[0] != not {
			return ls[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.Failf(t, "no leader", "within %v (leaders %v)", within, c.Leaders())
	return 0
}

// TestKillLeaderRecoversOnTheRealStack: 5 nodes over pion datachannels on
// vnet, in a synctest bubble: a leader is elected; its tab closes; the
// others elect a new one; the safety checker sees nothing wrong; and the
// bubble ends with no goroutine left behind (synctest fails otherwise).
func TestKillLeaderRecoversOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		safety := checker.NewSafety()
		c, err := New(Options{Nodes: 5, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 1,
			ICEDisconnected: time.Second, ICEFailed: 2 * time.Second,
			Observer: func(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error {
				return safety.Changed(node, prev, cur, rd, log)
			},
			Sending: func(node raft.ID, rd *raft.Ready, log LogReader) { safety.Sending(node, rd, log) }})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		first := waitLeader(t, c, 0, 10*time.Second)
		// Its no-op commits: appends and acks went over the datachannels.
		for deadline := time.Now().Add(5 * time.Second); c.Status(first).Commit < 2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		require.GreaterOrEqual(t, c.Status(first).Commit, uint64(2))
		for id := raft.ID(1); id <= 5; id++ {
			if id != first {
				assert.Equal(t, first, c.Status(id).Lead, "node %d follows over the real stack", id)
			}
		}
		c.Kill(first)
		second := waitLeader(t, c, first, 10*time.Second)
		assert.NotEqual(t, first, second)
		assert.Greater(t, c.Status(second).Term, c.Status(first).Term)
		assert.NoError(t, c.Violation())
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second) // let closes finish inside the bubble (facts)
	})
}

// TestKillHalfRecoversOnTheRealStack: 9 nodes; the leader and three
// others close; the five survivors elect a leader of a later term.
func TestKillHalfRecoversOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Options{Nodes: 9, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 2})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		first := waitLeader(t, c, 0, 10*time.Second)
		killed := map[raft.ID]bool{first: true}
		c.Kill(first)
		for id := raft.ID(1); len(killed) < 4; id++ {
			if !killed[id] {
				killed[id] = true
				c.Kill(id)
			}
		}
		second := waitLeader(t, c, first, 20*time.Second)
		assert.False(t, killed[second])
		assert.Greater(t, c.Status(second).Term, c.Status(first).Term)
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

func TestGarbageOnTheChannelNeverReachesRaft(t *testing.T) {
	// Decode refuses what Encode never wrote; OnMessage drops it.
	for _, b := range [][]byte{{}, {0}, {1, 200}, []byte("not a raft message")} {
		_, err := wire.Decode(b)
		assert.ErrorIs(t, err, wire.ErrWire)
	}
}

// TestPartiallyReliableChannelsLoseMessages guards the pion/datachannel
// pin (facts: v1.6.3 made negotiated channels silently reliable): with
// maxRetransmits 0 at 30% packet loss some messages never arrive, while a
// reliable channel delivers them all.
func TestPartiallyReliableChannelsLoseMessages(t *testing.T) {
	for _, tt := range []struct {
		maxRetransmits int
		lossy          bool
	}{{0, true}, {-1, false}} {
		synctest.Test(t, func(t *testing.T) {
			c, err := New(Options{Nodes: 2, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(time.Hour)}, MaxRetransmits: tt.maxRetransmits, Ordered: tt.maxRetransmits < 0, Seed: 3})
			require.NoError(t, err)
			var got atomic.Int64
			waitOpen(t, c, 2, 1).OnMessage(func(webrtc.DataChannelMessage) { got.Add(1) })
			waitOpen(t, c, 1, 2)
			c.SetLoss(0.3) // once open: a lossy handshake is another test
			const n = 200
			for range n {
				require.NoError(t, c.nodes[1].dcs[2].Load().Send([]byte("x")))
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(60 * time.Second)
			if tt.lossy {
				assert.Less(t, got.Load(), int64(n), "maxRetransmits 0 loses messages")
				assert.Positive(t, got.Load())
			} else {
				assert.Equal(t, int64(n), got.Load(), "a reliable channel delivers everything")
			}
			require.NoError(t, c.Close())
			time.Sleep(5 * time.Second)
		})
	}
}

// BenchmarkSerializedWrites: one outstanding write at a time on 3 nodes,
// in real time (WRaft's benchmark reached about 2,000/s in Chromium).
func BenchmarkSerializedWrites(b *testing.B) { benchWrites(b, 1) }

// BenchmarkPipelinedWrites: 64 writes outstanding.
func BenchmarkPipelinedWrites(b *testing.B) { benchWrites(b, 64) }

func benchWrites(b *testing.B, inflight int) {
	c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 1})
	require.NoError(b, err)
	defer c.Close()
	require.NoError(b, c.Start())
	res, err := c.Bench(inflight, 2*time.Second, 0)
	require.NoError(b, err)
	b.ReportMetric(res.PerSecond, "writes/s")
	b.Log(res)
}

func TestProposalsCommitOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 4})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		res, err := c.Bench(1, time.Minute, 200)
		require.NoError(t, err)
		assert.Equal(t, 200, res.Writes, "every write committed and applied at the leader")
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// TestStartupAt41NodesOnTheRealStack: 41 tabs (820 PeerConnections) come
// up and elect a leader whose no-op commits. Long: skipped with -short.
func TestStartupAt41NodesOnTheRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("41 nodes on the real stack: seconds of CPU")
	}
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Options{Nodes: 41, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(500 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 5})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		lead := waitLeader(t, c, 0, 30*time.Second)
		for deadline := time.Now().Add(10 * time.Second); c.Status(lead).Commit < 2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		assert.GreaterOrEqual(t, c.Status(lead).Commit, uint64(2))
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// up reports the paper's condition over the live nodes: one leader, the
// rest followers, every configuration exactly the live nodes.
func up(c *Cluster) bool {
	var live []raft.ID
	for id := raft.ID(1); int(id) <= c.Nodes(); id++ {
		if c.Alive(id) {
			live = append(live, id)
		}
	}
	leaders := 0
	for _, id := range live {
		st := c.Status(id)
		if st.Role == raft.Leader {
			leaders++
		} else if st.Role != raft.Follower {
			return false
		}
		if len(st.Voters) != len(live) {
			return false
		}
		for i := range live {
			if st.Voters[i] != live[i] {
				return false
			}
		}
	}
	return leaders == 1
}

func waitUp(t *testing.T, c *Cluster, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if up(c) {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond) // the paper's poll
	}
	require.FailNow(t, "not up", "within %v", within)
	return 0
}

// TestPaperStartupAndRecoveryOnTheRealStack: the paper's bootstrap (node 1
// alone, the others added one at a time as the leader sees them present)
// comes up, and after the leader's tab closes the survivors elect a
// leader and remove it: the paper's "up" and "recovered".
func TestPaperStartupAndRecoveryOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Options{Nodes: 5, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(500 * time.Millisecond), DeferCommitNotice: true},
			Ordered: true, MaxRetransmits: -1, Seed: 7, PaperBootstrap: true})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		startup := waitUp(t, c, 30*time.Second)
		lead := c.Leaders()[0]
		c.Kill(lead)
		recovered := waitUp(t, c, 30*time.Second)
		assert.NotContains(t, c.Leaders(), lead)
		t.Logf("up after %v, recovered after %v (virtual)", startup, recovered)
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// openPair builds a 2-node cluster (no Raft running) and waits for its
// channel to open; got counts what node 2 receives from node 1.
func openPair(t *testing.T, opt Options) (*Cluster, *atomic.Int64) {
	t.Helper()
	opt.Nodes, opt.Raft.ElectionTimeout, opt.Ordered, opt.MaxRetransmits = 2, sim.Time(time.Hour), true, -1
	c, err := New(opt)
	require.NoError(t, err)
	var got atomic.Int64
	waitOpen(t, c, 2, 1).OnMessage(func(webrtc.DataChannelMessage) { got.Add(1) })
	waitOpen(t, c, 1, 2)
	return c, &got
}

// waitOpen waits until tab a's channel to tab b is open and returns it.
func waitOpen(t *testing.T, c *Cluster, a, b raft.ID) *webrtc.DataChannel {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if dc := c.node(a).dcs[b].Load(); dc != nil && dc.ReadyState() == webrtc.DataChannelStateOpen {
			return dc
		}
	}
	require.FailNow(t, "channel not open", "%d to %d", a, b)
	return nil
}

// TestDelayAndDuplicationOnTheRealStack: every packet waits the link's
// latency (Options.Latency, constant here), and SetDuplicate re-injects copies (counted at a
// second chunk filter) that SCTP delivers once.
func TestDelayAndDuplicationOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, got := openPair(t, Options{Latency: netmodel.Latency{Dist: netmodel.DistConstant, Mean: 20 * sim.Millisecond}, Seed: 9})
		var chunks atomic.Int64
		c.router.AddChunkFilter(func(vnet.Chunk) bool { chunks.Add(1); return true })
		sent := time.Now()
		require.NoError(t, c.nodes[1].dcs[2].Load().Send([]byte("x")))
		for got.Load() == 0 {
			time.Sleep(100 * time.Microsecond)
		}
		assert.GreaterOrEqual(t, time.Since(sent), 20*time.Millisecond, "one way takes the link's latency")
		assert.Less(t, time.Since(sent), 30*time.Millisecond)

		burst := func() int64 {
			before := chunks.Load()
			for range 100 {
				require.NoError(t, c.nodes[1].dcs[2].Load().Send([]byte("x")))
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(2 * time.Second)
			return chunks.Load() - before
		}
		plain := burst()
		c.SetDuplicate(0.5)
		doubled := burst()
		assert.Greater(t, float64(doubled), 1.3*float64(plain), "copies went through the router (%d then %d chunks)", plain, doubled)
		assert.Equal(t, int64(201), got.Load(), "every message delivered once")
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// TestOneWayCutHoldsMessagesUntilHeal: a cut from node 1 to node 2 stops
// its messages (and a partition the same); after Heal the reliable
// channel delivers what it held.
func TestOneWayCutHoldsMessagesUntilHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, got := openPair(t, Options{Seed: 10})
		c.Cut(1, 2)
		for range 10 {
			require.NoError(t, c.nodes[1].dcs[2].Load().Send([]byte("x")))
		}
		time.Sleep(2 * time.Second)
		assert.Zero(t, got.Load(), "nothing crosses the cut")
		c.Heal()
		c.Partition([][]raft.ID{{1}, {2}})
		time.Sleep(time.Second)
		assert.Zero(t, got.Load(), "nor a partition")
		c.Heal()
		time.Sleep(10 * time.Second)
		assert.Equal(t, int64(10), got.Load(), "delivered after the heal")
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// waitFor polls cond every 10 ms until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	require.FailNow(t, "timed out", what)
}

// TestRestartRestoresFromStorageOnTheRealStack: a follower closes, the
// others commit on and compact their logs, and the follower reloads from
// what it persisted: it rejoins with its old term and log, gets the
// leader's snapshot, and ends up with every chat line applied.
func TestRestartRestoresFromStorageOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		safety := checker.NewSafety()
		c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 4,
			SnapshotEvery: 10,
			Observer: func(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log LogReader) error {
				return safety.Changed(node, prev, cur, rd, log)
			},
			Sending: func(node raft.ID, rd *raft.Ready, log LogReader) { safety.Sending(node, rd, log) }})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		lead := waitLeader(t, c, 0, 10*time.Second)
		follower := lead%3 + 1
		seq := uint64(0)
		propose := func(k int) {
			for range k {
				seq++
				c.Propose(lead, app.Command{Op: app.OpSeqAppend, Key: netmodel.ChatKey, Value: "x", Cnt: int64(seq - 1), Client: 1, Seq: seq}, func(app.Result) {})
				time.Sleep(5 * time.Millisecond)
			}
		}
		propose(15)
		waitFor(t, 5*time.Second, func() bool { return c.ChatLines(follower) == 15 }, "the follower applies 15 lines")
		termBefore := c.Status(follower).Term
		c.Kill(follower)
		propose(30)
		waitFor(t, 5*time.Second, func() bool { return c.ChatLines(lead) == 45 }, "the leader applies 45 lines")
		require.NoError(t, c.Restart(follower))
		assert.True(t, c.Alive(follower))
		// Before any message reaches it (its connections are still being
		// set up), the reloaded tab holds the term it persisted.
		n := c.node(follower)
		stored := make(chan uint64, 1)
		n.post(func() { stored <- n.h.Raft.Status().Term })
		assert.Equal(t, termBefore, <-stored, "its term came back from storage")
		waitFor(t, 10*time.Second, func() bool { return c.ChatLines(follower) == 45 }, "the reloaded follower catches up")
		assert.Equal(t, lead, c.Status(follower).Lead)
		assert.NoError(t, c.Violation())
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}

// TestFailedICEIsClosedAndReconnectedOnTheRealStack: a partition longer
// than ICE's failure timeout fails the cut-off tab's connections; the
// host closes them (pion would leave them open) and, once the partition
// heals, the tabs connect anew and the tab follows the leader again.
func TestFailedICEIsClosedAndReconnectedOnTheRealStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond), PreVote: true},
			Ordered: true, MaxRetransmits: -1, Seed: 5, ICEDisconnected: time.Second, ICEFailed: 2 * time.Second})
		require.NoError(t, err)
		require.NoError(t, c.Start())
		lead := waitLeader(t, c, 0, 10*time.Second)
		cut := lead%3 + 1
		p, side := c.pairOf(lead, cut)
		p.mu.Lock()
		before := p.pcs[side]
		p.mu.Unlock()
		others := []raft.ID{}
		for id := raft.ID(1); id <= 3; id++ {
			if id != cut {
				others = append(others, id)
			}
		}
		c.Partition([][]raft.ID{{cut}, others})
		waitFor(t, 10*time.Second, func() bool { return c.node(lead).dcs[cut].Load() == nil }, "ICE fails and the host drops the channel")
		c.Heal()
		waitFor(t, 20*time.Second, func() bool { return c.node(lead).dcs[cut].Load() != nil }, "the tabs connect again")
		p.mu.Lock()
		after := p.pcs[side]
		p.mu.Unlock()
		assert.NotSame(t, before, after, "a new PeerConnection, not the failed one")
		waitFor(t, 10*time.Second, func() bool {
			l := c.Leaders()
			return len(l) == 1 && c.Status(cut).Lead == l[0] && c.Status(cut).Commit == c.Status(l[0]).Commit
		}, "the tab follows the leader again")
		require.NoError(t, c.Close())
		time.Sleep(5 * time.Second)
	})
}
