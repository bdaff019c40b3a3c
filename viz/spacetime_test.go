package viz

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kindOf is the name of event e's kind.
func kindOf(tr *Trace, e [8]int64) string { return tr.Kinds[e[1]-1] }

// ends is a message event's sender and receiver: a deliver names the
// receiver first.
func ends(tr *Trace, e [8]int64) (from, to int64) {
	if kindOf(tr, e) == "deliver" {
		return e[3], e[2]
	}
	return e[2], e[3]
}

// pairs matches each send to the deliver or drop ending it, by (from,
// to, type, term, index) in order, as the page does: end[send] is the
// ending event, -1 if none; sendOf[end] the send, -1 if none.
func pairs(tr *Trace) (end, sendOf []int) {
	end, sendOf = make([]int, len(tr.Events)), make([]int, len(tr.Events))
	pending := map[[5]int64][]int{}
	for i, e := range tr.Events {
		end[i], sendOf[i] = -1, -1
		k := kindOf(tr, e)
		if k != "send" && k != "deliver" && k != "drop" {
			continue
		}
		from, to := ends(tr, e)
		key := [5]int64{from, to, e[6], e[4], e[5]}
		if k == "send" {
			pending[key] = append(pending[key], i)
		} else if q := pending[key]; len(q) > 0 {
			end[q[0]], sendOf[i] = i, q[0]
			pending[key] = q[1:]
		}
	}
	return end, sendOf
}

// counts is what the diagram draws, as window.raftsim.diagram() has it.
type counts struct {
	Lanes, Collapsed, Arrows, Drops, Roles, Terms, Faults, Heartbeats int
	T0, T1                                                            float64
	Truncated                                                         bool
}

// expectCounts counts what the diagram draws of tr whole, with only the
// messages that pass keep.
func expectCounts(tr *Trace, keep func(i int, e [8]int64) bool) (c counts) {
	end, sendOf := pairs(tr)
	for i, e := range tr.Events {
		switch kindOf(tr, e) {
		case "send":
			if keep(i, e) && (end[i] < 0 || kindOf(tr, tr.Events[end[i]]) == "deliver") {
				c.Arrows++
			}
		case "drop":
			if s := sendOf[i]; (s >= 0 && keep(s, e)) || (s < 0 && keep(i, e)) {
				c.Drops++
			}
		case "role":
			c.Roles++
		case "term":
			c.Terms++
		case "fault":
			c.Faults++
		}
	}
	c.Lanes = tr.Nodes
	return c
}

// heartbeatSends is the page's rule for "hide heartbeats": an app send
// whose index is its sender's last log index, an app_resp send whose
// index is not above the last its sender acknowledged to that peer.
func heartbeatSends(tr *Trace) map[int]bool {
	last, acked, hb := map[int64]int64{}, map[[2]int64]int64{}, map[int]bool{}
	for i, e := range tr.Events {
		switch k, msg := kindOf(tr, e), tr.Strings[e[6]]; {
		case k == "append":
			last[e[2]] = e[5]
		case k == "send" && msg == "app":
			hb[i] = e[5] >= last[e[2]]
		case k == "send" && msg == "app_resp":
			seen, ok := acked[[2]int64{e[2], e[3]}]
			hb[i] = ok && e[5] <= seen
			acked[[2]int64{e[2], e[3]}] = max(seen, e[5])
		}
	}
	return hb
}

func diagram(t *testing.T, ctx context.Context) counts {
	t.Helper()
	return js[counts](t, ctx, "window.raftsim.diagram()")
}

// showAll shows the whole trace in the diagram.
func showAll(t *testing.T, ctx context.Context) {
	t.Helper()
	require.True(t, js[bool](t, ctx, `document.getElementById("st-all") !== null`), "the diagram's controls")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-all")))
}

// The diagram draws every message of the golden trace once (an arrow, or
// a lost one's cross), every role and term change and every fault, on
// one lane per node; the filters take away what they should.
func TestSpacetimeDiagramDrawsEveryMessage(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	showAll(t, ctx)
	want := expectCounts(tr, func(int, [8]int64) bool { return true })
	got := diagram(t, ctx)
	assert.Equal(t, want.Lanes, got.Lanes)
	assert.Equal(t, want.Arrows, got.Arrows, "arrows")
	assert.Equal(t, want.Drops, got.Drops, "lost messages")
	assert.Equal(t, []int{want.Roles, want.Terms, want.Faults}, []int{got.Roles, got.Terms, got.Faults}, "roles, terms, faults")
	assert.False(t, got.Truncated)

	hb := heartbeatSends(tr)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-hb")))
	got = diagram(t, ctx)
	noHB := expectCounts(tr, func(i int, e [8]int64) bool { return !hb[i] })
	assert.Less(t, noHB.Arrows, want.Arrows)
	assert.Equal(t, noHB.Arrows, got.Arrows, "arrows without heartbeats")
	assert.Equal(t, noHB.Drops, got.Drops, "drops without heartbeats")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-hb")))

	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#st-nodes", "2")))
	got = diagram(t, ctx)
	two := expectCounts(tr, func(i int, e [8]int64) bool { return e[2] == 2 || e[3] == 2 })
	assert.Equal(t, two.Arrows, got.Arrows, "arrows from or to node 2")
	assert.Equal(t, two.Drops, got.Drops, "drops from or to node 2")
	js[bool](t, ctx, `(() => { const i = document.getElementById("st-nodes"); i.value = ""; i.dispatchEvent(new Event("input")); return true; })()`)

	for _, m := range []string{"app", "app_resp"} { // uncheck the type's box
		js[bool](t, ctx, `(() => { const b = [...document.querySelectorAll("#st-kinds label")].find((l) => l.textContent === "`+m+`").querySelector("input"); b.click(); return true; })()`)
	}
	votes := expectCounts(tr, func(i int, e [8]int64) bool { m := tr.Strings[e[6]]; return m != "app" && m != "app_resp" })
	got = diagram(t, ctx)
	assert.Positive(t, votes.Arrows)
	assert.Equal(t, votes.Arrows, got.Arrows, "vote arrows only")
	assert.Equal(t, votes.Drops, got.Drops, "vote drops only")
}

// click clicks the diagram's drawing of event i with the mouse and
// returns the position reached.
func click(t *testing.T, ctx context.Context, i int) int {
	t.Helper()
	p := js[*struct{ X, Y float64 }](t, ctx, "window.raftsim.diagramPoint("+strconv.Itoa(i)+")")
	require.NotNil(t, p, "event %d drawn", i)
	require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)))
	return js[int](t, ctx, "window.raftsim.index()")
}

// Clicking an arrow's end, a lost message's cross or a mark seeks to its
// event; a cross lies towards the receiver, not under the sender.
func TestSpacetimeClickSeeks(t *testing.T) {
	tr := loadGolden(t)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	end, sendOf := pairs(tr)
	var drop, deliver, role = -1, -1, -1
	for i, e := range tr.Events {
		switch k := kindOf(tr, e); {
		case k == "drop" && drop < 0 && sendOf[i] >= 0:
			drop = i
		case k == "deliver" && deliver < 0 && i > 400 && sendOf[i] >= 0 && tr.Events[sendOf[i]][0] < e[0]:
			deliver = i
		case k == "role" && i > 100 && role < 0:
			role = i
		}
	}
	require.True(t, drop > 0 && deliver > 0 && role > 0)
	for _, i := range []int{drop, deliver, sendOf[deliver], role} {
		ev := tr.Events[i]
		js[int](t, ctx, "window.raftsim.seek(0)") // before the view: a seek keeps the clock in view
		js[[]float64](t, ctx, "window.raftsim.diagramView("+strconv.FormatInt(ev[0]-2_000_000, 10)+", "+strconv.FormatInt(ev[0]+2_000_000, 10)+")")
		assert.Equal(t, i+1, click(t, ctx, i), "clicked event %d (%s)", i, kindOf(tr, ev))
	}
	assert.Equal(t, drop, end[sendOf[drop]])
	cross := js[struct{ X float64 }](t, ctx, "window.raftsim.diagramView("+strconv.FormatInt(tr.Events[drop][0]-2_000_000, 10)+", "+
		strconv.FormatInt(tr.Events[drop][0]+2_000_000, 10)+"), window.raftsim.diagramPoint("+strconv.Itoa(drop)+")")
	sender := js[struct{ X float64 }](t, ctx, "window.raftsim.diagramPoint("+strconv.Itoa(sendOf[drop])+")")
	assert.Greater(t, cross.X, sender.X+10, "the cross is partway to the receiver")
}

// At 41 nodes: 41 lanes; the time axis zooms (buttons, wheel); lanes
// collapse (all but the node filter's, or one by a click on its name);
// a window too full says so rather than drawing.
func TestSpacetimeAt41Nodes(t *testing.T) {
	tr := syntheticTrace(t, 70000, 41)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 20*time.Second)
	got := diagram(t, ctx)
	assert.Equal(t, 41, got.Lanes)
	assert.Positive(t, got.Arrows)
	span := got.T1 - got.T0
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-in")))
	got = diagram(t, ctx)
	assert.InDelta(t, span/2, got.T1-got.T0, 1)
	js[bool](t, ctx, `(() => { const c = document.getElementById("st-canvas"), r = c.getBoundingClientRect();
	  return c.dispatchEvent(new WheelEvent("wheel", { deltaY: 100, ctrlKey: true, clientX: r.left + 300, clientY: r.top + 40, cancelable: true })); })()`)
	assert.InDelta(t, span/2*1.25, diagram(t, ctx).T1-diagram(t, ctx).T0, 1, "wheel down zooms out")

	height := js[int](t, ctx, `document.getElementById("st-canvas").height`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#st-nodes", "1-3")))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-collapse")))
	assert.Equal(t, 38, diagram(t, ctx).Collapsed)
	assert.Less(t, js[int](t, ctx, `document.getElementById("st-canvas").height`), height/2)
	js[bool](t, ctx, `(() => { const c = document.getElementById("st-canvas"), r = c.getBoundingClientRect();
	  return c.dispatchEvent(new MouseEvent("click", { clientX: r.left + 5, clientY: r.top + 18 + 3, bubbles: true })); })()`)
	assert.Equal(t, 39, diagram(t, ctx).Collapsed, "a click on lane 1's name collapses it")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#st-expand")))
	assert.Zero(t, diagram(t, ctx).Collapsed)

	showAll(t, ctx)
	got = diagram(t, ctx)
	assert.True(t, got.Truncated, "70000 events in view")
	assert.Zero(t, got.Arrows)
	assert.True(t, js[bool](t, ctx, `!document.getElementById("st-note").hidden`), "the note says to zoom in")
}
