// Command testprogress reads `go test -json` on stdin and prints progress
// a person can follow: every package as it ends, every top-level test
// that took a while (so a long package is not silent for minutes), and
// the whole output of a test that failed. It exits 1 if anything failed.
//
//	go test -json ./... | go run ./internal/testprogress
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	ImportPath string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
}

// slowTest: a test that takes this long gets a line of its own.
const slowTest = 2.0

func main() {
	os.Exit(run(os.Stdin, os.Stdout, time.Now()))
}

func run(in io.Reader, out io.Writer, start time.Time) int {
	output := map[string][]string{} // package/test -> its output, until it ends
	failed := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // a build error, say
			continue
		}
		if e.Package == "" {
			e.Package = e.ImportPath // build events name the package so
		}
		key := e.Package + " " + e.Test
		stamp := fmt.Sprintf("[%4ds]", int(time.Since(start).Seconds()))
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "skip":
			if e.Test == "" {
				fmt.Fprintf(out, "%s %-4s %s (%.1fs)\n", stamp, map[string]string{"pass": "ok", "skip": "skip"}[e.Action], e.Package, e.Elapsed)
			} else if !strings.Contains(e.Test, "/") && e.Elapsed >= slowTest {
				fmt.Fprintf(out, "%s        %s %s (%.1fs)\n", stamp, e.Package, e.Test, e.Elapsed)
			}
			delete(output, key)
		case "build-fail":
			failed++
			fmt.Fprintf(out, "%s FAIL %s (build)\n%s", stamp, e.Package, strings.Join(output[key], ""))
		case "build-output":
			output[key] = append(output[key], e.Output)
		case "fail":
			failed++
			fmt.Fprintf(out, "%s FAIL %s %s (%.1fs)\n%s", stamp, e.Package, e.Test, e.Elapsed, strings.Join(output[key], ""))
			delete(output, key)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}
