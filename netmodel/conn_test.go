package netmodel

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connOptions is testOptions with connection set-up: signaling 5 ms one
// way, set-up exactly 5 RTTs of the 10 ms links (100 ms). Node 1 starts
// alone (paper bootstrap, no membership changes), so no tab connects to
// its configuration's members and the tests open connections themselves.
func connOptions(nodes int) Options {
	opt := testOptions(nodes)
	opt.Bootstrap = BootstrapPaper
	opt.Conn = DefaultConnOptions()
	opt.Conn.SetupRTTsMin, opt.Conn.SetupRTTsMax = 5, 5
	return opt
}

// connFaults returns the connection events (fault details starting
// "conn") of the trace, as "node: detail".
func connFaults(t *testing.T, w *World, buf *strings.Builder) []string {
	t.Helper()
	var out []string
	for _, e := range traceEvents(t, w, buf) {
		if e.Kind == sim.KindFault && (strings.HasPrefix(e.Detail, "conn ") || strings.HasPrefix(e.Detail, "signaling")) {
			out = append(out, e.Time.String()+" "+string(rune('0'+e.Node))+": "+e.Detail)
		}
	}
	return out
}

func TestDefaultConnOptionsAreSourced(t *testing.T) {
	o := DefaultConnOptions()
	assert.True(t, o.Setup)
	assert.Equal(t, 4, o.SetupRTTsMin)
	assert.Equal(t, 6, o.SetupRTTsMax)
	assert.Equal(t, 5*sim.Second, o.ICEDisconnected)
	assert.Equal(t, 15*sim.Second, o.ICEFailed)
	assert.Equal(t, 5*sim.Second, o.PingInterval)
	assert.Equal(t, 90*sim.Second, o.AliveTimeout)
	assert.Equal(t, 5*sim.Second, o.ExpireTimeout)
	assert.NoError(t, o.validate())
	bad := o
	bad.ICEFailed = sim.Second
	assert.Error(t, bad.validate())
}

func TestFirstMessageOpensAConnectionThroughSignaling(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	assert.Equal(t, "new", w.ConnState(1, 2))
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(500*sim.Millisecond, func() { w.send(probe(1, 2, 2)) })
	w.sim.RunUntil(sim.Second, nil)
	got, dropped := deliveries(t, w, buf)
	assert.Equal(t, 1, dropped, "sent before the connection opened: refused")
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index)
	assert.Equal(t, "open", w.ConnState(1, 2))
	assert.Equal(t, "open", w.ConnState(2, 1), "one connection per pair")
	// Offer and answer through the server: 4 hops of 5 ms; then 5 RTTs of
	// 20 ms.
	assert.Equal(t, []string{"1ms 1: conn 2 connecting", "121ms 1: conn 2 open"}, connFaults(t, w, buf))
}

func TestPagesMeshedBeforeStartSendAtOnceAndReconnectAfterAClose(t *testing.T) {
	opt := connOptions(3)
	opt.Conn.OpenAtStart = true
	w, buf := newTestWorld(t, opt, 1)
	for _, p := range [][2]raft.ID{{1, 2}, {1, 3}, {2, 3}} {
		assert.Equal(t, "open", w.ConnState(p[0], p[1]))
	}
	assert.Equal(t, 2, w.conns.open[3], "each tab counts its open channels (the throttling exemption)")
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.Kill(2) })
	w.sim.At(2*sim.Second, func() { require.NoError(t, w.Restart(2)) })
	w.sim.At(3*sim.Second, func() { w.send(probe(2, 1, 2)) }) // refused: the reopened page connects anew
	w.sim.At(4*sim.Second, func() { w.send(probe(2, 1, 3)) })
	w.sim.RunUntil(5*sim.Second, nil)
	got, dropped := deliveries(t, w, buf)
	require.Len(t, got, 2)
	assert.Equal(t, []uint64{1, 3}, []uint64{got[0].index, got[1].index}, "the first send needed no set-up")
	assert.Equal(t, 1, dropped)
	faults := connFaults(t, w, buf)
	assert.Equal(t, []string{"0s 1: conn 2 open", "0s 1: conn 3 open", "0s 2: conn 3 open"}, faults[:3])
	assert.Contains(t, faults, "3s 1: conn 2 connecting")
}

func TestSetupTakesFourToSixRoundTrips(t *testing.T) {
	seen := map[sim.Time]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		opt := testOptions(2)
		opt.Conn = DefaultConnOptions()
		w, buf := newTestWorld(t, opt, seed)
		w.sim.At(0, func() { w.send(probe(1, 2, 1)) })
		w.sim.RunUntil(sim.Second, nil)
		for _, e := range traceEvents(t, w, buf) {
			if e.Kind == sim.KindFault && e.Detail == "conn 2 open" {
				seen[e.Time-4*opt.Conn.SignalingLatency] = true
			}
		}
	}
	assert.Equal(t, map[sim.Time]bool{80 * sim.Millisecond: true, 100 * sim.Millisecond: true, 120 * sim.Millisecond: true}, seen)
}

func TestSignalingOutageBlocksJoinsNotEstablishedChannels(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(3), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.SignalingDown() })
	// Established: 1-2 keeps working. New: 1-3 waits for the server.
	w.sim.At(2*sim.Second, func() {
		w.send(probe(1, 2, 2))
		w.send(probe(1, 3, 3))
	})
	w.sim.At(5*sim.Second, func() {
		assert.Equal(t, "connecting", w.ConnState(1, 3), "no join during the outage")
		assert.False(t, w.Present(1) || w.Present(2) || w.Present(3), "the server forgot everyone")
		w.send(probe(1, 3, 4))
		w.SignalingUp()
	})
	w.sim.At(6*sim.Second, func() { w.send(probe(1, 3, 5)) })
	w.sim.RunUntil(10*sim.Second, nil)
	got, _ := deliveries(t, w, buf)
	var indexes []uint64
	for _, a := range got {
		indexes = append(indexes, a.index)
	}
	assert.Equal(t, []uint64{2, 5}, indexes, "2 over the old channel during the outage; 5 once the join completed after it")
	assert.Equal(t, "open", w.ConnState(1, 3))
	assert.True(t, w.Present(1) && w.Present(2) && w.Present(3), "registered again")
}

func TestJoinWaitsForALongOutage(t *testing.T) {
	// The outage outlasts the set-up give-up (30 s): the attempt waits
	// for the server rather than failing.
	// The offer leaves 1 ms before the server goes down and finds it down.
	w, buf := newTestWorld(t, connOptions(3), 1)
	w.sim.At(sim.Second-sim.Millisecond, func() { w.send(probe(1, 3, 1)) })
	w.sim.At(sim.Second, func() { w.SignalingDown() })
	w.sim.At(62*sim.Second, func() { w.SignalingUp() })
	w.sim.RunUntil(2*sim.Minute, nil)
	faults := connFaults(t, w, buf)
	assert.NotContains(t, strings.Join(faults, "\n"), "closed", "the attempt is not given up during the outage")
	// Both register 50 ms after the server returns; the queued offer then
	// goes: 4 signaling hops of 5 ms and 5 RTTs of 20 ms.
	assert.Contains(t, faults, "1m2.17s 1: conn 3 open")
}

func TestSetupOverACutLinkFailsOrOpensOnHeal(t *testing.T) {
	// The offer and answer pass (signaling is not the cut link), then ICE
	// checks fail: the attempt gives up ICEFailed after ICE started,
	// unless the link heals first.
	for _, tc := range []struct {
		name  string
		heal  sim.Time // 0: never
		want  string
		state string
	}{
		{"never healed", 0, "15.021s 1: conn 2 closed: set-up failed", "closed"},
		{"healed during the checks", 10 * sim.Second, "10.1s 1: conn 2 open", "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, buf := newTestWorld(t, connOptions(2), 1)
			w.Cut(2, 1)
			w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
			if tc.heal > 0 {
				w.sim.At(tc.heal, func() { w.Heal() })
			}
			w.sim.RunUntil(sim.Minute, nil)
			faults := connFaults(t, w, buf)
			assert.Contains(t, faults, tc.want)
			assert.NotContains(t, faults, "121ms 1: conn 2 open", "no connection while ICE checks fail")
			assert.Equal(t, tc.state, w.ConnState(1, 2))
		})
	}
}

func TestICEDeclaresACutLinkDisconnectedThenFailed(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() {
		w.Cut(2, 1) // one way is enough: ICE needs answers
		w.send(probe(1, 2, 2))
	})
	w.sim.At(sim.Second+10*sim.Second, func() {
		w.Cut(1, 2)
		w.send(probe(1, 2, 3)) // held by the reliable channel
	})
	w.sim.RunUntil(2*sim.Minute, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "6s 1: conn 2 disconnected")
	assert.Contains(t, faults, "16s 1: conn 2 closed: ice failed")
	assert.Equal(t, "closed", w.ConnState(1, 2))
	got, dropped := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index, "the way 1->2 still worked")
	assert.Equal(t, 2, dropped, "the held message is lost when the connection closes (and the first was refused)")
}

func TestHealBeforeICEFailsKeepsTheConnection(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() {
		w.Partition([][]raft.ID{{1}, {2}})
		w.send(probe(1, 2, 2))
	})
	w.sim.At(12*sim.Second, func() { w.Heal() })
	w.sim.RunUntil(2*sim.Minute, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "6s 1: conn 2 disconnected")
	assert.Contains(t, faults, "12s 1: conn 2 open again")
	assert.Equal(t, "open", w.ConnState(1, 2))
	got, _ := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index, "the held message arrives after the heal")
}

func TestAClosedPagesPeerKeepsItsEndUntilICEFails(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.Kill(2) })
	w.sim.At(2*sim.Second, func() { w.send(probe(1, 2, 2)) })
	var openAt2s bool
	w.sim.At(2*sim.Second, func() { openAt2s = w.hasOpenChannel(1) })
	w.sim.RunUntil(sim.Minute, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "1s 1: conn 2 page closed (1's end stays open)")
	assert.Contains(t, faults, "6s 1: conn 2 disconnected")
	assert.Contains(t, faults, "16s 1: conn 2 closed: ice failed", "as in Chromium: 15 s after the page went silent")
	assert.True(t, openAt2s, "the peer still holds an open channel (and its throttling exemption)")
	assert.False(t, w.hasOpenChannel(1))
	assert.Equal(t, "closed", w.ConnState(1, 2))
	_, dropped := deliveries(t, w, buf)
	assert.Equal(t, 2, dropped, "the send into the closed page is lost (and the first was refused)")
}

func TestAReopenedPageReplacesItsPeersStaleEnd(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.Kill(2) })
	w.sim.At(2*sim.Second, func() { require.NoError(t, w.Restart(2)) })
	w.sim.At(2500*sim.Millisecond, func() { w.send(probe(1, 2, 2)) }) // into the stale end
	w.sim.At(3*sim.Second, func() { w.send(probe(2, 1, 3)) })         // the reopened page offers
	w.sim.At(4*sim.Second, func() { w.send(probe(1, 2, 4)) })
	w.sim.RunUntil(sim.Minute, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "3s 1: conn 2 closed: replaced by a new offer")
	assert.NotContains(t, strings.Join(faults, "\n"), "ice failed")
	assert.Equal(t, "open", w.ConnState(1, 2))
	got, _ := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(4), got[0].index, "only the send over the new connection arrives")
	assert.True(t, w.hasOpenChannel(1) && w.hasOpenChannel(2))
	assert.Equal(t, 1, w.conns.open[2], "the closed end was counted once")
}

func TestBlackholedTabLeavesPresenceAfterAliveTimeout(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	// Heartbeats leave every 5 s and reach the server 5 ms later: the last
	// one before the blackhole at 7 s arrives at 5.005 s.
	w.sim.At(7*sim.Second, func() { w.Blackhole(2) })
	last := 5*sim.Second + 5*sim.Millisecond
	var before, after bool
	w.sim.At(last+90*sim.Second-sim.Millisecond, func() { before = w.Present(2) })
	w.sim.At(last+90*sim.Second+sim.Millisecond, func() { after = w.Present(2) })
	w.sim.RunUntil(2*sim.Minute, nil)
	assert.True(t, before, "still listed until alive_timeout after the last heartbeat")
	assert.False(t, after, "dropped at alive_timeout")
	assert.Contains(t, connFaults(t, w, buf), "1m35.005s 2: signaling drops (no heartbeat)")
	assert.True(t, w.Present(1), "the other tab keeps beating")
}

func TestBlackholeThenHealComesBack(t *testing.T) {
	w, _ := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Second, func() { w.Blackhole(2) })
	w.sim.At(100*sim.Second, func() {
		assert.False(t, w.Present(2))
		w.Heal()
	})
	w.sim.RunUntil(101*sim.Second, nil)
	assert.True(t, w.Present(2), "re-registered after the heal")
}

func TestPathChangeRecoversByICERestartWhenSignalingIsUp(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() {
		w.PathChange(2)
		w.send(probe(1, 2, 2))
	})
	w.sim.RunUntil(time20s, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "6s 1: conn 2 disconnected")
	assert.Contains(t, faults, "6s 1: conn 2 ice restart")
	// Offer and answer (20 ms) and 2 RTTs (40 ms).
	assert.Contains(t, faults, "6.06s 1: conn 2 open again")
	got, _ := deliveries(t, w, buf)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(2), got[0].index, "held across the path change")
}

func TestPathChangeDuringARestartRestartsAgain(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.PathChange(2) })
	w.sim.At(6*sim.Second+30*sim.Millisecond, func() { w.PathChange(2) })
	w.sim.RunUntil(time20s, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "6s 1: conn 2 ice restart")
	assert.NotContains(t, faults, "6.06s 1: conn 2 open again", "the first restart found the path changed again")
	assert.Contains(t, faults, "6.06s 1: conn 2 ice restart")
	assert.Contains(t, faults, "6.12s 1: conn 2 open again")
}

func TestPathChangeOfADisconnectedConnectionRestartsAtOnce(t *testing.T) {
	// A cut has ICE report disconnected at 6 s; the path change at 10 s
	// is restarted at once, and the heal at 12 s finds a working path.
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() { w.Cut(2, 1) })
	w.sim.At(10*sim.Second, func() { w.PathChange(2) })
	w.sim.At(12*sim.Second, func() { w.Heal() })
	w.sim.RunUntil(time60s, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "10s 1: conn 2 ice restart")
	assert.Contains(t, faults, "12s 1: conn 2 open again")
	assert.Equal(t, "open", w.ConnState(1, 2))
}

func TestPathChangeDuringAnOutageFailsAtICEFailed(t *testing.T) {
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.At(sim.Second, func() {
		w.SignalingDown()
		w.PathChange(2)
	})
	w.sim.At(45*sim.Second, func() { w.SignalingUp() })
	w.sim.RunUntil(time60s, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "16s 1: conn 2 closed: ice failed")
	assert.NotContains(t, strings.Join(faults, "\n"), "ice restart")
}

func TestFrozenTabStopsHeartbeatsAndLeavesPresence(t *testing.T) {
	w, _ := newTestWorld(t, connOptions(2), 1)
	// Registered at 0 s; frozen at 1 s, before its first heartbeat (5 s)
	// can run.
	w.sim.At(sim.Second, func() { w.SetVisibility(2, Frozen) })
	var before, after, thawing bool
	w.sim.At(90*sim.Second-sim.Millisecond, func() { before = w.Present(2) })
	w.sim.At(90*sim.Second+sim.Millisecond, func() { after = w.Present(2) })
	w.sim.At(110*sim.Second, func() { w.SetVisibility(2, Foreground) })
	w.sim.At(110*sim.Second+4*sim.Millisecond, func() { thawing = w.Present(2) })
	w.sim.RunUntil(120*sim.Second, nil)
	assert.True(t, before)
	assert.False(t, after, "no heartbeat for 90 s")
	assert.False(t, thawing, "the heartbeat takes 5 ms to reach the server")
	assert.True(t, w.Present(2), "thawed: its queued heartbeat registers it again")
}

func TestHiddenTabHeartbeatIsThrottledButKeepsPresence(t *testing.T) {
	// A hidden tab without an open channel (and without the exemption)
	// sends its chained heartbeat once a minute after the grace period:
	// still within the 90 s alive timeout (peerjs-server raised it from
	// 60 s for this reason, facts §5).
	opt := connOptions(2)
	opt.Browser = DefaultBrowserOptions()
	opt.Browser.WebRTCExemption = false
	w, _ := newTestWorld(t, opt, 1)
	w.sim.At(sim.Second, func() { w.SetVisibility(2, Hidden) })
	gone := false
	for s := 2; s < 600; s++ {
		w.sim.At(sim.Time(s)*sim.Second, func() { gone = gone || !w.Present(2) })
	}
	w.sim.RunUntil(10*sim.Minute, nil)
	assert.False(t, gone)
}

func TestOfferToAnAbsentPeerExpires(t *testing.T) {
	// The server restarts while tab 2 is frozen: 2 cannot re-register, so
	// an offer for it expires.
	w, buf := newTestWorld(t, connOptions(2), 1)
	w.sim.At(sim.Second, func() {
		w.SignalingDown()
		w.SetVisibility(2, Frozen)
	})
	w.sim.At(2*sim.Second, func() { w.SignalingUp() })
	w.sim.At(3*sim.Second, func() { w.send(probe(1, 2, 1)) })
	w.sim.RunUntil(20*sim.Second, nil)
	faults := connFaults(t, w, buf)
	assert.Contains(t, faults, "8.01s 1: conn 2 closed: offer expired", "EXPIRE after expire_timeout (5 s) plus the way there and back")
	assert.False(t, w.Present(2))
}

func TestLeaderKeepsMembershipDuringAnOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup bool
	}{
		{"connection set-up", true},
		// Without set-up the closed tab leaves presence after
		// PresenceCloseDelay, but the leader cannot read the list.
		{"no set-up", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := connOptions(3)
			opt.Conn.Setup = tc.setup
			opt.Bootstrap = BootstrapStatic
			opt.PresenceMembership = true
			opt.Raft.ElectionTimeout = 300 * sim.Millisecond
			w, _ := newTestWorld(t, opt, 1)
			w.sim.At(5*sim.Second, func() { w.SignalingDown() })
			var during []raft.ID
			w.sim.At(6*sim.Second, func() {
				for _, id := range []raft.ID{1, 2, 3} {
					if st, _ := w.Status(id); st.Role != raft.Leader {
						w.Kill(id) // a follower closes during the outage
						break
					}
				}
			})
			w.sim.At(30*sim.Second, func() {
				l := w.Leaders()
				require.Len(t, l, 1)
				st, _ := w.Status(l[0])
				during = st.Voters
				w.SignalingUp()
			})
			w.sim.RunUntil(40*sim.Second, nil)
			assert.Len(t, during, 3, "no removal while the peer list cannot be read")
			l := w.Leaders()
			require.Len(t, l, 1)
			st, _ := w.Status(l[0])
			assert.Len(t, st.Voters, 2, "the closed tab is removed once signaling is back")
		})
	}
}

func TestTabsConnectToTheirConfigurationAtOnce(t *testing.T) {
	opt := connOptions(3)
	opt.Bootstrap = BootstrapStatic
	w, buf := newTestWorld(t, opt, 1)
	w.sim.RunUntil(sim.Second, nil)
	for _, p := range [][2]raft.ID{{1, 2}, {1, 3}, {2, 3}} {
		assert.Equal(t, "open", w.ConnState(p[0], p[1]), "%v", p)
	}
	assert.Contains(t, connFaults(t, w, buf), "0s 1: conn 2 connecting", "at boot, before any message")
}

func TestOpenChannelExemptionFollowsConnections(t *testing.T) {
	w, _ := newTestWorld(t, connOptions(2), 1)
	assert.False(t, w.hasOpenChannel(1), "no connection yet")
	w.sim.At(sim.Millisecond, func() { w.send(probe(1, 2, 1)) })
	w.sim.RunUntil(sim.Second, nil)
	assert.True(t, w.hasOpenChannel(1))
	assert.True(t, w.hasOpenChannel(2))
}

func TestConnectionsAreDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		opt := connOptions(5)
		opt.Conn = DefaultConnOptions()
		opt.Bootstrap = BootstrapPaper
		opt.PresenceMembership = true
		opt.Raft.ElectionTimeout = 300 * sim.Millisecond
		opt.Profile = Profiles["wifi"]
		var buf strings.Builder
		s := sim.New(seed, sim.NewTrace(&buf))
		w, err := New(s, opt)
		require.NoError(t, err)
		require.NoError(t, w.Start())
		s.At(5*sim.Second, func() { w.PathChange(2); w.SignalingDown() })
		s.At(8*sim.Second, func() { w.SignalingUp(); w.Blackhole(3) })
		s.At(50*sim.Second, func() { w.Heal() })
		s.RunUntil(2*sim.Minute, nil)
		return s.Trace().HashHex()
	}
	assert.Equal(t, run(1), run(1))
	assert.NotEqual(t, run(1), run(2))
}

const (
	time20s = 20 * sim.Second
	time60s = 60 * sim.Second
)
