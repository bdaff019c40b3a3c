// Package outfile writes raftsim's output files safely: every file goes
// inside the directory the user named (an os.Root, so no name, "..", or
// symlink can lead out of it), is written to a temporary file in the same
// directory and renamed into place (a reader, or a crash, never sees half
// a file), and replaces an existing file only if that file is raftsim's
// own output of the same kind.
package outfile

import (
	"bytes"
	"errors"
	"strings"
)

// MaxName is the longest name SafeName returns, in bytes.
const MaxName = 100

// SafeName reduces s (a name taken from input: a scenario's or a
// measure's name) to a safe base name: only [A-Za-z0-9._-], every run of
// other characters (including '/') becomes one '-', no leading or
// trailing '.', '-' or '_', at most MaxName bytes, never empty ("unnamed"
// instead). It is never a path, never "." or "..", never hidden.
func SafeName(s string) string {
	var b strings.Builder
	bad := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			if bad {
				b.WriteByte('-')
			}
			b.WriteByte(c)
			bad = false
		} else {
			bad = b.Len() > 0
		}
	}
	out := strings.Trim(b.String(), ".-_")
	if len(out) > MaxName {
		out = strings.TrimRight(out[:MaxName], ".-_")
	}
	if out == "" {
		return "unnamed"
	}
	return out
}

// Kind is what an output file is. An existing file is replaced only if
// its first bytes are those of the same kind, so raftsim never clobbers
// a file it did not write.
type Kind struct {
	name  string
	match func(head []byte) bool
}

// NewKind returns a kind called name (used in errors) whose files are
// recognized by match, given up to the first 4 KiB of an existing file.
func NewKind(name string, match func(head []byte) bool) Kind {
	return Kind{name: name, match: match}
}

// Prefixed returns a kind called name whose files begin with one of
// prefixes (case-sensitive).
func Prefixed(name string, prefixes ...string) Kind {
	return NewKind(name, func(head []byte) bool {
		for _, p := range prefixes {
			if bytes.HasPrefix(head, []byte(p)) {
				return true
			}
		}
		return false
	})
}

// String returns the kind's name.
func (k Kind) String() string { return k.name }

// Kinds of raftsim's outputs.
var (
	// SweepCSV is a sweep's CSV (sweep, merge, figures).
	SweepCSV = Prefixed("sweep CSV", "scenario,")
	// SamplesCSV is compare's per-measure samples.
	SamplesCSV = Prefixed("samples CSV", "world,seconds")
	// PNG is a plot's PNG image.
	PNG = Prefixed("PNG image", "\x89PNG\r\n\x1a\n")
	// SVG is a plot's SVG image.
	SVG = Prefixed("SVG image", "<?xml", "<svg")
	// Markdown is a report (figures' README.md, compare's tables) that
	// begins with MarkdownMarker.
	Markdown = Prefixed("raftsim markdown report", MarkdownMarker)
	// Reproducer is a fuzz reproducer scenario, starting "# raftsim".
	Reproducer = Prefixed("raftsim reproducer", "# raftsim")
	// Trace is a run's trace, JSON lines of events (or empty: a run
	// that recorded nothing).
	Trace = NewKind("JSON-lines trace", func(h []byte) bool { return len(h) == 0 || bytes.HasPrefix(h, []byte(`{"t":`)) })
	// HTML is a page (viz --out, run --history), or an empty history
	// (a run without client operations writes none).
	HTML = NewKind("HTML page", func(h []byte) bool {
		return len(h) == 0 || len(h) >= 14 && strings.EqualFold(string(h[:14]), "<!doctype html")
	})
	// Profile is a gzipped pprof profile.
	Profile = Prefixed("pprof profile", "\x1f\x8b")
)

// MarkdownMarker is the first line of every markdown report raftsim
// writes: an HTML comment, invisible when rendered.
const MarkdownMarker = "<!-- Written by raftsim; raftsim replaces this file when run again. -->"

// ErrRefused is wrapped by the error Write returns when the target
// exists and is not raftsim's output of the kind being written.
var ErrRefused = errors.New("refusing to replace it")
