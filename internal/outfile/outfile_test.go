package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"kill-half":              "kill-half",
		"fig5.v2_x":              "fig5.v2_x",
		"../../victim/important": "victim-important",
		"/tmp/abs":               "tmp-abs",
		"a b/c":                  "a-b-c",
		"":                       "unnamed",
		".":                      "unnamed",
		"..":                     "unnamed",
		"/":                      "unnamed",
		".hidden":                "hidden",
		`C:\Windows\x`:           "C-Windows-x",
		"ünïcode":                "n-code",
		"a\x00b\nc":              "a-b-c",
		strings.Repeat("x", 300): strings.Repeat("x", MaxName),
	} {
		got := SafeName(in)
		assert.Equal(t, want, got, "SafeName(%q)", in)
		assert.NoError(t, checkName(got))
		assert.LessOrEqual(t, len(got), MaxName)
	}
}

// listing returns the names of every file and directory under dir.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		out = append(out, p)
		return err
	}))
	slices.Sort(out)
	return out
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	require.NoError(t, err)
	defer d.Close()
	old := "scenario,world\nthe old, complete file\n"
	path := filepath.Join(dir, "s.csv")
	require.NoError(t, os.WriteFile(path, []byte(old), 0o644))
	before := listing(t, dir)
	_, err = d.Write("s.csv", SweepCSV, func(w io.Writer) error {
		_, _ = io.WriteString(w, "scenario,world\nhalf a ro")
		return errors.New("killed")
	})
	require.ErrorContains(t, err, "killed")
	assert.ErrorContains(t, err, path)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, old, string(got), "the old file is untouched")
	assert.Equal(t, before, listing(t, dir), "no temporary file is left behind")

	p, err := d.Write("s.csv", SweepCSV, func(w io.Writer) error { _, err := io.WriteString(w, "scenario,new\n"); return err })
	require.NoError(t, err)
	assert.Equal(t, path, p)
	got, _ = os.ReadFile(path)
	assert.Equal(t, "scenario,new\n", string(got), "a file of the same kind is replaced")
	assert.Equal(t, before, listing(t, dir))
}

func TestWriteRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(filepath.Join(dir, "out"))
	require.NoError(t, err)
	defer d.Close()
	write := func(name string, k Kind) error {
		_, err := d.Write(name, k, func(w io.Writer) error { _, err := io.WriteString(w, "scenario,x\n"); return err })
		return err
	}
	notes := filepath.Join(dir, "out", "notes.csv")
	require.NoError(t, os.WriteFile(notes, []byte("my notes\n"), 0o644))
	err = write("notes.csv", SweepCSV)
	assert.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, notes)
	got, _ := os.ReadFile(notes)
	assert.Equal(t, "my notes\n", string(got))

	// A PNG is not replaced by a CSV, nor an SVG by a PNG.
	png := filepath.Join(dir, "out", "p.png")
	require.NoError(t, os.WriteFile(png, []byte("\x89PNG\r\n\x1a\nrest"), 0o644))
	assert.ErrorIs(t, write("p.png", SweepCSV), ErrRefused)
	assert.NoError(t, write("p.png", PNG))
	assert.ErrorIs(t, write("p.png", SVG), ErrRefused, "it now holds a CSV")

	// A directory or a symlink at the name is refused; the symlink's
	// target, outside, is untouched.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "out", "sub.csv"), 0o755))
	assert.ErrorIs(t, write("sub.csv", SweepCSV), ErrRefused)
	victim := filepath.Join(dir, "victim.csv")
	require.NoError(t, os.WriteFile(victim, []byte("scenario,precious\n"), 0o644))
	require.NoError(t, os.Symlink(victim, filepath.Join(dir, "out", "link.csv")))
	assert.ErrorIs(t, write("link.csv", SweepCSV), ErrRefused)
	got, _ = os.ReadFile(victim)
	assert.Equal(t, "scenario,precious\n", string(got))
}

func TestWriteStaysInside(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a", "out")
	d, err := Open(out)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, os.Symlink(dir, filepath.Join(out, "up")))
	before := listing(t, dir)
	for _, name := range []string{"../x.csv", "../../x.csv", "/tmp/x.csv", "", ".", "..", "a//b.csv", "up/x.csv", `a\b.csv`} {
		_, err := d.Write(name, SweepCSV, func(w io.Writer) error { _, err := io.WriteString(w, "scenario\n"); return err })
		assert.Error(t, err, "%q", name)
	}
	assert.Equal(t, before, listing(t, dir), "nothing was written anywhere")

	p, err := d.Write("chrome-2026/fig3.csv", SweepCSV, func(w io.Writer) error { _, err := io.WriteString(w, "scenario\n"); return err })
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, "chrome-2026", "fig3.csv"), p)
	assert.FileExists(t, p)
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "t.jsonl")
	got, err := WriteFile(path, Trace, func(w io.Writer) error { _, err := io.WriteString(w, `{"t":0}`+"\n"); return err })
	require.NoError(t, err)
	assert.Equal(t, path, got)
	_, err = WriteFile(path, HTML, func(io.Writer) error { return nil })
	assert.ErrorIs(t, err, ErrRefused, "a trace is not a page")
	_, err = WriteFile(path, Trace, func(io.Writer) error { return nil })
	assert.NoError(t, err)
}

func TestWriteCleansUpAfterAPanic(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir)
	require.NoError(t, err)
	defer d.Close()
	assert.Panics(t, func() {
		_, _ = d.Write("s.csv", SweepCSV, func(w io.Writer) error { _, _ = io.WriteString(w, "scenario"); panic("boom") })
	})
	assert.Equal(t, []string{dir}, listing(t, dir))
}
