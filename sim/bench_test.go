package sim

import (
	"testing"
)

// BenchmarkTimerEvents: each event schedules the next, as a timer loop does.
func BenchmarkTimerEvents(b *testing.B) {
	s := New(1, nil)
	const loops = 64
	for i := range loops {
		var tick func()
		tick = func() { s.After(Millisecond, tick) }
		s.At(Time(i), tick)
	}
	b.ResetTimer()
	for range b.N {
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkArgEvents: BenchmarkTimerEvents with AtArg, the callback bound
// once and the loop's number passed as the argument.
func BenchmarkArgEvents(b *testing.B) {
	s := New(1, nil)
	const loops = 64
	var tick func(uint64)
	tick = func(i uint64) { s.AtArg(s.Now()+Millisecond, tick, i) }
	for i := range loops {
		s.AtArg(Time(i), tick, uint64(i))
	}
	b.ResetTimer()
	for range b.N {
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMessageEvents: a ring of nodes passing messages with latency
// drawn from a stream, every event traced (hashed, not written).
func BenchmarkMessageEvents(b *testing.B) {
	s := New(1, NewTrace(nil))
	r := s.Rand("net")
	const nodes = 41
	var deliver func(to uint64)
	deliver = func(to uint64) {
		s.Trace().Record(Event{Time: s.Now(), Kind: KindDeliver, Node: to, Msg: "app"})
		next := to%nodes + 1
		s.After(Time(100_000+r.Int64N(50_000)), func() { deliver(next) })
	}
	for i := uint64(1); i <= nodes; i++ {
		s.At(0, func() { deliver(i) })
	}
	b.ResetTimer()
	for range b.N {
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkCancel: schedule and cancel, as re-armed election timers do.
func BenchmarkCancel(b *testing.B) {
	s := New(1, nil)
	for i := range 1000 {
		s.At(Time(i), func() {})
	}
	for i := range b.N {
		t := s.At(Time(i%1000), func() {})
		t.Cancel()
	}
}

// BenchmarkTraceRecord: hashing one typical event with no writer.
func BenchmarkTraceRecord(b *testing.B) {
	tr := NewTrace(nil)
	e := Event{Time: 12345, Kind: KindSend, Node: 3, Peer: 7, Term: 2, Index: 40, Msg: "app_resp"}
	for range b.N {
		e.Time++
		tr.Record(e)
	}
}

// BenchmarkBusyQueue: message events over a queue that also holds a few
// thousand long timers, as connection set-up and election timers leave
// pending in a 41-node run; one event in four re-arms a timer.
func BenchmarkBusyQueue(b *testing.B) {
	s := New(1, nil)
	r := s.Rand("net")
	const nodes, timers = 41, 4096
	armed := make([]*Timer, timers)
	for i := range armed {
		armed[i] = s.At(30*Second+Time(r.Int64N(int64(Second))), func() {})
	}
	var deliver func(to uint64)
	deliver = func(to uint64) {
		if to%4 == 0 {
			k := r.IntN(timers)
			armed[k].Cancel()
			armed[k] = s.After(30*Second+Time(r.Int64N(int64(Second))), func() {})
		}
		next := to%nodes + 1
		s.Schedule(s.Now()+Time(100_000+r.Int64N(50_000)), func() { deliver(next) })
	}
	for i := uint64(1); i <= nodes; i++ {
		s.Schedule(0, func() { deliver(i) })
	}
	b.ResetTimer()
	for range b.N {
		s.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
