package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documentation's commands must parse with the current CLI: every
// line of a fenced code block in README.md and docs/*.md that starts with
// `raftsim ` or `go run ./cmd/raftsim ` (after an optional `$ ` prompt) is
// split into words, its subcommand found with cobra and its flags parsed,
// without running anything. A doc that shows a flag or a subcommand that
// does not exist, or a wrong number of arguments, fails the test.
//
// Splitting is deliberately simple: a comment (from a `#` after a space)
// and everything from the first shell operator (`&&`, `|`, `>`, `<`, `;`)
// are cut off, quote characters are removed, and the rest is split on
// white space (strings.Fields): `--out "a b"` would become two words, so
// the docs do not quote arguments with spaces. A line ending in `\`
// continues on the next. Placeholders in capitals (FILE, NAME, K, ...)
// are accepted as positional arguments and, for a flag that takes a
// value, stand for the flag's default value. A positional argument naming
// a file under scenarios/ (without a placeholder) must exist.

// docCommand is one command line found in the documentation.
type docCommand struct {
	where string // file:line
	line  string // the command as written (continuations joined)
	args  []string
}

// docRoot is the repository root, from cmd/raftsim where tests run.
const docRoot = "../.."

// docFiles are the documentation files whose commands are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(docRoot, "README.md")}
	more, err := filepath.Glob(filepath.Join(docRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, more, "no docs/*.md found from %s", docRoot)
	return append(files, more...)
}

// docCommands extracts the raftsim command lines of the fenced code
// blocks of one Markdown text.
func docCommands(name, text string) []docCommand {
	var out []docCommand
	inFence := false
	pending, pendingAt := "", 0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			inFence = !inFence
			pending = ""
			continue
		}
		if !inFence {
			continue
		}
		if pending != "" {
			line = pending + " " + line
		} else {
			pendingAt = n
		}
		if strings.HasSuffix(line, `\`) {
			pending = strings.TrimSuffix(line, `\`)
			continue
		}
		pending = ""
		line = strings.TrimPrefix(line, "$ ")
		args, ok := docCommandArgs(line)
		if !ok {
			continue
		}
		out = append(out, docCommand{where: fmt.Sprintf("%s:%d", name, pendingAt), line: line, args: args})
	}
	return out
}

// docCommandArgs returns the arguments after the program name of a
// raftsim command line, and false for any other line.
func docCommandArgs(line string) ([]string, bool) {
	var rest string
	switch {
	case strings.HasPrefix(line, "raftsim "):
		rest = strings.TrimPrefix(line, "raftsim ")
	case strings.HasPrefix(line, "go run ./cmd/raftsim "):
		rest = strings.TrimPrefix(line, "go run ./cmd/raftsim ")
	default:
		return nil, false
	}
	if i := strings.Index(rest, " #"); i >= 0 {
		rest = rest[:i]
	}
	for _, op := range []string{"&&", "|", ">", "<", ";"} {
		if i := strings.Index(rest, op); i >= 0 {
			rest = rest[:i]
		}
	}
	rest = strings.NewReplacer(`"`, "", "'", "").Replace(rest)
	return strings.Fields(rest), true
}

// placeholder matches a word in capitals standing for a value: FILE, NAME,
// K, FILE.html, scenarios/FILE, out/*.shard*of8.csv is not one.
var placeholder = regexp.MustCompile(`(^|/)[A-Z][A-Z0-9_]*(\.[a-z]+)?$`)

// checkDocCommand parses args (a command line without the program name)
// with the current CLI, running nothing.
func checkDocCommand(args []string) error {
	root := newRoot(io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no subcommand in %q", args)
	}
	cmd.InitDefaultHelpFlag()
	flags := cmd.Flags()
	// A placeholder given as a flag's value stands for its default.
	rest = append([]string(nil), rest...)
	for i := 0; i+1 < len(rest); i++ {
		name, ok := strings.CutPrefix(rest[i], "--")
		if !ok || strings.Contains(name, "=") || !placeholder.MatchString(rest[i+1]) {
			continue
		}
		f := flags.Lookup(name)
		if f == nil {
			f = cmd.InheritedFlags().Lookup(name)
		}
		if f != nil && f.NoOptDefVal == "" {
			rest[i+1] = f.DefValue
		}
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	positional := flags.Args()
	if err := cmd.ValidateArgs(positional); err != nil {
		return err
	}
	for _, a := range positional {
		if strings.HasPrefix(a, "scenarios/") && !placeholder.MatchString(a) && !strings.ContainsAny(a, "*?") {
			if _, err := os.Stat(filepath.Join(docRoot, a)); err != nil {
				return fmt.Errorf("no such scenario file %s", a)
			}
		}
	}
	return nil
}

func TestDocCommandsParse(t *testing.T) {
	total := 0
	for _, path := range docFiles(t) {
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		rel, _ := filepath.Rel(docRoot, path)
		for _, c := range docCommands(rel, string(text)) {
			total++
			assert.NoError(t, checkDocCommand(c.args), "%s: %s", c.where, c.line)
		}
	}
	// The README alone shows more than ten; finding none means the
	// extraction broke, not that the docs are clean.
	assert.Greater(t, total, 20, "raftsim commands found in the docs")
	t.Logf("%d documented raftsim commands checked", total)
}

func TestDocCommandCheckerRejectsBadLines(t *testing.T) {
	doc := "text\n\n```\n" +
		"raftsim run scenarios/kill-half.yaml --no-such-flag   # a flag that does not exist\n" +
		"go run ./cmd/raftsim nosuchcommand FILE\n" +
		"raftsim run scenarios/kill-half.yaml --seeds many\n" +
		"raftsim run scenarios/no-such-scenario.yaml\n" +
		"raftsim version extra\n" +
		"```\n"
	cmds := docCommands("bad.md", doc)
	require.Len(t, cmds, 5)
	for _, c := range cmds {
		assert.Error(t, checkDocCommand(c.args), "%s: %s", c.where, c.line)
	}

	good := "```\n" +
		"$ go run ./cmd/raftsim run scenarios/kill-half.yaml --nodes 41 --seeds 20 --quiet\n" +
		"raftsim sweep FILE --out out/ --workers 2 --seeds K   # K seeds\n" +
		"raftsim run scenarios/FILE --seeds 20 --quiet && cat x | wc -l > y\n" +
		"raftsim fuzz --plant-bug NAME \\\n  --seeds 1000 --catch-rate --no-shrink\n" +
		"raftsim viz 'out/t.jsonl' --out \"out/kill-half.html\"\n" +
		"raftsim run scenarios/kill-half.yaml --help\n" +
		"parallel 'raftsim sweep --bogus'   # not a raftsim line\n" +
		"```\n" +
		"raftsim run --bogus outside a fence is prose\n"
	cmds = docCommands("good.md", good)
	require.Len(t, cmds, 6)
	assert.Equal(t, "good.md:5", cmds[3].where, "a continued line is reported where it starts")
	assert.Equal(t, []string{"fuzz", "--plant-bug", "NAME", "--seeds", "1000", "--catch-rate", "--no-shrink"}, cmds[3].args)
	for _, c := range cmds {
		assert.NoError(t, checkDocCommand(c.args), "%s: %s", c.where, c.line)
	}
}
