package scenarios

import (
	"errors"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// World is what the runner drives: tabs running Raft, in the model
// (netmodel on the simulator) or on a real stack (pion). One runner
// (runner.go) computes conditions, measures, fault targets, the checks
// and the result for every world; a world supplies only its clock, its
// network and tabs, and its clients. The runner calls a World from one
// goroutine.
type World interface {
	// Name is the world's name in results ("model", "pion").
	Name() string
	// Start starts Raft on every tab.
	Start() error
	// Now is the run's time: virtual in the model, real since the start
	// on a real stack.
	Now() sim.Time
	// At runs fn on the runner's goroutine at time t.
	At(t sim.Time, fn func())
	// Drive runs the world until limit. After every change (every event
	// in the model) it calls step, with changed true if a tab reported a
	// batch since the last call; step returns true to stop.
	Drive(limit sim.Time, step func(changed bool) bool)

	// Nodes is the cluster's size; tabs are 1..Nodes.
	Nodes() int
	// Status is tab id's last status and whether the tab is open.
	Status(id raft.ID) (raft.Status, bool)
	Visibility(id raft.ID) netmodel.Visibility
	// Leaders lists the open tabs that believe they lead.
	Leaders() []raft.ID
	// ChatLines is how many chat lines tab id has applied.
	ChatLines(id raft.ID) int
	// Record writes an event of the run (a fault step, a measure) to the
	// world's trace, stamped with the world's time.
	Record(e sim.Event)
	// Violation is the first safety violation the checker reported.
	Violation() error
	// Recent returns the last messages tab id received (for diagnoses;
	// called once the run is over).
	Recent(id raft.ID) []raft.Message
	// CPUSlowdown is how many times longer a tab's work, and the
	// harness's, takes on the world's crowded machine (the model's
	// world.cores and world.tab_load); 1 on a real stack, whose CPU is
	// real.
	CPUSlowdown() float64

	// Faults (faults.go lists them): each world applies what it can, and
	// returns ErrNotOnWorld for what it cannot.
	Kill(id raft.ID)
	Restart(id raft.ID) error
	Partition(groups [][]raft.ID)
	Cut(from, to raft.ID)
	Heal()
	SetLoss(loss, duplicate float64)
	SetVisibility(id raft.ID, v netmodel.Visibility)
	Discard(id raft.ID, reloadAfter sim.Time)
	Signaling(up bool) error
	Blackhole(id raft.ID)
	PathChange(id raft.ID) error
	Transfer(to raft.ID)
	// Pause stalls tab id's thread for d.
	Pause(id raft.ID, d sim.Time)
	// Reconfigure has the leader propose adding (add) or removing tab id.
	Reconfigure(id raft.ID, add bool)
	// The membership race (model only): OnTakeover arms fn to run when a
	// tab next becomes leader, before its first messages as leader leave
	// (fn returns false to wait for a later one); Regroup redraws the
	// partition (links within a group work again); ReconfigureBy has tab
	// lead propose the change.
	OnTakeover(fn func(leader raft.ID) bool) (cancel func(), err error)
	Regroup(groups [][]raft.ID) error
	ReconfigureBy(lead, id raft.ID, add bool) error
	// Delay holds one message in oneIn extra longer (0: none); Replay
	// sends share of the messages again, up to after later (0: none).
	Delay(oneIn int, extra sim.Time) error
	Replay(share float64, after sim.Time) error
	// Reorder holds every message a uniform extra time below window (0:
	// none).
	Reorder(window sim.Time) error

	// StartChat starts chat user id in tab tab.
	StartChat(tab raft.ID, id uint64) ChatUser
	// StartKV starts the KV clients; onDone is called (on the runner's
	// goroutine, or with a change the world reports) as operations end.
	StartKV(w *KVWorkload, onDone func()) KVRun
}

// ChatUser is one chat client as the runner reads it.
type ChatUser interface {
	Push(lines int)
	// Pending is how many pushed lines are not yet appended; Acked how
	// many were.
	Pending() int
	Acked() int
	Tab() raft.ID
	History() []netmodel.ChatRecord
}

// KVRun is a world's KV clients as the runner reads them.
type KVRun interface {
	Done() bool
	History() []netmodel.KVRecord
}

// ErrNotOnWorld is wrapped by what a world cannot do.
var ErrNotOnWorld = errors.New("not supported on this world")
