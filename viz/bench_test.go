package viz

import (
	"encoding/json"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
)

// synth writes a synthetic trace: a leader replicating one entry per
// round to every follower (sends, delivers, appends, replies, commits,
// applies, election timers), one message in a hundred dropped, and every
// 300 rounds a leader crash, an election and a restart: the mix of a
// real run, at any size.
type synth struct {
	enc         *json.Encoder
	nodes, left int
	t           sim.Time
	term, lead  uint64
	index       uint64
	rng         *rand.Rand
}

func (s *synth) emit(e sim.Event) {
	if s.left > 0 {
		e.Time = s.t
		s.enc.Encode(e)
		s.left--
	}
}

// round replicates one entry from the leader; down is a crashed node.
func (s *synth) round(down uint64) {
	s.index++
	s.emit(sim.Event{Kind: sim.KindAppend, Node: s.lead, Term: s.term, Index: s.index, Detail: "1"})
	for f := uint64(1); f <= uint64(s.nodes); f++ {
		if f != s.lead && f != down {
			s.emit(sim.Event{Kind: sim.KindSend, Node: s.lead, Peer: f, Term: s.term, Index: s.index, Msg: "app"})
		}
	}
	s.t += sim.Time(time.Millisecond)
	got := make([]bool, s.nodes+1)
	for f := uint64(1); f <= uint64(s.nodes); f++ {
		if f == s.lead || f == down {
			continue
		}
		if s.rng.IntN(100) == 0 {
			s.emit(sim.Event{Kind: sim.KindDrop, Node: s.lead, Peer: f, Term: s.term, Index: s.index, Msg: "app", Detail: "loss"})
			continue
		}
		got[f] = true
		s.emit(sim.Event{Kind: sim.KindDeliver, Node: f, Peer: s.lead, Term: s.term, Index: s.index, Msg: "app"})
		s.emit(sim.Event{Kind: sim.KindAppend, Node: f, Term: s.term, Index: s.index, Detail: "1"})
		s.emit(sim.Event{Kind: sim.KindTimerSet, Node: f, Msg: "election", Index: uint64(500*time.Millisecond) + s.rng.Uint64N(uint64(500*time.Millisecond))})
		s.emit(sim.Event{Kind: sim.KindSend, Node: f, Peer: s.lead, Term: s.term, Index: s.index, Msg: "app_resp"})
	}
	s.t += sim.Time(time.Millisecond)
	for f := uint64(1); f <= uint64(s.nodes); f++ {
		if got[f] {
			s.emit(sim.Event{Kind: sim.KindDeliver, Node: s.lead, Peer: f, Term: s.term, Index: s.index, Msg: "app_resp"})
		}
	}
	for f := uint64(1); f <= uint64(s.nodes); f++ {
		if f != down {
			s.emit(sim.Event{Kind: sim.KindCommit, Node: f, Term: s.term, Index: s.index})
			s.emit(sim.Event{Kind: sim.KindApply, Node: f, Term: s.term, Index: s.index})
		}
	}
	s.t += 48 * sim.Time(time.Millisecond)
}

// election: the leader crashes, the next node times out and wins, the
// old leader restarts as a follower.
func (s *synth) election() {
	old := s.lead
	s.emit(sim.Event{Kind: sim.KindFault, Detail: "kill " + itoa(old)})
	s.emit(sim.Event{Kind: sim.KindFault, Node: old, Detail: "kill"})
	s.t += 600 * sim.Time(time.Millisecond)
	s.term++
	s.lead = old%uint64(s.nodes) + 1
	c := s.lead
	s.emit(sim.Event{Kind: sim.KindTimerFire, Node: c, Msg: "election"})
	s.emit(sim.Event{Kind: sim.KindTerm, Node: c, Term: s.term})
	s.emit(sim.Event{Kind: sim.KindRole, Node: c, Term: s.term, Detail: "candidate"})
	for f := uint64(1); f <= uint64(s.nodes); f++ {
		if f != c && f != old {
			s.emit(sim.Event{Kind: sim.KindSend, Node: c, Peer: f, Term: s.term, Index: s.index, Msg: "vote"})
			s.emit(sim.Event{Kind: sim.KindDeliver, Node: f, Peer: c, Term: s.term, Index: s.index, Msg: "vote"})
			s.emit(sim.Event{Kind: sim.KindTerm, Node: f, Term: s.term})
			s.emit(sim.Event{Kind: sim.KindSend, Node: f, Peer: c, Term: s.term, Msg: "vote_resp"})
			s.emit(sim.Event{Kind: sim.KindDeliver, Node: c, Peer: f, Term: s.term, Msg: "vote_resp"})
		}
	}
	s.emit(sim.Event{Kind: sim.KindRole, Node: c, Term: s.term, Detail: "leader"})
	s.round(old)
	s.emit(sim.Event{Kind: sim.KindFault, Node: old, Detail: "restart"})
	s.emit(sim.Event{Kind: sim.KindTerm, Node: old, Term: s.term})
	s.emit(sim.Event{Kind: sim.KindRole, Node: old, Term: s.term, Detail: "follower"})
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// syntheticTrace is a synth trace of exactly events events at nodes nodes.
func syntheticTrace(t testing.TB, events, nodes int) *Trace {
	r, w := io.Pipe()
	go func() {
		s := &synth{enc: json.NewEncoder(w), nodes: nodes, left: events, term: 1, lead: 1, rng: rand.New(rand.NewPCG(1, 2))}
		for n := uint64(1); n <= uint64(nodes); n++ {
			s.emit(sim.Event{Kind: sim.KindTerm, Node: n, Term: 1})
			s.emit(sim.Event{Kind: sim.KindRole, Node: n, Term: 1, Detail: map[bool]string{true: "leader", false: "follower"}[n == 1]})
		}
		for r := 1; s.left > 0; r++ {
			if r%300 == 0 {
				s.election()
			} else {
				s.round(0)
			}
		}
		w.Close()
	}()
	tr, err := Load(r, "synthetic.jsonl")
	require.NoError(t, err)
	require.Len(t, tr.Events, events)
	return tr
}

// measureJS times, in the page, steps from the middle of the trace and
// seeks to pseudo-random positions. Each is followed by a forced layout,
// so the time includes the style and layout work the change causes (not
// painting, which happens after the script yields).
const measureJS = `(() => {
  const r = window.raftsim, E = Number(document.getElementById("event-count").textContent);
  const settle = () => document.body.getBoundingClientRect();
  r.seek(Math.floor(E / 2)); settle();
  let t0 = performance.now();
  for (let i = 0; i < 500; i++) { r.seek(r.index() + 1); settle(); }
  const step = (performance.now() - t0) / 500;
  let x = 12345;
  t0 = performance.now();
  for (let i = 0; i < 50; i++) { x = (x * 1103515245 + 12345) % 2147483648; r.seek(x % E); settle(); }
  return { step, seek: (performance.now() - t0) / 50 };
})()`

// BenchmarkPageOnAMillionEvents loads the standalone page of a synthetic
// 10^6-event trace at 41 nodes in headless Chromium and reports the time
// until the page is ready (navigation to window.raftsim.ready, as the
// test sees it; the first time, with -benchtime 1x the only one, this
// includes starting Chromium), page-ms (the page's own clock: from its
// navigation's start to ready, window.raftsim.readyMs) and the mean time
// of a step and of a seek, in ms; the live JavaScript heap once ready
// (MB, after a collection),
// and the time to write the page (write-ms).
func BenchmarkPageOnAMillionEvents(b *testing.B) {
	ctx := newBrowserFor(b, 10*time.Minute)
	tr := syntheticTrace(b, 1_000_000, 41)
	path := filepath.Join(b.TempDir(), "million.html")
	fh, err := os.Create(path)
	require.NoError(b, err)
	t0 := time.Now()
	require.NoError(b, WriteHTML(fh, tr))
	require.NoError(b, fh.Close())
	writeMs := float64(time.Since(t0)) / 1e6 // what viz --out adds to loading the trace
	b.ResetTimer()
	var ready, pageMs, step, seek, heap float64
	for i := 0; i < b.N; i++ {
		// A page of its own each time: a navigation to the same address
		// with only the fragment changed would not reload it. (The first
		// navigation also starts the browser, as it always has.)
		if i > 0 {
			require.NoError(b, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
		}
		start := time.Now()
		require.NoError(b, chromedp.Do(ctx, chromedp.Navigate("file://"+path+"#e=0")))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool]("window.raftsim !== undefined && window.raftsim.ready === true"))
		require.NoError(b, err)
		ready += float64(time.Since(start)) / 1e6
		pageMs += js[float64](b, ctx, "window.raftsim.readyMs")
		_, err = chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}) // the live heap, not what awaits collection
		require.NoError(b, err)
		heap += js[float64](b, ctx, "performance.memory.usedJSHeapSize") / 1e6
		m := js[struct{ Step, Seek float64 }](b, ctx, measureJS)
		step, seek = step+m.Step, seek+m.Seek
	}
	n := float64(b.N)
	b.ReportMetric(ready/n, "ready-ms")
	b.ReportMetric(pageMs/n, "page-ms")
	b.ReportMetric(step/n, "step-ms")
	b.ReportMetric(seek/n, "seek-ms")
	b.ReportMetric(heap/n, "heap-MB")
	b.ReportMetric(writeMs, "write-ms")
}
