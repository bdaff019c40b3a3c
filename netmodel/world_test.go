package netmodel

import (
	"math"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testOptions(nodes int) Options {
	return Options{
		Nodes:                  nodes,
		Profile:                Profile{Name: "test", Latency: Latency{Dist: DistConstant, Mean: 10 * sim.Millisecond}},
		Mode:                   OrderedReliable,
		Bootstrap:              BootstrapStatic,
		HandlerCost:            0,
		PresenceCloseDelay:     300 * sim.Millisecond,
		PresenceJoinDelay:      50 * sim.Millisecond,
		MembershipInterval:     100 * sim.Millisecond,
		MembershipFastInterval: 50 * sim.Millisecond,
		// A long election timeout keeps Raft quiet while a test drives
		// the channels by hand.
		Raft: RaftOptions{ElectionTimeout: 1000 * sim.Second},
	}
}

// newTestWorld returns a started world whose trace is captured.
func newTestWorld(t *testing.T, opt Options, seed uint64) (*World, *strings.Builder) {
	t.Helper()
	var buf strings.Builder
	s := sim.New(seed, sim.NewTrace(&buf))
	w, err := New(s, opt)
	require.NoError(t, err)
	require.NoError(t, w.Start())
	return w, &buf
}

// probe is a message Raft ignores (a vote response from an old term), so
// tests can watch the channel alone.
func probe(from, to raft.ID, i uint64) raft.Message {
	return raft.Message{Type: raft.MsgVoteResp, From: from, To: to, Term: 0, Index: i}
}

type arrival struct {
	index uint64
	at    sim.Time
}

// deliveries reads the probe deliveries from the trace.
func deliveries(t *testing.T, w *World, buf *strings.Builder) (got []arrival, dropped int) {
	t.Helper()
	require.NoError(t, w.Sim().Trace().Flush())
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	for _, e := range events {
		if e.Msg != "vote_resp" {
			continue
		}
		switch e.Kind {
		case sim.KindDeliver:
			got = append(got, arrival{e.Index, e.Time})
		case sim.KindDrop:
			dropped++
		}
	}
	return got, dropped
}

func TestReliableChannelRetransmitsAfterRTOAndKeepsOrder(t *testing.T) {
	opt := testOptions(2)
	opt.Profile.Loss = 0.3
	w, buf := newTestWorld(t, opt, 1)
	const n = 200
	for i := uint64(1); i <= n; i++ {
		w.sim.At(sim.Time(i)*sim.Millisecond, func() { w.send(probe(1, 2, i)) })
	}
	w.sim.RunUntil(10*sim.Minute, nil)
	got, dropped := deliveries(t, w, buf)
	require.Zero(t, dropped, "a reliable channel loses nothing")
	require.Len(t, got, n)
	late := 0
	for k, a := range got {
		assert.Equal(t, uint64(k+1), a.index, "ordered: message %d delivered in place %d", a.index, k+1)
		sent := sim.Time(a.index) * sim.Millisecond
		if a.at-sent >= 10*sim.Millisecond+RTOMin {
			late++
		}
	}
	// About 30% are lost at least once and wait an RTO; the ones behind
	// them wait too (head-of-line blocking), so more than 30% are late.
	assert.Greater(t, late, n*3/10, "late deliveries: %d of %d", late, n)
}

func TestUnreliableChannelLosesAndReorders(t *testing.T) {
	opt := testOptions(2)
	opt.Mode = UnorderedUnreliable
	opt.Profile.Loss = 0.3
	opt.Profile.Latency = Latency{Dist: DistUniform, Mean: 20 * sim.Millisecond, Jitter: 15 * sim.Millisecond}
	w, buf := newTestWorld(t, opt, 2)
	const n = 200
	for i := uint64(1); i <= n; i++ {
		w.sim.At(sim.Time(i)*sim.Millisecond, func() { w.send(probe(1, 2, i)) })
	}
	w.sim.RunUntil(sim.Minute, nil)
	got, dropped := deliveries(t, w, buf)
	assert.Equal(t, n, len(got)+dropped)
	assert.InDelta(t, 0.3, float64(dropped)/n, 0.1, "about 30%% lost for good")
	reordered := 0
	for k := 1; k < len(got); k++ {
		if got[k].index < got[k-1].index {
			reordered++
		}
	}
	assert.Positive(t, reordered, "jitter lets messages overtake each other")
}

func TestRTOBacksOffToTheCap(t *testing.T) {
	assert.Equal(t, 400*sim.Millisecond, sctpTimers["chrome"].rto(0))
	assert.Equal(t, 800*sim.Millisecond, sctpTimers["chrome"].rto(1))
	assert.Equal(t, 1600*sim.Millisecond, sctpTimers["chrome"].rto(2))
	assert.Equal(t, 3*sim.Second, sctpTimers["chrome"].rto(3))
	assert.Equal(t, 3*sim.Second, sctpTimers["chrome"].rto(10))
}

func TestPartitionHoldsReliableMessagesUntilHeal(t *testing.T) {
	w, buf := newTestWorld(t, testOptions(3), 3)
	w.Partition([][]raft.ID{{1}, {2, 3}})
	w.send(probe(1, 2, 1))
	w.send(probe(3, 2, 2)) // same side: unaffected
	w.sim.RunUntil(5*sim.Second, nil)
	got, _ := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index)
	w.Heal()
	w.sim.RunUntil(10*sim.Second, nil)
	got, _ = deliveries(t, w, buf)
	require.Len(t, got, 2, "the held message arrives after the heal")
	assert.LessOrEqual(t, got[1].at, 5*sim.Second+RTOBackoffCap+10*sim.Millisecond)
}

func TestOneWayCutBlocksOneDirectionOnly(t *testing.T) {
	opt := testOptions(2)
	opt.Mode = UnorderedUnreliable
	w, buf := newTestWorld(t, opt, 4)
	w.Cut(1, 2)
	w.send(probe(1, 2, 1))
	w.send(probe(2, 1, 2))
	w.sim.RunUntil(sim.Second, nil)
	got, dropped := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index)
	assert.Equal(t, 1, dropped)
}

func TestKillDropsInFlightAndKeepsStorage(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	w, buf := newTestWorld(t, opt, 5)
	w.sim.RunUntil(2*sim.Second, nil)
	require.Len(t, w.Leaders(), 1)
	before, _ := w.Status(2)
	w.send(probe(1, 2, 7))
	w.Kill(2)
	assert.False(t, w.Alive(2))
	w.sim.RunUntil(3*sim.Second, nil)
	got, _ := deliveries(t, w, buf)
	for _, a := range got {
		assert.NotEqual(t, uint64(7), a.index, "a message in flight to a closed tab is not delivered")
	}
	assert.Positive(t, len(w.Tab(2).host.Storage.Stored.Entries), "localStorage survives the kill")
	require.NoError(t, w.Restart(2))
	after, alive := w.Status(2)
	assert.True(t, alive)
	assert.GreaterOrEqual(t, after.Term, before.Term, "term restored from storage")
	assert.GreaterOrEqual(t, after.LastIndex, before.LastIndex, "log restored from storage")
}

func TestSignalingReportsClosedTabAfterDelay(t *testing.T) {
	w, _ := newTestWorld(t, testOptions(3), 6)
	w.sim.RunUntil(sim.Second, nil)
	w.Kill(3)
	w.sim.RunUntil(sim.Second+299*sim.Millisecond, nil)
	assert.True(t, w.Present(3), "still listed before the close delay")
	w.sim.RunUntil(sim.Second+301*sim.Millisecond, nil)
	assert.False(t, w.Present(3), "gone after the close delay")
	require.NoError(t, w.Restart(3))
	w.sim.RunUntil(sim.Second+352*sim.Millisecond, nil)
	assert.True(t, w.Present(3), "listed again after the join delay")
}

func TestTabHandlesOneThingAtATime(t *testing.T) {
	opt := testOptions(2)
	opt.HandlerCost = 10 * sim.Millisecond
	w, _ := newTestWorld(t, opt, 7)
	tab := w.Tab(2)
	var ran []sim.Time
	w.sim.At(sim.Second, func() {
		for range 3 {
			tab.Run(func() { ran = append(ran, w.sim.Now()) })
		}
	})
	w.sim.RunUntil(2*sim.Second, nil)
	require.Len(t, ran, 3)
	assert.Equal(t, []sim.Time{sim.Second + 10*sim.Millisecond, sim.Second + 20*sim.Millisecond, sim.Second + 30*sim.Millisecond}, ran,
		"three tasks queued at once finish one handler cost apart")
}

func TestPresenceMembershipAddsJoinersOneAtATime(t *testing.T) {
	opt := testOptions(5)
	opt.Bootstrap = BootstrapPaper
	opt.PresenceMembership = true
	opt.Raft.ElectionTimeout = 200 * sim.Millisecond
	w, buf := newTestWorld(t, opt, 8)
	w.sim.RunUntil(5*sim.Second, nil)
	require.Equal(t, []raft.ID{1}, w.Leaders())
	for i := raft.ID(1); i <= 5; i++ {
		st, _ := w.Status(i)
		assert.Equal(t, []raft.ID{1, 2, 3, 4, 5}, st.Voters, "node %d", i)
	}
	// The leader's own configuration grows one server per change.
	require.NoError(t, w.Sim().Trace().Flush())
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	var configs []string
	for _, e := range events {
		if e.Kind == sim.KindConfig && e.Node == 1 {
			configs = append(configs, e.Detail)
		}
	}
	assert.Equal(t, []string{"1", "1 2", "1 2 3", "1 2 3 4", "1 2 3 4 5"}, configs)
}

func TestLatencyDistributions(t *testing.T) {
	r := sim.NewStream(1, "latency")
	cases := []Latency{
		{Dist: DistConstant, Mean: 5 * sim.Millisecond},
		{Dist: DistUniform, Mean: 5 * sim.Millisecond, Jitter: 2 * sim.Millisecond},
		{Dist: DistLognormal, Mean: 10 * sim.Millisecond, Jitter: 40 * sim.Millisecond},
	}
	for _, l := range cases {
		t.Run(string(l.Dist), func(t *testing.T) {
			require.NoError(t, l.Validate())
			const n = 200000
			var sum, sumSq float64
			for range n {
				d := l.Sample(r)
				require.GreaterOrEqual(t, d, sim.Time(0))
				if l.Dist == DistUniform {
					require.LessOrEqual(t, d, l.Mean+l.Jitter)
					require.GreaterOrEqual(t, d, l.Mean-l.Jitter)
				}
				sum += float64(d)
				sumSq += float64(d) * float64(d)
			}
			mean := sum / n
			assert.InEpsilon(t, float64(l.Mean), mean, 0.05, "mean")
			if l.Dist == DistLognormal {
				sd := math.Sqrt(sumSq/n - mean*mean)
				assert.InEpsilon(t, float64(l.Jitter), sd, 0.25, "standard deviation")
			}
		})
	}
	assert.Error(t, Latency{Dist: "pareto"}.Validate())
	assert.Error(t, Latency{Dist: DistUniform, Mean: 1, Jitter: 2}.Validate())
}

func TestEveryProfileIsValid(t *testing.T) {
	for _, name := range ProfileNames() {
		p, err := LookupProfile(name)
		require.NoError(t, err)
		assert.NoError(t, p.Latency.Validate(), name)
	}
	_, err := LookupProfile("dialup")
	assert.ErrorContains(t, err, "loopback")
}
