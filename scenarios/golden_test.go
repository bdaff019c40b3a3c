package scenarios

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden trace files in testdata/golden")

// TestTracesMatchGolden pins the complete traces of small runs of the
// shipped scenarios. A change to Raft, the world or the trace format shows up
// here as a diff; rerun with -update after checking that it is intended.
func TestTracesMatchGolden(t *testing.T) {
	cases := []struct {
		file  string
		nodes int
		seed  uint64
	}{
		{"kill-half.yaml", 5, 1},
		{"propagate-1.yaml", 3, 2},
		// Loss: drops say when the message was lost (the trace's lost).
		{"lossy-unordered.yaml", 3, 1},
	}
	for _, c := range cases {
		sc := load(t, c.file, c.nodes)
		var buf strings.Builder
		res, err := Run(sc, c.seed, RunOptions{Trace: &buf})
		require.NoError(t, err)
		require.True(t, res.OK)
		golden := filepath.Join("testdata", "golden", strings.TrimSuffix(c.file, ".yaml")+".jsonl")
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
			require.NoError(t, os.WriteFile(golden, []byte(buf.String()), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err, "run with -update to create %s", golden)
		require.Equal(t, string(want), buf.String(), "trace of %s differs from %s", c.file, golden)
	}
}
