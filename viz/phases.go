package viz

import (
	"sort"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// Measure is a measure event with its interval split into phases (see
// Phases), computed when the trace is loaded.
type Measure struct {
	Event  int     `json:"event"` // the measure's event, 0-based
	Name   string  `json:"name"`  // the measure's name (its msg), e.g. "recovered"
	Start  int64   `json:"start"` // virtual ns: the event's time minus its interval (idx)
	End    int64   `json:"end"`   // virtual ns: the event's time
	Phases []Phase `json:"phases"`
}

// Phase is one part of a measure's interval. Phases are contiguous
// (each starts where the one before ended; the first at the measure's
// start, the last ends at its end) and in this order, each left out
// when it does not occur:
//
//   - detection: from the start, if a fault takes something away then
//     (a kill, a partition, a hidden tab; not a connection's progress, a
//     loss rate, a heal or a restart), until the first election timeout after it (an election timer
//     firing, or a node becoming candidate or precandidate);
//   - election: from then (or the start, with no detection) until a
//     node becomes leader with the highest term any node reaches as
//     leader in the interval;
//   - membership: from then (or the start, with no election) until the
//     last config event of the interval, one phase per configuration
//     change (a new voter set), each ending at the last node's config
//     event holding that set;
//   - poll: from the last of those until the measure's time (the harness
//     checks its condition every 100 ms); none if that is no time.
//
// A measure in which none of detection, election and membership occurs
// has no phases.
type Phase struct {
	Name  string `json:"name"`  // detection, election, membership or poll
	Label string `json:"label"` // what the page writes on it: the name, or for membership the change ("remove 1", "add 5")
	Start int64  `json:"start"` // virtual ns
	End   int64  `json:"end"`   // virtual ns
	From  int    `json:"from"`  // the event at its start (0-based; -1: none)
	To    int    `json:"to"`    // the event at its end (0-based)
}

// Phase names.
const (
	PhaseDetection  = "detection"
	PhaseElection   = "election"
	PhaseMembership = "membership"
	PhasePoll       = "poll"
)

// maxPhaseScan bounds the events all measures together may scan, so a
// trace of many long overlapping measures still loads quickly; measures
// past it get no phases.
const maxPhaseScan = 20_000_000

// measures finds the trace's measure events and their phases.
func measures(events []sim.Event) []Measure {
	var out []Measure
	budget := maxPhaseScan
	for i, e := range events {
		if e.Kind != sim.KindMeasure {
			continue
		}
		m := Measure{Event: i, Name: e.Msg, Start: int64(e.Time) - int64(e.Index), End: int64(e.Time), Phases: []Phase{}}
		lo := sort.Search(i, func(j int) bool { return int64(events[j].Time) >= m.Start })
		if budget >= i-lo {
			budget -= i - lo
			m.Phases = phases(events, lo, i, m.Start)
		}
		out = append(out, m)
	}
	return out
}

// phases splits the interval [start, events[mi].Time] of the measure at
// mi; events[lo:mi] are the events in it before the measure.
func phases(events []sim.Event, lo, mi int, start int64) []Phase {
	var out []Phase
	end := int64(events[mi].Time)
	at := start
	from := -1
	if lo < mi {
		from = lo
	}
	add := func(name, label string, to int) {
		t := max(at, int64(events[to].Time))
		out = append(out, Phase{Name: name, Label: label, Start: at, End: t, From: from, To: to})
		at, from = t, to
	}

	// Detection needs a fault at the start: what is to be detected.
	fault := false
	for j := lo; j < mi && int64(events[j].Time) == start; j++ {
		if e := events[j]; e.Kind == sim.KindFault && detectable(e.Detail) {
			fault, from = true, j
			break
		}
	}
	// The election ends with the first leader of the highest term.
	won, term := -1, uint64(0)
	for j := lo; j < mi; j++ {
		if e := events[j]; e.Kind == sim.KindRole && e.Detail == "leader" && (won < 0 || e.Term > term) {
			won, term = j, e.Term
		}
	}
	if won >= 0 {
		timeout := -1
		for j := lo; j < won && fault; j++ {
			e := events[j]
			if (e.Kind == sim.KindTimerFire && e.Msg == "election") || (e.Kind == sim.KindRole && (e.Detail == "candidate" || e.Detail == "precandidate")) {
				timeout = j
				break
			}
		}
		if timeout >= 0 {
			add(PhaseDetection, PhaseDetection, timeout)
		}
		add(PhaseElection, PhaseElection, won)
	}

	// Membership: each new voter set after the election, in the order
	// first seen, ends at the last config event holding it.
	mlo := lo
	if won >= 0 {
		mlo = won + 1
	}
	base := baseConfig(events, mlo, won)
	type change struct {
		voters string
		last   int
	}
	var changes []*change
	seen := map[string]*change{}
	for j := mlo; j < mi; j++ {
		e := events[j]
		if e.Kind != sim.KindConfig || e.Detail == base {
			continue
		}
		if c := seen[e.Detail]; c != nil {
			c.last = j
			continue
		}
		c := &change{voters: e.Detail, last: j}
		seen[e.Detail] = c
		changes = append(changes, c)
	}
	prev := base
	for _, c := range changes {
		add(PhaseMembership, configChange(prev, c.voters), c.last)
		prev = c.voters
	}
	if len(out) == 0 {
		return []Phase{}
	}
	if at < end {
		out = append(out, Phase{Name: PhasePoll, Label: PhasePoll, Start: at, End: end, From: from, To: mi})
	}
	return out
}

// detectable reports whether a fault (its detail) takes something away
// that Raft must notice: a kill, a partition, a hidden tab, ... Not a
// connection's progress, a loss rate, a heal or a restart.
func detectable(detail string) bool {
	switch w, _, _ := strings.Cut(detail, " "); w {
	case "conn", "loss", "heal", "restart", "fragmented", "signaling":
		return false
	}
	return detail != ""
}

// baseConfig is the voter set in force before events[mlo]: the last
// config event before it of the node that won (won >= 0), else of any
// node; "" if none.
func baseConfig(events []sim.Event, mlo, won int) string {
	other := ""
	for j := mlo - 1; j >= 0; j-- {
		e := events[j]
		if e.Kind != sim.KindConfig {
			continue
		}
		if won < 0 || e.Node == events[won].Node {
			return e.Detail
		}
		if other == "" {
			other = e.Detail
		}
	}
	return other
}

// configChange names the change from voter set a to b (space-separated
// node ids): "remove 1", "add 5", "remove 1, add 5"; "voters B" if
// either is not a list of ids.
func configChange(a, b string) string {
	as, bs := idSet(a), idSet(b)
	if as == nil || bs == nil {
		return "voters " + b
	}
	var removed, added []string
	for _, id := range strings.Fields(a) {
		if !bs[id] {
			removed = append(removed, id)
		}
	}
	for _, id := range strings.Fields(b) {
		if !as[id] {
			added = append(added, id)
		}
	}
	var parts []string
	if len(removed) > 0 {
		parts = append(parts, "remove "+strings.Join(removed, " "))
	}
	if len(added) > 0 {
		parts = append(parts, "add "+strings.Join(added, " "))
	}
	if len(parts) == 0 {
		return "voters " + b
	}
	return strings.Join(parts, ", ")
}

// idSet is the set of node ids in s, or nil if a field is not one.
func idSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, f := range strings.Fields(s) {
		if _, err := strconv.ParseUint(f, 10, 64); err != nil {
			return nil
		}
		set[f] = true
	}
	return set
}
