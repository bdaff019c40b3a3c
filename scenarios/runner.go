package scenarios

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// The runner: one for every world. It schedules the scenario's steps on
// the world's clock, starts the workloads, picks fault targets, evaluates
// the measures' conditions, checks safety as the tabs report their
// batches, and assembles the result.

type measureState struct {
	Measure
	started, done bool
	start, end    sim.Time
	leaderAtStart raft.ID // for new-leader
}

type runner struct {
	sc      *Scenario
	w       World
	safety  *checker.Safety
	faults  *rand.Rand
	polls   *rand.Rand // the poll costs' draws
	jitter  *rand.Rand // the triggers' jitter (Trigger.Jitter), drawn only when set
	cond    condScratch
	ms      []*measureState
	pending int // measures not done
	dirty   bool
	// waiting holds steps triggered by a measure's completion, given the
	// time it completed.
	waiting map[string][]func(end sim.Time)
	chats   []ChatUser
	kv      KVRun
	// annotations for the history page: leader changes and faults (a
	// real stack's tabs report leader changes from their goroutines).
	annMu       sync.Mutex
	annotations []checker.Annotation
	// applied counts the fault steps applied, by kind (coverage marks).
	applied map[string]int
	// crashAfter, if set, crashes the next tab that answers as it says
	// (fault_crash_after.go; the model only).
	crashAfter *CrashAfterAckAction
}

// newRunner returns the runner of sc's run with seed; its random streams
// are its own, so a world's draws never shift them.
func newRunner(sc *Scenario, seed uint64) *runner {
	safety := checker.NewSafety()
	if sc.Cluster.HalfCommitQuorum {
		safety.WithHalfCommitQuorum()
	}
	return &runner{sc: sc, safety: safety, faults: sim.NewStream(seed, "faults"), polls: sim.NewStream(seed, "polls"), jitter: sim.NewStream(seed, "trigger-jitter"), waiting: map[string][]func(sim.Time){}, applied: map[string]int{}}
}

// Changed implements netmodel.Observer: the safety checker first, then a
// note that conditions may have changed. A real stack's world calls it
// under its own lock, one tab at a time.
func (r *runner) Changed(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log netmodel.LogReader) error {
	changed, err := r.observe(node, prev, cur, rd, log)
	if changed {
		r.dirty = true
	}
	return err
}

// Sending implements netmodel.Observer: the checker records what the
// batch acknowledges before its messages leave.
func (r *runner) Sending(node raft.ID, rd *raft.Ready, log netmodel.LogReader) {
	r.safety.Sending(node, rd, log)
	r.crashAfterAnswer(node, rd)
}

// observe checks a tab's batch and reports whether it may have changed
// a condition. It touches only the safety checker and the annotations,
// so a real stack's world may call it from a tab's goroutine (one at a
// time).
func (r *runner) observe(node raft.ID, prev, cur raft.Status, rd *raft.Ready, log checker.LogReader) (bool, error) {
	changed := cur.Role != prev.Role || len(rd.Committed) > 0 || len(cur.Voters) != len(prev.Voters) || cur.Term != prev.Term
	if cur.Role == raft.Leader && (prev.Role != raft.Leader || prev.Term != cur.Term) {
		r.annotate("leader", fmt.Sprintf("node %d leads term %d", node, cur.Term))
	}
	return changed, r.safety.Changed(node, prev, cur, rd, log)
}

// schedule sets the scenario's steps on the world's clock.
func (r *runner) schedule() {
	sc := r.sc
	for i := range sc.Measures {
		r.ms = append(r.ms, &measureState{Measure: sc.Measures[i]})
	}
	r.pending = len(r.ms)
	for i := range sc.Faults {
		f := &sc.Faults[i]
		r.trigger(f.Trigger, func() { r.fault(f) })
	}
	if c := sc.Workload.Chat; c != nil {
		r.trigger(c.Trigger, func() { r.startChat(c) })
	}
	if k := sc.Workload.KV; k != nil {
		r.trigger(k.Trigger, func() { r.startKV(k) })
	}
}

// drive runs the world until every measure is done, a safety violation,
// or the limit.
func (r *runner) drive(stop func() bool) {
	r.w.Drive(r.sc.Limit, func(changed bool) bool {
		if changed {
			r.dirty = true
		}
		if r.dirty {
			r.dirty = false
			r.checkExact()
		}
		return (r.pending == 0 && len(r.ms) > 0) || r.w.Violation() != nil || stop()
	})
}

// trigger runs fn at t.At, or t.After once measure t.When completes,
// plus its jitter's draw.
func (r *runner) trigger(t Trigger, fn func()) {
	var jitter sim.Time
	if t.Jitter > 0 {
		jitter = sim.Time(r.jitter.Int64N(int64(t.Jitter)))
	}
	if t.At != nil {
		r.w.At(*t.At+jitter, fn)
		return
	}
	r.waiting[t.When] = append(r.waiting[t.When], func(end sim.Time) { r.w.At(end+t.After+jitter, fn) })
}

// happened starts, at time at, the measures that run from event name.
func (r *runner) happened(name string, at sim.Time) {
	r.startMeasures(name, at, r.w.Leaders())
}

// startMeasures starts, at time at, the measures that run from event
// name; leaders are the tabs that led at that time (new-leader's "not
// the one at the start").
func (r *runner) startMeasures(name string, at sim.Time, leaders []raft.ID) {
	for _, m := range r.ms {
		if m.started || m.From != name {
			continue
		}
		m.started, m.start = true, at
		if len(leaders) == 1 {
			m.leaderAtStart = leaders[0]
		}
		if m.Mode == "polled" {
			r.schedulePoll(m, at+r.pollCost(m))
		} else {
			r.dirty = true
		}
	}
}

func (r *runner) schedulePoll(m *measureState, at sim.Time) {
	r.w.At(at, func() {
		if m.done {
			return
		}
		if r.holds(m) {
			r.complete(m, r.w.Now())
			return
		}
		r.schedulePoll(m, r.w.Now()+m.Poll+r.pollCost(m))
	})
}

// pollCost is what one poll of m costs the harness before it reads the
// state: drawn uniformly in [½, 1½] of the measure's poll_cost (a
// collect is a round trip through every page, and its time varies; the
// spread is assumed, U), and slowed as the tabs' work is when the
// harness shares their crowded machine (netmodel.MachineOptions).
func (r *runner) pollCost(m *measureState) sim.Time {
	if m.PollCost == 0 {
		return 0
	}
	c := float64(m.PollCost) * (0.5 + r.polls.Float64()) * r.w.CPUSlowdown()
	return sim.Time(math.Round(c))
}

func (r *runner) checkExact() {
	for _, m := range r.ms {
		if m.started && !m.done && m.Mode == "exact" && r.holds(m) {
			r.complete(m, r.changedAt())
		}
	}
}

// changedAt is when the state the runner sees came to be: now, unless
// the world hears of its changes late (batchClock).
func (r *runner) changedAt() sim.Time {
	now := r.w.Now()
	if c, ok := r.w.(batchClock); ok {
		return min(max(c.LastBatchAt(), 0), now)
	}
	return now
}

// batchClock is a world whose pages report their batches to the runner
// over a socket, a few milliseconds after the batch (the browser): it
// gives when the latest batch it reported ended, on the run's clock, so
// that an exact measure ends when its condition came to hold, not when
// the harness heard of it.
type batchClock interface {
	LastBatchAt() sim.Time
}

// complete ends m at end (never before its start) and starts what waits
// for it.
func (r *runner) complete(m *measureState, end sim.Time) {
	m.done, m.end = true, max(end, m.start)
	r.pending--
	r.w.Record(sim.Event{Kind: sim.KindMeasure, Msg: m.Name, Index: uint64(m.end - m.start),
		Detail: strconv.FormatFloat((m.end - m.start).Seconds(), 'f', 6, 64)})
	for _, fn := range r.waiting[m.Name] {
		fn(m.end)
	}
	delete(r.waiting, m.Name)
}

// note records a line about the run (tab 0: the cluster).
func (r *runner) note(id raft.ID, detail string) {
	r.w.Record(sim.Event{Kind: sim.KindFault, Node: uint64(id), Detail: detail})
}

// holds evaluates a measure's condition (conditions.go).
func (r *runner) holds(m *measureState) bool { return r.cond.holds(r, m.Until, m.leaderAtStart) }

// The world as conditions read it. A frozen tab counts as not live: it
// cannot answer the harness's poll, and what it last believed (leading,
// say) is stale.
func (r *runner) nodes() int { return r.w.Nodes() }
func (r *runner) liveStatus(id raft.ID) (raft.Status, bool) {
	st, alive := r.w.Status(id)
	return st, alive && r.w.Visibility(id) != netmodel.Frozen
}
func (r *runner) chatLines(id raft.ID) int { return r.w.ChatLines(id) }
func (r *runner) hasChats() bool           { return len(r.chats) > 0 }
func (r *runner) kvDone() bool             { return r.kv != nil && r.kv.Done() }
func (r *runner) chatsAcked() int {
	n := 0
	for _, c := range r.chats {
		n += c.Acked()
	}
	return n
}

// chatsIdle reports whether every chat user whose tab is open had all its
// lines appended (a user whose tab closed sends nothing more).
func (r *runner) chatsIdle() bool {
	for _, c := range r.chats {
		if _, alive := r.w.Status(c.Tab()); c.Pending() > 0 && alive {
			return false
		}
	}
	return true
}

// startChat starts the chat users: one in the leader's tab (the paper's
// propagate tests), or with Users > 1 user u in tab (u-1) mod n + 1, each
// sending Lines lines.
func (r *runner) startChat(c *ChatWorkload) {
	if c.Users <= 1 {
		var at raft.ID = 1
		if ls := r.w.Leaders(); len(ls) > 0 {
			at = ls[0]
		}
		r.chats = []ChatUser{r.w.StartChat(at, 1)}
	} else {
		for u := 1; u <= c.Users; u++ {
			r.chats = append(r.chats, r.w.StartChat(raft.ID((u-1)%r.w.Nodes()+1), uint64(u)))
		}
	}
	for _, cl := range r.chats {
		cl.Push(c.Lines)
	}
	r.happened("workload", r.w.Now())
}

func (r *runner) startKV(w *KVWorkload) {
	r.kv = r.w.StartKV(w, func() { r.dirty = true })
	r.happened("workload", r.w.Now())
}

func (r *runner) annotate(tag, text string) {
	r.annMu.Lock()
	defer r.annMu.Unlock()
	r.annotations = append(r.annotations, checker.Annotation{Time: int64(r.w.Now()), Tag: tag, Text: text})
}

// result assembles the run's result; the world fills in what only it
// knows (events, virtual time, trace hash, the replay command).
func (r *runner) result(seed uint64, opts RunOptions, wallStart time.Time) (*Result, error) {
	sc := r.sc
	res := &Result{
		Scenario:          sc.Name,
		World:             r.w.Name(),
		Nodes:             sc.Cluster.Nodes,
		ElectionTimeoutMS: float64(sc.Cluster.ElectionTimeout) / float64(sim.Millisecond),
		Linearizability:   checker.LinNA,
		Seed:              seed,
		Measures:          map[string]*float64{},
		VirtualSeconds:    r.w.Now().Seconds(),
		Safety:            "ok",
		Liveness:          "ok",
		Replay:            sc.ReplayCommand(seed),
		Checks:            r.safety.Checks(),
		Exercised:         r.safety.Exercised(),
		FaultsApplied:     r.applied,
	}
	for _, m := range r.ms {
		res.MeasureOrder = append(res.MeasureOrder, m.Name)
		if m.done {
			v := (m.end - m.start).Seconds()
			res.Measures[m.Name] = &v
		} else {
			res.Measures[m.Name] = nil
			res.Liveness = "incomplete"
		}
	}
	if v := r.w.Violation(); v != nil {
		res.Safety = "violated"
		res.Violation = fmt.Sprintf("at %.6fs: %v%s", r.w.Now().Seconds(), v, r.recentOf(v))
	}
	if err := r.checkLinearizability(res, opts); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	res.WallSeconds = time.Since(wallStart).Seconds()
	res.OK = res.Safety == "ok" && res.Liveness == "ok" && (res.Linearizability == checker.LinOK || res.Linearizability == checker.LinNA)
	return res, nil
}

// recentOf names the last messages each node of a violation received,
// so a reader sees what led to it.
func (r *runner) recentOf(v error) string {
	var cv *checker.Violation
	if !errors.As(v, &cv) {
		return ""
	}
	var b strings.Builder
	for _, id := range cv.Nodes {
		fmt.Fprintf(&b, "; node %d last received:", id)
		ms := r.w.Recent(id)
		if len(ms) == 0 {
			b.WriteString(" nothing")
		}
		for i, m := range ms {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %s from %d (term %d, index %d", m.Type, m.From, m.Term, m.Index)
			if m.Reject {
				b.WriteString(", rejected")
			}
			b.WriteByte(')')
		}
	}
	return b.String()
}

// checkLinearizability checks the clients' histories with porcupine; the
// worst result stands (illegal, then unknown, then ok).
func (r *runner) checkLinearizability(res *Result, opts RunOptions) error {
	timeout := opts.LinTimeout
	if timeout == 0 {
		timeout = DefaultLinTimeout
	}
	var results []checker.LinResult
	if r.kv != nil {
		ops := kvHistory(r.kv.History())
		res.Operations += len(ops)
		res.CommitLatencies = commitLatencies(ops)
		results = append(results, checker.CheckKV(ops, timeout))
	}
	if len(r.chats) > 0 {
		ops := chatHistory(r.chats)
		res.Operations += len(ops)
		results = append(results, checker.CheckChat(ops, timeout))
	}
	rank := map[string]int{checker.LinNA: 0, checker.LinOK: 1, checker.LinUnknown: 2, checker.LinIllegal: 3}
	var page *checker.LinResult
	for i, lin := range results {
		if rank[lin.Result] > rank[res.Linearizability] {
			res.Linearizability, res.LinDetail = lin.Result, lin.Detail
		}
		if page == nil && lin.Result != checker.LinNA {
			page = &results[i]
		}
	}
	if opts.History != nil && page != nil {
		if err := page.WriteHTML(opts.History, r.annotations); err != nil {
			return fmt.Errorf("writing the history: %w", err)
		}
	}
	return nil
}

// pick chooses the tabs a fault step acts on: the leader of the highest
// term first (as the paper's kill tests do), then the listed nodes, then
// random live others until the count is reached.
func (r *runner) pick(k *Target, action string) []raft.ID {
	n := r.w.Nodes()
	chosen := make([]bool, n+1)
	var out []raft.ID
	pick := func(id raft.ID) {
		if _, alive := r.w.Status(id); !chosen[id] && alive {
			chosen[id] = true
			out = append(out, id)
		}
	}
	total := max(k.Count.Of(n), len(k.Nodes))
	if k.All {
		total = n
	}
	if k.Leader {
		total = max(total, 1)
		if lead := r.leader(); lead != 0 {
			pick(lead)
		} else {
			r.note(0, action+": no leader")
		}
	}
	for _, id := range k.Nodes {
		pick(raft.ID(id))
	}
	for len(out) < total {
		var cand []raft.ID
		for i := 1; i <= n; i++ {
			if _, alive := r.w.Status(raft.ID(i)); !chosen[i] && alive {
				cand = append(cand, raft.ID(i))
			}
		}
		if len(cand) == 0 {
			break
		}
		pick(cand[r.faults.IntN(len(cand))])
	}
	r.note(0, action+" "+strings.Trim(fmt.Sprint(out), "[]"))
	return out
}

// leader is the open tab that leads the highest term (0: none).
func (r *runner) leader() raft.ID {
	var best raft.ID
	var bestTerm uint64
	for _, id := range r.w.Leaders() {
		if st, _ := r.w.Status(id); best == 0 || st.Term > bestTerm {
			best, bestTerm = id, st.Term
		}
	}
	return best
}

// fault applies a fault step to the world. A step the world fails to
// apply (a restart from an unreadable snapshot, a signaling server that
// cannot restart) is noted in the trace and the run goes on.
func (r *runner) fault(f *Fault) {
	issued := r.w.Now() // the paper starts the clock when the step is issued
	// The leaders as the step is issued, not once it is applied: in a
	// real world applying it takes real time (closing four pages took
	// 370 ms in Chromium), in which the survivors may elect a leader
	// that new-leader would then take for the old one.
	leaders := r.w.Leaders()
	r.applied[f.Action.Key()]++
	if err := r.applyFault(f); err != nil {
		r.note(0, fmt.Sprintf("fault %s failed: %v", f.Name, err))
	}
	r.dirty = true
	r.annotate("fault", f.Name)
	r.startMeasures(f.Name, issued, leaders)
}

func (r *runner) applyFault(f *Fault) error { return f.Action.Apply(r) }
