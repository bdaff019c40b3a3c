package browserworld

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// BenchmarkDatachannelThroughput floods one tab's ordered, reliable
// datachannel to another on loopback for 3 s (Raft not started: the tab
// program drops what is not a Raft message) with messages of 1 or 16 KiB,
// keeping at most 64 KiB or 4 MiB buffered (bufferedAmount), and reports
// what the receiving page's own listener counted: messages/s, MB/s, the
// pauses of 300 ms or more between two arrivals (stalls), and how busy the
// machine's CPUs were (cpu-%). Run it with -bench DatachannelThroughput
// -benchtime 1x. A 4 MiB flood stalls again and again for about 400 ms,
// dcSCTP's minimum retransmission timeout, with the CPUs idle: Chromium
// loses packets on the way under it, though the kernel drops none
// (docs/worlds.md).
func BenchmarkDatachannelThroughput(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		for _, buffered := range []int{64 << 10, 4 << 20} {
			b.Run(fmt.Sprintf("msg=%dKiB/buffered=%dKiB", size>>10, buffered>>10), func(b *testing.B) {
				floodChannel(b, size, buffered)
			})
		}
	}
}

// floodChannel runs one case of BenchmarkDatachannelThroughput.
func floodChannel(b *testing.B, size, buffered int) {
	tx, rx := twoPages(b)
	_, err := chromedp.Run(rx, chromedp.Evaluate[bool](`window.rx = {bytes: 0, n: 0, first: 0, last: 0, stalls: 0};
raftsimChannels["1"].addEventListener("message", (e) => { const r = window.rx, now = performance.now();
  if (r.n === 0) r.first = now; else if (now - r.last >= 300) r.stalls++;
  r.n++; r.bytes += e.data.byteLength; r.last = now; }); true`))
	require.NoError(b, err)
	b.ResetTimer()
	busy0, idle0 := cpuTimes(b)
	_, err = chromedp.Run(tx, chromedp.Evaluate[bool](fmt.Sprintf(`new Promise((done) => {
  const dc = raftsimChannels["2"], buf = new ArrayBuffer(%d), limit = %d, t0 = performance.now();
  dc.bufferedAmountLowThreshold = limit / 4;
  const pump = () => {
    if (performance.now() - t0 > 3000) { dc.onbufferedamountlow = null; done(true); return; }
    while (dc.bufferedAmount < limit) dc.send(buf);
  };
  dc.onbufferedamountlow = pump; pump();
})`, size, buffered), chromedp.EvalAwaitPromise))
	require.NoError(b, err)
	busy1, idle1 := cpuTimes(b)
	time.Sleep(2 * time.Second) // what was buffered arrives
	got, err := chromedp.Run(rx, chromedp.Evaluate[struct{ Bytes, N, First, Last, Stalls float64 }](`window.rx`))
	require.NoError(b, err)
	require.Positive(b, got.N)
	secs := (got.Last - got.First) / 1000
	b.ReportMetric(got.Bytes/secs/1e6, "MB/s")
	b.ReportMetric(got.N/secs, "messages/s")
	b.ReportMetric(got.Stalls, "stalls")
	b.ReportMetric(100*float64(busy1-busy0)/float64(busy1-busy0+idle1-idle0), "cpu-%")
}

// cpuTimes reads the machine's busy and idle CPU time (/proc/stat, in
// clock ticks).
func cpuTimes(tb testing.TB) (busy, idle int64) {
	raw, err := os.ReadFile("/proc/stat")
	require.NoError(tb, err)
	line, _, _ := strings.Cut(string(raw), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		require.NoError(tb, err)
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		} else {
			busy += v
		}
	}
	return busy, idle
}

// BenchmarkDatachannelRoundTrip bounces a 100-byte message between two
// tabs' pages 1,000 times, one at a time, over their ordered, reliable
// datachannel on loopback (Raft not started: the pages' own listeners
// echo), and reports the round trip's median and 90th percentile in ms:
// half of it is the one-way latency the model's loopback profile stands
// for. Run it with -bench DatachannelRoundTrip -benchtime 1x.
func BenchmarkDatachannelRoundTrip(b *testing.B) {
	ping, echo := twoPages(b)
	_, err := chromedp.Run(echo, chromedp.Evaluate[bool](`const dc = raftsimChannels["1"];
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

// BenchmarkFrozenPageGetsItsMessagesOnThaw freezes one of two connected
// tabs for 5 s while the other sends it a 100-byte message every 20 ms,
// thaws it, and reports how many of the messages sent during the freeze
// arrived, whether in order, and when the first and the last of them
// reached the page's listener after its "resume" event (ms), which the
// page gets on thaw: the datachannel holds
// what a frozen page cannot take, as the model's frozen tab queues its
// deliveries. Run it with -bench FrozenPage -benchtime 1x.
func BenchmarkFrozenPageGetsItsMessagesOnThaw(b *testing.B) {
	c := newCluster(b, 2, nil)
	tx, rx := pagesOf(b, c)
	_, err := chromedp.Run(rx, chromedp.Evaluate[bool](`window.got = [];
document.addEventListener("resume", () => { window.thawedAt = performance.now(); });
raftsimChannels["1"].addEventListener("message", (e) => got.push([new DataView(e.data).getUint32(0), performance.now()])); true`))
	require.NoError(b, err)
	b.ResetTimer()
	require.NoError(b, c.Freeze(2, true))
	sent, err := chromedp.Run(tx, chromedp.Evaluate[int](`new Promise((done) => {
  const dc = raftsimChannels["2"]; let n = 0;
  const tick = () => { const buf = new ArrayBuffer(100); new DataView(buf).setUint32(0, n++); dc.send(buf);
    if (n < 240) setTimeout(tick, 20); else done(n); };
  tick();
})`, chromedp.EvalAwaitPromise))
	require.NoError(b, err)
	require.NoError(b, c.Freeze(2, false))
	time.Sleep(time.Second)
	got, err := chromedp.Run(rx, chromedp.Evaluate[struct {
		N, InOrder, First, Last float64
	}](`(() => { let inOrder = 1; for (let i = 0; i < got.length; i++) if (got[i][0] !== i) inOrder = 0;
  return {N: got.length, InOrder: inOrder, First: got[0][1] - thawedAt, Last: got[got.length - 1][1] - thawedAt}; })()`))
	require.NoError(b, err)
	b.StopTimer()
	b.ReportMetric(float64(sent), "sent")
	b.ReportMetric(got.N, "received")
	b.ReportMetric(got.InOrder, "in-order")
	b.ReportMetric(got.First, "first-after-thaw-ms")
	b.ReportMetric(got.Last, "last-after-thaw-ms")
	require.Equal(b, float64(sent), got.N, "every message arrives")
}

// twoPages opens a cluster of two tabs (Raft not started) and returns
// their pages, tab 1's first.
func twoPages(b *testing.B) (first, second context.Context) {
	return pagesOf(b, newCluster(b, 2, nil))
}

// pagesOf returns the pages of a two-tab cluster's tabs, tab 1's first.
func pagesOf(b *testing.B, c *Cluster) (first, second context.Context) {
	first, err := c.openPageOf(1)
	require.NoError(b, err)
	second, err = c.openPageOf(2)
	require.NoError(b, err)
	return first, second
}
