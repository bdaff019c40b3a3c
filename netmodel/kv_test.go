package netmodel

import (
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No command is applied twice: a client appends numbered tokens and
// retries every command several times, over links that duplicate 30% of
// messages, lose 20% and delay them by up to 50 ms; every tab must end
// with each token exactly once, in order.
func TestRetriedAndDuplicatedCommandsApplyOnce(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		opt := testOptions(3)
		opt.Raft.ElectionTimeout = 300 * sim.Millisecond
		opt.Mode = UnorderedUnreliable
		opt.Profile.Loss, opt.Profile.Duplicate = 0.2, 0.3
		opt.Profile.Latency = Latency{Dist: DistUniform, Mean: 25 * sim.Millisecond, Jitter: 25 * sim.Millisecond}
		w, _ := newTestWorld(t, opt, seed)
		const n = 40
		var acked []bool
		for i := 1; i <= n; i++ {
			cmd := app.Command{Op: app.OpAppend, Key: "log", Value: strconv.Itoa(i) + ";", Client: 9, Seq: uint64(i)}
			acked = append(acked, false)
			// Every command is sent 4 times from tab (i % 3) + 1, 100 ms
			// apart: a client retrying after timeouts.
			for try := range 4 {
				at := 2*sim.Second + sim.Time(i)*500*sim.Millisecond + sim.Time(try)*100*sim.Millisecond
				tab := w.tabs[i%3+1]
				w.sim.At(at, func() {
					tab.run(func() { tab.Submit(cmd, func(app.Result) { acked[i-1] = true }) })
				})
			}
		}
		w.sim.RunUntil(60*sim.Second, nil)
		want := make([]string, 0, n)
		for i := 1; i <= n; i++ {
			if acked[i-1] {
				want = append(want, strconv.Itoa(i))
			}
		}
		require.NotEmpty(t, want)
		for id := raft.ID(1); id <= 3; id++ {
			v, _ := w.tabs[id].host.SM.KV.Get("log")
			got := strings.Split(strings.TrimSuffix(v, ";"), ";")
			seen := map[string]int{}
			for _, tok := range got {
				seen[tok]++
				assert.LessOrEqual(t, seen[tok], 1, "seed %d tab %d: token %s applied twice: %s", seed, id, tok, v)
			}
			for _, tok := range want {
				assert.Equal(t, 1, seen[tok], "seed %d tab %d: acknowledged token %s applied once", seed, id, tok)
			}
		}
	}
}

// A KV client outside its page (in a harness, as the real worlds'
// clients are) waits for its request to reach the page and for the
// answer to come back: with a constant path of 3 ms there and 4 ms
// back, every operation of a lone client on a quiet cluster takes
// exactly 7 ms longer than with the client in the page.
func TestAKVClientOutsideItsPageWaitsForItsPathBothWays(t *testing.T) {
	latencies := func(path KVClientPath) []sim.Time {
		opt := testOptions(3)
		opt.Raft.ElectionTimeout = 300 * sim.Millisecond
		opt.KVClientPath = path
		w, _ := newTestWorld(t, opt, 1)
		var kv *KVClients
		w.sim.At(2*sim.Second, func() {
			kv = w.StartKV(KVOptions{Clients: 1, KVOptions: host.KVOptions{Keys: 2, Ops: 20,
				Think: 25 * sim.Millisecond, Timeout: 5 * sim.Second}})
		})
		w.sim.RunUntil(20*sim.Second, nil)
		require.NotNil(t, kv)
		var out []sim.Time
		for _, r := range kv.History() {
			require.True(t, r.Returned, "%+v", r)
			out = append(out, r.Return-r.Call)
		}
		require.Len(t, out, 20)
		return out
	}
	inPage := latencies(KVClientPath{})
	outside := latencies(KVClientPath{
		Request: Latency{Dist: DistConstant, Mean: 3 * sim.Millisecond},
		Answer:  Latency{Dist: DistConstant, Mean: 4 * sim.Millisecond},
	})
	for i := range inPage {
		assert.Equal(t, inPage[i]+7*sim.Millisecond, outside[i], "operation %d", i+1)
	}
}

func TestAKVClientPathIsValidated(t *testing.T) {
	opt := testOptions(3)
	opt.KVClientPath.Answer = Latency{Dist: "gamma", Mean: sim.Millisecond}
	_, err := New(sim.New(1, nil), opt)
	assert.ErrorContains(t, err, "KV client answer path")
}
