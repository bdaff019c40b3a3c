package sim

// entry is one scheduled callback, stored by value in the queue. Entries
// are ordered by (at, seq): seq is the insertion sequence, so events
// scheduled for the same instant run in the order they were scheduled.
// Since seq is unique the order is total: any correct heap pops the same
// sequence, whatever its shape.
type entry struct {
	at  Time
	seq uint64
	fn  func()
	t   *Timer // the handle At returned; nil for Schedule
}

// before reports whether a runs before b.
func (a *entry) before(b *entry) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// eventQueue is a 4-ary min-heap of entries held by value: scheduling
// allocates nothing but the slice's growth, and a pop touches half the
// levels of a binary heap. Moves keep each handle's slot current so that
// a Timer can be cancelled in place. It is written out rather than built
// on container/heap to keep the hot path free of interface calls.
type eventQueue []entry

const arity = 4

// place puts e at position i and tells its handle.
func (q eventQueue) place(i int, e entry) {
	q[i] = e
	if e.t != nil {
		e.t.slot = i + 1
	}
}

func (q *eventQueue) push(e entry) {
	*q = append(*q, e)
	q.up(len(*q)-1, e)
}

// pop removes and returns the first entry.
func (q *eventQueue) pop() entry {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h[n] = entry{} // drop the closure for the garbage collector
	h = h[:n]
	*q = h
	if n > 0 {
		h.down(0, last)
	}
	if top.t != nil {
		top.t.slot = 0
	}
	return top
}

// remove removes the entry at position i.
func (q *eventQueue) remove(i int) {
	h := *q
	gone := h[i]
	n := len(h) - 1
	last := h[n]
	h[n] = entry{}
	h = h[:n]
	*q = h
	if i < n {
		if i > 0 && last.before(&h[(i-1)/arity]) {
			h.up(i, last)
		} else {
			h.down(i, last)
		}
	}
	if gone.t != nil {
		gone.t.slot = 0
	}
}

// up moves e from the hole at i towards the root and places it.
func (q eventQueue) up(i int, e entry) {
	for i > 0 {
		p := (i - 1) / arity
		if !e.before(&q[p]) {
			break
		}
		q.place(i, q[p])
		i = p
	}
	q.place(i, e)
}

// down moves e from the hole at i towards the leaves and places it.
func (q eventQueue) down(i int, e entry) {
	n := len(q)
	for {
		c := arity*i + 1
		if c >= n {
			break
		}
		// The least of up to four children.
		m := c
		end := min(c+arity, n)
		for j := c + 1; j < end; j++ {
			if q[j].before(&q[m]) {
				m = j
			}
		}
		if !q[m].before(&e) {
			break
		}
		q.place(i, q[m])
		i = m
	}
	q.place(i, e)
}
