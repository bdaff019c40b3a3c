package browserworld

import (
	"bytes"
	"fmt"
	"github.com/raftsim/raftsim/internal/chromium"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// needChromium skips the test without Debian's chromium on PATH (fails
// it in CI), and in -short runs.
func needChromium(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser cluster: not in -short")
	}
	chromium.Require(t)
}

// applied records, per tab, the data of the normal entries it applied.
type applied struct {
	mu   sync.Mutex
	data map[raft.ID][][]byte
}

func (a *applied) observe(node raft.ID, _, _ raft.Status, rd *raft.Ready, _ LogReader) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range rd.Committed {
		if e.Type == raft.EntryNormal {
			a.data[node] = append(a.data[node], e.Data)
		}
	}
	return nil
}

func (a *applied) has(node raft.ID, data []byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, d := range a.data[node] {
		if bytes.Equal(d, data) {
			return true
		}
	}
	return false
}

// needLong skips a browser test beyond the smoke test without -tags
// long: go test ./... runs TestThreeTabsElectOneLeaderAndReplicate (a
// cluster of real tabs elects, replicates and reports), .ci/run every
// one; each takes 5-10 s of both cores on the 2-core VM.
func needLong(t testing.TB, what string) {
	t.Helper()
	if !longTests {
		t.Skipf("%s: with -tags long", what)
	}
}

// newCluster starts a cluster of n tabs that Close ends with the test.
func newCluster(t testing.TB, n int, a *applied) *Cluster {
	t.Helper()
	return newClusterWith(t, n, a, func(*Options) {})
}

// newClusterWith is newCluster with options changed by set.
func newClusterWith(t testing.TB, n int, a *applied, set func(*Options)) *Cluster {
	t.Helper()
	needChromium(t)
	opt := Options{Nodes: n, Seed: 1, Logf: t.Logf,
		Raft: netmodel.RaftOptions{ElectionTimeout: 300 * sim.Millisecond, Heartbeat: 50 * sim.Millisecond, PreVote: true, CheckQuorum: true}}
	if a != nil {
		opt.Observer = a.observe
	}
	set(&opt)
	t0 := time.Now()
	c, err := New(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	tm := c.Timings()
	t.Logf("%d tabs up in %v: build %v, chromium %v, pages %v, mesh %v", n, time.Since(t0).Round(time.Millisecond),
		tm.Build.Round(time.Millisecond), tm.Launch.Round(time.Millisecond), tm.Pages.Round(time.Millisecond), tm.Mesh.Round(time.Millisecond))
	return c
}

// waitLeader waits for exactly one open tab to lead, other than not.
func waitLeader(t *testing.T, c *Cluster, not raft.ID, within time.Duration) raft.ID {
	t.Helper()
	var lead raft.ID
	require.Eventually(t, func() bool {
		ls := c.Leaders()
		if len(ls) != 1 || ls[0] == not {
			return false
		}
		lead = ls[0]
		return true
	}, within, 5*time.Millisecond, "one leader")
	return lead
}

// propose submits cmd at tab id and waits until that tab applied it.
func propose(t *testing.T, c *Cluster, id raft.ID, cmd app.Command) app.Result {
	t.Helper()
	done := make(chan app.Result, 1)
	c.Propose(id, cmd, func(r app.Result) { done <- r })
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("tab %d did not apply %+v", id, cmd)
		return app.Result{}
	}
}

func TestThreeTabsElectOneLeaderAndReplicate(t *testing.T) {
	a := &applied{data: map[raft.ID][][]byte{}}
	c := newCluster(t, 3, a)
	t0 := time.Now()
	require.NoError(t, c.Start())
	lead := waitLeader(t, c, raft.None, 10*time.Second)
	t.Logf("tab %d leads after %v", lead, time.Since(t0).Round(time.Millisecond))
	cmd := app.Command{Op: app.OpPut, Key: "k", Value: "v", Client: 1, Seq: 1}
	t1 := time.Now()
	r := propose(t, c, lead, cmd)
	assert.True(t, r.OK)
	t.Logf("put applied at the leader after %v", time.Since(t1).Round(time.Microsecond))
	for i := raft.ID(1); i <= 3; i++ {
		require.Eventually(t, func() bool { return a.has(i, cmd.Encode()) }, 5*time.Second, 5*time.Millisecond, "tab %d applies the put", i)
		m, err := c.Memory(i)
		require.NoError(t, err)
		t.Logf("tab %d: JS heap %.1f MB, wasm memory %.1f MB", i, float64(m.JSHeap)/1e6, float64(m.Wasm)/1e6)
	}
	assert.Equal(t, []raft.ID{lead}, c.Leaders(), "still exactly one leader")
	require.NoError(t, c.Violation())
	costs, err := c.HandlerCosts(lead%3 + 1)
	require.NoError(t, err)
	require.NotEmpty(t, costs, "a follower handled the leader's appends")
	for _, ms := range costs {
		assert.True(t, ms >= 0 && ms < 1000, "a handling time of %v ms", ms)
	}
	again, err := c.HandlerCosts(lead%3 + 1)
	require.NoError(t, err)
	assert.Less(t, len(again), len(costs), "reading them forgets them")
	reports, err := c.ReportCosts(lead)
	require.NoError(t, err)
	require.NotEmpty(t, reports, "the leader reported its batches (its heartbeats at least)")
	for _, ms := range reports {
		assert.True(t, ms >= 0 && ms < 1000, "a report took %v ms", ms)
	}
	for i := raft.ID(1); i <= 3; i++ {
		starts, err := c.StartCosts(i)
		require.NoError(t, err)
		require.Len(t, starts, 1, "tab %d started Raft once", i)
		assert.True(t, starts[0] > 0 && starts[0] < 1000, "tab %d's start took %v ms", i, starts[0])
	}
}

func TestKilledLeaderIsReplacedAndRestoresFromLocalStorage(t *testing.T) {
	needLong(t, "a kill and a reopening at 3 and 5 tabs")
	for _, n := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d tabs", n), func(t *testing.T) {
			killLeaderAndRestart(t, n)
		})
	}
}

// killLeaderAndRestart: the leader of n tabs is killed, another is
// elected; reopened, the tab restores its log from localStorage and
// catches up.
func killLeaderAndRestart(t *testing.T, n int) {
	a := &applied{data: map[raft.ID][][]byte{}}
	c := newCluster(t, n, a)
	require.NoError(t, c.Start())
	first := waitLeader(t, c, raft.None, 10*time.Second)
	propose(t, c, first, app.Command{Op: app.OpPut, Key: "a", Value: "1", Client: 1, Seq: 1})
	st, _ := c.Status(first)
	before := c.Mirror(first)
	require.GreaterOrEqual(t, before.LastIndex(), st.Commit, "the leader's storage holds what it committed")

	t0 := time.Now()
	c.Kill(first)
	assert.False(t, c.Alive(first))
	second := waitLeader(t, c, first, 15*time.Second)
	t.Logf("tab %d killed; tab %d leads after %v", first, second, time.Since(t0).Round(time.Millisecond))
	after := app.Command{Op: app.OpPut, Key: "b", Value: "2", Client: 1, Seq: 2}
	propose(t, c, second, after)

	t1 := time.Now()
	require.NoError(t, c.Restart(first))
	r := c.Restored(first)
	assert.True(t, r.Found, "the reopened tab found its storage")
	assert.False(t, r.Discarded, "reopened after a kill, not a discard")
	assert.Equal(t, before.LastIndex(), r.LastIndex, "it restored the log it had persisted")
	assert.Equal(t, before.Stored.HardState.Term, r.HardState.Term)
	require.Eventually(t, func() bool { return a.has(first, after.Encode()) }, 15*time.Second, 5*time.Millisecond,
		"the restarted tab catches up with what was committed while it was closed")
	t.Logf("tab %d restored %d entries (%d bytes of localStorage) and caught up in %v", first, r.LastIndex, r.Bytes, time.Since(t1).Round(time.Millisecond))
	require.NoError(t, c.WaitMesh(10*time.Second))
	require.NoError(t, c.Violation())
}

func TestCloseLeavesNoChromium(t *testing.T) {
	needLong(t, "a browser started to be closed")
	c := newCluster(t, 2, nil)
	dir, pgid := c.b.dir, c.b.pgid
	require.Positive(t, pgid)
	require.NotEmpty(t, leftovers(dir), "the browser runs")
	t.Logf("browser processes: %d name the cluster's directory, %d in its process group", len(leftovers(dir)), len(groupMembers(pgid)))
	t0 := time.Now()
	c.Close()
	t.Logf("closed in %v", time.Since(t0).Round(time.Millisecond))
	assert.Empty(t, leftovers(dir), "no process names the cluster's directory")
	assert.Empty(t, groupMembers(pgid), "no process is left in the browser's group")
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the temporary directory is gone")
}

// Each tab's browser context opens a window of its own; Chromium 156 gave
// each window's omnibox popup a WebUI renderer that kept about a core busy
// for the first 10 s, on the cores the tabs' pages share. The browser is
// started without them (launch).
func TestNoBrowserUIRenderersShareTheTabsCores(t *testing.T) {
	needLong(t, "a browser started to read its processes")
	c := newCluster(t, 3, nil)
	renderers := 0
	for _, pid := range leftovers(c.b.dir) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue // gone meanwhile
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		if !strings.Contains(cmdline, "--type=renderer") {
			continue
		}
		renderers++
		assert.NotContains(t, cmdline, "--top-chrome-webui", "renderer %d is the browser's own UI", pid)
	}
	assert.GreaterOrEqual(t, renderers, 3, "the three tabs' pages have renderers")
}

// A discarded tab's page closes, but its peers are not told: their
// datachannels to it stay open (ICE fails them 15 s later:
// BenchmarkClosedPageSeenByPeers), until the reloaded tab offers again and
// replaces them; it connects again and restores its log. The model does
// the same (netmodel/conn.go tabClosed).
func TestADiscardedTabsPeersKeepTheirChannelsUntilItReconnects(t *testing.T) {
	needLong(t, "5 s of real time")
	c := newCluster(t, 3, nil)
	require.NoError(t, c.Start())
	waitLeader(t, c, raft.None, 10*time.Second)
	require.True(t, c.ChannelOpen(1, 3))
	t0 := time.Now()
	c.Discard(3, 2*time.Second)
	time.Sleep(time.Second)
	assert.False(t, c.Alive(3))
	assert.True(t, c.ChannelOpen(1, 3) && c.ChannelOpen(2, 3), "a second after the discard the peers still hold open channels to it")
	require.Eventually(t, func() bool { return c.Alive(3) && c.ChannelOpen(1, 3) && c.ChannelOpen(3, 1) }, 20*time.Second, 5*time.Millisecond,
		"the reloaded tab connects again")
	t.Logf("connected again %v after the discard", time.Since(t0).Round(time.Millisecond))
	assert.True(t, c.Restored(3).Found, "it restored its log from localStorage")
	assert.True(t, c.Restored(3).Discarded, "the reloaded page knows it was discarded")
}
