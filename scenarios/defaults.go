package scenarios

import (
	"strconv"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
)

// Default returns a scenario holding every default. This is the one place
// defaults are set; the README's scenario reference lists the same values.
func Default() *Scenario {
	sc := defaultCore()
	defaultTabEnvironment(sc)
	return sc
}

func defaultCore() *Scenario {
	return &Scenario{
		Cluster: Cluster{
			Nodes:           5,
			ElectionTimeout: 500 * sim.Millisecond,
			// Heartbeat 0: election_timeout / 5 (paper).
			Bootstrap:   string(netmodel.BootstrapPaper),
			Membership:  "presence",
			MaxInflight: 64,
			// Raft.js: followers learn a new commit index from the next
			// append (paper methodology).
			DeferCommitNotice: true,
			// Sessions outlive any client's retries by far (U: a choice,
			// not a measured value).
			SessionTTL: 10000,
			// Snapshot every 1000 entries, and at 80% of the storage quota
			// (U: choices, not measured values).
			SnapshotEvery:   1000,
			SnapshotAtQuota: 0.8,
		},
		World: WorldConfig{
			Profile:     "chromium",
			Datachannel: Datachannel{Mode: netmodel.OrderedReliable},
			// CPU time per handled message or timer, storage aside (M:
			// Chromium 156 on the project's VM handles a datachannel
			// message that stores nothing, a Raft acknowledgement, in a
			// median 30 us; docs/worlds.md, "Handling a datachannel
			// message"; the model charged 100 us, U, before).
			HandlerCost: 30 * sim.Microsecond,
			// PeerJS checks broken connections every 300 ms (facts §5); a
			// clean tab close is seen at the next check.
			PresenceCloseDelay: 300 * sim.Millisecond,
			// Re-registering costs a WebSocket connect to the signaling
			// server (U).
			PresenceJoinDelay: 50 * sim.Millisecond,
		},
		Seed:  1,
		Seeds: 1,
		Limit: 300 * sim.Second,
	}
}

// Defaults of a measure: polled as the paper's harness polled, each poll
// followed by a 100 ms wait.
const (
	DefaultPoll     = 100 * sim.Millisecond
	DefaultPollCost = 0
)

// fillDefaults sets the defaults that depend on other fields.
func (sc *Scenario) fillDefaults() {
	if sc.Name == "" {
		sc.Name = "scenario"
	}
	for i := range sc.Measures {
		m := &sc.Measures[i]
		if m.Mode == "" {
			m.Mode = "polled"
		}
		if _, ok := sc.pos["measures["+itoa(i)+"].poll"]; !ok && m.Poll == 0 {
			m.Poll = DefaultPoll
			if m.Until == CondPropagated {
				// The propagate tests poll with a 50 ms wait (paper).
				m.Poll = 50 * sim.Millisecond
			}
		}
		if m.From == "" {
			m.From = "start"
		}
	}
	if k := sc.Workload.KV; k != nil {
		k.fillDefaults(func(field string) bool { _, ok := sc.pos[field]; return ok })
	}
	for i := range sc.Faults {
		f := &sc.Faults[i]
		if f.Name == "" {
			f.Name = f.actionName()
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
