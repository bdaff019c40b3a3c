package netmodel

import (
	"fmt"
	"math"

	"github.com/raftsim/raftsim/sim"
)

// MachineOptions describe the machine the tabs' browsers share. The zero
// value gives every tab a core of its own: its work takes exactly its
// cost.
//
// The model is a static share, not a scheduler: each live tab's browser
// keeps TabLoad of a core busy in the background (rendering, timers,
// its harness connection), and while the live tabs' background load
// exceeds Cores, every tab's own work (handled messages and timers,
// storage writes) takes longer by that excess: the factor is
// max(1, live tabs × TabLoad / Cores). It is meant for many browsers on
// one host, as the paper ran 41 SlimerJS processes on 8 cores.
type MachineOptions struct {
	// Cores is the number of cores the browsers share (0: one each).
	Cores int
	// TabLoad is the share of one core each live tab uses in the
	// background, in [0, 1].
	TabLoad float64
}

func (o *MachineOptions) validate() error {
	switch {
	case o.Cores < 0:
		return fmt.Errorf("machine: cores must not be negative, got %d", o.Cores)
	case math.IsNaN(o.TabLoad) || o.TabLoad < 0 || o.TabLoad > 1:
		return fmt.Errorf("machine: tab load must be in [0, 1], got %v", o.TabLoad)
	}
	return nil
}

// CPUSlowdown is how many times longer a tab's work takes than its cost
// while the live tabs share the machine (MachineOptions); 1 when they do
// not crowd it. A harness on the same host is slowed alike.
func (w *World) CPUSlowdown() float64 {
	o := &w.opt.Machine
	if o.Cores == 0 {
		return 1
	}
	return max(1, float64(w.live)*o.TabLoad/float64(o.Cores))
}

// cpuTime is the time a tab's work of cost d takes on the shared machine.
func (w *World) cpuTime(d sim.Time) sim.Time {
	if f := w.CPUSlowdown(); f != 1 {
		return sim.Time(math.Round(float64(d) * f))
	}
	return d
}
