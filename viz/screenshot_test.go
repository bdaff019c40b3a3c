package viz

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screenshot opens tr's page at position pos, shows [t0, t1] in the
// space-time diagram, and returns a PNG of the window.
func screenshot(t *testing.T, ctx context.Context, tr *Trace, pos int, t0, t1 int64) []byte {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1400, 1000)))
	openTrace(t, ctx, tr, 10*time.Second)
	js[int](t, ctx, "window.raftsim.seek("+itoa(uint64(pos))+")")
	js[[]float64](t, ctx, "window.raftsim.diagramView("+itoa(uint64(t0))+", "+itoa(uint64(t1))+")")
	js[bool](t, ctx, "window.raftsim.diagram().arrows > 0")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	return png
}

// TestSpacetimeScreenshot takes the README's picture: the page of
// kill-half at 9 nodes (testdata/kill-half-9.jsonl, from `go run
// ./cmd/raftsim run scenarios/kill-half.yaml --nodes 9 --trace ...`) with
// the space-time diagram on the election after the kill (2 ms: the
// votes, the lost ones to the killed nodes, the leader's first appends).
// It writes the PNG to $RAFTSIM_SPACETIME_PNG if set (then move it to
// docs/spacetime.png):
//
//	RAFTSIM_SPACETIME_PNG=$PWD/../docs/spacetime.png go test -run TestSpacetimeScreenshot ./viz
func TestSpacetimeScreenshot(t *testing.T) {
	ctx := newBrowser(t)
	tr := loadFile(t, "testdata/kill-half-9.jsonl")
	kill, lead := -1, -1
	for i, e := range tr.Events {
		switch {
		case kill < 0 && kindOf(tr, e) == "fault" && e[2] == 0:
			kill = i
		case kill >= 0 && kindOf(tr, e) == "role" && tr.Strings[e[7]] == "leader":
			lead = i
		}
	}
	require.Positive(t, lead, "the leader elected after the kill")
	at := tr.Events[lead][0]
	png := screenshot(t, ctx, tr, lead+1, at-800_000, at+1_200_000)
	assert.Greater(t, len(png), 20000)
	if out := os.Getenv("RAFTSIM_SPACETIME_PNG"); out != "" {
		require.NoError(t, os.WriteFile(out, png, 0o644))
	}
}
