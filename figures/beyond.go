package figures

import (
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
)

// Variant is one series of a beyond-the-paper figure: the base figure's
// scenario changed by Modify.
type Variant struct {
	Label  string
	Modify func(*scenarios.Scenario)
}

// Beyond is a figure the paper could not draw: a base experiment at one
// election timeout, run as several variants.
type Beyond struct {
	Figure
	Variants []Variant
	// Summary is the two sentences results/README.md says about it.
	Summary string
}

func sizes(from, to, step int) []int {
	var out []int
	for n := from; n <= to; n += step {
		out = append(out, n)
	}
	return out
}

// BeyondThePaper returns the extra figures (all at ET 500 ms).
func BeyondThePaper() []Beyond {
	et := []sim.Time{500 * ms}
	hide := func(sc *scenarios.Scenario) {
		// The leader's tab goes to the background 2 s after up, 1 s before
		// the lines are pushed.
		sc.Faults = append([]scenarios.Fault{{Name: "hide-leader", Trigger: scenarios.Trigger{When: "up", After: 2 * sim.Second},
			Action: &scenarios.VisibilityAction{Target: scenarios.Target{Leader: true}, State: "hidden"}}}, sc.Faults...)
	}
	base := func(sc *scenarios.Scenario) {}
	return []Beyond{
		{Figure: Figure{Name: "beyond-startup-101", Title: "Start-up up to 101 nodes (ET 500 ms)", File: "startup.yaml", Measure: "up",
			Nodes: append([]int{1}, sizes(5, 101, 8)...), ETs: et},
			Variants: []Variant{{"start-up", base}},
			Summary:  "Start-up grows linearly, one membership round (50-100 ms) per joining tab with fast backtracking, so a hundred tabs come up in about five seconds. Nothing in the protocol grows faster than linearly at this scale; the limit is the one-change-at-a-time membership loop."},
		{Figure: Figure{Name: "beyond-recovery-101", Title: "Recovery from just-under-half failure up to 101 nodes (ET 500 ms)", File: "kill-half.yaml", Measure: "recovered",
			Nodes: sizes(5, 101, 8), ETs: et},
			Variants: []Variant{{"kill just under half", base}},
			Summary:  "Recovering from the loss of just under half the tabs costs an election plus one membership round per dead tab, so it grows with the number killed. At 101 tabs that is 50 removals, one at a time."},
		{Figure: Figure{Name: "beyond-lossy-unordered", Title: "Figure 7 over lossy unordered channels (ET 500 ms)", File: "kill-half.yaml", Measure: "recovered",
			Nodes: sizes(3, 35, 4), ETs: et},
			Variants: []Variant{{"ordered reliable, no loss", base}, {"unordered, max_retransmits 0, 10% loss", func(sc *scenarios.Scenario) {
				sc.World.Datachannel = scenarios.Datachannel{Mode: netmodel.UnorderedUnreliable}
				loss := 0.1
				sc.World.Loss = &loss
			}}},
			Summary: "With messages lost for good, recovery takes many times longer: lost votes wait for the next election timeout and lost configuration changes for the next heartbeat, and each of the removals pays it. Every run still passed the safety checks."},
		{Figure: Figure{Name: "beyond-hidden-leader", Title: "Figure 4 with the leader's tab hidden (ET 500 ms)", File: "propagate-100.yaml", Measure: "propagated",
			Nodes: sizes(3, 35, 4), ETs: et},
			Variants: []Variant{{"leader in the foreground", base}, {"leader's tab hidden", hide}},
			Summary:  "At a 500 ms election timeout a leader whose tab is hidden loses leadership within about a second (its heartbeats are aligned to 1 s), so the lines reach a foreground leader and propagate as fast as before: the cost is one extra election. With a timeout above the 1 s alignment the hidden leader stays and commits are many times slower (scenarios/background-tabs.yaml)."},
		{Figure: Figure{Name: "beyond-prevote-checkquorum", Title: "Figure 6 with PreVote and CheckQuorum (ET 500 ms)", File: "kill-leader.yaml", Measure: "recovered",
			Nodes: sizes(3, 35, 4), ETs: et},
			Variants: []Variant{{"paper (both off)", base}, {"PreVote + CheckQuorum", func(sc *scenarios.Scenario) {
				sc.Cluster.PreVote, sc.Cluster.CheckQuorum = true, true
			}}},
			Summary: "PreVote and CheckQuorum slow recovery from a leader's death by a pre-vote round and the followers' lease. They buy immunity to disruptive rejoining tabs, which this experiment does not exercise."},
		{Figure: Figure{Name: "beyond-catch-up", Title: "Figure 5: single-server changes against learner catch-up (ET 500 ms)", File: "startup.yaml", Measure: "up",
			Nodes: sizes(3, 35, 4), ETs: et},
			Variants: []Variant{{"voters at once (paper)", base}, {"learners first (catch-up)", func(sc *scenarios.Scenario) {
				sc.Cluster.CatchUp = true
			}}},
			Summary: "Adding servers as learners first costs a second configuration change per server, so start-up takes longer. In exchange no joiner counts toward a quorum before it holds the log, which matters when joiners are slow or their channels lossy."},
	}
}

// Run-ready scenarios of a variant.
func (b Beyond) Scenario(dir string, v Variant, seeds int, profile string) (*scenarios.Scenario, error) {
	sc, err := b.Figure.Scenario(dir, seeds, profile)
	if err != nil {
		return nil, err
	}
	v.Modify(sc)
	return sc, sc.Validate()
}
