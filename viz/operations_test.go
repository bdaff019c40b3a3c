package viz

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The KV fixture's client calls, each matched with its return by client
// id and sequence number.
func TestOperationsOfKVTrace(t *testing.T) {
	tr := loadFile(t, "testdata/kv.jsonl")
	type op struct {
		Client, Node, Seq uint64
		Op, Key, Result   string
	}
	var got []op
	for _, o := range tr.Operations {
		got = append(got, op{o.Client, o.Node, o.Seq, o.Op, o.Key, o.Result})
		call := tr.Events[o.Call]
		assert.Equal(t, "client", kindOf(tr, call))
		assert.Equal(t, "call "+o.Key, tr.Strings[call[7]])
		if o.End >= 0 {
			end := tr.Events[o.End]
			assert.Equal(t, "client", kindOf(tr, end))
			assert.Equal(t, []int64{int64(o.Client), int64(o.Seq)}, []int64{end[3], end[5]}, "the return is the same client's, same sequence number")
			assert.Greater(t, o.End, o.Call)
		}
	}
	assert.Equal(t, []op{
		{1001, 1, 1, "cas", "k1", "return"},
		{1005, 5, 1, "get", "k4", ""},
		{1003, 3, 1, "put", "k1", ""},
		{1002, 2, 1, "get", "k0", ""},
		{1004, 4, 1, "cas", "k4", "return"},
		{1004, 4, 2, "get", "k1", "return"},
		{1004, 4, 3, "cas", "k1", ""},
		{1001, 1, 2, "put", "k3", ""},
	}, got)
}

func TestOperationsTable(t *testing.T) {
	ev := func(tm int, client, seq int, msg, d string) string {
		return `{"t":` + strconv.Itoa(tm) + `,"k":"client","n":1,"p":` + strconv.Itoa(client) + `,"idx":` + strconv.Itoa(seq) + `,"msg":"` + msg + `","d":"` + d + `"}` + "\n"
	}
	tests := []struct {
		name, trace string
		want        []string // client/seq op key result end
	}{
		{"interleaved clients", ev(1, 7, 1, "put", "call a") + ev(2, 8, 1, "get", "call b") + ev(3, 8, 1, "get", "return") + ev(4, 7, 1, "put", "gave up"),
			[]string{"7/1 put a gave up 3", "8/1 get b return 2"}},
		{"a return without its call is left out", ev(1, 7, 1, "put", "return") + ev(2, 7, 2, "get", "call k"),
			[]string{"7/2 get k  -1"}},
		{"other client events (chat) are not operations", `{"t":1,"k":"client","n":1,"idx":1,"msg":"seqAppend","d":"send"}` + "\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Load(strings.NewReader(tt.trace), "x.jsonl")
			require.NoError(t, err)
			var got []string
			for _, o := range tr.Operations {
				got = append(got, strconv.FormatUint(o.Client, 10)+"/"+strconv.FormatUint(o.Seq, 10)+" "+o.Op+" "+o.Key+" "+o.Result+" "+strconv.Itoa(o.End))
			}
			assert.Equal(t, tt.want, got)
			assert.NotNil(t, tr.Operations, "a list, [] when none")
		})
	}
}

// The page lists the client operations; a click on one goes to its
// call event.
func TestOperationsPanelSeeksToTheCall(t *testing.T) {
	tr := loadFile(t, "testdata/kv.jsonl")
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	rows := js[[]string](t, ctx, `[...document.querySelectorAll("#op-rows .op")].map((e) => e.textContent)`)
	require.Len(t, rows, len(tr.Operations))
	assert.False(t, js[bool](t, ctx, `document.getElementById("ops").hidden`))
	for i, o := range tr.Operations {
		assert.Contains(t, rows[i], "client "+strconv.FormatUint(o.Client, 10))
		assert.Contains(t, rows[i], o.Op+" "+o.Key)
	}
	assert.Len(t, js[[]any](t, ctx, "window.raftsim.operations()"), len(tr.Operations))

	for _, j := range []int{2, 5, 0} {
		o := tr.Operations[j]
		p := js[struct{ X, Y float64 }](t, ctx, `(() => { const e = document.querySelectorAll("#op-rows .op")[`+strconv.Itoa(j)+`]; e.scrollIntoView();
			const r = e.getBoundingClientRect(); return { x: r.left + r.width / 3, y: r.top + r.height / 2 }; })()`)
		require.NoError(t, chromedp.Do(ctx, chromedp.MouseClickXY(p.X, p.Y)))
		assert.Equal(t, o.Call+1, js[int](t, ctx, "window.raftsim.index()"), "operation %d: the current event is its call", j)
		line := js[string](t, ctx, `document.getElementById("event-text").textContent`)
		assert.Equal(t, "client n"+strconv.FormatUint(o.Node, 10)+" client "+strconv.FormatUint(o.Client, 10)+" "+o.Op+" #"+strconv.FormatUint(o.Seq, 10)+" call "+o.Key, line)
		cls := js[string](t, ctx, `document.querySelectorAll("#op-rows .op")[`+strconv.Itoa(j)+`].getAttribute("class")`)
		assert.Contains(t, cls, "open")
		assert.Contains(t, cls, "current")
	}
	// After its return, an operation is done.
	o := tr.Operations[0]
	require.GreaterOrEqual(t, o.End, 0)
	js[int](t, ctx, "window.raftsim.seek("+strconv.Itoa(o.End+1)+")")
	assert.Contains(t, js[string](t, ctx, `document.querySelector("#op-rows .op").getAttribute("class")`), "done")
}

// A trace without client operations shows no panel.
func TestOperationsPanelHiddenWithoutClients(t *testing.T) {
	tr := loadFile(t, "testdata/browser.jsonl")
	require.Empty(t, tr.Operations)
	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	assert.True(t, js[bool](t, ctx, `document.getElementById("ops").hidden`))
}
