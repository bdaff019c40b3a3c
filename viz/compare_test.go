package viz

import (
	"context"
	"encoding/json"
	"html"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traceOf loads a trace written inline, one event a line.
func traceOf(t *testing.T, name string, lines ...string) *Trace {
	t.Helper()
	tr, err := Load(strings.NewReader(strings.Join(lines, "\n")+"\n"), name)
	require.NoError(t, err)
	return tr
}

func ptr(v int64) *int64 { return &v }

// The fixture pair: kill-half-9.jsonl and a copy whose event 1909 (a
// role change of node 4) says precandidate, not candidate.
func loadPair(t *testing.T) (a, b *Trace) {
	return loadFile(t, "testdata/kill-half-9.jsonl"), loadFile(t, "testdata/kill-half-9-changed.jsonl")
}

const changedIndex, changedTime = 1908, 4173466217

func TestCompareFindsTheFirstDifference(t *testing.T) {
	a, b := loadPair(t)
	d := Compare(a, b)
	assert.Equal(t, changedIndex, d.Index)
	assert.Equal(t, ptr(changedTime), d.TimeA)
	assert.Equal(t, ptr(changedTime), d.TimeB)
	assert.Equal(t, ptr(changedTime), d.StateTime, "node 4's role differs from the changed event on")
	assert.Equal(t, 4, d.StateNode)

	same := Compare(a, loadFile(t, "testdata/kill-half-9.jsonl"))
	assert.Equal(t, Difference{Index: -1}, same, "a trace and itself")
}

func TestCompareCases(t *testing.T) {
	leader := func(t uint64) string {
		return `{"t":` + itoa(t) + `,"k":"role","n":1,"term":2,"d":"leader"}`
	}
	send := `{"t":30,"k":"send","n":1,"p":2,"term":2,"idx":4,"msg":"app"}`
	tests := []struct {
		name string
		a, b []string
		want Difference
	}{
		{"times aside, the same events; roles differ while only one has the leader",
			[]string{leader(10), send}, []string{leader(20), `{"t":40,"k":"send","n":1,"p":2,"term":2,"idx":4,"msg":"app"}`},
			Difference{Index: -1, StateTime: ptr(10), StateNode: 1}},
		{"a message to another peer",
			[]string{leader(10), send}, []string{leader(10), `{"t":30,"k":"send","n":1,"p":3,"term":2,"idx":4,"msg":"app"}`},
			Difference{Index: 1, TimeA: ptr(30), TimeB: ptr(30)}},
		{"another message type",
			[]string{leader(10), send}, []string{leader(10), `{"t":35,"k":"send","n":1,"p":2,"term":2,"idx":4,"msg":"vote"}`},
			Difference{Index: 1, TimeA: ptr(30), TimeB: ptr(35)}},
		{"another term: roles and terms too",
			[]string{leader(10)}, []string{`{"t":10,"k":"term","n":1,"term":2}`},
			Difference{Index: 0, TimeA: ptr(10), TimeB: ptr(10), StateTime: ptr(10), StateNode: 1}},
		{"B ends first",
			[]string{leader(10), send}, []string{leader(10)},
			Difference{Index: 1, TimeA: ptr(30)}},
		{"A ends first",
			[]string{leader(10)}, []string{leader(10), send},
			Difference{Index: 1, TimeB: ptr(30)}},
		{"a late deliver in one (the model's detail) is the same deliver",
			[]string{`{"t":50,"k":"deliver","n":2,"p":1,"term":2,"idx":4,"msg":"app","d":"retransmitted 1 time","tx":45}`},
			[]string{`{"t":60,"k":"deliver","n":2,"p":1,"term":2,"idx":4,"msg":"app"}`},
			Difference{Index: -1}},
		{"a drop's reason still counts",
			[]string{`{"t":50,"k":"drop","n":1,"p":2,"term":2,"idx":4,"msg":"app","d":"lost"}`},
			[]string{`{"t":50,"k":"drop","n":1,"p":2,"term":2,"idx":4,"msg":"app","d":"not connected"}`},
			Difference{Index: 0, TimeA: ptr(50), TimeB: ptr(50)}},
		{"the lowest node that differs",
			[]string{`{"t":5,"k":"role","n":3,"d":"candidate"}`, `{"t":5,"k":"role","n":2,"d":"candidate"}`},
			[]string{`{"t":5,"k":"role","n":3,"d":"follower"}`, `{"t":5,"k":"role","n":2,"d":"follower"}`},
			Difference{Index: 0, TimeA: ptr(5), TimeB: ptr(5), StateTime: ptr(5), StateNode: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Compare(traceOf(t, "a.jsonl", tt.a...), traceOf(t, "b.jsonl", tt.b...)))
		})
	}
	// The string tables differ in order but not in meaning.
	a := traceOf(t, "a.jsonl", `{"t":1,"k":"fault","n":2,"d":"x"}`, `{"t":2,"k":"send","n":1,"p":2,"msg":"app","d":"x"}`)
	b := traceOf(t, "b.jsonl", `{"t":1,"k":"send","n":1,"p":2,"msg":"app","d":"x"}`)
	require.NotEqual(t, a.Events[1][6], b.Events[0][6], "the string tables differ")
	assert.Equal(t, 0, Compare(a, b).Index)
	a.Events = a.Events[1:]
	assert.Equal(t, -1, Compare(a, b).Index)
}

// The page of two traces carries one JSON data block holding both and
// their difference, under the same strict policy as a page of one; the
// server's /trace.json holds the same.
func TestComparisonPageCarriesBothTraces(t *testing.T) {
	a, b := loadPair(t)
	var page strings.Builder
	require.NoError(t, WriteComparison(&page, a, b))
	metas := metaCSPRE.FindAllStringSubmatch(page.String(), -1)
	require.Len(t, metas, 1)
	checkPolicy(t, page.String(), html.UnescapeString(metas[0][1]), false)
	assert.Contains(t, page.String(), "<title>raftsim: kill-half-9.jsonl vs kill-half-9-changed.jsonl</title>")
	data, ok := between([]byte(page.String()), dataOpen, dataClose)
	require.True(t, ok)
	var got struct {
		Traces  []*Trace
		Compare Difference
	}
	require.NoError(t, json.Unmarshal(data, &got))
	require.Len(t, got.Traces, 2)
	assert.Equal(t, a.Name, got.Traces[0].Name)
	assert.Equal(t, b.Name, got.Traces[1].Name)
	assert.Equal(t, len(b.Events), len(got.Traces[1].Events))
	assert.Equal(t, Compare(a, b), got.Compare)

	h, err := ComparisonHandler(a, b, nil)
	require.NoError(t, err)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	require.Equal(t, 200, w.Code)
	checkPolicy(t, w.Body.String(), w.Result().Header.Get("Content-Security-Policy"), true)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/trace.json", nil))
	require.Equal(t, 200, w.Code)
	assert.JSONEq(t, string(data), w.Body.String())

	assert.Error(t, WriteComparison(&page, a, nil))
	_, err = ComparisonHandler(a, nil, nil)
	assert.Error(t, err)
}

// openPage opens the standalone page in page and waits for
// window.raftsim.ready.
func openPage(t *testing.T, ctx context.Context, write func(*os.File) error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "page.html")
	fh, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, write(fh))
	require.NoError(t, fh.Close())
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("file://"+path)))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool]("window.raftsim !== undefined && window.raftsim.ready === true", chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err, "window.raftsim.ready")
}

type comparison struct {
	FirstDiffIndex                 int
	FirstDiffTimeA, FirstDiffTimeB *int64
	FirstStateDiffTime             *int64
	FirstStateDiffNode             int
}

// Two traces on one page: both rings, logs and diagrams drawn, one
// clock driving both, compare() and the "first difference" button and
// mark pointing at the changed event.
func TestPageComparesTwoTraces(t *testing.T) {
	a, b := loadPair(t)
	ctx := newBrowser(t)
	openPage(t, ctx, func(f *os.File) error { return WriteComparison(f, a, b) })

	c := js[comparison](t, ctx, "window.raftsim.compare()")
	assert.Equal(t, comparison{changedIndex, ptr(changedTime), ptr(changedTime), ptr(changedTime), 4}, c)

	// Both drawn.
	assert.Equal(t, 9, js[int](t, ctx, `document.querySelectorAll("#ring .node").length`))
	assert.Equal(t, 9, js[int](t, ctx, `document.querySelectorAll("#b-ring .node").length`))
	assert.Equal(t, 9, js[int](t, ctx, `document.querySelectorAll("#b-log-rows .logrow").length`))
	assert.True(t, js[bool](t, ctx, `getComputedStyle(document.getElementById("b-ring")).display !== "none" && document.getElementById("b-st-canvas").getBoundingClientRect().height > 0`))
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, js[[]int](t, ctx, "window.raftsim.other.nodes"))
	assert.Equal(t, "kill-half-9-changed.jsonl", js[string](t, ctx, "window.raftsim.other.name"))
	js[[]float64](t, ctx, "window.raftsim.diagramView(0, 5e9)")
	da, db := js[counts](t, ctx, "window.raftsim.diagram()"), js[counts](t, ctx, "window.raftsim.other.diagram()")
	assert.Positive(t, da.Arrows)
	assert.Equal(t, da, db, "the same messages, window and filters in both diagrams")

	// One clock: a time seeks both traces.
	js[int](t, ctx, "window.raftsim.seekTime(2e9)")
	assert.Equal(t, 2e9, js[float64](t, ctx, "window.raftsim.clock()"))
	assert.Equal(t, 2e9, js[float64](t, ctx, "window.raftsim.other.clock()"))
	assert.Equal(t, js[int](t, ctx, "window.raftsim.index()"), js[int](t, ctx, "window.raftsim.other.index()"), "the same events before the change")

	// The button and the timeline's mark go to the changed event.
	js[bool](t, ctx, `document.getElementById("diff-go").click(), true`)
	assert.Equal(t, changedIndex+1, js[int](t, ctx, "window.raftsim.index()"))
	assert.Equal(t, float64(changedTime), js[float64](t, ctx, "window.raftsim.clock()"))
	assert.GreaterOrEqual(t, js[int](t, ctx, "window.raftsim.other.index()"), changedIndex+1)
	assert.Contains(t, js[string](t, ctx, `document.getElementById("event-text").textContent`), "role n4 term 3 candidate")
	assert.Contains(t, js[string](t, ctx, `document.getElementById("b-event-text").textContent`), "precandidate")
	assert.Contains(t, js[string](t, ctx, `document.getElementById("diff-text").textContent`), "first difference at event 1909")
	js[int](t, ctx, "window.raftsim.seek(0)")
	js[bool](t, ctx, `document.querySelector("#timeline .tl-diff").dispatchEvent(new MouseEvent("click", { bubbles: true }))`)
	assert.Equal(t, changedIndex+1, js[int](t, ctx, "window.raftsim.index()"), "the timeline's mark")
	js[int](t, ctx, "window.raftsim.seek(0)")
	js[bool](t, ctx, `document.dispatchEvent(new KeyboardEvent("keydown", { key: "d" })), true`)
	assert.Equal(t, changedIndex+1, js[int](t, ctx, "window.raftsim.index()"), "the d key")

	// Selecting a node shows it in both detail panels.
	js[bool](t, ctx, `document.querySelector('#b-ring .node[data-id="4"]').dispatchEvent(new MouseEvent("click", { bubbles: true }))`)
	assert.Equal(t, "Node 4 (A)", js[string](t, ctx, `document.querySelector("#detail h3").textContent`))
	assert.Equal(t, "Node 4 (B)", js[string](t, ctx, `document.querySelector("#b-detail h3").textContent`))
	assert.Contains(t, js[string](t, ctx, `document.getElementById("b-detail").textContent`), "precandidate")

	// Playing moves both along the one clock.
	js[int](t, ctx, "window.raftsim.seek(100)")
	js[bool](t, ctx, `document.getElementById("play").click(), true`)
	time.Sleep(300 * time.Millisecond)
	js[bool](t, ctx, `document.getElementById("play").click(), true`)
	assert.Equal(t, js[float64](t, ctx, "window.raftsim.clock()"), js[float64](t, ctx, "window.raftsim.other.clock()"))
	assert.Greater(t, js[int](t, ctx, "window.raftsim.other.index()"), 100)
}

// A page of one trace shows nothing of a second: compare() is null.
func TestPageOfOneTraceHasNoComparison(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadFile(t, "testdata/steps.jsonl"), 10*time.Second)
	assert.True(t, js[bool](t, ctx, "window.raftsim.compare() === null && window.raftsim.other === null"))
	assert.Equal(t, 0, js[int](t, ctx, `[...document.querySelectorAll(".pair-only")].filter((e) => getComputedStyle(e).display !== "none").length`))
	assert.Equal(t, 0, js[int](t, ctx, `document.querySelectorAll("#timeline .tl-diff, #timeline .tl-statediff").length`))
}

// Trace strings of either trace reach the page of two only as text, and
// it runs under its policy.
func TestComparisonPageShowsTraceStringsOnlyAsText(t *testing.T) {
	a := loadMarkup(t)
	b := loadMarkup(t)
	b.Events = b.Events[:len(b.Events)-1]
	ctx := newBrowser(t)
	openPage(t, ctx, func(f *os.File) error { return WriteComparison(f, a, b) })
	js[bool](t, ctx, `window.violations = []; document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective)), true`)
	bad := js[int](t, ctx, `(() => {
	  const bad = () => document.querySelectorAll("img, image, iframe, #injected, [onerror]").length;
	  let worst = bad();
	  const events = Number(document.getElementById("event-count").textContent);
	  for (let i = 0; i <= events; i++) {
	    window.raftsim.seek(i);
	    for (const r of ["#ring", "#b-ring"]) document.querySelectorAll(r + " .node").forEach((g) => g.dispatchEvent(new MouseEvent("click", { bubbles: true })));
	    worst = Math.max(worst, bad());
	  }
	  return worst;
	})()`)
	time.Sleep(300 * time.Millisecond)
	assert.Zero(t, bad, "elements made from trace strings")
	assert.Equal(t, "undefined", js[string](t, ctx, "typeof window.pwned"))
	assert.Empty(t, js[[]string](t, ctx, "window.violations"))
	assert.Contains(t, js[string](t, ctx, `document.getElementById("b-name").textContent`), "<img src=x")
}
