package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mergeHeader = "scenario,world,profile,datachannel,nodes,election_timeout_ms,seed,up,safety,liveness,linearizability,ok,events,virtual_seconds,wall_seconds,trace_hash\n"

// mergeRow is one run's row at nodes n and seed s; up "" is never.
func mergeRow(n, s, up string) string {
	return "sw,model,loopback,ordered-reliable," + n + ",250," + s + "," + up + ",ok,ok,n/a,true,5,0.100000,0.000100,72bf61ea3a9d0fe6\n"
}

func readAll(t *testing.T, files map[string]string, order ...string) (*Table, error) {
	t.Helper()
	var tables []*Table
	for _, name := range order {
		tab, err := ReadCSV(strings.NewReader(files[name]), name)
		if err != nil {
			return nil, err
		}
		tables = append(tables, tab)
	}
	return MergeCSV(tables)
}

func TestMergeChecksItsInput(t *testing.T) {
	a := mergeHeader + mergeRow("1", "1", "0.100000") + mergeRow("3", "1", "") + "# raftsim sweep: 2 rows\n"
	b := mergeHeader + mergeRow("1", "2", "0.100000") + mergeRow("3", "2", "0.300000") + "# raftsim sweep: 2 rows\n"
	tests := []struct {
		name  string
		b     string // the second file
		order []string
		want  string // "" for success
	}{
		{"a good pair", b, []string{"a", "b"}, ""},
		{"cut at a row boundary", mergeHeader + mergeRow("1", "2", "0.100000"), []string{"a", "b"}, "b:2: the file ends without its closing line"},
		{"cut at a row boundary, closing line kept", mergeHeader + mergeRow("1", "2", "0.100000") + "# raftsim sweep: 2 rows\n", []string{"a", "b"}, `b:3: closing line "# raftsim sweep: 2 rows", want "# raftsim sweep: 1 rows"`},
		{"cut inside a row", mergeHeader + mergeRow("1", "2", "0.100000") + "sw,model,loop", []string{"a", "b"}, "b:3: 3 columns, the header has 16"},
		{"only the header", mergeHeader, []string{"a", "b"}, "b:1: the file ends without its closing line"},
		{"empty", "", []string{"a", "b"}, "b: empty"},
		{"the same shard twice", b, []string{"a", "a"}, "a:2: the run sw,model,loopback,ordered-reliable,1,250,1 is also at a:2"},
		{"a run twice in one file", mergeHeader + mergeRow("1", "2", "0.1") + mergeRow("1", "2", "0.2") + "# raftsim sweep: 2 rows\n", []string{"b"}, "b:3: the run sw,model,loopback,ordered-reliable,1,250,2 is also at b:2"},
		{"a measure that is not a number", mergeHeader + mergeRow("1", "2", "fast") + "# raftsim sweep: 1 rows\n", []string{"a", "b"}, `b:2: column up: "fast" is not a valid value`},
		{"an infinite measure", mergeHeader + mergeRow("1", "2", "+Inf") + "# raftsim sweep: 1 rows\n", []string{"a", "b"}, `b:2: column up: "+Inf"`},
		{"a NaN measure", mergeHeader + mergeRow("1", "2", "NaN") + "# raftsim sweep: 1 rows\n", []string{"a", "b"}, `b:2: column up: "NaN"`},
		{"a non-numeric seed", mergeHeader + mergeRow("1", "x", "0.1") + "# raftsim sweep: 1 rows\n", []string{"a", "b"}, `b:2: column seed: "x"`},
		{"a bad ok", mergeHeader + strings.Replace(mergeRow("1", "2", "0.1"), "true", "yes", 1) + "# raftsim sweep: 1 rows\n", []string{"a", "b"}, `b:2: column ok: "yes"`},
		{"a row with a column too many", mergeHeader + strings.TrimSuffix(mergeRow("1", "2", "0.1"), "\n") + ",extra\n# raftsim sweep: 1 rows\n", []string{"a", "b"}, "b:2: 17 columns, the header has 16"},
		{"a row with a column too few", mergeHeader + "sw,model,loopback,ordered-reliable,1,250,2,0.1,ok,ok,n/a,true,5,0.1,0.1\n# raftsim sweep: 1 rows\n", []string{"a", "b"}, "b:2: 15 columns, the header has 16"},
		{"a header that is not a sweep's", "name,seed\n" + "# raftsim sweep: 0 rows\n", []string{"a", "b"}, `b:1: not a sweep CSV header: "name,seed"`},
		{"another measure", strings.Replace(b, ",up,", ",down,", 1), []string{"a", "b"}, `b:1: header "scenario,world,profile,datachannel,nodes,election_timeout_ms,seed,down,`},
		{"a repeated column", strings.Replace(b, ",up,", ",seed,", 1), []string{"a", "b"}, `b:1: header has an empty or repeated column "seed"`},
		{"a line after the closing line", b + mergeRow("5", "2", "0.1"), []string{"a", "b"}, "b:5: more after the closing line"},
		{"a bad quote", mergeHeader + `sw,"mo"del` + "\n", []string{"a", "b"}, "b:2: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, err := readAll(t, map[string]string{"a": a, "b": tt.b}, tt.order...)
			if tt.want != "" {
				assert.ErrorContains(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, merged.Write(&out))
			assert.Equal(t, mergeHeader+mergeRow("1", "1", "0.100000")+mergeRow("1", "2", "0.100000")+mergeRow("3", "1", "")+mergeRow("3", "2", "0.300000")+"# raftsim sweep: 4 rows\n", out.String())
		})
	}
}

func TestWriteCSVEndsWithItsRowCount(t *testing.T) {
	sc := smallSweep(t)
	sc.Sweep.Nodes = sc.Sweep.Nodes[:1]
	res, err := RunSweep(sc, SweepOptions{Workers: 2})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, sc, res))
	assert.True(t, strings.HasSuffix(b.String(), "\n# raftsim sweep: 6 rows\n"), "%s", b.String())
	tab, err := ReadCSV(bytes.NewReader(b.Bytes()), "whole")
	require.NoError(t, err)
	assert.Len(t, tab.Rows, 6)
	// Cut at any row boundary, the file is refused.
	lines := strings.SplitAfter(b.String(), "\n")
	for n := 1; n < len(lines)-1; n++ {
		_, err := ReadCSV(strings.NewReader(strings.Join(lines[:n], "")), "cut")
		assert.Error(t, err, "cut after %d lines", n)
	}
}

// A shard's closing line names it, reads back, and merge needs all of a
// sweep's shards, each once.
func TestShardsNameThemselvesAndMergeNeedsThemAll(t *testing.T) {
	sc := smallSweep(t)
	sc.Sweep.Nodes = sc.Sweep.Nodes[:1]
	res, err := RunSweep(sc, SweepOptions{Workers: 2})
	require.NoError(t, err)
	shard := func(k, n int, rows []*Result) *Table {
		var b bytes.Buffer
		require.NoError(t, WriteShardCSV(&b, sc, rows, k, n))
		assert.True(t, strings.HasSuffix(b.String(), fmt.Sprintf(" rows (shard %d of %d)\n", k, n)), "%s", b.String())
		tab, err := ReadCSV(bytes.NewReader(b.Bytes()), fmt.Sprintf("s%d", k))
		require.NoError(t, err)
		assert.Equal(t, [2]int{k, n}, [2]int{tab.Shard, tab.Shards})
		return tab
	}
	a, b, c := shard(1, 3, res[:2]), shard(2, 3, res[2:4]), shard(3, 3, res[4:])
	merged, err := MergeCSV([]*Table{c, a, b})
	require.NoError(t, err)
	assert.Len(t, merged.Rows, len(res))
	assert.Zero(t, merged.Shards, "the merge is a whole sweep")
	for _, tt := range []struct {
		name   string
		tables []*Table
		want   string
	}{
		{"one missing", []*Table{a, c}, "shard 2 of 3 missing"},
		{"one twice", []*Table{a, b, b, c}, "s2: shard 2 of 3, as is s2"},
		{"counts differ", []*Table{a, shard(2, 4, res[2:4])}, "s2: shard 2 of 4, but s1 is of 3 shards"},
	} {
		_, err := MergeCSV(tt.tables)
		assert.ErrorContains(t, err, tt.want, tt.name)
	}
	for _, bad := range []string{"(shard 4 of 3)", "(shard 0 of 3)", "(shard one of 3)"} {
		text := "scenario,world,profile,datachannel,nodes,election_timeout_ms,seed,up,safety,liveness,linearizability,ok,events,virtual_seconds,wall_seconds,trace_hash\n# raftsim sweep: 0 rows " + bad + "\n"
		_, err := ReadCSV(strings.NewReader(text), "bad")
		assert.ErrorContains(t, err, "closing line", bad)
	}
}

func TestReproducerStaysInsideAndRefusesForeignFiles(t *testing.T) {
	sc, err := Load("startup.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	f := &Failure{Seed: 7, Kind: FailSafety, Detail: "two leaders", Scenario: sc}
	path, err := WriteReproducer(dir, f, nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "fuzz-7.yaml"), path)
	_, err = Load(path)
	require.NoError(t, err)
	_, err = WriteReproducer(dir, f, []string{"a node"})
	require.NoError(t, err, "its own reproducer is replaced")

	require.NoError(t, os.WriteFile(path, []byte("name: mine\n"), 0o644))
	_, err = WriteReproducer(dir, f, nil)
	assert.ErrorContains(t, err, path)
	got, _ := os.ReadFile(path)
	assert.Equal(t, "name: mine\n", string(got), "a file raftsim did not write is left alone")
}
