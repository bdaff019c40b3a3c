package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/raftsim/raftsim/viz"
	"github.com/spf13/cobra"
)

type vizFlags struct {
	out     string
	port    int
	history string
}

func newVizCmd(stdout io.Writer) *cobra.Command {
	var f vizFlags
	cmd := &cobra.Command{
		Use:   "viz A.jsonl [B.jsonl]",
		Short: "Step through a run's trace, or compare two, in a web page",
		Long: `viz serves a step-through page for a trace on 127.0.0.1 and prints its
address (until interrupted), or with --out writes one self-contained HTML
file with everything embedded. Press ? on the page for its keys.

Given two traces (a seed before and after shrinking, say, or the model
against the real stack), the page replays both on one clock, one above
the other, and marks the first event at which they differ (times aside)
and the first time at which a node's role or term differs.`,
		Example: `  raftsim run scenarios/kill-half.yaml --nodes 9 --trace out/t.jsonl
  raftsim viz out/t.jsonl
  raftsim viz out/t.jsonl --out kill-half.html
  raftsim run scenarios/kill-leader.yaml --nodes 5 --trace out/model.jsonl
  raftsim run scenarios/kill-leader.yaml --nodes 5 --world pion --trace out/pion.jsonl
  raftsim viz out/model.jsonl out/pion.jsonl`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return &usageError{fmt.Errorf("viz takes one trace file, or two to compare, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVizTraces(cmd.Context(), args, &f, stdout)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "write a self-contained page (of one trace or both) to `FILE.html` instead of serving")
	cmd.Flags().IntVar(&f.port, "port", 0, "serve on this port of 127.0.0.1 (0: any free port)")
	cmd.Flags().StringVar(&f.history, "history", "", "link the page to this porcupine history `FILE.html` (served with it; with --out, copied beside the page as NAME.history.html)")
	return cmd
}

// writeVizPage writes the self-contained page of t (and b, if not nil)
// to out and, with a history, the history page beside it (out with
// .history.html), linked from the page.
func writeVizPage(t, b *viz.Trace, out string, history []byte, stdout io.Writer) error {
	if history != nil {
		name := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out)) + ".history.html"
		hpath := filepath.Join(filepath.Dir(out), name)
		if err := writeFile(hpath, func(w io.Writer) error { _, err := w.Write(history); return err }); err != nil {
			return &exitError{exitFailed, err}
		}
		t.History = name
		fmt.Fprintf(stdout, "wrote %s\n", hpath)
	}
	if b != nil {
		if err := writeFile(out, func(w io.Writer) error { return viz.WriteComparison(w, t, b) }); err != nil {
			return &exitError{exitFailed, err}
		}
		fmt.Fprintf(stdout, "wrote %s (%d and %d events; %s)\n", out, len(t.Events), len(b.Events), differs(viz.Compare(t, b)))
		return nil
	}
	if err := writeFile(out, func(w io.Writer) error { return viz.WriteHTML(w, t) }); err != nil {
		return &exitError{exitFailed, err}
	}
	fmt.Fprintf(stdout, "wrote %s (%d events)\n", out, len(t.Events))
	return nil
}

// differs says where two traces first differ, for the command's output.
func differs(d viz.Difference) string {
	if d.Index < 0 {
		return "the same events"
	}
	return fmt.Sprintf("first difference at event %d", d.Index+1)
}

// loadTrace reads the trace at path; an unreadable or malformed file is
// a usage error.
func loadTrace(path string) (*viz.Trace, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	defer fh.Close()
	t, err := viz.Load(fh, path)
	if err != nil {
		return nil, &exitError{exitUsage, err}
	}
	return t, nil
}

// runViz shows the trace at path (run --viz).
func runViz(ctx context.Context, path string, f *vizFlags, stdout io.Writer) error {
	return runVizTraces(ctx, []string{path}, f, stdout)
}

// runVizTraces shows one trace, or compares two.
func runVizTraces(ctx context.Context, paths []string, f *vizFlags, stdout io.Writer) error {
	t, err := loadTrace(paths[0])
	if err != nil {
		return err
	}
	var b *viz.Trace
	if len(paths) == 2 {
		if b, err = loadTrace(paths[1]); err != nil {
			return err
		}
	}
	if f.port < 0 || f.port > 65535 {
		return &usageError{fmt.Errorf("--port must be in 0..65535 (0: any free port), got %d", f.port)}
	}
	var history []byte
	if f.history != "" {
		if history, err = os.ReadFile(f.history); err != nil {
			return &exitError{exitUsage, fmt.Errorf("--history: %w", err)}
		}
	}
	if f.out != "" {
		return writeVizPage(t, b, f.out, history, stdout)
	}
	var h http.Handler
	if b != nil {
		h, err = viz.ComparisonHandler(t, b, history)
	} else {
		h, err = viz.Handler(t, history)
	}
	if err != nil {
		return &exitError{exitFailed, err}
	}
	ln, url, err := viz.Listen(f.port)
	if err != nil {
		return &exitError{exitFailed, err}
	}
	if b != nil {
		fmt.Fprintf(stdout, "serving %s (%d events) and %s (%d events; %s) at %s  (Ctrl-C stops)\n",
			paths[0], len(t.Events), paths[1], len(b.Events), differs(viz.Compare(t, b)), url)
	} else {
		fmt.Fprintf(stdout, "serving %s (%d events) at %s  (Ctrl-C stops)\n", paths[0], len(t.Events), url)
	}
	// Only 127.0.0.1:PORT and localhost:PORT are answered (a defence
	// against DNS rebinding), and slow or idle clients time out.
	srv := viz.NewServer(ln.Addr().String(), h)
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &exitError{exitFailed, err}
	}
	return nil
}
