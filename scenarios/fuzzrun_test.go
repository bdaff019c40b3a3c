package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/require"
)

// FuzzRun turns fuzz bytes into a scenario (valid or not) and runs it
// under a budget: a refused file must be a positioned *Error, and an
// accepted one must run without panicking (Run contains a panic as
// Result.Panic: that is the failure this target looks for). Its corpus
// holds the shipped scenarios and the hostile inputs of the hardening
// issue. Run it with
//
//	go test -run='^$' -fuzz=FuzzRun -fuzztime=3m ./scenarios
func FuzzRun(f *testing.F) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	require.NoError(f, err)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		"cluster: {nodes: 9223372036854775807}",
		"world: {latency: {dist: uniform, mean: 2562047h, jitter: 2562047h}}",
		"workload: {kv: {at: 0s, rate: NaN}}",
		"workload: {kv: {at: 0s, clients: 3, retries: 2000000000, timeout: 1ns}}",
		"browser: {visibility: {mean_foreground: 1ns, mean_hidden: 1ns}}",
		"faults: [{at: 1s, kill: {count: minority}}, {at: 2s, restart: {killed: true}}]",
		"cluster: {nodes: 3, snapshot_every: 1}\nworkload: {kv: {at: 0s, clients: 2, ops: 5}}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("not a positioned error: %v", err)
			}
			return
		}
		// The budget: a small cluster, 5 virtual seconds, 200,000 events.
		sc.Cluster.Nodes = min(sc.Cluster.Nodes, 9)
		sc.Limit = min(sc.Limit, 5*sim.Second)
		if sc.Validate() != nil {
			return // a fault aimed at a tab beyond the smaller cluster
		}
		res, err := Run(sc, sc.Seed, RunOptions{MaxEvents: 200_000, LinTimeout: 1e9})
		if err != nil {
			return // an error the runner reports (not a crash)
		}
		if res.Panic != "" {
			t.Fatalf("run panicked: %s\n%s", res.Panic, res.PanicStack)
		}
	})
}
