package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree maps every file and directory under dir to a hash of its content
// ("dir" for a directory, the target for a symlink).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			out[rel] = hex.EncodeToString(h[:])
		}
		return nil
	}))
	return out
}

// outside returns tree's entries that are not under the directory prefix.
func outside(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != prefix && !strings.HasPrefix(k, prefix+string(filepath.Separator)) {
			out[k] = v
		}
	}
	return out
}

// tinySweep writes a one-run sweep scenario called name into dir.
func tinySweep(t *testing.T, dir, file, name string) string {
	t.Helper()
	path := filepath.Join(dir, file)
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(`name: %q
sweep:
  nodes: [1, 3]
seeds: 2
measures:
  - name: up
    from: start
    until: up
`, name)), 0o644))
	return path
}

func TestSweepWritesOnlyInsideOut(t *testing.T) {
	for _, tt := range []struct{ name, file string }{
		{"../../victim/important", "victim-important.csv"},
		{"/tmp/abs", "tmp-abs.csv"},
		{"..", "unnamed.csv"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			scen := tinySweep(t, parent, "s.yaml", tt.name)
			require.NoError(t, os.MkdirAll(filepath.Join(parent, "victim"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(parent, "victim", "important.csv"), []byte("scenario,precious\n"), 0o644))
			out := filepath.Join(parent, "a", "out")
			require.NoError(t, os.Mkdir(filepath.Join(parent, "a"), 0o755))
			before := tree(t, parent)
			code, stdout, stderr := raftsim(t, "sweep", scen, "--out", out)
			require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
			after := tree(t, parent)
			assert.Equal(t, outside(before, filepath.Join("a", "out")), outside(after, filepath.Join("a", "out")), "nothing changed outside --out")
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.Equal(t, []string{tt.file}, names, "one file, with a sanitized name, directly inside --out")
			assert.Contains(t, stdout, filepath.Join(out, tt.file))
		})
	}
}

func TestSweepRefusesToReplaceAFileItDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	scen := tinySweep(t, dir, "s.yaml", "sw")
	mine := filepath.Join(dir, "sw.csv")
	require.NoError(t, os.WriteFile(mine, []byte("my own notes\n"), 0o644))
	code, _, stderr := raftsim(t, "sweep", scen, "--out", dir)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, mine)
	assert.Contains(t, stderr, "refusing to replace it")
	got, _ := os.ReadFile(mine)
	assert.Equal(t, "my own notes\n", string(got))
	assert.Equal(t, []string{"s.yaml", "sw.csv"}, dirNames(t, dir), "no temporary file left behind")

	// Its own output is replaced.
	require.NoError(t, os.Remove(mine))
	for range 2 {
		code, _, stderr = raftsim(t, "sweep", scen, "--out", dir)
		require.Equal(t, exitOK, code, stderr)
	}
	assert.Equal(t, []string{"s.yaml", "sw.csv"}, dirNames(t, dir))
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestSweepBadSeedsIsAUsageErrorNamingTheFlag(t *testing.T) {
	dir := t.TempDir()
	scen := tinySweep(t, dir, "s.yaml", "sw")
	for _, seeds := range []string{"0", "-3", "100001"} {
		code, _, stderr := raftsim(t, "sweep", scen, "--out", dir, "--seeds", seeds)
		assert.Equal(t, exitUsage, code, seeds)
		assert.Contains(t, stderr, "--seeds", seeds)
		assert.NotContains(t, stderr, "s.yaml:1:1", "the flag is to blame, not the file")
		assert.Contains(t, stderr, "Usage:", seeds)
	}
	assert.Equal(t, []string{"s.yaml"}, dirNames(t, dir))
}

func TestMergeRefusesBadShards(t *testing.T) {
	dir := t.TempDir()
	scen := tinySweep(t, dir, "s.yaml", "sw")
	for _, k := range []string{"1/2", "2/2"} {
		code, _, stderr := raftsim(t, "sweep", scen, "--out", dir, "--shard", k)
		require.Equal(t, exitOK, code, stderr)
	}
	code, _, stderr := raftsim(t, "sweep", scen, "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	one, two := filepath.Join(dir, "sw.shard1of2.csv"), filepath.Join(dir, "sw.shard2of2.csv")
	shard, err := os.ReadFile(one)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(shard), "\n") // header, 2 rows, closing line, ""
	require.Len(t, lines, 5, string(shard))
	variant := func(name string, edit func([]string) []string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(strings.Join(edit(append([]string{}, lines...)), "")), 0o644))
		return p
	}
	cut := variant("cut.csv", func(l []string) []string { return l[:2] })
	nan := variant("nan.csv", func(l []string) []string {
		f := strings.Split(l[2], ",")
		f[7] = "soon"
		l[2] = strings.Join(f, ",")
		return l
	})
	short := variant("short.csv", func(l []string) []string {
		l[1] = l[1][strings.Index(l[1], ",")+1:]
		return l
	})
	header := variant("header.csv", func(l []string) []string {
		l[0] = strings.Replace(l[0], "scenario,", "name,", 1)
		return l
	})
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"a shard cut at a row boundary", []string{cut, two}, cut + ":2: the file ends without its closing line"},
		{"the same shard twice", []string{one, two, one}, one + ": shard 1 of 2, as is " + one},
		{"a shard missing", []string{one}, "shard 2 of 2 missing"},
		{"a shard beside the whole sweep", []string{one, filepath.Join(dir, "sw.csv")}, "a whole sweep: merge joins the shards of one sweep"},
		{"a measure that is not a number", []string{nan, two}, nan + `:3: column up: "soon" is not a valid value`},
		{"a row with a column missing", []string{short, two}, short + ":2: 15 columns, the header has 16"},
		{"not a sweep CSV's header", []string{header, two}, header + ":1: not a sweep CSV header"},
	}
	merged := filepath.Join(dir, "merged.csv")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := raftsim(t, append([]string{"merge", "--out", merged}, tt.files...)...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tt.want)
			assert.NoFileExists(t, merged, "nothing is written")
		})
	}
	t.Run("a good pair", func(t *testing.T) {
		code, stdout, stderr := raftsim(t, "merge", "--out", merged, two, one)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stdout, "4 runs")
		whole, err := os.ReadFile(filepath.Join(dir, "sw.csv"))
		require.NoError(t, err)
		got, err := os.ReadFile(merged)
		require.NoError(t, err)
		assert.Equal(t, withoutWallColumn(string(whole)), withoutWallColumn(string(got)))
	})
	t.Run("not over a foreign file", func(t *testing.T) {
		notes := filepath.Join(dir, "notes.txt")
		require.NoError(t, os.WriteFile(notes, []byte("notes\n"), 0o644))
		code, _, stderr := raftsim(t, "merge", "--out", notes, one, two)
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, stderr, notes)
		got, _ := os.ReadFile(notes)
		assert.Equal(t, "notes\n", string(got))
	})
}

// withoutWallColumn drops the wall_seconds column (the 15th), the only
// one that differs between runs.
func withoutWallColumn(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		f := strings.Split(line, ",")
		if len(f) == 16 {
			f = append(f[:14], f[15:]...)
		}
		b.WriteString(strings.Join(f, ","))
	}
	return b.String()
}

func TestFiguresUnknownFigureIsAUsageErrorAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("# My project\n"), 0o644))
	code, _, stderr := raftsim(t, "figures", "--out", dir, "--scenarios", "../../scenarios", "--figure", "99")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--figure 99")
	assert.Contains(t, stderr, "Usage:")
	got, _ := os.ReadFile(filepath.Join(dir, "README.md"))
	assert.Equal(t, "# My project\n", string(got))
	assert.Equal(t, []string{"README.md"}, dirNames(t, dir), "nothing written")
}

func TestCompareNamesAreSafeAndDistinct(t *testing.T) {
	got, err := compareNames("../../x/kill", []string{"up", "a/b", "../../etc/passwd"})
	require.NoError(t, err)
	assert.Equal(t, []string{"compare-x-kill-up", "compare-x-kill-a-b", "compare-x-kill-etc-passwd"}, got)
	_, err = compareNames("k", []string{"a/b", "a-b"})
	assert.ErrorContains(t, err, `measures "a/b" and "a-b" would both be written as compare-k-a-b`)
}

func TestCompareRefusesMeasuresWithTheSameFileName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`name: c
measures:
  - {name: "a/b", from: start, until: up}
  - {name: "a-b", from: start, until: up}
`), 0o644))
	code, _, stderr := raftsim(t, "compare", path, "--seeds", "1", "--out", filepath.Join(dir, "out"))
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "would both be written")
	assert.NoDirExists(t, filepath.Join(dir, "out"), "refused before anything ran or was written")
}

func TestRunTraceIsAtomicAndNotOverAForeignFile(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.jsonl")
	require.NoError(t, os.WriteFile(trace, []byte("precious\n"), 0o644))
	code, _, stderr := raftsim(t, "run", killHalf, "--trace", trace)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stderr, trace)
	got, _ := os.ReadFile(trace)
	assert.Equal(t, "precious\n", string(got))
	assert.Equal(t, []string{"t.jsonl"}, dirNames(t, dir))

	require.NoError(t, os.Remove(trace))
	for range 2 { // written, then replaced
		code, _, stderr = raftsim(t, "run", killHalf, "--trace", trace, "--history", filepath.Join(dir, "h.html"))
		require.Equal(t, exitOK, code, stderr)
	}
	assert.Equal(t, []string{"h.html", "t.jsonl"}, dirNames(t, dir))
	b, err := os.ReadFile(trace)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), `{"t":`))
}
