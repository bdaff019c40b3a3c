package browserworld

import (
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// BenchmarkDatachannelThroughput sends 16 KiB messages from one tab to
// another over their ordered, reliable datachannel on loopback for 3 s,
// keeping up to 4 MiB buffered (bufferedAmount), and reports what the
// receiving page's own listener counted: MB/s and messages/s. Raft is not
// started, so the tab program drops the messages at once (they are not
// Raft messages) and the measure is the channel's. Run it with -bench
// DatachannelThroughput -benchtime 1x.
func BenchmarkDatachannelThroughput(b *testing.B) {
	c := newCluster(b, 2, nil)
	rx, err := c.openPageOf(2)
	require.NoError(b, err)
	tx, err := c.openPageOf(1)
	require.NoError(b, err)
	_, err = chromedp.Run(rx, chromedp.Evaluate[bool](`window.rx = {bytes: 0, n: 0, first: 0, last: 0};
raftsimChannels["1"].addEventListener("message", (e) => { const r = window.rx, now = performance.now();
  if (r.n === 0) r.first = now; r.n++; r.bytes += e.data.byteLength; r.last = now; }); true`))
	require.NoError(b, err)
	b.ResetTimer()
	_, err = chromedp.Run(tx, chromedp.Evaluate[bool](`new Promise((done) => {
  const dc = raftsimChannels["2"], buf = new ArrayBuffer(16384), t0 = performance.now();
  dc.bufferedAmountLowThreshold = 1 << 20;
  const pump = () => {
    if (performance.now() - t0 > 3000) { dc.onbufferedamountlow = null; done(true); return; }
    while (dc.bufferedAmount < 4 << 20) dc.send(buf);
  };
  dc.onbufferedamountlow = pump; pump();
})`, chromedp.EvalAwaitPromise))
	require.NoError(b, err)
	time.Sleep(time.Second) // what was buffered arrives
	got, err := chromedp.Run(rx, chromedp.Evaluate[struct{ Bytes, N, First, Last float64 }](`window.rx`))
	require.NoError(b, err)
	require.Positive(b, got.N)
	secs := (got.Last - got.First) / 1000
	b.ReportMetric(got.Bytes/secs/1e6, "MB/s")
	b.ReportMetric(got.N/secs, "messages/s")
}

// BenchmarkDatachannelRoundTrip bounces a 100-byte message between two
// tabs' pages 1,000 times, one at a time, over their ordered, reliable
// datachannel on loopback (Raft not started: the pages' own listeners
// echo), and reports the round trip's median and 90th percentile in ms:
// half of it is the one-way latency the model's loopback profile stands
// for. Run it with -bench DatachannelRoundTrip -benchtime 1x.
func BenchmarkDatachannelRoundTrip(b *testing.B) {
	c := newCluster(b, 2, nil)
	echo, err := c.openPageOf(2)
	require.NoError(b, err)
	ping, err := c.openPageOf(1)
	require.NoError(b, err)
	_, err = chromedp.Run(echo, chromedp.Evaluate[bool](`const dc = raftsimChannels["1"];
dc.addEventListener("message", (e) => dc.send(e.data)); true`))
	require.NoError(b, err)
	b.ResetTimer()
	rtts, err := chromedp.Run(ping, chromedp.Evaluate[[]float64](`new Promise((done) => {
  const dc = raftsimChannels["2"], buf = new ArrayBuffer(100), out = [];
  let t0 = 0;
  dc.addEventListener("message", () => {
    out.push(performance.now() - t0);
    if (out.length === 1000) { done(out); return; }
    t0 = performance.now(); dc.send(buf);
  });
  t0 = performance.now(); dc.send(buf);
})`, chromedp.EvalAwaitPromise))
	require.NoError(b, err)
	sort.Float64s(rtts)
	b.ReportMetric(rtts[len(rtts)/2], "median-rtt-ms")
	b.ReportMetric(rtts[len(rtts)*9/10], "p90-rtt-ms")
	b.ReportMetric(rtts[len(rtts)/10], "p10-rtt-ms")
}

// BenchmarkClosedPageSeenByPeers closes one of two connected tabs' pages
// (a kill) and reports, in seconds from the close, when the other page's
// RTCPeerConnection to it went "disconnected" and "failed" and when its
// datachannel closed: how long a peer of a closed page goes on sending
// into nothing. The model's connection options (ICEDisconnected,
// ICEFailed, ClosedPageSilent) come from it. Run it with -bench
// ClosedPageSeenByPeers -benchtime 1x (about 20 s).
func BenchmarkClosedPageSeenByPeers(b *testing.B) {
	c := newCluster(b, 2, nil)
	require.NoError(b, c.WaitMesh(20*time.Second))
	page, err := c.openPageOf(1)
	require.NoError(b, err)
	_, err = chromedp.Run(page, chromedp.Evaluate[bool](`window.seen = {};
const pc = raftsimPeers["2"], dc = raftsimChannels["2"], mark = (what) => { if (!(what in seen)) seen[what] = performance.now(); };
pc.addEventListener("connectionstatechange", () => mark("pc-" + pc.connectionState));
pc.addEventListener("iceconnectionstatechange", () => mark("ice-" + pc.iceConnectionState));
dc.addEventListener("close", () => mark("channel-closed")); true`))
	require.NoError(b, err)
	b.ResetTimer()
	_, err = chromedp.Run(page, chromedp.Evaluate[bool](`window.closedAt = performance.now(); true`))
	require.NoError(b, err)
	c.Kill(2)
	var seen map[string]float64
	for range 120 { // up to 60 s
		time.Sleep(500 * time.Millisecond)
		seen, err = chromedp.Run(page, chromedp.Evaluate[map[string]float64](`(() => { const o = {};
  for (const k in seen) o[k] = (seen[k] - closedAt) / 1000; return o; })()`))
		require.NoError(b, err)
		if _, ok := seen["channel-closed"]; ok {
			break
		}
	}
	b.StopTimer()
	for what, secs := range seen {
		b.ReportMetric(secs, what+"-s")
	}
	_, closed := seen["channel-closed"]
	require.True(b, closed, "the channel to the closed page closed within a minute: %v", seen)
}
