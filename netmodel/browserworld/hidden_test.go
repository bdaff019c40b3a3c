package browserworld

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timerChain runs a chain of n setTimeout(10 ms) calls in tab id's page
// and returns the intervals between them, in ms.
func timerChain(t *testing.T, c *Cluster, id raft.ID, n int) []float64 {
	t.Helper()
	page, err := c.openPageOf(id)
	require.NoError(t, err)
	js := `new Promise((done) => {
  const out = []; let last = performance.now();
  const f = () => { const now = performance.now(); out.push(now - last); last = now;
    if (out.length < ` + strconv.Itoa(n) + `) setTimeout(f, 10); else done(out); };
  setTimeout(f, 10);
})`
	v, err := chromedp.Run(page, chromedp.Evaluate[[]float64](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	return v
}

// A minimized tab is hidden, and Chromium aligns its timers to whole
// seconds even with open datachannels (the WebRTC exemption spares it only
// intensive throttling): the model's rule (netmodel/timers.go). A tab in
// the foreground runs the same chain at about 10 ms a step.
func TestAHiddenTabsTimersAlignToOneSecondDespiteOpenChannels(t *testing.T) {
	needLong(t, "seconds of a hidden tab's timers")
	c := newCluster(t, 2, nil)
	require.NoError(t, c.Hide(1, true))
	s, err := c.VisibilityState(1)
	require.NoError(t, err)
	require.Equal(t, "hidden", s)

	hidden := timerChain(t, c, 1, 4)[1:] // the first waits for the next second
	for _, d := range hidden {
		// A second apart, not 10 ms: within 100 ms, as a timer on a
		// loaded machine fires late (CI runs other packages' Chromium
		// tests beside this one: an interval of 1020.5 ms was seen).
		assert.InDelta(t, 1000, d, 100, "hidden: %v", hidden)
	}
	visible := timerChain(t, c, 2, 20)
	for _, d := range visible {
		assert.Less(t, d, 100.0, "foreground: %v", visible)
	}
	require.NoError(t, c.Hide(1, false))
	s, err = c.VisibilityState(1)
	require.NoError(t, err)
	assert.Equal(t, "visible", s)
	t.Logf("hidden intervals %v ms; foreground %v ms", hidden, visible)
}
