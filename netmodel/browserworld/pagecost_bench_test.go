package browserworld

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
)

// BenchmarkIdleClusterPageCosts measures what a heartbeat costs each
// page's thread in a quiet cluster of 3, 9 and 21 tabs run as the
// scenarios run them (election timeout 500 ms, heartbeat 100 ms, a trace
// reported): for 4 s after the cluster settled, the median time the
// leader and the followers took to handle a datachannel message and to
// report a batch to the harness (us). The model's per-task costs
// (world.handler_cost, world.report_cost) come from these. Run it with
// -bench PageCosts -benchtime 1x.
func BenchmarkIdleClusterPageCosts(b *testing.B) {
	for _, n := range []int{3, 9, 21} {
		b.Run(fmt.Sprintf("%d-tabs", n), func(b *testing.B) {
			c := newClusterWith(b, n, nil, func(o *Options) {
				o.Raft = netmodel.RaftOptions{ElectionTimeout: 500 * sim.Millisecond, Heartbeat: 100 * sim.Millisecond}
				o.Record = func(sim.Event) {} // the tabs report their trace, as in compare
			})
			require.NoError(b, c.Start())
			require.Eventually(b, func() bool { return len(c.Leaders()) == 1 }, 20*time.Second, 10*time.Millisecond)
			time.Sleep(2 * time.Second)
			lead := c.Leaders()[0]
			for id := raft.ID(1); int(id) <= n; id++ { // forget the start-up's
				_, err := c.HandlerCosts(id)
				require.NoError(b, err)
				_, err = c.ReportCosts(id)
				require.NoError(b, err)
			}
			b.ResetTimer()
			time.Sleep(4 * time.Second)
			for _, kind := range []struct {
				name string
				read func(raft.ID) ([]float64, error)
			}{{"handle", c.HandlerCosts}, {"report", c.ReportCosts}} {
				var atLeader, atFollowers []float64
				for id := raft.ID(1); int(id) <= n; id++ {
					costs, err := kind.read(id)
					require.NoError(b, err)
					if id == lead {
						atLeader = append(atLeader, costs...)
					} else {
						atFollowers = append(atFollowers, costs...)
					}
				}
				b.ReportMetric(1000*median(atLeader), kind.name+"-leader-median-us")
				b.ReportMetric(1000*median(atFollowers), kind.name+"-followers-median-us")
				b.ReportMetric(1000*mean(atFollowers), kind.name+"-followers-mean-us")
				b.ReportMetric(float64(len(atFollowers)), kind.name+"-followers-count")
			}
		})
	}
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// BenchmarkJoiningPagesFirstMessages measures how long a page that has
// just joined takes to handle its first datachannel messages, as the
// scenarios start (the paper's bootstrap and presence membership, 9
// tabs): for each tab but the first, the handling times of its first 10
// messages in order (logged, ms), and as metrics the median over the
// tabs of the first message's, of the longest of the first 10, and of
// the tenth onwards' (us). Run it with -bench JoiningPage -benchtime 1x.
func BenchmarkJoiningPagesFirstMessages(b *testing.B) {
	const n = 9
	c := newClusterWith(b, n, nil, func(o *Options) {
		o.Raft = netmodel.RaftOptions{ElectionTimeout: 500 * sim.Millisecond, Heartbeat: 100 * sim.Millisecond}
		o.PaperBootstrap, o.Presence = true, true
		o.Record = func(sim.Event) {}
	})
	require.NoError(b, c.Start())
	require.Eventually(b, func() bool {
		ls := c.Leaders()
		if len(ls) != 1 {
			return false
		}
		st, ok := c.Status(ls[0])
		return ok && len(st.Voters) == n
	}, 30*time.Second, 10*time.Millisecond)
	time.Sleep(time.Second)
	b.ResetTimer()
	var first, longest, later []float64
	for id := raft.ID(2); id <= n; id++ {
		costs, err := c.HandlerCosts(id)
		require.NoError(b, err)
		require.Greater(b, len(costs), 10)
		b.Logf("tab %d: first 10 messages (ms) %.2f", id, costs[:10])
		first = append(first, costs[0])
		longest = append(longest, slices.Max(costs[:10]))
		later = append(later, median(costs[10:]))
	}
	b.ReportMetric(1000*median(first), "first-median-us")
	b.ReportMetric(1000*median(longest), "longest-of-10-median-us")
	b.ReportMetric(1000*median(later), "later-median-us")
}

// BenchmarkPagesStartingTogether measures how long each page takes to
// start Raft when the harness tells all of them at once, as the
// scenarios start them (the paper's bootstrap and presence membership),
// at 3, 9 and 21 tabs: each page's start on its own clock (from making
// its node to the end of its first batch; logged, ms), and as metrics
// the first page's (it campaigns and leads), the others' median and the
// longest (us). A start that takes far longer than the median was
// sharing the cores with the other pages' starts (world.start_cost).
// Run it with -bench PagesStarting -benchtime 1x.
func BenchmarkPagesStartingTogether(b *testing.B) {
	for _, n := range []int{3, 9, 21} {
		b.Run(fmt.Sprintf("%d-tabs", n), func(b *testing.B) {
			c := newClusterWith(b, n, nil, func(o *Options) {
				o.Raft = netmodel.RaftOptions{ElectionTimeout: 500 * sim.Millisecond, Heartbeat: 100 * sim.Millisecond}
				o.PaperBootstrap, o.Presence = true, true
				o.Record = func(sim.Event) {}
			})
			require.NoError(b, c.Start())
			require.Eventually(b, func() bool { return len(c.Leaders()) == 1 }, 20*time.Second, 10*time.Millisecond)
			b.ResetTimer()
			var starts []float64
			for id := raft.ID(1); int(id) <= n; id++ {
				costs, err := c.StartCosts(id)
				require.NoError(b, err)
				require.Len(b, costs, 1, "tab %d started once", id)
				starts = append(starts, costs[0])
			}
			b.Logf("%d tabs: each page's start (ms) %.2f", n, starts)
			b.ReportMetric(1000*starts[0], "first-page-start-us")
			b.ReportMetric(1000*median(starts[1:]), "others-start-median-us")
			b.ReportMetric(1000*slices.Max(starts), "longest-start-us")
		})
	}
}

// BenchmarkMachinePageFaults measures what the machine charges for a
// first touch of fresh memory (a page fault on an anonymous 4 KiB page):
// the work a page's start does a lot of (V8 compiling its WebAssembly,
// the heaps growing), and where the project's VMs differed most
// (docs/worlds.md, "The browser's own work on the tabs' cores"). No
// Chromium needed. Run it with -bench MachinePageFaults.
func BenchmarkMachinePageFaults(b *testing.B) {
	const size = 64 << 20
	pageSize := syscall.Getpagesize()
	faults := 0
	for b.Loop() {
		mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		require.NoError(b, err)
		for i := 0; i < size; i += pageSize {
			mem[i] = 1
		}
		faults += size / pageSize
		require.NoError(b, syscall.Munmap(mem))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(faults), "ns/fault")
}
