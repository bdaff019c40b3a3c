package browserworld

import (
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/require"
)

// hiddenMinutes is how long BenchmarkHiddenTabTimersOverMinutes keeps its
// tabs hidden: past the 5 minutes after which Chrome may throttle a
// hidden page's chained timers intensively (facts §1).
const hiddenMinutes = 6*time.Minute + 30*time.Second

// BenchmarkHiddenTabTimersOverMinutes hides two tabs for hiddenMinutes,
// one with an open datachannel (a 2-tab cluster) and one without (a
// cluster of one), each running a chain of 1 s setTimeouts, and reports
// the median and longest step before and after the fifth minute hidden
// (ms): Chrome's 1 s alignment gives about 1000 everywhere; intensive
// throttling would give up to 60000 after the fifth minute for the tab
// without a channel. Run it with -bench HiddenTab -benchtime 1x.
func BenchmarkHiddenTabTimersOverMinutes(b *testing.B) {
	with := newCluster(b, 2, nil)
	without := newCluster(b, 1, nil)
	start := `window.raftsimSteps = []; (() => { let last = performance.now();
  const f = () => { const now = performance.now(); window.raftsimSteps.push([now, now - last]); last = now; setTimeout(f, 1000); };
  setTimeout(f, 1000); })(); true`
	for _, c := range []*Cluster{with, without} {
		require.NoError(b, c.Hide(1, true))
		page, err := c.openPageOf(1)
		require.NoError(b, err)
		_, err = chromedp.Run(page, chromedp.Evaluate[bool](start))
		require.NoError(b, err)
	}
	b.ResetTimer()
	time.Sleep(hiddenMinutes)
	for name, c := range map[string]*Cluster{"with-channel": with, "without-channel": without} {
		page, err := c.openPageOf(raft.ID(1))
		require.NoError(b, err)
		steps, err := chromedp.Run(page, chromedp.Evaluate[[][2]float64]("window.raftsimSteps"))
		require.NoError(b, err)
		var early, late []float64
		for _, s := range steps[1:] { // the first waits for the next whole second
			if s[0] < float64(5*time.Minute/time.Millisecond) {
				early = append(early, s[1])
			} else {
				late = append(late, s[1])
			}
		}
		b.ReportMetric(median(early), name+"-median-ms-first-5min")
		b.ReportMetric(longest(early), name+"-max-ms-first-5min")
		b.ReportMetric(median(late), name+"-median-ms-after-5min")
		b.ReportMetric(longest(late), name+"-max-ms-after-5min")
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func longest(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
