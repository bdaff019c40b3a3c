package netmodel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeFate is one probe's send and the deliver or drop that ended it.
type probeFate struct{ send, end sim.Event }

// probeFates reads each probe's send and end from the trace, by index,
// and checks that the trace is in time order.
func probeFates(t *testing.T, w *World, buf *strings.Builder) map[uint64]*probeFate {
	t.Helper()
	require.NoError(t, w.Sim().Trace().Flush())
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	fates := map[uint64]*probeFate{}
	for i, e := range events {
		require.True(t, i == 0 || events[i-1].Time <= e.Time, "event %d goes back in time", i)
		if e.Msg != "vote_resp" {
			continue
		}
		switch e.Kind {
		case sim.KindSend:
			fates[e.Index] = &probeFate{send: e}
		case sim.KindDeliver, sim.KindDrop:
			require.Contains(t, fates, e.Index)
			fates[e.Index].end = e
		}
	}
	return fates
}

// retransmissions reads k from a detail's "retransmitted k time(s)" (0:
// not there).
func retransmissions(detail string) int {
	i := strings.Index(detail, "retransmitted ")
	if i < 0 {
		return 0
	}
	var k int
	fmt.Sscanf(detail[i:], "retransmitted %d", &k)
	return k
}

// backoff is the sum of the first k retransmission waits.
func backoff(k int) sim.Time {
	var d sim.Time
	for j := range k {
		d += sctpTimers["chrome"].rto(j)
	}
	return d
}

// probeLatency is the probes' one-way latency in the late-message tests.
const probeLatency = 10 * sim.Millisecond

// lateCounts counts what a late-message test saw.
type lateCounts struct {
	lost, abandoned, retransmitted, behind, partitioned, fast int
	at                                                        map[sim.Time]int // deliveries at each instant
}

// lateTest is a channel, its loss and faults, what each probe's fate must
// be (check) and what the run must have seen (want).
type lateTest struct {
	name   string
	mode   ChannelMode
	loss   float64
	cut    bool // partitioned from 0.5 s to 5 s
	jitter sim.Time
	check  func(t *testing.T, f *probeFate, c *lateCounts)
	want   func(t *testing.T, c lateCounts)
}

// lateTests are the cases of TestTraceSaysWhenMessagesWereLostAndWhyTheyWereLate.
var lateTests = []lateTest{
	{"unreliable: lost when it would have arrived", UnorderedUnreliable, 0.3, false, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			if f.end.Kind == sim.KindDrop {
				assert.Equal(t, "lost", f.end.Detail)
				assert.Equal(t, f.send.Time, f.end.Time, "traced at the send")
				assert.Equal(t, f.send.Time+probeLatency, f.end.Lost)
				c.lost++
			}
		},
		func(t *testing.T, c lateCounts) { assert.Positive(t, c.lost) }},
	{"max_retransmits 2: abandoned when the sender gives up", ChannelMode{Reliability: LimitRetransmits, MaxRetransmits: 2, Unordered: true}, 0.5, false, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			if f.end.Kind == sim.KindDrop {
				assert.Equal(t, "abandoned after 2 retransmissions", f.end.Detail)
				assert.Equal(t, f.send.Time+backoff(3), f.end.Lost, "the third timer expiry")
				c.abandoned++
			} else if k := retransmissions(f.end.Detail); k > 0 {
				assert.Equal(t, f.send.Time+backoff(k), f.end.Tx)
				c.retransmitted++
			}
		},
		func(t *testing.T, c lateCounts) { assert.Positive(t, c.abandoned); assert.Positive(t, c.retransmitted) }},
	{"ordered reliable: retransmitted, and held behind", OrderedReliable, 0.3, false, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			require.Equal(t, sim.KindDeliver, f.end.Kind)
			k := retransmissions(f.end.Detail)
			if k > 0 {
				// By its timer, or fast: when the third SACK reporting it
				// missing came back, a later probe's arrival (probes every
				// 50 ms) plus the way back (10 ms).
				if tx := f.end.Tx - f.send.Time; tx != backoff(k) {
					assert.Less(t, tx, backoff(k), "a fast retransmission comes before the timer")
					assert.Equal(t, 2*probeLatency, tx%(50*sim.Millisecond), "at a SACK's return: %v", tx)
					assert.GreaterOrEqual(t, tx, 3*50*sim.Millisecond+2*probeLatency, "after three later probes")
					c.fast++
				}
				c.retransmitted++
			} else {
				assert.Zero(t, f.end.Tx)
			}
			if strings.Contains(f.end.Detail, "held behind an earlier message") {
				assert.Equal(t, max(f.end.Tx, f.send.Time)+probeLatency, f.end.Rx, "reached the receiver")
				assert.Less(t, f.end.Rx, f.end.Time, "and waited there")
				c.behind++
			} else {
				assert.Zero(t, f.end.Rx)
				assert.Equal(t, max(f.end.Tx, f.send.Time)+probeLatency, f.end.Time)
			}
		},
		func(t *testing.T, c lateCounts) {
			assert.Positive(t, c.retransmitted)
			assert.Positive(t, c.behind)
			assert.Positive(t, c.fast, "a steady flow fast-retransmits")
		}},
	{"unordered reliable: nothing waits behind", UnorderedReliable, 0.3, false, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			assert.Zero(t, f.end.Rx)
			assert.NotContains(t, f.end.Detail, "behind")
			if retransmissions(f.end.Detail) > 0 {
				c.retransmitted++
			}
		},
		func(t *testing.T, c lateCounts) { assert.Positive(t, c.retransmitted) }},
	{"partition: held at the sender until after the heal", OrderedReliable, 0, true, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			require.Equal(t, sim.KindDeliver, f.end.Kind)
			if f.send.Time < 5*sim.Second && f.send.Time >= sim.Second/2 {
				assert.Equal(t, "held while partitioned", f.end.Detail)
				assert.GreaterOrEqual(t, f.end.Tx, 5*sim.Second)
				assert.Equal(t, f.end.Tx+probeLatency, f.end.Time)
				c.partitioned++
			} else if f.end.Rx != 0 {
				// Sent after the heal, before the held ones went out
				// (SCTP's next timer expiry): it waits for them.
				assert.Equal(t, "held behind an earlier message", f.end.Detail)
				assert.GreaterOrEqual(t, f.send.Time, 5*sim.Second)
				assert.Equal(t, f.send.Time+probeLatency, f.end.Rx)
				c.behind++
			} else {
				assert.Equal(t, sim.Event{}, sim.Event{Detail: f.end.Detail, Tx: f.end.Tx}, "on time")
			}
		},
		func(t *testing.T, c lateCounts) { assert.Positive(t, c.partitioned); assert.Positive(t, c.behind) }},
	{"ordered max_retransmits 0: held behind the FORWARD-TSN", ChannelMode{Reliability: LimitRetransmits}, 0.3, false, 0,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			if f.end.Kind == sim.KindDrop {
				assert.Equal(t, f.send.Time+probeLatency, f.end.Lost)
				c.lost++
			} else if f.end.Rx != 0 {
				assert.Equal(t, "held behind an earlier message", f.end.Detail)
				assert.Equal(t, f.send.Time+probeLatency, f.end.Rx)
				c.behind++
			}
		},
		func(t *testing.T, c lateCounts) { assert.Positive(t, c.lost); assert.Positive(t, c.behind) }},
	{"no loss, jitter: waiting for a slower message is not held", OrderedReliable, 0, false, 8 * sim.Millisecond,
		func(t *testing.T, f *probeFate, c *lateCounts) {
			assert.Equal(t, sim.Event{}, sim.Event{Detail: f.end.Detail, Lost: f.end.Lost, Tx: f.end.Tx, Rx: f.end.Rx})
			c.at[f.end.Time]++
		},
		func(t *testing.T, c lateCounts) {
			// Two deliveries at one instant: the later-sent one drew
			// a shorter probeLatency and waited (untraced) for the other.
			waited := 0
			for _, n := range c.at {
				waited += n - 1
			}
			assert.Positive(t, waited)
		}},
}

// The trace says when a lost message was lost (lost) and why a delivery
// was late: retransmissions (tx: the transmission that got through),
// a partition (tx: the retransmission after the heal), or waiting on an
// ordered channel behind a late message (rx: when it reached the
// receiver). Latency is a constant 10 ms, so every instant is exact.
func TestTraceSaysWhenMessagesWereLostAndWhyTheyWereLate(t *testing.T) {
	for _, tt := range lateTests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(2)
			opt.Mode, opt.Profile.Loss = tt.mode, tt.loss
			if tt.jitter > 0 {
				opt.Profile.Latency = Latency{Dist: DistUniform, Mean: probeLatency, Jitter: tt.jitter}
			}
			w, buf := newTestWorld(t, opt, 5)
			if tt.cut {
				w.sim.At(sim.Second/2, func() { w.Partition([][]raft.ID{{1}, {2}}) })
				w.sim.At(5*sim.Second, func() { w.Heal() })
			}
			every := 50 * sim.Millisecond
			if tt.jitter > 0 {
				every = 2 * sim.Millisecond // closer than the jitter: later ones wait
			}
			sendProbes(w, 200, every)
			c := lateCounts{at: map[sim.Time]int{}}
			fates := probeFates(t, w, buf)
			require.Len(t, fates, 200)
			for _, f := range fates {
				require.NotZero(t, f.end.Kind, "probe %d ended", f.send.Index)
				tt.check(t, f, &c)
			}
			tt.want(t, c)
		})
	}
}

func TestLateDetails(t *testing.T) {
	for _, tt := range []struct {
		why  late
		want string
	}{
		{late{}, ""},
		{late{retx: 1}, "retransmitted 1 time"},
		{late{retx: 3, rx: 5}, "retransmitted 3 times; held behind an earlier message"},
		{late{held: "partitioned"}, "held while partitioned"},
		{late{held: "path changed", rx: 5}, "held while the path changed; held behind an earlier message"},
	} {
		assert.Equal(t, tt.want, tt.why.detail())
	}
	assert.Equal(t, "lost", lostReason(1, 0))
	assert.Equal(t, "abandoned after 1 retransmission (a fragment of 3)", lostReason(3, 1))
}

// Counting retransmissions past the backoff cap: sent at 0 and lost every
// time, Chrome retransmits at 0.4, 1.2, 2.8, 5.8, 8.8 s.
func TestRetransmissionAtCountsEveryRetransmission(t *testing.T) {
	chrome := sctpTimers["chrome"]
	for _, tt := range []struct {
		now, at sim.Time
		k       int
	}{
		{0, 0, 0},
		{sim.Second, 1200 * sim.Millisecond, 2},
		{3 * sim.Second, 5800 * sim.Millisecond, 4},
		{6 * sim.Second, 8800 * sim.Millisecond, 5},
	} {
		at, k := chrome.retransmissionAt(0, tt.now)
		assert.Equal(t, tt.at, at, "now %v", tt.now)
		assert.Equal(t, tt.k, k, "now %v", tt.now)
	}
}

func TestAFlightCountsTheEarliestSACKsReportingItMissing(t *testing.T) {
	ms := func(n int) sim.Time { return sim.Time(n) * sim.Millisecond }
	for _, tt := range []struct {
		name    string
		reports []int
		want    [maxMissReports]sim.Time
		enough  bool
	}{
		{"two are not enough", []int{30, 10}, [maxMissReports]sim.Time{ms(10), ms(30)}, false},
		{"three in order", []int{10, 20, 30}, [maxMissReports]sim.Time{ms(10), ms(20), ms(30)}, true},
		{"a late-sent one that came back first", []int{40, 30, 20, 10}, [maxMissReports]sim.Time{ms(10), ms(20), ms(30)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var f flight
			enough := false
			for _, r := range tt.reports {
				enough = f.report(ms(r), 3)
			}
			assert.Equal(t, tt.enough, enough)
			assert.Equal(t, tt.want, f.reports)
		})
	}
}
