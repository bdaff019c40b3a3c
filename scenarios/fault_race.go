package scenarios

import (
	"fmt"
	"slices"

	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// MembershipRaceAction races a membership change against a leader change
// (model only), as when an operator or a membership loop changes the
// configuration just as the leader's network fails.
//
// Once a leader is settled (it and a majority of its voters share its
// configuration and know its entries of a heartbeat ago committed, and
// none of the Add tabs is a voter), it proposes removing the Remove tabs
// and adding the Add tabs (one change each, as reconfigure does; closed
// Add tabs reopen first, as a returning user's do; with RemoveOther it
// removes a random other voter first), and at once it loses its links to
// every tab but the ones it adds: the change reaches that minority at
// most, and the other tabs elect a leader without it. When another tab takes over, just
// before its first messages as leader leave, two things happen together.
// It proposes removing the old leader at once, as an operator or a
// membership loop reacting to the lost leader would. And the network
// shifts, as flapping links do while leadership moves: Move random tabs of
// its side (not itself, nor a tab the old leader removes) cross to the old
// leader's side, so they miss what the new leader sends, though they may
// have just voted for it. Hold after the takeover every link heals (0: a
// later step heals); so it does if no tab takes over within For of the
// cut (0: wait as long as the run lasts). With no settled leader within
// For, only the closed Add tabs reopen.
//
// This is where single-server membership changes are most fragile: the
// old leader's uncommitted change, the new leader's change and the votes
// cast in between make configurations whose majorities need not overlap,
// unless a leader waits for an entry of its own term before it changes the
// configuration (Ongaro's 2015 raft-dev report; raft/confchange_test.go).
// Two single-server changes of one configuration can only have disjoint
// majorities if it has an even number of voters (from 2m voters: m of
// 2m-1 and m of 2m-1, or m+1 of 2m+1 and m of 2m-1; from an odd number
// the two majorities always need one voter more than there are), so the
// swarm races from even configurations: on an even number of tabs it
// races a removal, on an odd one the return of a tab that closed (the
// presence loop removes it; it reopens and is added back as the race).
type MembershipRaceAction struct {
	Remove []uint64 `yaml:"remove" bound:"node" maxlen:"1001"`
	Add    []uint64 `yaml:"add" bound:"node" maxlen:"1001"`
	// RemoveOther: the leader removes a random other voter of its
	// configuration, drawn when the race starts (before Remove and Add).
	RemoveOther bool `yaml:"remove_other"`
	// Move is how many tabs of the new leader's side cross to the old
	// leader's (at most as many as there are).
	Move int `yaml:"move" bound:"0,1001"`
	// For bounds the wait for a settled leader, and then the wait for a
	// takeover.
	For sim.Time `yaml:"for" bound:"0,24h"`
	// Hold is how long the shifted network holds after the takeover.
	Hold sim.Time `yaml:"hold" bound:"0,24h"`
}

// KindMembershipRace: membership changes racing leader changes (a
// settled leader removes a random voter, or adds back a tab that closed,
// and is cut off at once; the next leader removes it at once while the
// partition shifts; a few election timeouts later everything heals), one
// race after another.
const KindMembershipRace FaultKind = "membership-race"

func init() {
	registerFault(faultKind{key: "membership_race", new: func() FaultAction { return &MembershipRaceAction{} }, modelOnly: true})
	registerSwarmKind(swarmKind{kind: KindMembershipRace, rank: 250, minNodes: 3, ownDraw: true, window: membershipRaceWindow})
}

// membershipRaceWindow races a membership change against a leader
// change, from an even configuration (see MembershipRaceAction): on an
// even number of tabs the removal of a random voter, on an odd one the
// return of a random tab, closed at the window's start. It allows a few
// election timeouts for a leader to settle (and the closed tab to leave
// its configuration) and for the others to elect one, as many for the
// old leader's side to elect one too before the heal. It ends by the end
// of the fault phase; the next race may start after w.end, set here to
// when this one usually ends.
func membershipRaceWindow(w *swarmWindow) []Fault {
	wait := w.electionTimeout * sim.Time(3+w.r.IntN(3))
	hold := w.electionTimeout * sim.Time(2+w.r.IntN(4))
	move := 1 + w.r.IntN(max(1, (w.n-2)/2))
	if w.t+2*wait+hold > w.phaseEnd {
		return nil // the race could outlast the phase
	}
	w.end = w.t + wait + hold // a later race waits for a settled leader
	if w.n%2 == 0 {
		return []Fault{{Name: "race", Trigger: w.at(w.t), Action: &MembershipRaceAction{RemoveOther: true, Move: move, For: wait, Hold: hold}}}
	}
	return []Fault{{Name: "close-returning", Trigger: w.at(w.t), Action: &KillAction{Target{Nodes: w.one}}},
		{Name: "race", Trigger: w.at(w.t), Action: &MembershipRaceAction{Add: w.one, Move: move, For: wait, Hold: hold}}}
}

// Key implements FaultAction.
func (a *MembershipRaceAction) Key() string { return "membership_race" }

// Validate implements FaultAction.
func (a *MembershipRaceAction) Validate(c *faultCheck) error {
	if len(a.Remove) == 0 && len(a.Add) == 0 && !a.RemoveOther {
		return c.errAt("", "name the tabs to remove or add (or remove_other: true)")
	}
	if err := c.nodes("remove", a.Remove); err != nil {
		return err
	}
	return c.nodes("add", a.Add)
}

// Apply implements FaultAction: the race starts once a leader is settled,
// checked every heartbeat interval.
func (a *MembershipRaceAction) Apply(r *runner) error {
	var until sim.Time
	if a.For > 0 {
		until = r.w.Now() + a.For
	}
	a.await(r, until, 0, 0)
	return nil
}

// await starts the race if lead still leads and is settled since the
// last check (when it had appended up to mark), else checks again a
// heartbeat interval later.
func (a *MembershipRaceAction) await(r *runner, until sim.Time, lead raft.ID, mark uint64) {
	now := r.w.Now()
	if until > 0 && now >= until {
		r.note(0, "membership race: no settled leader")
		a.reopen(r)
		return
	}
	cur := r.leader()
	if cur != 0 && cur == lead && r.settled(lead, mark) && !a.addsVoter(r, lead) {
		a.race(r, lead)
		return
	}
	mark = 0
	if cur != 0 {
		st, _ := r.w.Status(cur)
		mark = st.LastIndex
	}
	r.w.At(now+r.sc.Cluster.ElectionTimeout/5, func() { a.await(r, until, cur, mark) })
}

// reopen reopens the closed Add tabs.
func (a *MembershipRaceAction) reopen(r *runner) {
	for _, id := range a.Add {
		if _, open := r.w.Status(raft.ID(id)); !open {
			if err := r.w.Restart(raft.ID(id)); err != nil {
				r.note(0, "membership race: "+err.Error())
			}
		}
	}
}

// addsVoter reports whether one of the Add tabs is a voter of lead's
// configuration (then the race waits: it cannot be added).
func (a *MembershipRaceAction) addsVoter(r *runner, lead raft.ID) bool {
	st, _ := r.w.Status(lead)
	for _, id := range a.Add {
		if slices.Contains(st.Voters, raft.ID(id)) {
			return true
		}
	}
	return false
}

// settled reports whether lead and a majority of its voters share its
// configuration and know that everything lead had appended up to mark is
// committed: no change is pending there, as when a cluster has been
// quiet for a heartbeat.
func (r *runner) settled(lead raft.ID, mark uint64) bool {
	ls, _ := r.w.Status(lead)
	n := 0
	for _, id := range ls.Voters {
		if st, alive := r.w.Status(id); alive && st.Commit >= mark && slices.Equal(st.Voters, ls.Voters) {
			n++
		}
	}
	return ls.Commit >= mark && n > len(ls.Voters)/2
}

// race proposes old's changes, cuts it off with the tabs it adds, and
// arms the takeover.
func (a *MembershipRaceAction) race(r *runner, old raft.ID) {
	var removed []raft.ID
	if a.RemoveOther {
		st, _ := r.w.Status(old)
		var cand []raft.ID
		for _, id := range st.Voters {
			if id != old {
				cand = append(cand, id)
			}
		}
		if len(cand) > 0 {
			id := cand[r.faults.IntN(len(cand))]
			removed = append(removed, id)
			r.w.Reconfigure(id, false)
		}
	}
	for _, id := range a.Remove {
		removed = append(removed, raft.ID(id))
		r.w.Reconfigure(raft.ID(id), false)
	}
	a.reopen(r)
	for _, id := range a.Add {
		r.w.Reconfigure(raft.ID(id), true)
	}
	side := []raft.ID{old}
	for _, id := range a.Add {
		if raft.ID(id) != old {
			side = append(side, raft.ID(id))
		}
	}
	var others []raft.ID
	for i := 1; i <= r.w.Nodes(); i++ {
		if !slices.Contains(side, raft.ID(i)) {
			others = append(others, raft.ID(i))
		}
	}
	if len(others) == 0 || len(removed)+len(a.Add) == 0 {
		r.note(0, "membership race: nothing to change")
		return
	}
	r.note(0, fmt.Sprintf("membership race: %d cut off", old))
	r.w.Partition([][]raft.ID{side, others})
	tookOver := false
	cancel, err := r.w.OnTakeover(func(lead raft.ID) bool {
		if slices.Contains(side, lead) {
			return false // the old side: wait for the others' leader
		}
		tookOver = true
		a.shift(r, old, lead, side, others, removed)
		return true
	})
	if err != nil {
		r.note(0, "membership race: "+err.Error())
		return
	}
	if a.For > 0 {
		r.w.At(r.w.Now()+a.For, func() {
			if !tookOver {
				cancel()
				r.note(0, "membership race: no takeover")
				r.w.Heal()
			}
		})
	}
}

// shift is the takeover by lead: it proposes removing old, and Move of
// the others cross to old's side.
func (a *MembershipRaceAction) shift(r *runner, old, lead raft.ID, side, others, removed []raft.ID) {
	var cross []raft.ID
	for _, id := range others {
		if id != lead && !slices.Contains(removed, id) {
			cross = append(cross, id)
		}
	}
	r.faults.Shuffle(len(cross), func(i, j int) { cross[i], cross[j] = cross[j], cross[i] })
	k := min(a.Move, len(cross))
	stay := []raft.ID{lead}
	for _, id := range others {
		if id != lead && !slices.Contains(cross[:k], id) {
			stay = append(stay, id)
		}
	}
	cross = append(slices.Clone(side), cross[:k]...)
	slices.Sort(stay)
	slices.Sort(cross)
	r.note(0, fmt.Sprintf("membership race: %d took over from %d", lead, old))
	if r.w.ReconfigureBy(lead, old, false) != nil || r.w.Regroup([][]raft.ID{cross, stay}) != nil {
		return
	}
	if a.Hold > 0 {
		r.w.At(r.w.Now()+a.Hold, r.w.Heal)
	}
}

// Shrink implements FaultAction.
func (a *MembershipRaceAction) Shrink(k int) (FaultAction, bool) {
	b := *a
	b.Remove, b.Add = keepNodes(a.Remove, k), keepNodes(a.Add, k)
	return &b, len(b.Remove)+len(b.Add) > 0 || b.RemoveOther
}
