package raft

// ReadWaiter is a host's bookkeeping for ReadIndex reads: the callback of
// each read by context, and the confirmed reads waiting for the host to
// apply their index. Both worlds (the model and the real stack) serve
// client reads through it. The zero value is ready to use.
type ReadWaiter struct {
	pending map[uint64]func(ok bool)
	waiting []ReadState
}

// Add records done for the read with context ctx (the host then calls
// Raft.ReadIndex(ctx)).
func (w *ReadWaiter) Add(ctx uint64, done func(ok bool)) {
	if w.pending == nil {
		w.pending = make(map[uint64]func(bool))
	}
	w.pending[ctx] = done
}

// Busy reports whether reads wait for a ReadState or for the host to apply
// their index.
func (w *ReadWaiter) Busy() bool { return len(w.waiting) > 0 }

// Serve handles a batch's ReadStates once the host has applied up to
// applied: a rejected read is answered at once (done(false)), a confirmed
// one as soon as applied reaches its index (done(true)).
func (w *ReadWaiter) Serve(states []ReadState, applied uint64) {
	for _, rs := range states {
		done, ok := w.pending[rs.Context]
		if !ok {
			continue
		}
		if rs.Rejected {
			delete(w.pending, rs.Context)
			done(false)
			continue
		}
		w.waiting = append(w.waiting, rs)
	}
	n := 0
	for _, rs := range w.waiting {
		if rs.Index > applied {
			w.waiting[n] = rs
			n++
			continue
		}
		if done, ok := w.pending[rs.Context]; ok {
			delete(w.pending, rs.Context)
			done(true)
		}
	}
	w.waiting = w.waiting[:n]
}

// Reset forgets every read (the host's process ended).
func (w *ReadWaiter) Reset() { *w = ReadWaiter{} }
