package viz

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lossyTrace runs a small chat scenario on 3 tabs over a lossy LAN
// with the given datachannel and returns its trace, as the page loads it.
func lossyTrace(t *testing.T, datachannel string) *Trace {
	t.Helper()
	sc, err := scenarios.Parse("lossy.yaml", []byte(`name: lossy
cluster: {nodes: 3, election_timeout: 500ms, bootstrap: static, membership: static}
world: {profile: lan, datachannel: `+datachannel+`, loss: 0.2}
workload: {chat: {lines: 10, when: leader}}
measures:
  - {name: leader, from: start, until: leader, mode: exact}
  - {name: committed, from: workload, until: committed, mode: exact}
limit: 60s
`))
	require.NoError(t, err)
	var buf strings.Builder
	_, err = scenarios.Run(sc, 1, scenarios.RunOptions{Trace: &buf})
	require.NoError(t, err)
	tr, err := Load(strings.NewReader(buf.String()), "lossy.jsonl")
	require.NoError(t, err)
	return tr
}

// shape is what window.raftsim.diagramShape(i) says of a message's drawing.
type shape struct {
	Cross *struct{ T, X, Y float64 }
	Held  []struct {
		Why       string
		Node      int
		T0, T1    float64
		X1, X2, Y float64
	}
}

// clientX is where the diagram draws time t, in client coordinates (the
// page's geometry: a 34 px gutter, then the window across the canvas).
func clientX(t *testing.T, ctx context.Context, at int64) float64 {
	t.Helper()
	g := js[struct{ Left, Width float64 }](t, ctx, `(() => { const c = document.getElementById("st-canvas");
	  return { left: c.getBoundingClientRect().left, width: c.width }; })()`)
	d := diagram(t, ctx)
	return g.Left + 34 + (float64(at)-d.T0)/(d.T1-d.T0)*(g.Width-34)
}

// laneY is the client y of node n's lane (the page's geometry: an 18 px
// axis, then 16 px lanes, none collapsed).
func laneY(t *testing.T, ctx context.Context, n int64) float64 {
	t.Helper()
	top := js[float64](t, ctx, `document.getElementById("st-canvas").getBoundingClientRect().top`)
	return top + 18 + float64(n-1)*16 + 8
}

// hoverTitle moves the mouse to (x, y) on the diagram and returns the
// canvas's title.
func hoverTitle(t *testing.T, ctx context.Context, x, y float64) string {
	t.Helper()
	return js[string](t, ctx, fmt.Sprintf(`(() => { const c = document.getElementById("st-canvas");
	  c.dispatchEvent(new MouseEvent("mousemove", { clientX: %f, clientY: %f, bubbles: true })); return c.title; })()`, x, y))
}

// view shows [t0, t1] in the diagram.
func view(t *testing.T, ctx context.Context, t0, t1 int64) {
	t.Helper()
	js[int](t, ctx, "window.raftsim.seek(0)") // before the view: a seek keeps the clock in view
	js[[]float64](t, ctx, "window.raftsim.diagramView("+strconv.FormatInt(t0, 10)+", "+strconv.FormatInt(t1, 10)+")")
}

// A message lost on an unreliable channel is drawn with its cross at
// the instant it was lost (when it would have arrived: the trace's
// lost), not by the send where its drop is traced; hovering over the
// cross says when it was lost, and so does the explanation.
func TestSpacetimeDrawsALostMessageWhereItWasLost(t *testing.T) {
	tr := lossyTrace(t, "{ordered: false, max_retransmits: 0}")
	_, sendOf := pairs(tr)
	d, lost := -1, int64(0)
	for _, r := range tr.Instants {
		if i := int(r[0]); kindOf(tr, tr.Events[i]) == "drop" && r[1] > tr.Events[i][0] && sendOf[i] >= 0 {
			d, lost = i, r[1]
			break
		}
	}
	require.GreaterOrEqual(t, d, 0, "a drop with its lost instant")
	sent := tr.Events[sendOf[d]][0]
	require.Equal(t, sent, tr.Events[d][0], "the drop is traced at the send")

	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	view(t, ctx, sent-(lost-sent)/4, lost+(lost-sent)/4)
	// Where the cross should be: at the loss instant, 60% of the way
	// from the sender's lane to the receiver's. The hover there names
	// the drop and when it was lost.
	e := tr.Events[d]
	y := laneY(t, ctx, e[2]) + 0.6*(laneY(t, ctx, e[3])-laneY(t, ctx, e[2]))
	title := hoverTitle(t, ctx, clientX(t, ctx, lost), y)
	assert.True(t, strings.HasPrefix(title, fmt.Sprintf("%.3f s: drop", float64(lost)/1e9)), "the hover at the loss instant names it: %q", title)

	got := js[*shape](t, ctx, "window.raftsim.diagramShape("+strconv.Itoa(d)+")")
	require.NotNil(t, got, "the drop is drawn")
	require.NotNil(t, got.Cross, "as a cross")
	assert.Equal(t, float64(lost), got.Cross.T)
	want, send := clientX(t, ctx, lost), clientX(t, ctx, sent)
	assert.InDelta(t, want, got.Cross.X, 1.5, "the cross stands at the loss instant")
	assert.Greater(t, got.Cross.X-send, 300.0, "far from the send")
	assert.InDelta(t, y, got.Cross.Y, 1.5)
	_, why := at(t, ctx, d+1)
	assert.Contains(t, why, fmt.Sprintf("it is lost at %.3f s", float64(lost)/1e9))
}

// A message retransmitted on a reliable lossy channel is drawn as held
// at its sender from its send until the transmission that got through
// (the deliver's tx), with the reason in its hover title and in the
// explanation; the legend explains held messages.
func TestSpacetimeDrawsARetransmittedMessageAsHeld(t *testing.T) {
	tr := lossyTrace(t, "ordered-reliable")
	_, sendOf := pairs(tr)
	d, tx := -1, int64(0)
	for _, r := range tr.Instants {
		i := int(r[0])
		if e := tr.Events[i]; kindOf(tr, e) == "deliver" && r[2] > 0 && strings.HasPrefix(tr.Strings[e[7]], "retransmitted") && sendOf[i] >= 0 {
			d, tx = i, r[2]
			break
		}
	}
	require.GreaterOrEqual(t, d, 0, "a retransmitted delivery")
	sent, delivered, reason := tr.Events[sendOf[d]][0], tr.Events[d][0], tr.Strings[tr.Events[d][7]]

	ctx := newBrowser(t)
	openTrace(t, ctx, tr, 10*time.Second)
	view(t, ctx, sent-(delivered-sent)/4, delivered+(delivered-sent)/4)
	// Halfway through the hold, just above the sender's lane: the hover
	// says the message was held there, and why.
	from := tr.Events[d][3]
	title := hoverTitle(t, ctx, clientX(t, ctx, (sent+tx)/2), laneY(t, ctx, from)-3)
	assert.Contains(t, title, fmt.Sprintf("held at node %d", from))
	assert.Contains(t, title, reason, "the hover says why")

	assert.Positive(t, js[int](t, ctx, "window.raftsim.diagram().held"), "held arrows counted")
	got := js[*shape](t, ctx, "window.raftsim.diagramShape("+strconv.Itoa(d)+")")
	require.NotNil(t, got, "the deliver is drawn")
	require.NotEmpty(t, got.Held, "with a held stretch")
	h := got.Held[0]
	assert.Equal(t, reason, h.Why)
	assert.Equal(t, int(tr.Events[d][3]), h.Node, "held at the sender")
	assert.Equal(t, []float64{float64(sent), float64(tx)}, []float64{h.T0, h.T1})
	assert.InDelta(t, clientX(t, ctx, sent), h.X1, 1.5)
	assert.InDelta(t, clientX(t, ctx, tx), h.X2, 1.5)
	assert.InDelta(t, laneY(t, ctx, from)-3, h.Y, 1.5)
	_, why := at(t, ctx, d+1)
	assert.Contains(t, why, "late: "+reason)
	assert.Contains(t, js[string](t, ctx, `document.getElementById("legend").textContent`), "held message")
}
