package scenarios

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/sim"
)

// FailPanic: the run panicked. A panic is a bug in raftsim or in raft/,
// never an outcome of the scenario; it is contained at the run's boundary
// (containPanic) and reported as a failure of that run, so a sweep or a
// fuzz campaign goes on, and the fuzzer shrinks it like any finding.
const FailPanic = "panic"

// containPanic, deferred at a run's boundary, turns a panic into the
// failed result of that run (and no error). world names the world.
func containPanic(sc *Scenario, seed uint64, world string, res **Result, err *error) {
	p := recover()
	if p == nil {
		return
	}
	*err = nil
	*res = &Result{
		Scenario:          sc.Name,
		World:             world,
		Nodes:             sc.Cluster.Nodes,
		ElectionTimeoutMS: float64(sc.Cluster.ElectionTimeout) / float64(sim.Millisecond),
		Seed:              seed,
		Measures:          map[string]*float64{},
		Safety:            "unknown",
		Liveness:          "unknown",
		Linearizability:   checker.LinNA,
		Panic:             fmt.Sprint(p),
		PanicStack:        panicStack(debug.Stack()),
		Replay:            sc.ReplayCommand(seed),
	}
	for _, m := range sc.Measures {
		(*res).MeasureOrder = append((*res).MeasureOrder, m.Name)
		(*res).Measures[m.Name] = nil
	}
}

// panicStack keeps the frames of the stack from the panic on (dropping
// the recovery's own frames), at most 40 lines.
func panicStack(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > 40 {
		lines = append(lines[:40], "...")
	}
	return strings.Join(lines, "\n")
}
