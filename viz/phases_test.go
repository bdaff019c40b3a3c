package viz

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// phaseOrder is the order phases come in.
var phaseOrder = map[string]int{PhaseDetection: 0, PhaseElection: 1, PhaseMembership: 2, PhasePoll: 3}

// checkPhases checks what holds for every measure with phases: they are
// contiguous, in order, and sum to the interval; each ends at its event.
func checkPhases(t *testing.T, tr *Trace, m Measure) {
	t.Helper()
	if len(m.Phases) == 0 {
		return
	}
	at, order, sum := m.Start, 0, int64(0)
	for i, p := range m.Phases {
		assert.Equal(t, at, p.Start, "phase %d (%s) starts where the one before ended", i, p.Label)
		assert.LessOrEqual(t, p.Start, p.End, "phase %d (%s)", i, p.Label)
		assert.GreaterOrEqual(t, phaseOrder[p.Name], order, "phase %d (%s) out of order", i, p.Name)
		order = phaseOrder[p.Name]
		require.Less(t, p.To, len(tr.Events))
		assert.Equal(t, p.End, tr.Events[p.To][0], "phase %d (%s) ends at its event", i, p.Label)
		sum += p.End - p.Start
		at = p.End
	}
	assert.Equal(t, m.End, at, "the last phase ends at the measure")
	assert.Equal(t, m.End-m.Start, sum, "the phases sum to the interval")
}

// The recovery after kill-half at 9 nodes: the kill, 473 ms until node
// 4's election timer fires, its election, the four removals of the
// killed nodes, and the harness's poll.
func TestPhasesOfKillHalfRecovery(t *testing.T) {
	tr := loadFile(t, "testdata/kill-half-9.jsonl")
	var rec *Measure
	for i := range tr.Measures {
		checkPhases(t, tr, tr.Measures[i])
		if tr.Measures[i].Name == "recovered" {
			rec = &tr.Measures[i]
		}
	}
	require.NotNil(t, rec)
	assert.Equal(t, "measure", kindOf(tr, tr.Events[rec.Event]))
	assert.Equal(t, int64(3_700_000_000), rec.Start)
	assert.Equal(t, int64(4_500_000_000), rec.End)
	want := []struct {
		name, label string
		end         int64
		endKind     string // the kind of the event ending it
		endDetail   string // its detail, if it matters
	}{
		{PhaseDetection, "detection", 4_173_366_217, "timer_fire", ""},
		{PhaseElection, "election", 4_174_179_926, "role", "leader"},
		{PhaseMembership, "remove 1", 4_274_804_276, "config", "2 3 4 5 6 7 8 9"},
		{PhaseMembership, "remove 3", 4_324_849_594, "config", "2 4 5 6 7 8 9"},
		{PhaseMembership, "remove 5", 4_374_852_656, "config", "2 4 6 7 8 9"},
		{PhaseMembership, "remove 6", 4_425_152_015, "config", "2 4 7 8 9"},
		{PhasePoll, "poll", 4_500_000_000, "measure", ""},
	}
	require.Len(t, rec.Phases, len(want))
	for i, w := range want {
		p := rec.Phases[i]
		assert.Equal(t, w.name, p.Name, "phase %d", i)
		assert.Equal(t, w.label, p.Label, "phase %d", i)
		assert.Equal(t, w.end, p.End, "phase %d", i)
		e := tr.Events[p.To]
		assert.Equal(t, w.endKind, kindOf(tr, e), "phase %d ends at event %d", i, p.To)
		if w.endDetail != "" {
			assert.Equal(t, w.endDetail, tr.Strings[e[7]], "phase %d", i)
		}
	}
	// Detection starts at the kill and ends at an election timeout.
	d := rec.Phases[0]
	require.GreaterOrEqual(t, d.From, 0)
	assert.Equal(t, "fault", kindOf(tr, tr.Events[d.From]))
	assert.True(t, strings.HasPrefix(tr.Strings[tr.Events[d.From][7]], "kill"), "detection starts at the kill")
	end := tr.Events[d.To]
	assert.True(t, kindOf(tr, end) == "timer_fire" && tr.Strings[end[6]] == "election" ||
		kindOf(tr, end) == "role" && strings.Contains(tr.Strings[end[7]], "candidate"), "detection ends at an election timeout")
	assert.Equal(t, int64(473_366_217), d.End-d.Start)
}

// Start-up ("up", from 0) has no detection: election, one membership
// phase per node added, poll.
func TestPhasesOfStartUp(t *testing.T) {
	tr := loadFile(t, "testdata/kill-half-9.jsonl")
	m := tr.Measures[0]
	require.Equal(t, "up", m.Name)
	checkPhases(t, tr, m)
	var labels []string
	for _, p := range m.Phases {
		labels = append(labels, p.Label)
	}
	assert.Equal(t, []string{"election", "add 2", "add 3", "add 4", "add 5", "add 6", "add 7", "add 8", "add 9", "poll"}, labels)
}

// Hand-written traces: which phases occur.
func TestPhasesTable(t *testing.T) {
	const (
		kill    = `{"t":1000,"k":"fault","d":"kill 1"}` + "\n"
		timeout = `{"t":1500,"k":"timer_fire","n":2,"msg":"election"}` + "\n"
		cand    = `{"t":1500,"k":"role","n":2,"term":3,"d":"candidate"}` + "\n"
		lead3   = `{"t":1700,"k":"role","n":2,"term":3,"d":"leader"}` + "\n"
	)
	conf := func(t int, n int, voters string) string {
		return `{"t":` + strconv.Itoa(t) + `,"k":"config","n":` + strconv.Itoa(n) + `,"d":"` + voters + `"}` + "\n"
	}
	measure := func(t, idx int) string {
		return `{"t":` + strconv.Itoa(t) + `,"k":"measure","idx":` + strconv.Itoa(idx) + `,"msg":"m","d":"x"}` + "\n"
	}
	before := conf(0, 2, "1 2 3") + `{"t":0,"k":"role","n":1,"term":2,"d":"leader"}` + "\n"
	tests := []struct {
		name, trace string
		want        []string // labels
	}{
		{"kill, election, removal, poll", before + kill + timeout + cand + lead3 + conf(1800, 2, "2 3") + conf(1900, 3, "2 3") + measure(2000, 1000),
			[]string{"detection", "election", "remove 1", "poll"}},
		{"candidate without a traced timer", before + kill + cand + lead3 + measure(2000, 1000),
			[]string{"detection", "election", "poll"}},
		{"exact: no poll", before + kill + timeout + lead3 + measure(1700, 700),
			[]string{"detection", "election"}},
		{"split vote: the leader of the highest term", before + kill + timeout + lead3 +
			`{"t":1800,"k":"role","n":3,"term":4,"d":"leader"}` + "\n" + measure(2000, 1000),
			[]string{"detection", "election", "poll"}},
		{"a loss rate is nothing to detect", before + `{"t":1000,"k":"fault","d":"loss 0.050 dup 0.000"}` + "\n" + timeout + lead3 + measure(2000, 1000),
			[]string{"election", "poll"}},
		{"no election: membership from the start", before + kill + conf(1800, 1, "2 3") + measure(2000, 1000),
			[]string{"remove 1", "poll"}},
		{"two changes, one of them by several nodes", before + kill + timeout + lead3 + conf(1750, 2, "2 3") + conf(1760, 2, "2 3 4") +
			conf(1770, 3, "2 3") + conf(1780, 3, "2 3 4") + conf(1790, 4, "2 3 4") + measure(2000, 1000),
			[]string{"detection", "election", "remove 1", "add 4", "poll"}},
		{"nothing happens: no phases", before + kill + measure(2000, 1000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Load(strings.NewReader(tt.trace), "x.jsonl")
			require.NoError(t, err)
			require.Len(t, tr.Measures, 1)
			m := tr.Measures[0]
			checkPhases(t, tr, m)
			var labels []string
			for _, p := range m.Phases {
				labels = append(labels, p.Label)
			}
			assert.Equal(t, tt.want, labels)
			assert.NotNil(t, m.Phases, "phases are a list, [] when none")
		})
	}
}

// The timeline splits each measure's bar into its phases, labelled
// where the label fits and with a tooltip; a click on one goes to the
// event that ends it; at the measure, the explanation lists the phases.
// RAFTSIM_PHASES_PNG=FILE writes a picture of the page.
func TestTimelineShowsPhases(t *testing.T) {
	tr := loadFile(t, "testdata/kill-half-9.jsonl")
	ctx := newBrowser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)))
	openTrace(t, ctx, tr, 10*time.Second)
	type seg struct {
		Phase, Label, Title string
		I                   int
		X, Width            float64
	}
	segs := js[[]seg](t, ctx, `[...document.querySelectorAll("#timeline .tl-phase")].map((e) => ({ phase: e.dataset.phase, i: +e.dataset.i,
		title: e.querySelector("title").textContent, x: +e.getAttribute("x"), width: +e.getAttribute("width") }))`)
	var want []Phase
	for _, m := range tr.Measures {
		want = append(want, m.Phases...)
	}
	require.Len(t, segs, len(want))
	width := js[float64](t, ctx, `document.getElementById("timeline").viewBox.baseVal.width`)
	scale := (width - 1) / float64(tr.End-tr.Events[0][0])
	for i, p := range want {
		assert.Equal(t, p.Name, segs[i].Phase)
		assert.Equal(t, p.To, segs[i].I, "segment %d goes to the event ending it", i)
		assert.Contains(t, segs[i].Title, p.Label+" ")
		assert.InDelta(t, float64(p.Start-tr.Events[0][0])*scale, segs[i].X, 1, "segment %d starts at its phase", i)
		assert.InDelta(t, float64(p.End-p.Start)*scale, segs[i].Width, 1.01, "segment %d lasts its phase", i)
	}
	rec := tr.Measures[1]
	require.Equal(t, "recovered", rec.Name)
	assert.Contains(t, segs[len(tr.Measures[0].Phases)].Title, "recovered: detection 473 ms")
	assert.Contains(t, segs[len(tr.Measures[0].Phases)].Title, "node 4's election timer fires")

	// The labels drawn: the wide phases' (detection, remove 1, ...).
	labels := js[[]string](t, ctx, `[...document.querySelectorAll("#timeline .tl-phase-label")].map((e) => e.textContent)`)
	assert.Contains(t, labels, "detection")
	assert.Contains(t, labels, "\u22121", "remove 1, shortened")
	assert.Contains(t, labels, "poll")

	// A click on the detection segment goes to the election timeout.
	p := js[struct{ X, Y float64 }](t, ctx, `(() => { const r = document.querySelector("#timeline .tl-ph-detection").getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; })()`)
	require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)))
	assert.Equal(t, rec.Phases[0].To+1, js[int](t, ctx, "window.raftsim.index()"))
	assert.Contains(t, js[string](t, ctx, "window.raftsim.explain()"), "node 4's election timer fires")

	// At the measure, the explanation lists the phases.
	js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(rec.Event+1)+")")
	why := js[string](t, ctx, "window.raftsim.explain()")
	for _, s := range []string{"measure recovered: 800 ms = detection 473 ms (from kill 1 3 6 5 until node 4's election timer fires)", "+ election 814 µs (until node 4 becomes leader of term 3)", "+ membership 251 ms (remove 1 101 ms, remove 3 50 ms, remove 5 50 ms, remove 6 50 ms)", "+ poll 75 ms"} {
		assert.Contains(t, why, s)
	}
	assert.Equal(t, len(tr.Measures), js[int](t, ctx, "window.raftsim.measures().length"))
	if out := os.Getenv("RAFTSIM_PHASES_PNG"); out != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(out, png, 0o644))
	}
}
