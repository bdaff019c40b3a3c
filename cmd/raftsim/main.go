// Command raftsim runs Raft scenarios in a deterministic model of browser
// tabs talking over WebRTC datachannels.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a check failed
	exitUsage   = 2 // usage or scenario error
	exitUnknown = 3 // the linearizability checker ran out of time
	// exitInternal: raftsim itself failed (a panic: a bug in raftsim or
	// raft/, reported with its stack), never a verdict on the scenario.
	exitInternal = 4
	versionText  = "raftsim 0.1.0"
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks command-line misuse: usage is printed, exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func main() {
	if os.Getenv("GOGC") == "" {
		// Simulation allocates many short-lived objects against a small
		// live heap: collecting at 5x the live heap instead of 2x makes
		// kill-half at 41 nodes ~25% faster (raftsim bench --world model,
		// 458-500x -> 603-638x real time) for a few MB more per run.
		// GOGC in the environment still wins.
		debug.SetGCPercent(400)
	}
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the CLI and returns the exit code. A panic that escapes a
// command (runs contain their own: see scenarios.FailPanic) exits 4.
func execute(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "raftsim: internal error (a bug in raftsim; please report it): %v\n%s", p, debug.Stack())
			code = exitInternal
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, "raftsim:", ee.err)
		}
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "raftsim:", ue.err)
		fmt.Fprintln(stderr)
		fmt.Fprint(stderr, cmd.UsageString())
		return exitUsage
	default:
		// Cobra's own errors (unknown command, bad flag) are usage errors.
		fmt.Fprintln(stderr, "raftsim:", err)
		fmt.Fprintln(stderr)
		fmt.Fprint(stderr, cmd.UsageString())
		return exitUsage
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "raftsim",
		Short: "Deterministic simulation of Raft between browser tabs over WebRTC",
		Long: `raftsim runs Raft clusters whose nodes are browser tabs talking over
WebRTC datachannels, in virtual time, deterministically; checks every run
for Raft's safety properties; and measures start-up, commit and recovery.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{fmt.Errorf("unknown command %q", args[0])}
			}
			return &usageError{fmt.Errorf("missing command")}
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(newRunCmd(stdout, stderr), newSweepCmd(stdout, stderr), newMergeCmd(stdout), newFiguresCmd(stdout, stderr), newCalibrateCmd(stdout, stderr), newVizCmd(stdout), newBenchCmd(stdout), newCompareCmd(stdout), newFuzzCmd(stdout, stderr), &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(stdout, versionText) },
	})
	return root
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("unexpected arguments %q", args)}
	}
	return nil
}
