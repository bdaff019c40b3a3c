package raft

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// A small stand-in for github.com/cockroachdb/datadriven (not a
// dependency of this module). A script is a sequence of blocks:
//
//	# comments and blank lines are kept as they are
//	command arg key=value key=(1,2,3)
//	----
//	expected output, up to the next blank line or the end of the file
//
// Expected output never holds a blank line: a command with nothing to say
// prints "ok". Run with -rewrite (go test ./raft -run TestInteraction
// -rewrite) or RAFT_REWRITE=1 to replace the expected outputs by what the
// commands print now; otherwise every output must match exactly.

var rewriteFlag = flag.Bool("rewrite", false, "rewrite the expected outputs of the raft/testdata scripts")

// rewriting reports whether the expected outputs are to be rewritten.
func rewriting() bool { return *rewriteFlag || os.Getenv("RAFT_REWRITE") == "1" }

// ddCmd is one parsed command line.
type ddCmd struct {
	Pos  string // file:line, for messages
	Name string
	Args []ddArg
}

// ddArg is a positional argument (Key empty) or key=value; a value in
// parentheses is a list (Vals), separated by commas or spaces.
type ddArg struct {
	Key  string
	Vals []string
}

func (c ddCmd) String() string {
	s := c.Name
	for _, a := range c.Args {
		s += " " + a.String()
	}
	return s
}

func (a ddArg) String() string {
	v := strings.Join(a.Vals, ",")
	if len(a.Vals) != 1 {
		v = "(" + v + ")"
	}
	if a.Key == "" {
		return v
	}
	return a.Key + "=" + v
}

// parseDDLine splits a command line into its name and arguments. A
// parenthesised list may contain spaces.
func parseDDLine(pos, line string) (ddCmd, error) {
	var toks []string
	depth, start := 0, -1
	for i, ch := range line {
		switch {
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth < 0 {
				return ddCmd{}, fmt.Errorf("%s: unbalanced ')' in %q", pos, line)
			}
		}
		space := ch == ' ' || ch == '\t'
		if space && depth == 0 {
			if start >= 0 {
				toks = append(toks, line[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if depth != 0 {
		return ddCmd{}, fmt.Errorf("%s: unbalanced '(' in %q", pos, line)
	}
	if start >= 0 {
		toks = append(toks, line[start:])
	}
	if len(toks) == 0 {
		return ddCmd{}, fmt.Errorf("%s: empty command", pos)
	}
	cmd := ddCmd{Pos: pos, Name: toks[0]}
	for _, tok := range toks[1:] {
		var a ddArg
		val := tok
		if k, v, ok := strings.Cut(tok, "="); ok && !strings.HasPrefix(tok, "(") {
			a.Key, val = k, v
		}
		if strings.HasPrefix(val, "(") && strings.HasSuffix(val, ")") {
			for _, f := range strings.FieldsFunc(val[1:len(val)-1], func(r rune) bool { return r == ',' || r == ' ' }) {
				a.Vals = append(a.Vals, f)
			}
		} else {
			a.Vals = []string{val}
		}
		cmd.Args = append(cmd.Args, a)
	}
	return cmd, nil
}

// runDataDriven runs the script at path, each command through run, and
// compares (or, when rewriting, replaces) the expected outputs.
func runDataDriven(t *testing.T, path string, run func(cmd ddCmd) string) {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(content), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	var out strings.Builder
	for i := 0; i < len(lines); {
		line := lines[i]
		if trimmed := strings.TrimSpace(line); trimmed == "" || strings.HasPrefix(trimmed, "#") {
			out.WriteString(line + "\n")
			i++
			continue
		}
		pos := fmt.Sprintf("%s:%d", path, i+1)
		cmd, err := parseDDLine(pos, line)
		if err != nil {
			t.Fatal(err)
		}
		i++
		if i >= len(lines) || lines[i] != "----" {
			t.Fatalf("%s: %q must be followed by a line \"----\"", pos, line)
		}
		i++
		var want []string
		for i < len(lines) && lines[i] != "" {
			want = append(want, lines[i])
			i++
		}
		got := strings.TrimRight(run(cmd), "\n")
		if got == "" {
			got = "ok"
		}
		if strings.Contains(got, "\n\n") {
			t.Fatalf("%s: %s: output holds a blank line:\n%s", pos, line, got)
		}
		if rewriting() {
			out.WriteString(line + "\n----\n" + got + "\n")
			continue
		}
		if w := strings.Join(want, "\n"); w != got {
			t.Errorf("%s: %s: output differs (- expected, + actual; rerun with -rewrite to accept):\n%s",
				pos, line, lineDiff(want, strings.Split(got, "\n")))
		}
	}
	if rewriting() {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lineDiff returns a line diff of want and got (longest common
// subsequence): unchanged lines start with two spaces, removed ones with
// "- ", added ones with "+ ".
func lineDiff(want, got []string) string {
	n, m := len(want), len(got)
	// lcs[i][j]: the LCS length of want[i:] and got[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			b.WriteString("- " + want[i] + "\n")
			i++
		default:
			b.WriteString("+ " + got[j] + "\n")
			j++
		}
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	got := lineDiff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	want := "  a\n- b\n+ x\n  c\n+ d\n"
	if got != want {
		t.Fatalf("lineDiff:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseDDLine(t *testing.T) {
	cmd, err := parseDDLine("x:1", "add-nodes 3 voters=(1, 2,3) prevote learners=()")
	if err != nil {
		t.Fatal(err)
	}
	if got := cmd.String(); got != "add-nodes 3 voters=(1,2,3) prevote learners=()" {
		t.Fatalf("parsed as %q", got)
	}
	if _, err := parseDDLine("x:1", "partition (1,2"); err == nil {
		t.Fatal("unbalanced parenthesis accepted")
	}
}
