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
		Use:   "viz TRACE.jsonl",
		Short: "Step through a run's trace in a web page",
		Long: `viz serves a step-through page for a trace on 127.0.0.1 and prints its
address (until interrupted), or with --out writes one self-contained HTML
file with everything embedded. Press ? on the page for its keys.`,
		Example: `  raftsim run scenarios/kill-half.yaml --nodes 9 --trace out/t.jsonl
  raftsim viz out/t.jsonl
  raftsim viz out/t.jsonl --out kill-half.html`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{fmt.Errorf("viz takes one trace file, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runViz(cmd.Context(), args[0], &f, stdout)
		},
	}
	cmd.Flags().StringVar(&f.out, "out", "", "write a self-contained page to `FILE.html` instead of serving")
	cmd.Flags().IntVar(&f.port, "port", 0, "serve on this port of 127.0.0.1 (0: any free port)")
	cmd.Flags().StringVar(&f.history, "history", "", "link the page to this porcupine history `FILE.html` (served with it; with --out, copied beside the page as NAME.history.html)")
	return cmd
}

// writeVizPage writes the self-contained page to out and, with a
// history, the history page beside it (out with .history.html), linked
// from the page.
func writeVizPage(t *viz.Trace, out string, history []byte, stdout io.Writer) error {
	if history != nil {
		name := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out)) + ".history.html"
		hpath := filepath.Join(filepath.Dir(out), name)
		if err := writeFile(hpath, func(w io.Writer) error { _, err := w.Write(history); return err }); err != nil {
			return &exitError{exitFailed, err}
		}
		t.History = name
		fmt.Fprintf(stdout, "wrote %s\n", hpath)
	}
	if err := writeFile(out, func(w io.Writer) error { return viz.WriteHTML(w, t) }); err != nil {
		return &exitError{exitFailed, err}
	}
	fmt.Fprintf(stdout, "wrote %s (%d events)\n", out, len(t.Events))
	return nil
}

func runViz(ctx context.Context, path string, f *vizFlags, stdout io.Writer) error {
	fh, err := os.Open(path)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	t, err := viz.Load(fh, path)
	fh.Close()
	if err != nil {
		return &exitError{exitUsage, err}
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
		return writeVizPage(t, f.out, history, stdout)
	}
	h, err := viz.Handler(t, history)
	if err != nil {
		return &exitError{exitFailed, err}
	}
	ln, url, err := viz.Listen(f.port)
	if err != nil {
		return &exitError{exitFailed, err}
	}
	fmt.Fprintf(stdout, "serving %s (%d events) at %s  (Ctrl-C stops)\n", path, len(t.Events), url)
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
