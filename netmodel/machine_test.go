package netmodel

import (
	"math"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestACrowdedMachineSlowsEveryTabsWorkByTheExcessLoad(t *testing.T) {
	opt := testOptions(8)
	opt.HandlerCost = sim.Millisecond
	opt.Machine = MachineOptions{Cores: 2, TabLoad: 0.5}
	w, _ := newTestWorld(t, opt, 1)
	assert.Equal(t, 2.0, w.CPUSlowdown(), "8 tabs at half a core on 2 cores: twice the load the cores carry")
	assert.Equal(t, 2*sim.Millisecond, w.cpuTime(opt.HandlerCost))
	for id := 1; id <= 5; id++ {
		w.Kill(raft.ID(id))
	}
	assert.Equal(t, 1.0, w.CPUSlowdown(), "3 tabs fit on 2 cores: no slowdown")
	require.NoError(t, w.Restart(1))
	assert.Equal(t, 1.0, w.CPUSlowdown())
	assert.Equal(t, 4, w.live)
}

func TestAMachineOfItsOwnPerTabIsTheDefault(t *testing.T) {
	w, _ := newTestWorld(t, testOptions(40), 1)
	assert.Equal(t, 1.0, w.CPUSlowdown())
}

func TestMachineOptionsRefuseNonsense(t *testing.T) {
	for _, o := range []MachineOptions{{Cores: -1}, {Cores: 8, TabLoad: -0.1}, {Cores: 8, TabLoad: 1.5}, {Cores: 8, TabLoad: math.NaN()},
		{CPUScale: -1}, {CPUScale: 11}, {CPUScale: math.NaN()}, {CPUScale: math.Inf(1)}} {
		assert.Error(t, o.validate(), "%+v", o)
	}
	assert.NoError(t, (&MachineOptions{Cores: 8, TabLoad: 0.5}).validate())
}

// scheduledWorld is a world of n idle tabs on a machine of cores cores
// whose pages take turns, each task costing 1 ms and each turn 2 ms more.
func scheduledWorld(t *testing.T, n, cores int) *World {
	opt := testOptions(n)
	opt.HandlerCost = sim.Millisecond
	opt.Machine = MachineOptions{Cores: cores, WakeCost: 2 * sim.Millisecond}
	w, _ := newTestWorld(t, opt, 1)
	w.sim.RunUntil(sim.Second, nil) // the start-up's work done
	return w
}

func TestPagesWokenTogetherTakeTurnsOnTheCores(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cores int
		want  []sim.Time // when each tab's task ended, after 1 s
	}{
		{"two cores serve six pages two at a time", 2, []sim.Time{1, 1, 4, 4, 7, 7}},
		{"three cores, three at a time", 3, []sim.Time{1, 1, 1, 4, 4, 4}},
		{"a core each: no page waits", 6, []sim.Time{1, 1, 1, 1, 1, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := scheduledWorld(t, 6, tt.cores)
			ran := make([]sim.Time, 6)
			w.sim.At(sim.Second, func() {
				for id := 1; id <= 6; id++ {
					w.Tab(raft.ID(id)).Run(func() { ran[id-1] = (w.sim.Now() - sim.Second) / sim.Millisecond })
				}
			})
			w.sim.RunUntil(2*sim.Second, nil)
			assert.Equal(t, tt.want, ran, "in the order they became ready: a task takes 1 ms, and its core is free 2 ms after")
		})
	}
}

func TestWorkArrivingDuringATurnRunsInThatTurn(t *testing.T) {
	w := scheduledWorld(t, 3, 1)
	var ran []sim.Time
	at := func() { ran = append(ran, (w.sim.Now()-sim.Second)/sim.Millisecond) }
	tab := w.Tab(1)
	w.sim.At(sim.Second, func() {
		tab.Run(func() { at(); tab.Run(at) }) // more work for the same page
		w.Tab(2).Run(at)
	})
	w.sim.RunUntil(2*sim.Second, nil)
	assert.Equal(t, []sim.Time{1, 2, 5}, ran, "page 1 runs both tasks in one turn; page 2 gets the core 2 ms after that turn")
}

func TestAClosedOrFrozenPageGivesUpItsCore(t *testing.T) {
	// Page 1 has three tasks, page 2 one, and one core; page 1 leaves
	// while its second task runs (a task under way ends first when a page
	// freezes). Either way the core goes to page 2 2 ms after page 1's
	// task would have ended, not when page 1's queue would have.
	for _, tt := range []struct {
		name   string
		leave  func(w *World)
		page1s int // page 1's tasks that ran by the end
	}{
		{"closed", func(w *World) { w.Kill(1) }, 1},
		{"frozen, and thawed at 100 ms", func(w *World) {
			w.SetVisibility(1, Frozen)
			w.sim.After(100*sim.Millisecond, func() { w.SetVisibility(1, Foreground) })
		}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := scheduledWorld(t, 2, 1)
			var ran []sim.Time
			page1 := 0
			tab := w.Tab(1)
			w.sim.At(sim.Second, func() {
				for range 3 {
					tab.Run(func() { page1++ })
				}
				w.Tab(2).Run(func() { ran = append(ran, (w.sim.Now()-sim.Second)/sim.Millisecond) })
			})
			w.sim.At(sim.Second+sim.Millisecond+sim.Millisecond/2, func() { tt.leave(w) })
			w.sim.RunUntil(2*sim.Second, nil)
			assert.Equal(t, tt.page1s, page1)
			assert.Equal(t, []sim.Time{5}, ran, "page 2 ran on the core freed 2 ms after page 1's second task was due")
			assert.Equal(t, 1, w.machine.free, "the core is free again")
			assert.Equal(t, len(w.machine.waiting), w.machine.next, "no page waits")
		})
	}
}

func TestAScheduledMachineTracesADeliveryWhenThePageRunsIt(t *testing.T) {
	opt := testOptions(3)
	opt.HandlerCost = sim.Millisecond
	opt.Machine = MachineOptions{Cores: 1, WakeCost: 2 * sim.Millisecond}
	w, buf := newTestWorld(t, opt, 1)
	w.sim.At(sim.Second, func() {
		w.send(probe(1, 2, 1))
		w.send(probe(1, 3, 2))
	})
	w.sim.RunUntil(2*sim.Second, nil)
	got, _ := deliveries(t, w, buf)
	arrive := sim.Second + 10*sim.Millisecond // the test profile's path
	assert.Equal(t, []arrival{{1, arrive + sim.Millisecond}, {2, arrive + 4*sim.Millisecond}}, got,
		"both arrive together; page 3 runs its message after page 2's turn and the core's 2 ms")
	require.NoError(t, w.Sim().Trace().Flush())
	events, err := sim.ReadTrace(strings.NewReader(buf.String()))
	require.NoError(t, err)
	var details []string
	for _, e := range events {
		if e.Kind == sim.KindDeliver && e.Msg == "vote_resp" {
			details = append(details, e.Detail)
			if e.Detail != "" {
				assert.Equal(t, arrive, e.Rx, "it reached the page when it arrived")
			}
		}
	}
	assert.Equal(t, []string{"", "waited for the page's thread"}, details)
}

func TestAScheduledMachineNeedsCores(t *testing.T) {
	assert.ErrorContains(t, (&MachineOptions{WakeCost: sim.Millisecond}).validate(), "needs cores")
	assert.Error(t, (&MachineOptions{Cores: 2, WakeCost: -1}).validate())
	assert.Error(t, (&MachineOptions{Cores: 2, WakeCost: 11 * sim.Second}).validate())
	assert.NoError(t, (&MachineOptions{Cores: 2, WakeCost: sim.Millisecond}).validate())
}

func TestABatchHoldsThePageAfterItsSendsLeft(t *testing.T) {
	opt := testOptions(3)
	opt.HandlerCost = sim.Millisecond
	opt.BatchCost = 5 * sim.Millisecond
	testABatchHoldsThePage(t, opt)
}

// On a machine twice as slow as the one the costs were measured on
// (CPUScale 2), the same work takes twice as long.
func TestASlowerMachineStretchesEveryCPUTime(t *testing.T) {
	opt := testOptions(3)
	opt.HandlerCost = sim.Millisecond / 2
	opt.BatchCost = 5 * sim.Millisecond / 2
	opt.Machine.CPUScale = 2
	testABatchHoldsThePage(t, opt)
}

// testABatchHoldsThePage checks what a task that takes 1 ms and a batch
// that takes 5 ms do to the page's next tasks and its sends.
func testABatchHoldsThePage(t *testing.T, opt Options) {
	t.Helper()
	w, buf := newTestWorld(t, opt, 1)
	w.sim.RunUntil(3000*sim.Second, nil) // an election, then quiet: heartbeats 200 s apart
	lead := onlyLeader(t, w)
	idle := lead%3 + 1
	at := w.sim.Now()/sim.Second*sim.Second + sim.Second
	var leaderNext, idleNext sim.Time
	w.sim.At(at, func() {
		l, f := w.Tab(lead), w.Tab(idle)
		l.Run(func() {
			l.Submit(app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 1, Seq: 1}, func(app.Result) {})
		})
		l.Run(func() { leaderNext = w.sim.Now() - at })
		f.Run(func() {}) // nothing for Raft: no batch
		f.Run(func() { idleNext = w.sim.Now() - at })
	})
	w.sim.RunUntil(at+sim.Second, nil)
	assert.Equal(t, 7*sim.Millisecond, leaderNext, "the proposal's task (1 ms), its batch (5 ms), then the next task (1 ms)")
	assert.Equal(t, 2*sim.Millisecond, idleNext, "a task without a batch costs its handler alone")
	var appends []sim.Time
	for _, e := range traceEvents(t, w, buf) {
		if e.Kind == sim.KindSend && e.Node == uint64(lead) && e.Time > at && e.Time < at+10*sim.Millisecond { // before any acknowledgement
			appends = append(appends, e.Time-at)
		}
	}
	assert.Equal(t, []sim.Time{sim.Millisecond, sim.Millisecond}, appends, "the appends left when the task ended, before the batch's cost")
}

func TestABatchHoldsTheCoreOnAScheduledMachine(t *testing.T) {
	opt := testOptions(3)
	opt.HandlerCost = sim.Millisecond
	opt.BatchCost = 5 * sim.Millisecond
	opt.Machine = MachineOptions{Cores: 1, WakeCost: 2 * sim.Millisecond}
	w, _ := newTestWorld(t, opt, 1)
	w.sim.RunUntil(3000*sim.Second, nil)
	lead := onlyLeader(t, w)
	other := lead%3 + 1
	at := w.sim.Now()/sim.Second*sim.Second + sim.Second
	var otherRan sim.Time
	w.sim.At(at, func() {
		l, o := w.Tab(lead), w.Tab(other)
		l.Run(func() {
			l.Submit(app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 1, Seq: 1}, func(app.Result) {})
		})
		o.Run(func() { otherRan = w.sim.Now() - at })
	})
	w.sim.RunUntil(at+sim.Second, nil)
	assert.Equal(t, 9*sim.Millisecond, otherRan,
		"the one core: the leader's task (1 ms) and its batch (5 ms), the turn's 2 ms, then the other page's task (1 ms)")
}

func TestAPagesFirstMessagesPayTheirWarmupCosts(t *testing.T) {
	opt := testOptions(3)
	opt.HandlerCost = sim.Millisecond
	opt.WarmupCosts = []sim.Time{5 * sim.Millisecond, 2 * sim.Millisecond}
	w, _ := newTestWorld(t, opt, 1)
	w.sim.RunUntil(3000*sim.Second, nil) // warm: an election and a few heartbeats
	id := onlyLeader(t, w)%3 + 1
	// twoMessages hands the tab two messages, each followed by a mark,
	// and returns when the marks ran after at (ms).
	twoMessages := func(at sim.Time) []sim.Time {
		var ran []sim.Time
		w.sim.At(at, func() {
			tab := w.Tab(id)
			for i := uint64(1); i <= 2; i++ {
				tab.deliver(probe(1, id, i), late{})
				tab.Run(func() { ran = append(ran, (w.sim.Now()-at)/sim.Millisecond) })
			}
		})
		w.sim.RunUntil(at+sim.Second, nil)
		return ran
	}
	next := func() sim.Time { return w.sim.Now()/sim.Second*sim.Second + sim.Second }
	assert.Equal(t, []sim.Time{2, 4}, twoMessages(next()), "a warm page: 1 ms a task")
	w.Kill(id)
	require.NoError(t, w.Restart(id))
	assert.Equal(t, []sim.Time{7, 11}, twoMessages(next()),
		"restarted, cold: the first message 1+5 ms, its mark 1, the second 1+2, its mark 1 more")
	assert.Equal(t, []sim.Time{2, 4}, twoMessages(next()), "warm again")
}

// The pages start Raft together: with a core each, each is ready after
// its start cost; with 9 pages on 2 cores they share them, and all are
// ready after 9/2 start costs, as a kernel sharing busy threads evenly
// has them. No Raft runs before: no timer is set, and the paper's first
// server takes its first term only then.
func TestPagesStartingTogetherShareTheCores(t *testing.T) {
	tests := []struct {
		name      string
		startCost sim.Time
		cores     int
		cpuScale  float64
		want      sim.Time // when the pages have started
	}{
		{"no start cost", 0, 0, 0, 0},
		{"a core each", 4 * sim.Millisecond, 0, 0, 4 * sim.Millisecond},
		{"nine pages on two cores", 4 * sim.Millisecond, 2, 0, 18 * sim.Millisecond},
		{"nine pages on two cores of a machine 1.5 times slower", 4 * sim.Millisecond, 2, 1.5, 27 * sim.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(9)
			opt.Bootstrap = BootstrapPaper
			opt.StartCost = tt.startCost
			if tt.cores > 0 {
				opt.Machine = MachineOptions{Cores: tt.cores, WakeCost: sim.Microsecond}
			}
			opt.Machine.CPUScale = tt.cpuScale
			w, buf := newTestWorld(t, opt, 1)
			w.sim.RunUntil(sim.Second, nil)
			timersSet, campaign := sim.Time(-1), sim.Time(-1)
			for _, e := range traceEvents(t, w, buf) {
				switch {
				case e.Kind == sim.KindTimerSet && timersSet < 0:
					timersSet = e.Time
				case e.Kind == sim.KindTerm && e.Node == 1 && campaign < 0:
					campaign = e.Time
				}
			}
			assert.Equal(t, tt.want, timersSet, "the first Raft timer is set once the pages have started")
			assert.Equal(t, tt.want, campaign, "tab 1, alone in its configuration, leads as its Raft starts")
		})
	}
}

// A page closed while the pages start Raft has no start to finish, and
// one closed and reopened meanwhile started again as it reloaded: the
// start's end runs neither (found by the swarm: it ran a closed tab's
// Raft and panicked). With the paper's bootstrap, a closed first server
// does not campaign either.
func TestATabClosedWhileThePagesStartIsNotStartedAgain(t *testing.T) {
	for _, bootstrap := range []Bootstrap{BootstrapStatic, BootstrapPaper} {
		t.Run(string(bootstrap), func(t *testing.T) {
			opt := testOptions(5)
			opt.Bootstrap = bootstrap
			opt.Raft.ElectionTimeout = 300 * sim.Millisecond
			opt.StartCost = 20 * sim.Millisecond
			w, buf := newTestWorld(t, opt, 1)
			w.sim.RunUntil(sim.Millisecond, nil)
			w.Kill(1)
			w.Kill(2)
			require.NoError(t, w.Restart(2))
			w.sim.RunUntil(5*sim.Second, nil)
			assert.False(t, w.Alive(1), "the closed tab stays closed")
			for _, e := range traceEvents(t, w, buf) {
				if e.Node == 1 {
					assert.NotEqual(t, sim.KindTerm, e.Kind, "the closed first tab never campaigns: %+v", e)
				}
			}
			if bootstrap == BootstrapStatic {
				lead := onlyLeader(t, w)
				assert.NotEqual(t, raft.ID(1), lead)
				st, ok := w.Status(2)
				require.True(t, ok, "the reopened tab is open")
				assert.Equal(t, lead, st.Lead, "the reopened tab follows the leader")
			}
		})
	}
}

// A batch's sends cost the page their time (Options.SendCost), and the
// host arms the batch's timers after its sends: a leader's heartbeat,
// re-armed as it fires and sent to every follower, runs a send's cost
// per follower late each period, and the page is busy for as long.
func TestABatchsSendsDelayItsTimersAndHoldThePage(t *testing.T) {
	for _, tt := range []struct {
		name     string
		nodes    int
		sendCost sim.Time
		cpuScale float64
	}{
		{"no cost", 5, 0, 0},
		{"3 followers", 4, sim.Millisecond, 0},
		{"4 followers", 5, sim.Millisecond, 0},
		{"4 followers on a machine twice as slow", 5, sim.Millisecond / 2, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opt := testOptions(tt.nodes)
			opt.Raft.ElectionTimeout = sim.Second
			opt.SendCost = tt.sendCost
			opt.Machine.CPUScale = tt.cpuScale
			w, buf := newTestWorld(t, opt, 1)
			w.sim.RunUntil(10*sim.Second, nil)
			lead := onlyLeader(t, w)
			perBatch := sim.Time(tt.nodes-1) * sim.Millisecond
			if tt.sendCost == 0 {
				perBatch = 0
			}
			periods := sim.TimerPeriods(traceEvents(t, w, buf), "heartbeat")
			require.NotEmpty(t, periods)
			for _, p := range periods {
				require.Equal(t, uint64(lead), p.Node)
				assert.Equal(t, perBatch, p.Late+p.Work, "a period's excess is its broadcast's sends")
			}
			var next sim.Time
			at := w.sim.Now()
			w.sim.At(at, func() {
				l := w.Tab(lead)
				l.host.Raft.Fire(raft.TimerHeartbeat)
				l.process()
				l.Run(func() { next = w.sim.Now() - at })
			})
			w.sim.RunUntil(at+sim.Second, nil)
			assert.Equal(t, perBatch, next, "the page's next task waits for the sends")
		})
	}
}
