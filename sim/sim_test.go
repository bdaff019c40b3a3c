package sim

import (
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
