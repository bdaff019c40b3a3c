package viz

// Difference is where two traces part, as the page of two traces marks
// it and window.raftsim.compare() returns it. Times are virtual ns; a
// model trace and a real one never share times, so the event sequences
// are compared without them, and the nodes' (role, term) separately on
// the shared clock.
type Difference struct {
	// Index is the first event (0-based) at which the traces differ in
	// kind, node, peer, term, index, msg or detail (a deliver's aside); where one trace ends
	// before the other, the shorter one's length; -1: the same events.
	Index int `json:"firstDiffIndex"`
	// TimeA and TimeB are the times of event Index in each trace; nil
	// (null) if that trace has no such event (it ended first) or the
	// traces do not differ.
	TimeA *int64 `json:"firstDiffTimeA"`
	TimeB *int64 `json:"firstDiffTimeB"`
	// StateTime is the first time at which some node's (role, term)
	// differs between the traces, each with every event at or before
	// that time applied (role from role events, term from term events);
	// nil (null) if never. StateNode is the lowest such node then (0:
	// none).
	StateTime *int64 `json:"firstStateDiffTime"`
	StateNode int    `json:"firstStateDiffNode"`
}

// sameEvent reports whether event i of a and event j of b are the same
// but for their time. A deliver's detail is timing too (why it was late:
// retransmitted, held; only the model traces it), so it is left out.
func sameEvent(a *Trace, i int, b *Trace, j int) bool {
	x, y := a.Events[i], b.Events[j]
	kind := a.Kinds[x[1]-1]
	return kind == b.Kinds[y[1]-1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4] && x[5] == y[5] &&
		a.Strings[x[6]] == b.Strings[y[6]] && (kind == "deliver" || a.Strings[x[7]] == b.Strings[y[7]])
}

// Compare finds where traces a and b first differ: the first event
// that is not the same in both (time aside), and the first time at
// which some node's role or term is not.
func Compare(a, b *Trace) Difference {
	d := Difference{Index: -1}
	n := min(len(a.Events), len(b.Events))
	for i := 0; i < n && d.Index < 0; i++ {
		if !sameEvent(a, i, b, i) {
			d.Index = i
		}
	}
	if d.Index < 0 && len(a.Events) != len(b.Events) {
		d.Index = n
	}
	if d.Index >= 0 {
		if d.Index < len(a.Events) {
			t := a.Events[d.Index][0]
			d.TimeA = &t
		}
		if d.Index < len(b.Events) {
			t := b.Events[d.Index][0]
			d.TimeB = &t
		}
	}
	d.StateTime, d.StateNode = stateDiff(a, b)
	return d
}

// roleTerm is what a node is, for comparing two traces.
type roleTerm struct {
	role string
	term int64
}

// stateDiff walks both traces on the shared clock: at each time either
// has an event, it applies every event at or before it to each side's
// (role, term) per node and returns the time and the lowest node at
// which they first differ (nil, 0 if they never do).
func stateDiff(a, b *Trace) (*int64, int) {
	type walk struct {
		t          *Trace
		i          int
		role, term int64 // the kinds' numbers
		nodes      map[int64]roleTerm
	}
	side := [2]walk{{t: a, role: kindNumber(a, "role"), term: kindNumber(a, "term"), nodes: map[int64]roleTerm{}},
		{t: b, role: kindNumber(b, "role"), term: kindNumber(b, "term"), nodes: map[int64]roleTerm{}}}
	differ := map[int64]bool{} // the nodes that differ now
	for side[0].i < len(a.Events) || side[1].i < len(b.Events) {
		t := int64(-1)
		for _, s := range side {
			if s.i < len(s.t.Events) && (t < 0 || s.t.Events[s.i][0] < t) {
				t = s.t.Events[s.i][0]
			}
		}
		for k := range side {
			s := &side[k]
			for ; s.i < len(s.t.Events) && s.t.Events[s.i][0] <= t; s.i++ {
				e := s.t.Events[s.i]
				if e[1] != s.role && e[1] != s.term {
					continue
				}
				rt := s.nodes[e[2]]
				if e[1] == s.role {
					rt.role = s.t.Strings[e[7]]
				} else {
					rt.term = e[4]
				}
				s.nodes[e[2]] = rt
				if side[0].nodes[e[2]] != side[1].nodes[e[2]] {
					differ[e[2]] = true
				} else {
					delete(differ, e[2])
				}
			}
		}
		if len(differ) > 0 {
			lowest := int64(-1)
			for n := range differ {
				if lowest < 0 || n < lowest {
					lowest = n
				}
			}
			return &t, int(lowest)
		}
	}
	return nil, 0
}

// kindNumber is the number of the kind named name in t's events (0 if
// there is none).
func kindNumber(t *Trace, name string) int64 {
	for i, k := range t.Kinds {
		if k == name {
			return int64(i + 1)
		}
	}
	return 0
}
