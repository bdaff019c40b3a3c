package sim

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventsRunInTimeThenInsertionOrder(t *testing.T) {
	s := New(1, nil)
	var order []string
	at := func(when Time, name string) { s.At(when, func() { order = append(order, name) }) }
	at(20, "c")
	at(10, "a")
	at(20, "d")
	at(10, "b")
	at(5, "first")
	s.Run()
	assert.Equal(t, []string{"first", "a", "b", "c", "d"}, order)
	assert.Equal(t, Time(20), s.Now())
	assert.Equal(t, uint64(5), s.Events())
}

func TestPastTimesClampToNow(t *testing.T) {
	s := New(1, nil)
	var ran Time = -1
	s.At(100, func() { s.At(50, func() { ran = s.Now() }) })
	s.Run()
	assert.Equal(t, Time(100), ran)
}

func TestCancel(t *testing.T) {
	s := New(1, nil)
	ran := map[string]bool{}
	a := s.At(10, func() { ran["a"] = true })
	b := s.At(20, func() { ran["b"] = true })
	s.At(15, func() { assert.True(t, b.Cancel(), "cancelling a pending event from inside another") })
	assert.True(t, a.Pending())
	assert.True(t, a.Cancel())
	assert.False(t, a.Cancel(), "a second cancel is a no-op")
	assert.False(t, a.Pending())
	s.Run()
	assert.Empty(t, ran)
	fired := s.At(s.Now()+1, func() {})
	s.Run()
	assert.False(t, fired.Cancel(), "a fired timer cannot be cancelled")
	var nilTimer *Timer
	assert.False(t, nilTimer.Cancel())
}

func TestRunUntilStopsAtLimitConditionOrStop(t *testing.T) {
	s := New(1, nil)
	n := 0
	var tick func()
	tick = func() { n++; s.After(10, tick) }
	s.At(0, tick)

	s.RunUntil(95, nil)
	assert.Equal(t, 10, n, "events at 0..90")
	assert.Equal(t, Time(95), s.Now(), "the clock is left at the limit")

	s.RunUntil(1000, func() bool { return n == 15 })
	assert.Equal(t, 15, n)
	assert.Equal(t, Time(140), s.Now())

	s.At(s.Now()+1, func() { s.Stop() })
	s.RunUntil(1000, nil)
	assert.True(t, s.Stopped())
	assert.Less(t, s.Now(), Time(200))

	empty := New(1, nil)
	empty.RunUntil(1000, nil)
	assert.Equal(t, Time(0), empty.Now(), "an empty queue returns at once")
}

// TestQueueMatchesSortedReference schedules and cancels at random and
// checks the execution order against a sort of what was left.
func TestQueueMatchesSortedReference(t *testing.T) {
	r := NewStream(42, "test")
	for round := 0; round < 50; round++ {
		s := New(1, nil)
		type item struct {
			at  Time
			seq int
		}
		var want []item
		var got []item
		var timers []*Timer
		var items []item
		for i := 0; i < 500; i++ {
			it := item{Time(r.IntN(100)), i}
			items = append(items, it)
			timers = append(timers, s.At(it.at, func() { got = append(got, it) }))
		}
		cancelled := make([]bool, len(items))
		for i := 0; i < 200; i++ {
			k := r.IntN(len(items))
			if !cancelled[k] {
				require.True(t, timers[k].Cancel())
				cancelled[k] = true
			}
		}
		for i, it := range items {
			if !cancelled[i] {
				want = append(want, it)
			}
		}
		slices.SortStableFunc(want, func(a, b item) int { return int(a.at - b.at) })
		s.Run()
		require.Equal(t, want, got, "round %d", round)
	}
}

func TestStreams(t *testing.T) {
	draw := func(r interface{ Uint64() uint64 }, n int) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	s1, s2 := New(7, nil), New(7, nil)
	assert.Equal(t, draw(s1.Rand("net"), 10), draw(s2.Rand("net"), 10), "same seed and name, same sequence")

	// Drawing from one stream does not shift another.
	a, b := New(7, nil), New(7, nil)
	draw(a.Rand("workload"), 1000)
	assert.Equal(t, draw(a.Rand("net"), 10), draw(b.Rand("net"), 10))

	assert.NotEqual(t, draw(New(7, nil).Rand("net"), 10), draw(New(8, nil).Rand("net"), 10), "another seed")
	assert.NotEqual(t, draw(New(7, nil).Rand("net"), 10), draw(New(7, nil).Rand("faults"), 10), "another name")
	assert.Same(t, s1.Rand("x"), s1.Rand("x"), "a stream is created once")
}

func TestTimeUnits(t *testing.T) {
	assert.Equal(t, 1.5, (1500 * Millisecond).Seconds())
	assert.Equal(t, "1.5s", (1500 * Millisecond).String())
	assert.Equal(t, Minute, 60*Second)
	assert.Equal(t, Time(3), Max(2, 3))
}

func TestScheduleOrdersWithAt(t *testing.T) {
	s := New(1, nil)
	var order []string
	s.Schedule(10, func() { order = append(order, "a") })
	s.At(10, func() { order = append(order, "b") })
	s.Schedule(5, func() { order = append(order, "first") })
	s.At(10, func() { order = append(order, "c") })
	s.Schedule(10, func() { order = append(order, "d") })
	s.At(0, func() {
		s.Schedule(-1, func() { order = append(order, "clamped") }) // clamps to now
	})
	s.Run()
	assert.Equal(t, []string{"clamped", "first", "a", "b", "c", "d"}, order)
}

func TestArgEventsOrderWithAtAndCancel(t *testing.T) {
	s := New(1, nil)
	var order []uint64
	note := func(arg uint64) { order = append(order, arg) }
	s.At(10, func() { note(1) })
	s.ScheduleArg(10, note, 2)
	gone := s.AtArg(10, note, 99)
	s.AtArg(5, note, 0)
	s.Schedule(10, func() { note(3) })
	kept := s.AtArg(10, note, 4)
	s.ScheduleArg(-1, func(arg uint64) { s.ScheduleArg(0, note, arg) }, 5) // both clamp to now
	assert.True(t, gone.Pending())
	assert.True(t, gone.Cancel())
	assert.False(t, gone.Pending())
	s.Run()
	assert.Equal(t, []uint64{5, 0, 1, 2, 3, 4}, order)
	assert.False(t, kept.Pending())
	assert.False(t, kept.Cancel(), "a fired event cannot be cancelled")
	assert.Equal(t, uint64(7), s.Events())
}

func TestArgEventsAllocateNothing(t *testing.T) {
	s := New(1, nil)
	fn := func(uint64) {}
	s.AtArg(0, fn, 0) // the first slab
	allocs := testing.AllocsPerRun(100, func() {
		s.ScheduleArg(1, fn, 1)
		s.AtArg(2, fn, 2).Cancel()
		s.Run()
	})
	assert.Less(t, allocs, 0.1, "only the handles' slabs, one in %d events", timerSlab)
}

func TestStaleTimerCannotCancelALaterEvent(t *testing.T) {
	s := New(1, nil)
	old := s.At(1, func() {})
	s.Run()
	ran := false
	fresh := s.At(2, func() { ran = true }) // may reuse the old event's storage
	assert.False(t, old.Pending())
	assert.False(t, old.Cancel())
	assert.True(t, fresh.Pending())
	s.Run()
	assert.True(t, ran)
	var zero Timer
	assert.False(t, zero.Pending())
	assert.False(t, zero.Cancel())
}

// TestQueueMatchesReferenceWhileRunning schedules (with and without a
// handle) and cancels from inside events, and checks every step against a
// plain sorted list.
func TestQueueMatchesReferenceWhileRunning(t *testing.T) {
	r := NewStream(7, "test")
	type item struct {
		at  Time
		seq int
	}
	s := New(1, nil)
	var pending []item // the reference: what should still run
	timers := map[int]*Timer{}
	seq := 0
	var got, want []item
	var schedule func(at Time)
	schedule = func(at Time) {
		seq++
		it := item{at, seq}
		pending = append(pending, it)
		fn := func() {
			got = append(got, it)
			// The reference's first pending item is what must have run.
			slices.SortStableFunc(pending, func(a, b item) int { return cmpItems(a.at, b.at, a.seq, b.seq) })
			want = append(want, pending[0])
			pending = pending[1:]
			delete(timers, it.seq)
			for range 1 + r.IntN(2) {
				schedule(s.Now() + Time(r.IntN(50)))
			}
			if r.IntN(4) == 0 && len(timers) > 0 {
				// Cancel a pending timer, picked at random in seq order.
				keys := slices.Sorted(maps.Keys(timers))
				k := keys[r.IntN(len(keys))]
				require.True(t, timers[k].Cancel())
				delete(timers, k)
				pending = slices.DeleteFunc(pending, func(p item) bool { return p.seq == k })
			}
		}
		if r.IntN(2) == 0 {
			s.Schedule(at, fn)
		} else {
			timers[it.seq] = s.At(at, fn)
		}
	}
	for range 200 {
		schedule(Time(r.IntN(100)))
	}
	for s.Events() < 5000 && s.Step() {
		require.Equal(t, len(pending), s.Pending())
	}
	require.Equal(t, want, got)
	require.Greater(t, len(got), 1000)
}

func cmpItems(a, b Time, sa, sb int) int {
	if a != b {
		if a < b {
			return -1
		}
		return 1
	}
	return sa - sb
}

func TestScheduleArgReusesRunEvents(t *testing.T) {
	s := New(1, nil)
	var got []uint64
	var next func(uint64)
	next = func(arg uint64) {
		got = append(got, arg)
		if arg < 3*timerSlab {
			s.ScheduleArg(s.Now()+1, next, arg+1)
		}
	}
	s.ScheduleArg(0, next, 1)
	s.Run()
	require.Len(t, got, 3*timerSlab)
	for i, arg := range got {
		assert.Equal(t, uint64(i+1), arg, "each event ran once, with its own argument")
	}
	assert.Len(t, s.argEvs, timerSlab-1, "a chain of events reuses one handle")
}
