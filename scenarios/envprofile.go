package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// Environment profiles set everything about where the browsers run that
// a figure depends on: the network, the per-message cost of a tab, how
// the harness polls, and which Raft.js behaviours to follow. They are
// applied on top of a scenario file (raftsim figures --profile).
var envProfiles = map[string]func(*Scenario){
	// chrome-2026: a modern browser, all tabs on one machine (facts §4
	// loopback; a small datachannel message costs well under a
	// millisecond of main-thread time, U). These are the defaults.
	"chrome-2026": func(sc *Scenario) {
		sc.World.Profile = "loopback"
		sc.World.HandlerCost = 100 * sim.Microsecond
	},
	// slimerjs-2015: the paper's environment. See slimerjs2015 below.
	"slimerjs-2015": slimerjs2015,
}

// EnvProfileNames lists the environment profiles.
func EnvProfileNames() []string {
	var names []string
	for n := range envProfiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// UseProfile applies the named environment profile.
func (sc *Scenario) UseProfile(name string) error {
	apply, ok := envProfiles[name]
	if !ok {
		return fmt.Errorf("unknown environment profile %q (known: %s)", name, strings.Join(EnvProfileNames(), ", "))
	}
	apply(sc)
	return nil
}

// slimerjs2015 is the paper's environment: SlimerJS 0.9.6 (XULRunner 38)
// browsers, one per Docker container, on one 8-core host; Raft.js over
// PeerJS 0.3.14. Its values are calibrated on figures 3, 4 and 5 only
// (results/README.md says how well they fit); figures 6 and 7 are
// predictions.
func slimerjs2015(sc *Scenario) {
	// Containers on one host talk over the Docker bridge: a loopback-like
	// path (facts §4 loopback, M), the datachannel path through each
	// browser's network code adds the rest, folded into HandlerCost.
	sc.World.Profile = "loopback"
	// A 2015 JavaScript engine in a headless XULRunner, one per container
	// on a shared 8-core host: every handled message costs about a
	// millisecond of main-thread time (fitted: the start-up slope's part
	// beyond one heartbeat, 63 ms a node at ~30 handled messages).
	sc.World.HandlerCost = 2 * sim.Millisecond
	// Raft.js commits are learned on the next heartbeat (paper).
	sc.Cluster.DeferCommitNotice = true
	// The harness's polls go through SlimerJS's page evaluation: each
	// round trip took tens of milliseconds on top of the fixed waits
	// (fitted on figures 3 and 5).
	for i := range sc.Measures {
		sc.Measures[i].PollCost = 30 * sim.Millisecond
	}
}
