package viz

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadFile loads a trace file (a fixture under testdata/, or the golden).
func loadFile(t testing.TB, path string) *Trace {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	tr, err := Load(fh, filepath.Base(path))
	require.NoError(t, err)
	return tr
}

// openTrace writes tr's standalone page and opens it from a file:// URL,
// waiting (a bounded time: a page without the scripting API fails fast)
// until window.raftsim.ready.
func openTrace(t testing.TB, ctx context.Context, tr *Trace, wait time.Duration) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "page.html")
	fh, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, WriteHTML(fh, tr))
	require.NoError(t, fh.Close())
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("file://"+path)))
	// Waiting also on the older name lets each test run, and fail for
	// its own reason, on a page without the scripting API.
	_, err = chromedp.Run(ctx, chromedp.Poll[bool]("(window.raftsim !== undefined && window.raftsim.ready === true) || window.raftsimReady === true",
		chromedp.WithPollingTimeout(wait)))
	require.NoError(t, err, "window.raftsim.ready")
}

// js evaluates expr in the page and returns its value.
func js[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// at seeks to position i and returns the event line and the explanation.
func at(t *testing.T, ctx context.Context, i int) (line, why string) {
	t.Helper()
	got := js[int](t, ctx, "window.raftsim ? window.raftsim.seek("+strconv.Itoa(i)+") : (window.raftsimGo("+strconv.Itoa(i)+"), "+strconv.Itoa(i)+")")
	require.Equal(t, i, got)
	return js[string](t, ctx, `document.getElementById("event-text").textContent`), js[string](t, ctx, `window.raftsim ? window.raftsim.explain() : ""`)
}

// A KV trace names clients (1001 and up) in its client events; the page
// must draw the cluster's five nodes, not 1005.
func TestKVTraceShowsExactlyTheClusterNodes(t *testing.T) {
	tr := loadFile(t, "testdata/kv.jsonl")
	assert.Equal(t, 5, tr.Nodes)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	assert.Equal(t, 5, js[int](t, ctx, `document.querySelectorAll("#ring .node").length`))
	assert.Equal(t, 5, js[int](t, ctx, `document.querySelectorAll("#log-rows .logrow").length`))
	assert.Equal(t, []int{1, 2, 3, 4, 5}, js[[]int](t, ctx, "window.raftsim.nodes"))
	line, _ := at(t, ctx, 186) // the first client event: tab 1, client 1001
	assert.Equal(t, "client n1 client 1001 cas #1 call k1", line)
}

// The event line reads sender→receiver for every message event, though
// a deliver names the receiver first in the trace.
func TestEventLineShowsSenderToReceiver(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadFile(t, "testdata/steps.jsonl"), 10*time.Second)
	for i, want := range map[int]string{8: "send 1→2 app", 10: "deliver 1→2 app", 11: "drop 1→4 app", 18: "deliver 2→1 vote"} {
		line, _ := at(t, ctx, i)
		assert.True(t, strings.HasPrefix(line, want), "event %d: %q, want %q", i, line, want)
	}
}

// Fields are shown as what they mean: a timer's index is its duration in
// ns, a cluster-wide fault has no node 0.
func TestEventLineShowsFieldsForPeople(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadFile(t, "testdata/steps.jsonl"), 10*time.Second)
	line, _ := at(t, ctx, 7)
	assert.Equal(t, "timer_set n2 election in 960 ms (due 0.961 s)", line)
	line, _ = at(t, ctx, 12)
	assert.Equal(t, "fault cluster kill 3", line)
	line, _ = at(t, ctx, 13)
	assert.Equal(t, "fault n3 kill", line)
}

// nodeState is what the page shows of node id: its ring tooltip, its
// classes, and the detail panel once selected.
func nodeState(t *testing.T, ctx context.Context, id int) (title, class, detail string) {
	sel := `document.querySelector('#ring .node[data-id="` + strconv.Itoa(id) + `"]')`
	js[bool](t, ctx, sel+`.dispatchEvent(new MouseEvent("click", { bubbles: true }))`)
	return js[string](t, ctx, sel+`.querySelector("title").textContent`), js[string](t, ctx, sel+`.getAttribute("class")`),
		js[string](t, ctx, `document.getElementById("detail").textContent`)
}

// A tab that has no Raft state yet is "not yet joined" until its first
// role, term or append event; a killed one is closed.
func TestTabsNotYetJoined(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadFile(t, "testdata/steps.jsonl"), 10*time.Second)
	assert.Contains(t, js[string](t, ctx, `document.getElementById("legend").textContent`), "not yet joined")
	at(t, ctx, 0)
	title, class, _ := nodeState(t, ctx, 1)
	assert.Contains(t, title, "not yet joined", "before its first event")
	assert.Contains(t, class, "unjoined")
	at(t, ctx, 20)
	title, class, detail := nodeState(t, ctx, 4)
	assert.Contains(t, title, "node 4: not yet joined")
	assert.Contains(t, class, "unjoined")
	assert.Contains(t, detail, "not yet joined")
	title, _, _ = nodeState(t, ctx, 3)
	assert.Contains(t, title, "node 3: closed")
	title, _, _ = nodeState(t, ctx, 2)
	assert.Contains(t, title, "node 2: candidate")
	at(t, ctx, 21) // node 4's first term event
	title, class, detail = nodeState(t, ctx, 4)
	assert.Contains(t, title, "node 4: follower")
	assert.NotContains(t, class, "unjoined")
	assert.NotContains(t, detail, "not yet joined")
}

// The scripting API, and explanations derived from the trace before the
// event.
func TestScriptingAPIExplainsEvents(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadFile(t, "testdata/steps.jsonl"), 10*time.Second)
	assert.Equal(t, []int{1, 2, 3, 4}, js[[]int](t, ctx, "window.raftsim.nodes"))
	assert.Equal(t, 0, js[int](t, ctx, "window.raftsim.index()"))
	assert.Equal(t, 22, js[int](t, ctx, "window.raftsim.seek(1e9)"), "clamped to the end")
	assert.Equal(t, 0, js[int](t, ctx, "window.raftsim.seek(-3)"), "clamped to the start")
	assert.Equal(t, 5, js[int](t, ctx, "window.raftsim.seek(5), window.raftsim.index()"))
	assert.True(t, js[bool](t, ctx, "window.raftsimReady === true && typeof window.raftsimGo === 'function'"), "the older names")
	for i, want := range map[int]string{
		16: "node 2 timed out: nothing from leader 1 for 476 ms; it stands for election in term 2",
		20: "stepped down: saw term 2 from node 2 (vote)",
		12: "the scenario kills node 3",
		13: "node 3's tab closes",
		15: "node 2 moves to term 2 to stand for election",
		19: "node 1 moves to term 2: vote from node 2 carried it",
		7:  "node 2 sets its election timer: it fires in 960 ms, at 0.961 s",
		10: "node 2 receives app term 1 index 1 from node 1, sent 1 ms earlier",
	} {
		_, why := at(t, ctx, i)
		assert.True(t, strings.HasPrefix(why, want), "event %d: %q, want %q", i, why, want)
	}
	assert.Equal(t, js[string](t, ctx, "window.raftsim.explain()"), js[string](t, ctx, `document.getElementById("explain").textContent`))
}

// On a real trace: the first election's explanation names the leader last
// heard from and for how long, as the trace has it.
func TestExplainsATimeoutOnTheGoldenTrace(t *testing.T) {
	fh, err := os.Open(golden)
	require.NoError(t, err)
	events, err := sim.ReadTrace(fh)
	fh.Close()
	require.NoError(t, err)
	cand := -1
	for i, e := range events {
		if i > 50 && e.Kind == sim.KindRole && e.Detail == "candidate" {
			cand = i
			break
		}
	}
	require.Positive(t, cand)
	e := events[cand]
	var lead uint64
	var heard sim.Time
	for _, d := range events[:cand] {
		if d.Kind == sim.KindDeliver && d.Node == e.Node && d.Msg == "app" {
			lead, heard = d.Peer, d.Time
		}
	}
	require.NotZero(t, lead)
	want := "node " + strconv.FormatUint(e.Node, 10) + " timed out: nothing from leader " + strconv.FormatUint(lead, 10) +
		" for " + strconv.FormatInt(int64(e.Time-heard)/1e6, 10) + " ms"
	ctx := newBrowser(t)
	openTrace(t, ctx, loadGolden(t), 10*time.Second)
	_, why := at(t, ctx, cand+1)
	assert.True(t, strings.HasPrefix(why, want), "%q, want %q", why, want)
}

// A step changes the page in place: the log rows and the ring's nodes
// are the same elements before and after, only updated.
func TestStepUpdatesThePageInPlace(t *testing.T) {
	ctx := newBrowser(t)
	openTrace(t, ctx, loadGolden(t), 10*time.Second)
	at(t, ctx, 300)
	js[bool](t, ctx, `document.querySelectorAll("#log-rows .logrow, #ring .node").forEach((e) => { e.dataset.mark = "kept"; }), true`)
	rows := js[int](t, ctx, `document.querySelectorAll("#log-rows .logrow").length`)
	for i := 301; i <= 320; i++ {
		at(t, ctx, i)
	}
	assert.Equal(t, rows, js[int](t, ctx, `document.querySelectorAll('#log-rows .logrow[data-mark="kept"]').length`), "log rows kept")
	assert.Equal(t, js[int](t, ctx, "window.raftsim.nodes.length"), js[int](t, ctx, `document.querySelectorAll('#ring .node[data-mark="kept"]').length`), "ring nodes kept")
	assert.Equal(t, rows, js[int](t, ctx, `document.querySelectorAll("#log-rows .logrow").length`))
}

// The standalone page carries its trace as a JSON data block, which the
// script parses; a "</script>" in a trace string cannot end it.
func TestStandalonePageReadsItsTraceFromAJSONBlock(t *testing.T) {
	text := `{"t":0,"k":"role","n":1,"term":1,"d":"leader"}` + "\n" +
		`{"t":5,"k":"fault","n":2,"d":"</script><script>window.pwned=1</script><!--"}` + "\n"
	tr, err := Load(strings.NewReader(text), "close.jsonl")
	require.NoError(t, err)
	var page strings.Builder
	require.NoError(t, WriteHTML(&page, tr))
	assert.Contains(t, page.String(), `<script type="application/json" id="trace">`)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	assert.True(t, js[bool](t, ctx, `document.getElementById("trace") === null`), "the data block is dropped once parsed")
	assert.Equal(t, 1, js[int](t, ctx, `document.querySelectorAll("script:not([type])").length`), "one script: the page's own")
	line, _ := at(t, ctx, 2)
	assert.Equal(t, "fault n2 </script><script>window.pwned=1</script><!--", line)
	assert.Equal(t, "undefined", js[string](t, ctx, "typeof window.pwned"))
}
