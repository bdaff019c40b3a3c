package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/raftsim/raftsim/internal/chromium"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests run in cmd/raftsim.
const (
	killHalf = "../../scenarios/kill-half.yaml"
	startup  = "../../scenarios/startup.yaml"
)

// raftsim runs the CLI with args and returns its exit code and output.
func raftsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	require.NotPanics(t, func() { code = execute(args, &out, &errOut) }, "raftsim %v", args)
	return code, out.String(), errOut.String()
}

// neverUp writes a scenario whose only measure cannot complete: 41 tabs
// cannot all join within one second.
func neverUp(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "never-up.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`name: never-up
cluster:
  nodes: 41
limit: 1s
measures:
  - name: up
    from: start
    until: up
`), 0o644))
	return path
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{16}$`)

// jsonLines decodes stdout as one JSON object per line.
func jsonLines(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestRunPrintsMeasuresAndChecks(t *testing.T) {
	code, stdout, stderr := raftsim(t, "run", killHalf)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Empty(t, stderr)
	assert.Contains(t, stdout, "kill-half  nodes=9  election-timeout=500ms  seed=1")
	assert.Regexp(t, `(?m)^  up +\d+\.\d{3} s$`, stdout)
	assert.Regexp(t, `(?m)^  recovered +\d+\.\d{3} s$`, stdout)
	assert.Regexp(t, `(?m)^  trace [0-9a-f]{16}  safety ok  liveness ok$`, stdout)
	assert.Contains(t, stdout, "safety ok")
	assert.NotContains(t, stdout, "VIOLATION")
	assert.NotContains(t, stdout, "runs:", "one seed prints no summary")
}

func TestRunJSON(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantSeeds []float64
	}{
		{"one seed", []string{"run", killHalf, "--json"}, []float64{1}},
		{"three seeds from 7", []string{"run", killHalf, "--json", "--seed", "7", "--seeds", "3"}, []float64{7, 8, 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := raftsim(t, tt.args...)
			require.Equal(t, exitOK, code, "stderr: %s", stderr)
			lines := jsonLines(t, stdout)
			require.Len(t, lines, len(tt.wantSeeds), "one JSON object per seed")
			assert.NotContains(t, stdout, "runs:", "no text summary with --json")
			for i, m := range lines {
				assert.Equal(t, "kill-half", m["scenario"])
				assert.Equal(t, "model", m["world"])
				assert.Equal(t, 9.0, m["nodes"])
				assert.Equal(t, 500.0, m["election_timeout_ms"])
				assert.Equal(t, tt.wantSeeds[i], m["seed"])
				require.IsType(t, map[string]any{}, m["measures"])
				measures := m["measures"].(map[string]any)
				assert.Len(t, measures, 2)
				for _, name := range []string{"up", "recovered"} {
					require.Contains(t, measures, name)
					v, ok := measures[name].(float64)
					require.True(t, ok, "measure %s is %T, want a number", name, measures[name])
					assert.Positive(t, v)
				}
				assert.IsType(t, 0.0, m["events"])
				assert.Positive(t, m["events"])
				assert.IsType(t, 0.0, m["virtual_seconds"])
				assert.Positive(t, m["virtual_seconds"])
				assert.IsType(t, 0.0, m["wall_seconds"])
				require.IsType(t, "", m["trace_hash"])
				assert.Regexp(t, hexHash, m["trace_hash"])
				assert.Equal(t, "ok", m["safety"])
				assert.Equal(t, true, m["ok"])
			}
			if len(lines) > 1 {
				assert.NotEqual(t, lines[0]["trace_hash"], lines[1]["trace_hash"], "different seeds, different runs")
			}
		})
	}
}

func TestRunSeedsPrintsASummary(t *testing.T) {
	code, stdout, stderr := raftsim(t, "run", killHalf, "--seeds", "3")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	for seed := 1; seed <= 3; seed++ {
		assert.Contains(t, stdout, fmt.Sprintf("seed=%d\n", seed))
	}
	assert.Contains(t, stdout, "3 runs: kill-half nodes=9 election-timeout=500ms")
	assert.Regexp(t, `measure +mean s +min s +max s +completed`, stdout)
	assert.Regexp(t, `(?m)^ +up +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +3/3 *$`, stdout)
	assert.Regexp(t, `(?m)^ +recovered +\d+\.\d{3} +\d+\.\d{3} +\d+\.\d{3} +3/3 *$`, stdout)
	assert.Contains(t, stdout, "checks passed: 3/3")
}

func TestRunQuietPrintsOnlyTheSummary(t *testing.T) {
	code, stdout, stderr := raftsim(t, "run", killHalf, "--seeds", "2", "--quiet")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.NotContains(t, stdout, "seed=")
	assert.True(t, strings.HasPrefix(stdout, "2 runs: "), "no leading blank line: %q", stdout)
	assert.Contains(t, stdout, "checks passed: 2/2")
}

func TestRunCheckDeterminism(t *testing.T) {
	code, stdout, stderr := raftsim(t, "run", killHalf, "--check-determinism", "--seeds", "2")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.NotContains(t, stdout, "nondeterminism")
	assert.Equal(t, 2, strings.Count(stdout, "determinism ok: ran twice, the same trace hash both times"), stdout)
	assert.Contains(t, stdout, "checks passed: 2/2")
}

func TestRunIncompleteMeasureFails(t *testing.T) {
	path := neverUp(t)
	replay := "replay: raftsim run " + path + " --nodes 41 --election-timeout 500ms --seed 1"

	code, stdout, stderr := raftsim(t, "run", path)
	require.Equal(t, exitFailed, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Regexp(t, `(?m)^  up +never`, stdout)
	assert.Contains(t, stdout, "liveness incomplete")
	assert.Contains(t, stderr, "seed 1: a measured phase did not complete")
	assert.Contains(t, stderr, replay)
	assert.NotContains(t, stderr, "Usage:", "a failed check is not misuse")

	code, stdout, stderr = raftsim(t, "run", path, "--json")
	require.Equal(t, exitFailed, code)
	lines := jsonLines(t, stdout)
	require.Len(t, lines, 1)
	measures, ok := lines[0]["measures"].(map[string]any)
	require.True(t, ok)
	require.Contains(t, measures, "up")
	assert.Nil(t, measures["up"], "an incomplete measure is null")
	assert.Equal(t, false, lines[0]["ok"])
	assert.Equal(t, "ok", lines[0]["safety"])
	assert.Contains(t, stderr, replay)
}

func TestMisuse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"run without a file", []string{"run"}, []string{"run takes one scenario file, got 0 arguments", "Usage:", "raftsim run FILE"}},
		{"run with two files", []string{"run", killHalf, startup}, []string{"got 2 arguments", "Usage:"}},
		{"unknown flag", []string{"run", killHalf, "--bogus"}, []string{"unknown flag: --bogus", "Usage:"}},
		{"bad flag value", []string{"run", killHalf, "--nodes", "many"}, []string{"--nodes", "Usage:"}},
		{"unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "Usage:"}},
		{"version with arguments", []string{"version", "now"}, []string{"unexpected arguments", "Usage:"}},
		{"negative election timeout", []string{"run", killHalf, "--election-timeout", "-1s"},
			[]string{"--election-timeout: must be between 1ms and 1h, got -1s", "Usage:"}},
		{"zero election timeout", []string{"run", killHalf, "--election-timeout", "0s"},
			[]string{"--election-timeout: must be between 1ms and 1h, got 0", "Usage:"}},
		{"zero nodes", []string{"run", killHalf, "--nodes", "0"},
			[]string{"raftsim: --nodes: must be between 1 and 1001, got 0", "Usage:"}},
		{"zero seeds", []string{"run", killHalf, "--seeds", "0"},
			[]string{"raftsim: --seeds: must be between 1 and 100000, got 0", "Usage:"}},
		{"missing file", []string{"run", "no-such-scenario.yaml"},
			[]string{"raftsim: scenario no-such-scenario.yaml: ", "no such file"}},
		{"bad scenario file", []string{"run", "../../scenarios/testdata/bad/nodes-zero.yaml"},
			[]string{"raftsim: ../../scenarios/testdata/bad/nodes-zero.yaml:5:10: cluster.nodes: must be between 1 and 1001, got 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := raftsim(t, tt.args...)
			assert.Equal(t, exitUsage, code, "stderr: %s", stderr)
			assert.Empty(t, stdout, "nothing ran")
			for _, w := range tt.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := raftsim(t, "version")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Equal(t, versionText+"\n", stdout)
	assert.Empty(t, stderr)
}

// traceHash hashes a trace file's events as the run hashed them.
func traceHash(t *testing.T, path string) (string, int) {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	events, err := sim.ReadTrace(fh)
	require.NoError(t, err)
	tr := sim.NewTrace(nil)
	for _, e := range events {
		tr.Record(e)
	}
	return tr.HashHex(), len(events)
}

func TestRunWritesATrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "kill-half.jsonl")
	code, stdout, stderr := raftsim(t, "run", killHalf, "--trace", path, "--json")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	lines := jsonLines(t, stdout)
	require.Len(t, lines, 1)
	hash, n := traceHash(t, path)
	assert.Positive(t, n, "the trace holds events")
	assert.Equal(t, lines[0]["trace_hash"], hash, "the file is the trace that was hashed")
}

func TestRunWritesATracePerSeed(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := raftsim(t, "run", killHalf, "--trace", filepath.Join(dir, "k.jsonl"), "--seed", "4", "--seeds", "2", "--json")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	lines := jsonLines(t, stdout)
	require.Len(t, lines, 2)
	for i, seed := range []int{4, 5} {
		hash, n := traceHash(t, filepath.Join(dir, fmt.Sprintf("k.seed%d.jsonl", seed)))
		assert.Positive(t, n)
		assert.Equal(t, lines[i]["trace_hash"], hash, "seed %d", seed)
	}
	_, err := os.Stat(filepath.Join(dir, "k.jsonl"))
	assert.True(t, os.IsNotExist(err), "with several seeds every trace gets its seed in its name")

	// Without --json the run says what it wrote.
	code, stdout, stderr = raftsim(t, "run", killHalf, "--trace", filepath.Join(dir, "k.jsonl"), "--seed", "4", "--seeds", "2", "--quiet")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Contains(t, stdout, "wrote "+filepath.Join(dir, "k.seed4.jsonl")+"\n")
	assert.Contains(t, stdout, "wrote "+filepath.Join(dir, "k.seed5.jsonl")+"\n")
}

func TestSameSeedSameOutput(t *testing.T) {
	var hashes []any
	for range 2 {
		code, stdout, _ := raftsim(t, "run", killHalf, "--json", "--seed", "11")
		require.Equal(t, exitOK, code)
		lines := jsonLines(t, stdout)
		require.Len(t, lines, 1)
		hashes = append(hashes, lines[0]["trace_hash"])
	}
	assert.Equal(t, hashes[0], hashes[1])
}

func TestBareCommandIsAUsageError(t *testing.T) {
	var stdout, stderr strings.Builder
	code := execute(nil, &stdout, &stderr)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr.String(), "missing command")
	require.Contains(t, stderr.String(), "Usage:")
}

func TestStaleReadsExitWithAnIllegalHistoryAndAPage(t *testing.T) {
	page := filepath.Join(t.TempDir(), "h.html")
	code, stdout, stderr := raftsim(t, "run", "../../scenarios/stale-reads.yaml", "--history", page)
	require.Equal(t, exitFailed, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "linearizability illegal")
	assert.Contains(t, stderr, "the client history is not linearizable: no linearization for key")
	body, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(body), "node 1 leads term", "annotated with leader changes")

	code, stdout, _ = raftsim(t, "run", "../../scenarios/kv-linearizable.yaml", "--json")
	require.Equal(t, exitOK, code)
	lines := jsonLines(t, stdout)
	assert.Equal(t, "ok", lines[0]["linearizability"])
	assert.EqualValues(t, 500, lines[0]["operations"])

	_, stdout, _ = raftsim(t, "run", killHalf, "--json")
	assert.Equal(t, "n/a", jsonLines(t, stdout)[0]["linearizability"], "no clients: nothing to check")
}

func TestExitCodeThreeWhenOnlyTheCheckerRanOutOfTime(t *testing.T) {
	tests := []struct {
		res  scenarios.Result
		want int
	}{
		{scenarios.Result{Safety: "ok", Liveness: "ok", Linearizability: "unknown"}, exitUnknown},
		{scenarios.Result{Safety: "violated", Liveness: "ok", Linearizability: "unknown"}, exitFailed},
		{scenarios.Result{Safety: "ok", Liveness: "incomplete", Linearizability: "unknown"}, exitFailed},
		{scenarios.Result{Safety: "ok", Liveness: "ok", Linearizability: "illegal"}, exitFailed},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, exitCode(&tt.res), "%+v", tt.res)
	}
}

func TestSweepAndMerge(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sw.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`name: sw
sweep:
  nodes: [1, 3, 5]
  election_timeout: [250ms, 500ms]
seeds: 2
measures:
  - name: up
    from: start
    until: up
`), 0o644))
	code, stdout, stderr := raftsim(t, "sweep", file, "--out", dir, "--workers", "3")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "12 runs")
	assert.Contains(t, stderr, "sweep: 12/12 runs", "plain progress lines when stderr is not a terminal")
	whole, err := os.ReadFile(filepath.Join(dir, "sw.csv"))
	require.NoError(t, err)
	assert.Equal(t, 14, strings.Count(string(whole), "\n"))
	for _, k := range []string{"1/2", "2/2"} {
		code, _, stderr = raftsim(t, "sweep", file, "--out", dir, "--shard", k)
		require.Equal(t, exitOK, code, stderr)
	}
	merged := filepath.Join(dir, "merged.csv")
	code, stdout, _ = raftsim(t, "merge", "--out", merged, filepath.Join(dir, "sw.shard1of2.csv"), filepath.Join(dir, "sw.shard2of2.csv"))
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "12 runs")
	got, err := os.ReadFile(merged)
	require.NoError(t, err)
	hashes := func(b []byte) []string {
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Split(line, ",")
			out = append(out, f[len(f)-1])
		}
		return out
	}
	assert.Equal(t, hashes(whole), hashes(got), "the merged shards are the whole sweep")

	for _, args := range [][]string{
		{"sweep", file, "--out", ""},
		{"sweep", file, "--out", dir, "--shard", "3/2"},
		{"sweep", file, "--out", dir, "--shard", "x"},
		{"merge", filepath.Join(dir, "sw.csv")},
		{"merge", "--out", merged},
	} {
		code, _, stderr := raftsim(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "Usage:", "%v", args)
	}
}

func TestFiguresWritesEverything(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := raftsim(t, "figures", "--out", dir, "--scenarios", "../../scenarios", "--seeds", "1", "--figure", "5")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	for _, f := range []string{"fig5.csv", "fig5.png", "fig5.svg", "README.md", "paper-data/start_et500.dat", "paper-data/SOURCE.md"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	require.NoError(t, err)
	assert.Regexp(t, `Mean relative error per curve: ET 250ms: \*\*\d+\.\d%\*\*`, string(readme))
	code, _, _ = raftsim(t, "figures", "--profile", "netscape-1996")
	assert.Equal(t, exitUsage, code)
}

func TestVizWritesAPageOrSaysWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "kh.html")
	code, stdout, stderr := raftsim(t, "viz", "../../scenarios/testdata/golden/kill-half.jsonl", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "988 events")
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(page), `<script type="application/json" id="trace">{`)

	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"t":0,"k":"role","n":1}`+"\n"+`{"t":1,"k":`), 0o644))
	code, _, stderr = raftsim(t, "viz", bad, "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "bad.jsonl: trace line 2")
	code, _, _ = raftsim(t, "viz")
	assert.Equal(t, exitUsage, code)
}

func TestBenchModelAndMisuse(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-time measurement")
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir("../.."))
	defer os.Chdir(wd)
	code, stdout, stderr := raftsim(t, "bench", "--world", "model", "--runs", "2")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "x real time")
	assert.Regexp(t, `M events/s, [1-9][0-9]* allocations and [0-9.]+ MB a run`, stdout)
	code, stdout, stderr = raftsim(t, "bench", "--world", "pion", "--duration", "200ms")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "serialized")
	assert.Contains(t, stdout, "pipelined")
	code, _, _ = raftsim(t, "bench", "--world", "mars")
	assert.Equal(t, exitUsage, code)
}

func TestBenchInBrowserTabs(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real Chromium tabs: with -tags long")
	}
	chromium.Require(t)
	code, stdout, stderr := raftsim(t, "bench", "--world", "browser", "--duration", "300ms")
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `browser: 3 nodes, serialized: \d+ writes`, stdout)
	assert.Regexp(t, `browser: 3 nodes, pipelined \(64 in flight\): \d+ writes`, stdout)
}

func TestRunOnThePionWorld(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real time: with -tags long")
	}
	code, stdout, stderr := raftsim(t, "run", "../../scenarios/kill-leader.yaml", "--world", "pion", "--nodes", "3", "--json")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	line := jsonLines(t, stdout)[0]
	assert.Equal(t, "pion", line["world"])
	measures := line["measures"].(map[string]any)
	assert.Positive(t, measures["up"])
	assert.Positive(t, measures["recovered"])
	// A chat workload on pion: the paper's figure 3, with porcupine
	// checking the history.
	code, stdout, stderr = raftsim(t, "run", "../../scenarios/propagate-1.yaml", "--world", "pion", "--nodes", "5", "--json")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	line = jsonLines(t, stdout)[0]
	assert.Positive(t, line["measures"].(map[string]any)["propagated"])
	assert.Equal(t, "ok", line["linearizability"])
	// What the real stack cannot run (a path change) is a usage error.
	dir := t.TempDir()
	pathChange := filepath.Join(dir, "path.yaml")
	require.NoError(t, os.WriteFile(pathChange, []byte("name: path\ncluster: {nodes: 3}\nfaults:\n  - {at: 1s, path_change: {nodes: [1]}}\nmeasures:\n  - {name: up, until: up}\n"), 0o644))
	code, _, stderr = raftsim(t, "run", pathChange, "--world", "pion")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "not supported on the pion world yet")
	code, _, _ = raftsim(t, "run", killHalf, "--world", "pion", "--check-determinism")
	assert.Equal(t, exitUsage, code, "the real stack is not deterministic")
	code, _, _ = raftsim(t, "run", killHalf, "--world", "venus")
	assert.Equal(t, exitUsage, code)
}

// The real stack writes the model's trace format (real-time stamped, not
// hashed), which the page steps through; sweep runs it too.
func TestPionRunsWriteATraceAndSweep(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real time: with -tags long")
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "kl.jsonl")
	code, stdout, stderr := raftsim(t, "run", "../../scenarios/kill-leader.yaml", "--world", "pion", "--nodes", "3", "--trace", trace, "--json")
	require.Equal(t, exitOK, code, stderr)
	line := jsonLines(t, stdout)[0]
	assert.Nil(t, line["trace_hash"], "a real-time trace is not hashed")
	events := line["events"].(float64)
	assert.Positive(t, events)
	data, err := os.ReadFile(trace)
	require.NoError(t, err)
	assert.Equal(t, int(events), strings.Count(string(data), "\n"), "events counts the trace's lines")
	for _, kind := range []string{`"k":"send"`, `"k":"deliver"`, `"k":"role"`, `"k":"fault"`, `"k":"measure"`} {
		assert.Contains(t, string(data), kind)
	}
	code, _, stderr = raftsim(t, "viz", trace, "--out", filepath.Join(dir, "kl.html"))
	assert.Equal(t, exitOK, code, stderr)

	code, _, stderr = raftsim(t, "sweep", "../../scenarios/kill-leader.yaml", "--world", "pion", "--seeds", "1", "--workers", "1", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	csv, err := os.ReadFile(filepath.Join(dir, "kill-leader.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(csv), "kill-leader,pion,")
}

func TestCompareRowsSayWhetherAKSDistanceIsSignificant(t *testing.T) {
	ten := func(from float64) []float64 {
		var s []float64
		for i := range 10 {
			s = append(s, from+float64(i))
		}
		return s
	}
	// Disjoint samples of 10: distance 1, p about 0, and 0.7 needed
	// (exact: 0.6 has p 0.052).
	assert.Equal(t, "1.00 | 0.000 | 0.70", ksCells(ten(0), ten(100)))
	// Disjoint samples of 3 cannot differ at 5%: p 0.1, no critical
	// distance.
	assert.Equal(t, "1.00 | 0.100 | none", ksCells([]float64{1, 2, 3}, []float64{4, 5, 6}))
	// Shifted by half their spread: 0.50 apart, not significant at 10.
	cells := strings.Split(ksCells(ten(0), ten(5)), " | ")
	require.Len(t, cells, 3)
	assert.Equal(t, "0.50", cells[0])
	p, err := strconv.ParseFloat(cells[1], 64)
	require.NoError(t, err)
	assert.Greater(t, p, 0.05, "0.5 apart at 10 samples a side is within chance")
}

func TestCompareWritesTablesAndPlots(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real time: with -tags long")
	}
	dir := t.TempDir()
	code, stdout, stderr := raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--seeds", "1", "--nodes", "3", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "KS distance")
	assert.Contains(t, stdout, "| message-delay | pion |", "every compare gives the transport's delays")
	assert.Contains(t, stdout, "| heartbeat-period | pion |", "and the heartbeat's periods")
	for _, f := range []string{"compare-kill-leader-n3.md", "compare-kill-leader-n3-message-delay.csv", "compare-kill-leader-n3-up.png", "compare-kill-leader-n3-recovered.svg", "compare-kill-leader-n3-up.csv"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
	// Another profile: the outputs carry its name.
	code, stdout, stderr = raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--seeds", "1", "--nodes", "3", "--profile", "lan", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "profile lan")
	_, err := os.Stat(filepath.Join(dir, "compare-kill-leader-n3-lan.md"))
	assert.NoError(t, err)
	// The model alone on another profile: the name and command say so.
	code, stdout, stderr = raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--seeds", "1", "--nodes", "3", "--model-environment", "pion-vm", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "--model-environment pion-vm")
	_, err = os.Stat(filepath.Join(dir, "compare-kill-leader-n3-model-pion-vm.md"))
	assert.NoError(t, err)
	// On a machine slower than the environment's: the name and command say so.
	code, stdout, stderr = raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--seeds", "1", "--nodes", "3", "--model-environment", "pion-vm", "--model-cpu-scale", "1.5", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "--model-environment pion-vm --model-cpu-scale 1.5")
	_, err = os.Stat(filepath.Join(dir, "compare-kill-leader-n3-model-pion-vm-cpu1.5.md"))
	assert.NoError(t, err)
	code, _, stderr = raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--profile", "mars")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "unknown network profile")
}

// Three worlds: the model, pion and real Chromium tabs, each against the
// model; the samples name all three.
func TestCompareRunsThreeWorlds(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real time and Chromium: with -tags long")
	}
	chromium.Require(t)
	dir := t.TempDir()
	code, stdout, stderr := raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--seeds", "1", "--nodes", "3", "--worlds", "model,pion,browser", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	for _, w := range []string{"| up | model |", "| up | pion |", "| up | browser |", "--worlds model,pion,browser"} {
		assert.Contains(t, stdout, w)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "compare-kill-leader-n3-up.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(csv), "browser,")
}

// A KV workload adds the commit latency, one sample per answered write;
// --loss and --datachannel name the variant in the outputs.
func TestCompareAddsTheCommitLatencyOfAKVWorkload(t *testing.T) {
	if testing.Short() || !longTests {
		t.Skip("real time: with -tags long")
	}
	dir := t.TempDir()
	code, stdout, stderr := raftsim(t, "compare", "../../scenarios/kv-commit-latency.yaml", "--seeds", "1", "--loss", "0.05", "--datachannel", "unordered-reliable", "--out", dir)
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
	for _, w := range []string{"| commit-latency | model | 300 |", "| commit-latency | pion | 300 |", "--measure-mode exact --loss 0.05 --datachannel unordered-reliable"} {
		assert.Contains(t, stdout, w)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "compare-kv-commit-latency-loss0.05-unordered-reliable-commit-latency.csv"))
	require.NoError(t, err)
	assert.Contains(t, string(csv), "pion,")
}

func TestCompareRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct{ flag, value string }{
		{"--measure-mode", "sometimes"},
		{"--loss", "NaN"},
		{"--loss", "-0.1"},
		{"--loss", "1.5"},
		{"--loss", "+Inf"},
		{"--datachannel", "carrier-pigeon"},
		{"--model-environment", "mars"},
		{"--model-cpu-scale", "NaN"},
		{"--model-cpu-scale", "0"},
		{"--model-cpu-scale", "11"},
		{"--model-cpu-scale", "-Inf"},
	} {
		code, _, stderr := raftsim(t, "compare", "../../scenarios/kv-commit-latency.yaml", tc.flag, tc.value)
		assert.Equal(t, exitUsage, code, tc)
		assert.Contains(t, stderr, tc.flag, tc)
		assert.Contains(t, stderr, "Usage:", tc)
	}
}

func TestCompareRefusesBadWorlds(t *testing.T) {
	for _, worlds := range []string{"model", "model,mars", "pion,pion", ""} {
		code, _, stderr := raftsim(t, "compare", "../../scenarios/kill-leader.yaml", "--worlds", worlds)
		assert.Equal(t, exitUsage, code, worlds)
		assert.Contains(t, stderr, "--worlds", worlds)
		assert.Contains(t, stderr, "Usage:", worlds)
	}
}

// run --environment and --cpu-scale run the model exactly as the
// scenario package runs it in that profile and on that machine: the
// same trace hash.
func TestRunInAnEnvironmentIsTheProfilesModel(t *testing.T) {
	const path = "../../scenarios/kv-commit-latency.yaml"
	tests := []struct {
		name     string
		env      string
		cpuScale float64
	}{
		{"as the file says", "", 1},
		{"in chromium-vm", "chromium-vm", 1},
		{"in pion-vm on a slower machine", "pion-vm", 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := scenarios.Load(path)
			require.NoError(t, err)
			args := []string{"run", path, "--json"}
			if tt.env != "" {
				require.NoError(t, sc.UseProfile(tt.env))
				args = append(args, "--environment", tt.env)
			}
			if tt.cpuScale != 1 {
				sc.World.CPUScale = tt.cpuScale
				args = append(args, "--cpu-scale", strconv.FormatFloat(tt.cpuScale, 'g', -1, 64))
			}
			want, err := scenarios.Run(sc, sc.Seed, scenarios.RunOptions{})
			require.NoError(t, err)
			code, stdout, stderr := raftsim(t, args...)
			require.Equal(t, 0, code, stderr)
			lines := jsonLines(t, stdout)
			require.Len(t, lines, 1)
			assert.Equal(t, want.TraceHash, lines[0]["trace_hash"])
		})
	}
}

func TestRunRefusesBadEnvironmentSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--environment", "mars"},
		{"--cpu-scale", "NaN"},
		{"--cpu-scale", "0"},
		{"--cpu-scale", "11"},
		{"--cpu-scale", "+Inf"},
		{"--world", "pion", "--environment", "pion-vm"},
		{"--world", "browser", "--cpu-scale", "2"},
	} {
		code, _, stderr := raftsim(t, append([]string{"run", "../../scenarios/kv-commit-latency.yaml"}, args...)...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, stderr, args[len(args)-2], args)
		assert.Contains(t, stderr, "Usage:", args)
	}
}
