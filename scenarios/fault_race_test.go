package scenarios

import (
	"strings"
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A membership race on four tabs: a voter's removal is cut off with the
// leader, the others elect a leader, which proposes removing the old one
// at once while one of its voters crosses to the old leader's side.
const (
	raceBase = "name: race\ncluster: {nodes: 4, bootstrap: static, membership: static, election_timeout: 200ms%s}\nlimit: 4s\n"
	raceStep = "faults:\n  - {at: 1s, membership_race: {remove_other: true, move: 1, for: 1s, hold: 1s}}\n"
)

// The race changes what happens: without it nobody leaves the
// configuration and the first leader keeps its term; with it the leader
// proposes a removal as it is cut off, another tab takes over and proposes
// removing it before committing an entry of its term, which raft refuses
// (ErrNoCommitInTerm), and the run stays safe.
func TestMembershipRaceChangesWhatHappens(t *testing.T) {
	quiet := runTrace(t, strings.Replace(raceBase, "%s", "", 1))
	raced := runTrace(t, strings.Replace(raceBase, "%s", "", 1)+raceStep)
	for _, want := range []string{"membership race: 4 cut off", `"d":"reconfigure: remove 1"`,
		"membership race: 1 took over from 4", `"n":1,"d":"reconfigure: remove 4"`,
		"partition [[3 4] [1 2]]", raft.ErrNoCommitInTerm.Error()} {
		assert.NotContains(t, quiet, want)
		assert.Contains(t, raced, want)
	}
	assert.NotContains(t, quiet, `"k":"role","n":1,"term":3,"d":"leader"`)
	assert.Contains(t, raced, `"k":"role","n":1,"term":3,"d":"leader"`, "tab 1 took over in term 3")
}

// With the own-term commit rule off (the planted bug of Ongaro's 2015
// report) the same race commits two different entries at one index on
// every seed tried; with the rule, none breaks safety.
func TestMembershipRaceBreaksTheConfBeforeOwnTermCommitBug(t *testing.T) {
	for _, planted := range []bool{false, true} {
		opt := ""
		if planted {
			opt = ", planted_bug: " + raft.BugConfBeforeOwnTermCommit.String()
		}
		sc, err := Parse("race.yaml", []byte(strings.Replace(raceBase, "%s", opt, 1)+raceStep))
		require.NoError(t, err)
		for seed := uint64(1); seed <= 10; seed++ {
			res, err := Run(sc, seed, RunOptions{})
			require.NoError(t, err)
			if planted {
				assert.Equal(t, "violated", res.Safety, "seed %d", seed)
			} else {
				assert.Equal(t, "ok", res.Safety, "seed %d: %s", seed, res.Violation)
			}
		}
	}
}

// The race is model only (pion cannot act between a tab's election and
// its first messages), and its swarm windows stay within the fault phase:
// a race never outlasts the final heal.
func TestMembershipRaceWindowsEndWithinTheFaultPhase(t *testing.T) {
	seen := 0
	for seed := uint64(1); seed <= 300; seed++ {
		sc := Swarm(seed, SwarmOptions{})
		heal := sc.Limit
		for _, f := range sc.Faults {
			if f.Name == swarmFinal {
				heal = *f.At
			}
		}
		for _, f := range sc.Faults {
			if a, ok := f.Action.(*MembershipRaceAction); ok {
				seen++
				assert.Less(t, *f.At+2*a.For+a.Hold, heal, "seed %d", seed)
			}
		}
	}
	assert.Positive(t, seen)
	assert.True(t, faultRegistry["membership_race"].modelOnly)
}
