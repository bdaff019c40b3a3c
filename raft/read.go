package raft

import "slices"

// Linearizable reads by ReadIndex (Raft dissertation §6.4): the leader
// notes its commit index, confirms with a round of heartbeats that a
// majority still follows it, and only then lets the read be served once
// the state machine has applied that index. No lease reads: in a browser,
// timers stall in background tabs, so time-based leases are unsafe.
//
// Every MsgApp carries the leader's current read round in Context, and a
// follower echoes it in its MsgAppResp; an echo of round R from a voter of
// the leader's term proves that voter followed the leader after the reads
// of round R began.

// ReadState is the answer to a ReadIndex request: once the host has
// applied Index, a read made now is linearizable. Rejected: the server
// could not get an answer (no leader, or the leader lost its role before
// confirming); the client retries.
type ReadState struct {
	Context  uint64
	Index    uint64
	Rejected bool
}

// pendingRead is a read the leader has not confirmed yet.
type pendingRead struct {
	ctx   uint64
	from  ID // None: this server's own host
	index uint64
	round uint64
}

// ReadIndex asks for a linearizable read identified by ctx. The answer
// comes in a later Ready's ReadStates (on this server). A follower asks
// its leader; with no known leader the request is rejected at once.
func (r *Raft) ReadIndex(ctx uint64) {
	switch {
	case r.role == Leader:
		r.leaderRead(ctx, None)
	case r.lead != None:
		r.send(Message{Type: MsgReadIndex, To: r.lead, Context: ctx})
	default:
		r.readStates = append(r.readStates, ReadState{Context: ctx, Rejected: true})
	}
}

// leaderRead starts confirming a read for from (None: for itself).
func (r *Raft) leaderRead(ctx uint64, from ID) {
	if !r.committedInTerm() {
		// The commit index is not known to be current until the leader has
		// committed an entry of its own term (its no-op): wait for it.
		r.readsWaiting = append(r.readsWaiting, pendingRead{ctx: ctx, from: from})
		return
	}
	if r.bug(BugStaleRead) {
		r.answerRead(ctx, from, r.commit, false)
		return
	}
	r.readRound++
	r.reads = append(r.reads, pendingRead{ctx: ctx, from: from, index: r.commit, round: r.readRound})
	if r.quorum() == 1 {
		r.releaseReads()
		return
	}
	for _, id := range r.voters {
		if pr := r.prs[id]; pr != nil {
			r.sendAppend(id, pr, true)
		}
	}
}

// readAcked records a follower's echo of read round ctx and releases the
// reads a quorum has confirmed.
func (r *Raft) readAcked(pr *Progress, ctx uint64) {
	if ctx <= pr.readAck {
		return
	}
	pr.readAck = ctx
	r.releaseReads()
}

// releaseReads answers every pending read whose round a quorum has
// echoed (the leader counts for itself).
func (r *Raft) releaseReads() {
	if len(r.reads) == 0 {
		return
	}
	// The highest round a quorum has confirmed: sort the voters' acks.
	acks := r.matchBuf[:0]
	for _, id := range r.voters {
		if id == r.id {
			acks = append(acks, r.readRound)
		} else if pr := r.prs[id]; pr != nil {
			acks = append(acks, pr.readAck)
		} else {
			acks = append(acks, 0)
		}
	}
	slices.Sort(acks)
	r.matchBuf = acks
	confirmed := acks[len(acks)-r.quorum()]
	n := 0
	for n < len(r.reads) && r.reads[n].round <= confirmed {
		r.answerRead(r.reads[n].ctx, r.reads[n].from, r.reads[n].index, false)
		n++
	}
	r.reads = r.reads[n:]
}

func (r *Raft) answerRead(ctx uint64, from ID, index uint64, rejected bool) {
	if from == None || from == r.id {
		r.readStates = append(r.readStates, ReadState{Context: ctx, Index: index, Rejected: rejected})
		return
	}
	r.send(Message{Type: MsgReadIndexResp, To: from, Context: ctx, Index: index, Reject: rejected})
}

// startWaitingReads runs the reads that waited for the leader's first
// commit in its term.
func (r *Raft) startWaitingReads() {
	if len(r.readsWaiting) == 0 || !r.committedInTerm() {
		return
	}
	waiting := r.readsWaiting
	r.readsWaiting = nil
	for _, p := range waiting {
		r.leaderRead(p.ctx, p.from)
	}
}

// dropReads rejects every read not yet answered (the leader stepped down).
func (r *Raft) dropReads() {
	for _, list := range [][]pendingRead{r.readsWaiting, r.reads} {
		for _, p := range list {
			r.answerRead(p.ctx, p.from, 0, true)
		}
	}
	r.reads, r.readsWaiting = nil, nil
}

// stepRead handles the read messages in any role.
func (r *Raft) stepRead(m Message) {
	switch m.Type {
	case MsgReadIndex:
		if r.role == Leader {
			r.leaderRead(m.Context, m.From)
		} else {
			r.send(Message{Type: MsgReadIndexResp, To: m.From, Context: m.Context, Reject: true})
		}
	case MsgReadIndexResp:
		r.readStates = append(r.readStates, ReadState{Context: m.Context, Index: m.Index, Rejected: m.Reject})
	}
}
