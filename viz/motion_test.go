package viz

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The timeline under the controls is scaled by time: an axis with
// labels, marks for leader changes and faults with tooltips that seek on
// click, measures as bars from start to end.
func TestTimelineIsTimeScaled(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	labels := js[[]string](t, ctx, `[...document.querySelectorAll("#timeline .tl-label")].map((e) => e.textContent)`)
	require.Greater(t, len(labels), 3)
	assert.Equal(t, "0.0 s", labels[0])

	var bars []struct {
		Title    string
		X, Width float64
	}
	bars = js[[]struct {
		Title    string
		X, Width float64
	}](t, ctx, `[...document.querySelectorAll("#timeline .tl-measure")].map((e) => ({ title: e.querySelector("title").textContent, x: +e.getAttribute("x"), width: +e.getAttribute("width") }))`)
	width := js[float64](t, ctx, `document.getElementById("timeline").viewBox.baseVal.width`)
	var measures [][8]int64
	for _, e := range tr.Events {
		if kindOf(tr, e) == "measure" {
			measures = append(measures, e)
		}
	}
	require.Len(t, bars, len(measures))
	for i, e := range measures {
		scale := (width - 1) / float64(tr.End-tr.Events[0][0])
		assert.Contains(t, bars[i].Title, "measure "+tr.Strings[e[6]])
		assert.InDelta(t, float64(e[0]-e[5]-tr.Events[0][0])*scale, bars[i].X, 1, "a bar starts at t - idx")
		assert.InDelta(t, float64(e[5])*scale, bars[i].Width, 1, "a bar lasts idx")
	}

	kill := js[string](t, ctx, `document.querySelector("#timeline .tl-fault title").textContent`)
	assert.Contains(t, kill, "fault cluster kill 1 3", "the tooltip")
	leader := js[string](t, ctx, `document.querySelector("#timeline .tl-leader title").textContent`)
	assert.Contains(t, leader, "role n1 term 2 leader")
	i := js[int](t, ctx, `+document.querySelector("#timeline .tl-fault").dataset.i`)
	p := js[struct{ X, Y float64 }](t, ctx, `(() => { const r = document.querySelector("#timeline .tl-fault").getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`)
	require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)))
	assert.Equal(t, i+1, js[int](t, ctx, "window.raftsim.index()"), "a click on a mark seeks to its event")
	assert.Equal(t, "fault", kindOf(tr, tr.Events[i]))

	// A click elsewhere seeks to the time clicked.
	p = js[struct{ X, Y float64 }](t, ctx, `(() => { const r = document.getElementById("timeline").getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.bottom - 3 }; })()`)
	require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)))
	clock := js[float64](t, ctx, "window.raftsim.clock()")
	assert.InDelta(t, float64(tr.End)/2, clock, float64(tr.End)/200)
	n := 0
	for n < len(tr.Events) && float64(tr.Events[n][0]) <= clock {
		n++
	}
	assert.Equal(t, n, js[int](t, ctx, "window.raftsim.index()"))
}

// dot is where the ring draws the message whose tooltip starts with
// title, or nil.
func dot(t *testing.T, ctx context.Context, title string) *struct{ X, Y float64 } {
	t.Helper()
	return js[*struct{ X, Y float64 }](t, ctx, `(() => { const c = [...document.querySelectorAll("#ring circle.msg")].find((c) => c.querySelector("title").textContent.startsWith(`+
		strconv.Quote(title)+`)); return c ? { x: +c.getAttribute("cx"), y: +c.getAttribute("cy") } : null; })()`)
}

// slowMessage is a delivered message of the golden trace that takes a
// while and has no event during its first half: its send, deliver and
// the ring tooltip of its dot.
func slowMessage(t *testing.T, tr *Trace) (send, deliver int, title string) {
	end, _ := pairs(tr)
	for i, e := range tr.Events {
		j := end[i]
		if kindOf(tr, e) != "send" || j < 0 || kindOf(tr, tr.Events[j]) != "deliver" || e[2] == e[3] {
			continue
		}
		if half := (e[0] + tr.Events[j][0]) / 2; tr.Events[j][0]-e[0] > 100_000 && tr.Events[i+1][0] > half {
			return i, j, fmt.Sprintf("%s %d→%d term %d index %d", tr.Strings[e[6]], e[2], e[3], e[4], e[5])
		}
	}
	t.Fatal("no slow message")
	return
}

// Between events the ring is drawn at the playback clock: a message's
// dot moves from sender to receiver, so two moments between the same
// events differ.
func TestRingIsDrawnAtThePlaybackClock(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	s, d, title := slowMessage(t, tr)
	ts, td := tr.Events[s][0], tr.Events[d][0]
	js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(s+1)+")")
	start := dot(t, ctx, title)
	require.NotNil(t, start, "%s in flight", title)
	var seen []struct{ X, Y float64 }
	for _, f := range []float64{0.25, 0.5} {
		at := ts + int64(f*float64(td-ts))
		assert.Equal(t, s+1, js[int](t, ctx, "window.raftsim.seekTime("+strconv.FormatInt(at, 10)+")"), "no event passed")
		assert.Equal(t, float64(at), js[float64](t, ctx, "window.raftsim.clock()"))
		p := dot(t, ctx, title)
		require.NotNil(t, p)
		seen = append(seen, *p)
	}
	moved := func(a, b struct{ X, Y float64 }) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }
	assert.Greater(t, moved(*start, seen[0]), 1.0, "a quarter of the way")
	assert.InDelta(t, 2*moved(*start, seen[0]), moved(*start, seen[1]), 1, "half way: twice as far")
	assert.Equal(t, fmt.Sprintf("%.6f", float64(ts+(td-ts)/2)/1e9), js[string](t, ctx, `document.getElementById("time").textContent`), "the clock shown")
}

// Playback advances the clock between events, at speeds down to
// 0.001x: pausing mid-flight shows the message partway.
func TestPlaybackMovesBetweenEvents(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	speeds := js[[]string](t, ctx, `[...document.querySelectorAll("#speed option")].map((o) => o.textContent)`)
	assert.Equal(t, "0.001x", speeds[0])
	s, d, title := slowMessage(t, tr)
	ts, td := tr.Events[s][0], tr.Events[d][0]
	js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(s+1)+")")
	start := dot(t, ctx, title)
	require.NotNil(t, start)
	js[bool](t, ctx, `(() => { const sp = document.getElementById("speed"); sp.value = "0"; sp.dispatchEvent(new Event("change")); document.getElementById("play").click(); return true; })()`)
	// Pause as soon as the clock has left the send, in the same task.
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.raftsim.clock() > `+strconv.FormatInt(ts, 10)+` && (document.getElementById("play").click(), true)`,
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err)
	clock := js[float64](t, ctx, "window.raftsim.clock()")
	require.Less(t, clock, float64(td), "paused before the deliver")
	assert.Equal(t, "play", js[string](t, ctx, `document.getElementById("play").textContent`))
	p := dot(t, ctx, title)
	require.NotNil(t, p)
	assert.NotEqual(t, *start, *p, "the dot moved between events")
}

// Every lost message leaves a cross on the ring, with its reason; the
// legend names the browser states, which the ring and the diagram's
// lanes show as the trace's fault events set them.
func TestLostMessagesAndBrowserStates(t *testing.T) {
	tr := loadFile(t, "testdata/browser.jsonl")
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	legend := js[string](t, ctx, `document.getElementById("legend").textContent`)
	for _, s := range []string{"not yet joined", "closed", "hidden", "frozen", "discarded", "reloading", "lost message"} {
		assert.Contains(t, legend, s)
	}
	class := func(n int) string {
		return js[string](t, ctx, `document.querySelector('#ring .node[data-id="`+strconv.Itoa(n)+`"]').getAttribute("class")`)
	}
	for pos, want := range map[int][4]string{
		6: {"", "", "", "unjoined"}, 7: {"", "hidden", "", "unjoined"}, 8: {"", "frozen", "", "unjoined"},
		9: {"", "frozen", "discarded", "unjoined"}, 11: {"", "frozen", "discarded", "unjoined"}, 12: {"", "frozen", "reloading", "unjoined"},
		13: {"", "frozen", "", "unjoined"}, 14: {"", "", "", "unjoined"}, 15: {"closed", "", "", "unjoined"}, 18: {"closed", "", "", ""},
	} {
		js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(pos)+")")
		for n, st := range want {
			c := strings.Fields(class(n + 1))
			for _, s := range []string{"closed", "hidden", "frozen", "discarded", "reloading", "unjoined"} {
				assert.Equal(t, s == st, contains(c, s), "node %d after %d events: class %v, want %q", n+1, pos, c, st)
			}
		}
	}
	js[int](t, ctx, "window.raftsim.seek(17)")
	lost := js[[]string](t, ctx, `[...document.querySelectorAll("#ring .drop.lost title")].map((e) => e.textContent)`)
	require.Len(t, lost, 1, "the lost vote, after its drop")
	assert.Contains(t, lost[0], "vote 2→4: not connected")
	assert.Equal(t, 1, diagram(t, ctx).Drops)

	// The lanes are shaded by state: node 3's lane while discarded.
	// Between the kill (event 9, at 300 ms) and the next fault (350 ms),
	// away from their labels.
	js[[]float64](t, ctx, "window.raftsim.diagramView(290e6, 410e6)")
	color := js[string](t, ctx, `(() => { const p = window.raftsim.diagramPoint(9), q = window.raftsim.diagramPoint(10), c = document.getElementById("st-canvas"), r = c.getBoundingClientRect();
	  const d = c.getContext("2d").getImageData(Math.round((p.x + q.x) / 2 - r.left), Math.round(p.y - r.top) + 3, 1, 1).data; return d[0] + "," + d[1] + "," + d[2]; })()`)
	assert.Equal(t, "215,196,232", color, "the discarded colour (#d7c4e8)")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A frame that comes late, as on a stalled machine, moves playback on by
// at most 50 ms of real time: playback never leaps over events (CI once
// saw a paused clock already past the deliver it was to stop before).
func TestPlaybackDoesNotLeapAfterAStall(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	s, _, _ := slowMessage(t, tr)
	ts := tr.Events[s][0]
	js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(s+1)+")")
	js[bool](t, ctx, `(() => { const sp = document.getElementById("speed"); sp.value = "0"; sp.dispatchEvent(new Event("change")); document.getElementById("play").click(); return true; })()`)
	// The page's thread is busy for 1.5 s: its next frame comes that
	// late; then 200 ms of frames as usual.
	js[bool](t, ctx, `(() => { const t0 = performance.now(); while (performance.now() - t0 < 1500) {} return true; })()`)
	time.Sleep(200 * time.Millisecond)
	js[bool](t, ctx, `(document.getElementById("play").click(), true)`)
	moved := time.Duration(js[float64](t, ctx, "window.raftsim.clock()") - float64(ts))
	assert.Less(t, moved, time.Millisecond, "at 0.001x, 1.7 s of real time, 1.5 s of it one stalled frame, moved the clock %v (1.7 ms if the stall counted)", moved)
	assert.Positive(t, moved, "playback ran")
}
