package netmodel

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traceEvents reads back everything the world traced so far.
func traceEvents(t *testing.T, w *World, buf *strings.Builder) []sim.Event {
	t.Helper()
	require.NoError(t, w.Sim().Trace().Flush())
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	return events
}

// timerEvents returns the times of node's events of the given kind
// (timer_set or timer_fire) for timer k in (from, to].
func timerEvents(events []sim.Event, kind sim.Kind, node raft.ID, k raft.TimerKind, from, to sim.Time) []sim.Time {
	var out []sim.Time
	for _, e := range events {
		if e.Kind == kind && e.Node == uint64(node) && e.Msg == k.String() && e.Time > from && e.Time <= to {
			out = append(out, e.Time)
		}
	}
	return out
}

// faults returns node's fault details, with their times.
func faults(events []sim.Event, node raft.ID) (details []string, times []sim.Time) {
	for _, e := range events {
		if e.Kind == sim.KindFault && e.Node == uint64(node) {
			details = append(details, e.Detail)
			times = append(times, e.Time)
		}
	}
	return details, times
}

func gaps(ts []sim.Time) []sim.Time {
	var out []sim.Time
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i]-ts[i-1])
	}
	return out
}

func assertMultiples(t *testing.T, ts []sim.Time, of sim.Time, what string) {
	t.Helper()
	for _, x := range ts {
		assert.Zero(t, x%of, "%s at %v is not on a %v boundary", what, x, of)
	}
}

// browserOptions: a cluster whose leader heartbeats every 100 ms and whose
// followers wait 2-4 s, so a leader heartbeating once a second keeps its
// followers.
func browserOptions(nodes int) Options {
	opt := testOptions(nodes)
	opt.Raft.ElectionTimeout = 2 * sim.Second
	opt.Raft.Heartbeat = 100 * sim.Millisecond
	opt.Browser = DefaultBrowserOptions()
	return opt
}

func onlyLeader(t *testing.T, w *World) raft.ID {
	t.Helper()
	l := w.Leaders()
	require.Len(t, l, 1)
	return l[0]
}

func TestDefaultBrowserOptionsAreChromes(t *testing.T) {
	o := DefaultBrowserOptions()
	assert.True(t, o.Throttling)
	assert.Equal(t, 4*sim.Millisecond, o.NestedClampMin)
	assert.Equal(t, sim.Second, o.HiddenAlign)
	assert.Equal(t, sim.Minute, o.IntensiveAlign)
	assert.Equal(t, 60*sim.Second, o.IntensiveGrace)
	assert.True(t, o.WebRTCExemption)
	assert.Equal(t, VisibilityProcess{}, o.Process)
	assert.NoError(t, o.validate())
	o.HiddenAlign = -1
	assert.Error(t, o.validate())
	o = DefaultBrowserOptions()
	o.Process.ReloadAfter = -1
	assert.Error(t, o.validate())
}

func TestVisibilityNames(t *testing.T) {
	for _, v := range []Visibility{Foreground, Hidden, Frozen, Discarded} {
		got, err := ParseVisibility(v.String())
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	assert.Equal(t, "frozen", Frozen.String())
	_, err := ParseVisibility("minimized")
	assert.ErrorContains(t, err, "foreground")
}

func TestHiddenLeaderHeartbeatsOnSecondBoundaries(t *testing.T) {
	w, buf := newTestWorld(t, browserOptions(3), 11)
	w.sim.RunUntil(10*sim.Second, nil)
	leader := onlyLeader(t, w)
	hide := 10*sim.Second + 300*sim.Millisecond
	w.sim.At(hide, func() { w.SetVisibility(leader, Hidden) })
	w.sim.RunUntil(40*sim.Second, nil)

	assert.Equal(t, Hidden, w.Visibility(leader))
	assert.Equal(t, []raft.ID{leader}, w.Leaders(), "a heartbeat a second keeps 2-4 s followers")
	ev := traceEvents(t, w, buf)
	before := timerEvents(ev, sim.KindTimerFire, leader, raft.TimerHeartbeat, 9*sim.Second, hide)
	assert.Contains(t, gaps(before), 100*sim.Millisecond, "foreground: every 100 ms")
	after := timerEvents(ev, sim.KindTimerFire, leader, raft.TimerHeartbeat, hide, 40*sim.Second)
	assertMultiples(t, after, sim.Second, "hidden heartbeat")
	assert.Len(t, after, 30, "one heartbeat a second from 11 s to 40 s")
	details, _ := faults(ev, leader)
	assert.Contains(t, details, "visibility hidden", "the change is traced")
}

func TestIntensiveThrottlingWaitsForMinuteBoundaries(t *testing.T) {
	// One tab (no peers, so no datachannel either way) without the
	// exemption: its heartbeat is a chained timer.
	opt := browserOptions(1)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	opt.Browser.WebRTCExemption = false
	w, buf := newTestWorld(t, opt, 12)
	hide := 500 * sim.Millisecond
	w.sim.RunUntil(hide, nil)
	require.Equal(t, []raft.ID{1}, w.Leaders())
	w.sim.At(hide, func() { w.SetVisibility(1, Hidden) })
	w.sim.RunUntil(300*sim.Second, nil)
	require.Equal(t, []raft.ID{1}, w.Leaders())
	ev := traceEvents(t, w, buf)

	grace := hide + opt.Browser.IntensiveGrace
	inGrace := timerEvents(ev, sim.KindTimerFire, 1, raft.TimerHeartbeat, hide, grace)
	assertMultiples(t, inGrace, sim.Second, "heartbeat during the grace period")
	assert.Len(t, inGrace, 60, "1 s alignment for the first 60 s hidden")
	assert.Equal(t, []sim.Time{2 * sim.Minute, 3 * sim.Minute, 4 * sim.Minute, 5 * sim.Minute},
		timerEvents(ev, sim.KindTimerFire, 1, raft.TimerHeartbeat, grace, 300*sim.Second),
		"after the grace period the chained heartbeat waits for minute boundaries")

	// Back in the foreground, the heartbeat waiting for 6 min is overdue:
	// it fires at once, then every 100 ms.
	show := 310 * sim.Second
	w.sim.At(show, func() { w.SetVisibility(1, Foreground) })
	w.sim.RunUntil(show+450*sim.Millisecond, nil)
	ev = traceEvents(t, w, buf)
	fires := timerEvents(ev, sim.KindTimerFire, 1, raft.TimerHeartbeat, 300*sim.Second, show+450*sim.Millisecond)
	require.Len(t, fires, 5)
	assert.Equal(t, show, fires[0])
	for _, g := range gaps(fires) {
		assert.Equal(t, 100*sim.Millisecond, g)
	}
}

func TestOpenDatachannelExemptsFromIntensiveThrottling(t *testing.T) {
	w, buf := newTestWorld(t, browserOptions(3), 13)
	w.sim.RunUntil(5*sim.Second, nil)
	leader := onlyLeader(t, w)
	w.SetVisibility(leader, Hidden)
	w.sim.RunUntil(100*sim.Second, nil)
	ev := traceEvents(t, w, buf)
	exempt := timerEvents(ev, sim.KindTimerFire, leader, raft.TimerHeartbeat, 70*sim.Second, 100*sim.Second)
	assertMultiples(t, exempt, sim.Second, "exempt hidden heartbeat")
	assert.Len(t, exempt, 30, "with open datachannels: still one heartbeat a second after the grace period")
	assert.Equal(t, []raft.ID{leader}, w.Leaders())

	// Its peers close: no open channel, so the heartbeat armed for 101 s is
	// deferred to the next minute when it comes due.
	kill := 100*sim.Second + 500*sim.Millisecond
	w.sim.At(kill, func() {
		for id := raft.ID(1); id <= 3; id++ {
			if id != leader {
				w.Kill(id)
			}
		}
	})
	w.sim.RunUntil(300*sim.Second, nil)
	ev = traceEvents(t, w, buf)
	assert.Equal(t, []sim.Time{2 * sim.Minute, 3 * sim.Minute, 4 * sim.Minute, 5 * sim.Minute},
		timerEvents(ev, sim.KindTimerFire, leader, raft.TimerHeartbeat, kill, 300*sim.Second))
}

func TestElectionTimerArmedByMessagesIsNotIntensivelyThrottled(t *testing.T) {
	opt := browserOptions(3)
	opt.Browser.WebRTCExemption = false
	w, buf := newTestWorld(t, opt, 14)
	w.sim.RunUntil(5*sim.Second, nil)
	leader := onlyLeader(t, w)
	follower := leader%3 + 1
	w.SetVisibility(follower, Hidden)
	w.sim.RunUntil(100*sim.Second, nil)
	assert.Equal(t, []raft.ID{leader}, w.Leaders(),
		"the hidden follower's election timer, re-armed by each heartbeat, is never deferred a minute")

	kill := 100*sim.Second + 500*sim.Millisecond
	w.sim.At(kill, func() {
		for id := raft.ID(1); id <= 3; id++ {
			if id != follower {
				w.Kill(id)
			}
		}
	})
	w.sim.RunUntil(400*sim.Second, nil)
	ev := traceEvents(t, w, buf)
	fires := timerEvents(ev, sim.KindTimerFire, follower, raft.TimerElection, kill, 400*sim.Second)
	require.GreaterOrEqual(t, len(fires), 6)
	// The timer the last heartbeat armed (chain 1) and the candidate's own
	// re-arms (chains 2, 3, 4) fire on second boundaries within 2-4 s of
	// each other; the fifth link of the chain waits for a minute boundary.
	assertMultiples(t, fires[:4], sim.Second, "election timer")
	assert.Less(t, fires[0], kill+4*sim.Second+sim.Second)
	for _, g := range gaps(fires[:4]) {
		assert.LessOrEqual(t, g, 4*sim.Second)
	}
	assert.Less(t, fires[3], 2*sim.Minute)
	assert.Equal(t, 2*sim.Minute, fires[4], "chain count 5: intensive throttling")
	assertMultiples(t, fires[4:], sim.Minute, "chained election timer")
}

func TestNestedClampInForeground(t *testing.T) {
	run := func(throttling bool) []sim.Time {
		opt := testOptions(1)
		opt.Raft.ElectionTimeout = 10 * sim.Millisecond
		opt.Raft.Heartbeat = 1 * sim.Millisecond
		if throttling {
			opt.Browser = DefaultBrowserOptions()
		}
		w, buf := newTestWorld(t, opt, 15)
		w.sim.RunUntil(200*sim.Millisecond, nil)
		require.Equal(t, []raft.ID{1}, w.Leaders())
		fires := timerEvents(traceEvents(t, w, buf), sim.KindTimerFire, 1, raft.TimerHeartbeat, 0, sim.Second)
		require.Greater(t, len(fires), 10)
		return gaps(fires)
	}
	g := run(true)
	// The lone server wins in its election timer's task (nesting level 1),
	// so its first heartbeat is chained at 2, whatever the timer's kind
	// (HTML); each fire re-arms it (3, 4, 5, ...): from chain 5 the 1 ms
	// request waits 4 ms.
	assert.Equal(t, []sim.Time{sim.Millisecond, sim.Millisecond}, g[:2])
	for _, d := range g[2:] {
		assert.Equal(t, 4*sim.Millisecond, d)
	}
	for _, d := range run(false) {
		assert.Equal(t, sim.Millisecond, d, "zero BrowserOptions: timers fire when asked")
	}
}

func TestZeroBrowserOptionsIgnoreVisibilityForTimers(t *testing.T) {
	opt := browserOptions(3)
	opt.Browser = BrowserOptions{}
	w, buf := newTestWorld(t, opt, 16)
	w.sim.RunUntil(5*sim.Second, nil)
	leader := onlyLeader(t, w)
	w.SetVisibility(leader, Hidden)
	w.sim.RunUntil(200*sim.Second, nil)
	fires := timerEvents(traceEvents(t, w, buf), sim.KindTimerFire, leader, raft.TimerHeartbeat, 5*sim.Second, 200*sim.Second)
	require.NotEmpty(t, fires)
	for _, d := range gaps(fires) {
		assert.Equal(t, 100*sim.Millisecond, d)
	}
}

func TestFrozenTabRunsNothingUntilThawed(t *testing.T) {
	opt := testOptions(1)
	opt.Raft.ElectionTimeout = 50 * sim.Millisecond
	opt.Raft.Heartbeat = 100 * sim.Millisecond
	opt.HandlerCost = sim.Millisecond
	opt.Browser = DefaultBrowserOptions()
	w, buf := newTestWorld(t, opt, 17)
	tab := w.Tab(1)
	freeze := sim.Second + 50*sim.Millisecond
	thaw := 5 * sim.Second
	var ran []sim.Time
	w.sim.At(freeze, func() { w.SetVisibility(1, Frozen) })
	w.sim.At(1200*sim.Millisecond, func() { tab.Run(func() { ran = append(ran, w.sim.Now()) }) })
	w.sim.At(1300*sim.Millisecond, func() { tab.Run(func() { ran = append(ran, -w.sim.Now()) }) })
	w.sim.RunUntil(thaw-sim.Millisecond, nil)
	assert.Equal(t, Frozen, w.Visibility(1))
	assert.Empty(t, ran, "a frozen tab runs nothing")
	w.sim.At(thaw, func() { w.SetVisibility(1, Foreground) })
	w.sim.RunUntil(6*sim.Second, nil)

	assert.Equal(t, []sim.Time{thaw + sim.Millisecond, -(thaw + 2*sim.Millisecond)}, ran,
		"at thaw the queued tasks run in order, one handler cost apart")
	ev := traceEvents(t, w, buf)
	sets := timerEvents(ev, sim.KindTimerSet, 1, raft.TimerHeartbeat, freeze, 6*sim.Second)
	require.NotEmpty(t, sets)
	assert.Equal(t, thaw+3*sim.Millisecond, sets[0],
		"the heartbeat that came due while frozen fires at thaw, after the tasks queued before it")
	assert.Len(t, sets, 10, "then every 100 ms again")
}

// A message handler that runs at thaw re-arms the election timer, so the
// fire of the old timer queued behind it does nothing (HTML clearTimeout);
// with Throttling off the host keeps its simplification and it fires.
func TestThawedFollowerDoesNotFireAClearedElectionTimer(t *testing.T) {
	run := func(opt Options) (before, after raft.Status) {
		opt.HandlerCost = 100 * sim.Microsecond
		w, _ := newTestWorld(t, opt, 18)
		w.sim.RunUntil(5*sim.Second, nil)
		leader := onlyLeader(t, w)
		follower := leader%3 + 1
		before, _ = w.Status(follower)
		w.SetVisibility(follower, Frozen)
		NewChatClient(w.Tab(leader), 1).Push(3)
		w.sim.RunUntil(15*sim.Second, nil)
		cur, _ := w.Status(follower)
		assert.Equal(t, before, cur, "frozen: the appends wait in the queue")
		w.SetVisibility(follower, Foreground)
		w.sim.RunUntil(15*sim.Second+50*sim.Millisecond, nil)
		after, _ = w.Status(follower)
		assert.GreaterOrEqual(t, after.LastIndex, before.LastIndex+3, "thawed: the queued appends are handled")
		return before, after
	}
	before, after := run(browserOptions(3))
	assert.Equal(t, before.Term, after.Term, "no election after thaw")
	opt := browserOptions(3)
	opt.Browser.Throttling = false
	before, after = run(opt)
	assert.Greater(t, after.Term, before.Term, "without the browser model the stale fire runs")
}

func TestDiscardLosesMemoryKeepsStorageAndReloads(t *testing.T) {
	opt := testOptions(3)
	opt.Raft.ElectionTimeout = 100 * sim.Millisecond
	w, buf := newTestWorld(t, opt, 19)
	w.sim.RunUntil(2*sim.Second, nil)
	leader := onlyLeader(t, w)
	follower := leader%3 + 1
	c := NewChatClient(w.Tab(leader), 1)
	c.Push(3)
	w.sim.RunUntil(3*sim.Second, nil)
	require.Equal(t, 3, w.ChatLines(follower))
	before, _ := w.Status(follower)
	stored := len(w.Tab(follower).host.Storage.Stored.Entries)
	inc := w.Tab(follower).Incarnation()
	mem := w.Tab(follower).host.SM

	at := 3 * sim.Second
	w.Discard(follower, 2*sim.Second)
	assert.Equal(t, Discarded, w.Visibility(follower))
	assert.False(t, w.Alive(follower))
	assert.Equal(t, stored, len(w.Tab(follower).host.Storage.Stored.Entries), "storage kept")
	w.SetVisibility(follower, Foreground)
	assert.Equal(t, Discarded, w.Visibility(follower), "a discarded tab waits for its reload")
	w.sim.RunUntil(at+2*sim.Second-sim.Millisecond, nil)
	assert.False(t, w.Alive(follower))
	w.sim.RunUntil(at+2*sim.Second, nil)
	require.True(t, w.Alive(follower), "reloaded after 2 s")
	assert.Equal(t, Foreground, w.Visibility(follower))
	assert.NotEqual(t, inc, w.Tab(follower).Incarnation())
	assert.NotSame(t, mem, w.Tab(follower).host.SM, "memory lost: a new state machine")
	after, _ := w.Status(follower)
	assert.Equal(t, before.LastIndex, after.LastIndex, "log reloaded from storage")
	assert.Equal(t, before.Term, after.Term)
	assert.Equal(t, 3, w.ChatLines(follower), "rebuilt from the stored log and commit index")

	details, times := faults(traceEvents(t, w, buf), follower)
	assert.Equal(t, []string{"discard", "kill", "visibility foreground ignored: discarded", "restart"}, details)
	assert.Equal(t, at+2*sim.Second, times[3])
}

func TestSetVisibilityOnAReopenedFrozenTab(t *testing.T) {
	w, _ := newTestWorld(t, testOptions(2), 20)
	w.SetVisibility(2, Frozen)
	w.Kill(2)
	assert.Equal(t, Frozen, w.Visibility(2))
	require.NoError(t, w.Restart(2))
	assert.Equal(t, Foreground, w.Visibility(2), "a reopened tab is not frozen")
	ran := false
	w.Tab(2).Run(func() { ran = true })
	w.sim.RunUntil(sim.Second, nil)
	assert.True(t, ran)
}

func visibilityLog(t *testing.T, seed uint64, p VisibilityProcess, until sim.Time) []sim.Event {
	opt := testOptions(3)
	opt.Browser.Process = p
	w, buf := newTestWorld(t, opt, seed)
	w.sim.RunUntil(until, nil)
	var out []sim.Event
	for _, e := range traceEvents(t, w, buf) {
		if e.Kind == sim.KindFault {
			out = append(out, e)
		}
	}
	return out
}

func TestVisibilityProcessIsRandomAndReproducible(t *testing.T) {
	p := VisibilityProcess{MeanForeground: 10 * sim.Second, MeanHidden: 5 * sim.Second}
	a := visibilityLog(t, 1, p, 300*sim.Second)
	for id := uint64(1); id <= 3; id++ {
		var seen []string
		for _, e := range a {
			if e.Node == id {
				seen = append(seen, e.Detail)
			}
		}
		assert.Contains(t, seen, "visibility hidden", "tab %d", id)
		assert.Contains(t, seen, "visibility foreground", "tab %d", id)
		assert.Greater(t, len(seen), 10, "tab %d switches often in 300 s", id)
	}
	// Each tab draws from its own stream "browser/<id>": tab 2's first
	// foreground sojourn is the stream's first exponential draw.
	first := sim.Time(sim.NewStream(1, "browser/2").ExpFloat64() * float64(p.MeanForeground))
	for _, e := range a {
		if e.Node == 2 {
			assert.Equal(t, first, e.Time)
			assert.Equal(t, "visibility hidden", e.Detail)
			break
		}
	}
	assert.Equal(t, a, visibilityLog(t, 1, p, 300*sim.Second), "same seed, same schedule")
	assert.NotEqual(t, a, visibilityLog(t, 2, p, 300*sim.Second), "another seed, another schedule")
	assert.Empty(t, visibilityLog(t, 1, VisibilityProcess{}, 300*sim.Second), "zero: off")
}

func TestVisibilityProcessFreezesAndDiscardsLongHiddenTabs(t *testing.T) {
	p := VisibilityProcess{
		MeanForeground:     sim.Second,
		MeanHidden:         0, // once hidden, the user never comes back
		FreezeAfterHidden:  60 * sim.Second,
		DiscardAfterHidden: 300 * sim.Second,
		ReloadAfter:        10 * sim.Second,
	}
	log := visibilityLog(t, 3, p, 400*sim.Second)
	var details []string
	var times []sim.Time
	for _, e := range log {
		if e.Node == 2 {
			details = append(details, e.Detail)
			times = append(times, e.Time)
		}
	}
	require.GreaterOrEqual(t, len(details), 6)
	assert.Equal(t, []string{"visibility hidden", "visibility frozen", "discard", "kill", "restart", "visibility hidden"}, details[:6])
	hidden := times[0]
	assert.Equal(t, hidden+60*sim.Second, times[1])
	assert.Equal(t, hidden+300*sim.Second, times[2])
	assert.Equal(t, hidden+310*sim.Second, times[4], "reloaded after ReloadAfter")
	assert.Greater(t, times[5], times[4], "and in the foreground until hidden again")
}

// A late timer re-armed as it fires (the heartbeat) drifts by its
// lateness every period, as a real event loop's does.
func TestLateTimersDriftAPeriodicHeartbeat(t *testing.T) {
	heartbeatGaps := func(lateness Latency, seed uint64) []sim.Time {
		opt := browserOptions(3)
		opt.Browser.TimerLateness = lateness
		w, buf := newTestWorld(t, opt, seed)
		w.sim.RunUntil(5*sim.Second, nil)
		leader := onlyLeader(t, w)
		return gaps(timerEvents(traceEvents(t, w, buf), sim.KindTimerFire, leader, raft.TimerHeartbeat, 3*sim.Second, 5*sim.Second))
	}
	onTime := heartbeatGaps(Latency{}, 21)
	require.NotEmpty(t, onTime)
	late := heartbeatGaps(Latency{Dist: DistConstant, Mean: sim.Millisecond}, 21)
	require.NotEmpty(t, late)
	for i := range late {
		assert.Equal(t, onTime[0]+sim.Millisecond, late[i], "every period 1 ms longer")
	}
	drawn := heartbeatGaps(Latency{Dist: DistLognormal, Mean: sim.Millisecond, Jitter: 500 * sim.Microsecond}, 21)
	for _, g := range drawn {
		assert.Greater(t, g, onTime[0], "a timer is never early")
	}
	assert.NotEqual(t, drawn[0], drawn[1], "each period draws its own lateness")
	assert.Equal(t, drawn, heartbeatGaps(Latency{Dist: DistLognormal, Mean: sim.Millisecond, Jitter: 500 * sim.Microsecond}, 21), "same seed, same draws")
}

func TestTimerLatenessIsValidated(t *testing.T) {
	o := DefaultBrowserOptions()
	o.TimerLateness = Latency{Dist: DistLognormal, Mean: -1}
	assert.ErrorContains(t, o.validate(), "timer lateness")
	o.TimerLateness = Latency{Dist: "sometimes", Mean: sim.Millisecond}
	assert.ErrorContains(t, o.validate(), "timer lateness")
}
