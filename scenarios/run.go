package scenarios

import (
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Overrides are command-line changes to a scenario (nil: keep the file's).
type Overrides struct {
	Nodes           *int
	ElectionTimeout *sim.Time
	Seed            *uint64
	Seeds           *int
}

// OverrideError is an override value outside its field's bound; Flag
// names the command-line flag that set it.
type OverrideError struct {
	Flag, Msg string
}

func (e *OverrideError) Error() string { return e.Flag + ": " + e.Msg }

// Check refuses override values outside the bounds of the fields they
// set (bounds.go), naming the flag.
func (o Overrides) Check() error {
	for _, c := range []struct {
		flag  string
		owner any
		field string
		value any
	}{
		{"--nodes", Cluster{}, "Nodes", o.Nodes},
		{"--election-timeout", Cluster{}, "ElectionTimeout", o.ElectionTimeout},
		{"--seed", Scenario{}, "Seed", o.Seed},
		{"--seeds", Scenario{}, "Seeds", o.Seeds},
	} {
		v := reflect.ValueOf(c.value)
		if v.IsNil() {
			continue
		}
		f, _ := reflect.TypeOf(c.owner).FieldByName(c.field)
		x, _ := numeric(v.Elem())
		if msg := parseBound(f.Tag.Get("bound"), f.Type).check(x, f.Type); msg != "" {
			return &OverrideError{Flag: c.flag, Msg: msg}
		}
	}
	return nil
}

// Apply applies o and validates the result again (a kill count may no
// longer fit a smaller cluster). Out-of-bound values are refused first,
// as an *OverrideError naming the flag.
func (sc *Scenario) Apply(o Overrides) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Nodes != nil {
		sc.Cluster.Nodes = *o.Nodes
	}
	if o.ElectionTimeout != nil {
		sc.Cluster.ElectionTimeout = *o.ElectionTimeout
	}
	if o.Seed != nil {
		sc.Seed = *o.Seed
	}
	if o.Seeds != nil {
		sc.Seeds = *o.Seeds
	}
	return sc.Validate()
}

// File returns the path the scenario was loaded from.
func (sc *Scenario) File() string { return sc.file }

// Result is the outcome of one run. Its JSON form is the `run --json`
// line; fields are added over time, never renamed.
type Result struct {
	Scenario          string              `json:"scenario"`
	World             string              `json:"world"`
	Nodes             int                 `json:"nodes"`
	ElectionTimeoutMS float64             `json:"election_timeout_ms"`
	Seed              uint64              `json:"seed"`
	Measures          map[string]*float64 `json:"measures"`
	Events            uint64              `json:"events"`
	VirtualSeconds    float64             `json:"virtual_seconds"`
	WallSeconds       float64             `json:"wall_seconds"`
	TraceHash         string              `json:"trace_hash"`
	Safety            string              `json:"safety"`
	Liveness          string              `json:"liveness"`
	// Linearizability is "ok", "illegal", "unknown" (the checker ran out
	// of time) or "n/a" (no client operations).
	Linearizability string `json:"linearizability"`
	LinDetail       string `json:"linearizability_detail,omitempty"`
	Operations      int    `json:"operations,omitempty"`
	OK              bool   `json:"ok"`
	Violation       string `json:"violation,omitempty"`
	// Panic is the value of a panic that ended the run (contain.go) and
	// PanicStack where it happened; the run then failed every check.
	Panic      string `json:"panic,omitempty"`
	PanicStack string `json:"panic_stack,omitempty"`
	Replay     string `json:"replay"`
	// MeasureOrder lists the measures in the scenario's order.
	MeasureOrder []string `json:"-"`
}

// RunOptions are per-run settings that do not change what happens.
type RunOptions struct {
	// Trace, if not nil, receives the trace as JSON lines.
	Trace io.Writer
	// History, if not nil, receives porcupine's HTML view of the client
	// history, annotated with leader changes and faults.
	History io.Writer
	// LinTimeout bounds the linearizability check (0: DefaultLinTimeout).
	LinTimeout time.Duration
	// MaxEvents, if not 0, stops the run after that many events, as if
	// its limit had been reached (a budget for fuzzing).
	MaxEvents uint64
	// Progress, if set, is called about every ProgressEvery of wall time
	// while the run goes on, with the virtual time reached.
	Progress func(RunProgress)
}

// RunProgress is where a running scenario stands.
type RunProgress struct {
	Now, Limit sim.Time
	Events     uint64
	Wall       time.Duration
}

// ProgressEvery is how often (in wall time) a long run reports progress.
const ProgressEvery = 2 * time.Second

// progressEvery is ProgressEvery, changed by a test.
var progressEvery = ProgressEvery

// startHook, if set (by tests), is called once the world has started.
var startHook func(sc *Scenario, s *sim.Sim)

// DefaultLinTimeout is how long the linearizability checker may run on one
// history before the answer is "unknown".
const DefaultLinTimeout = 30 * time.Second

// ReplayCommand is the command line that reruns seed of sc exactly.
func (sc *Scenario) ReplayCommand(seed uint64) string {
	file := sc.file
	if file == "" {
		file = sc.Name + ".yaml"
	}
	return fmt.Sprintf("raftsim run %s --nodes %d --election-timeout %s --seed %d",
		file, sc.Cluster.Nodes, sc.Cluster.ElectionTimeout, seed)
}

type measureState struct {
	Measure
	started, done bool
	start, end    sim.Time
	leaderAtStart raft.ID // for new-leader
}

type runner struct {
	sc      *Scenario
	s       *sim.Sim
	w       *netmodel.World
	safety  *checker.Safety
	faults  *rand.Rand
	ms      []*measureState
	pending int // measures not done
	dirty   bool
	// waiting holds steps triggered by a measure's completion.
	waiting map[string][]func()
	chats   []*netmodel.ChatClient
	kv      *netmodel.KVClients
	// annotations for the history page: leader changes and faults
	annotations []checker.Annotation
}

// Changed implements netmodel.Observer: the safety checker first, then a
// note that conditions may have changed.
func (r *runner) Changed(node raft.ID, prev, cur raft.Status, persisted, applied []raft.Entry, log netmodel.LogReader) error {
	if cur.Role != prev.Role || len(applied) > 0 || len(cur.Voters) != len(prev.Voters) || cur.Term != prev.Term {
		r.dirty = true
	}
	if cur.Role == raft.Leader && (prev.Role != raft.Leader || prev.Term != cur.Term) {
		r.annotate("leader", fmt.Sprintf("node %d leads term %d", node, cur.Term))
	}
	return r.safety.Changed(node, prev, cur, persisted, applied, log)
}

// WorldOptions returns the netmodel options the scenario describes.
func (sc *Scenario) WorldOptions() netmodel.Options {
	prof, _ := netmodel.LookupProfile(sc.World.Profile)
	if l := sc.World.Latency; l != nil {
		prof.Latency = netmodel.Latency{Dist: netmodel.DistKind(l.Dist), Mean: l.Mean, Jitter: l.Jitter}
	}
	if sc.World.Loss != nil {
		prof.Loss = *sc.World.Loss
	}
	if sc.World.Duplicate != nil {
		prof.Duplicate = *sc.World.Duplicate
	}
	c := sc.Cluster
	o := netmodel.Options{
		Nodes:                  c.Nodes,
		Profile:                prof,
		Bootstrap:              netmodel.Bootstrap(c.Bootstrap),
		PresenceMembership:     c.Membership == "presence",
		HandlerCost:            sc.World.HandlerCost,
		PresenceCloseDelay:     sc.World.PresenceCloseDelay,
		PresenceJoinDelay:      sc.World.PresenceJoinDelay,
		MembershipInterval:     100 * sim.Millisecond,
		MembershipFastInterval: 50 * sim.Millisecond,
		Raft: netmodel.RaftOptions{
			ElectionTimeout:     c.ElectionTimeout,
			Heartbeat:           c.Heartbeat,
			PreVote:             c.PreVote,
			CheckQuorum:         c.CheckQuorum,
			MaxInflight:         c.MaxInflight,
			MaxEntriesPerAppend: c.MaxEntriesPerAppend,
			MaxBytesPerAppend:   c.MaxBytesPerAppend,
			DeferCommitNotice:   c.DeferCommitNotice,
			CatchUp:             c.CatchUp,
			NaiveBacktrack:      c.NaiveBacktrack,
		},
	}
	if c.PlantedBug != "" {
		b, _ := raft.ParseBug(c.PlantedBug) // validated
		o.Raft.Bugs = raft.NewBugSet(b)
	}
	o.SessionTTL = c.SessionTTL
	o.SnapshotEvery, o.SnapshotAtQuota = c.SnapshotEvery, c.SnapshotAtQuota
	sc.worldOptions3(&o)
	return o
}

// Run runs the scenario once with seed. A panic during the run is
// returned as a failed Result with Panic set, not as an error.
func Run(sc *Scenario, seed uint64, opts RunOptions) (res *Result, err error) {
	defer containPanic(sc, seed, "model", &res, &err)
	wallStart := time.Now()
	tr := sim.NewTrace(opts.Trace)
	s := sim.New(seed, tr)
	w, err := netmodel.New(s, sc.WorldOptions())
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	safety := checker.NewSafety()
	safety.SharedLogs = true // one thread: every tab's log can be read at any time
	r := &runner{sc: sc, s: s, w: w, safety: safety, faults: s.Rand("faults"), waiting: map[string][]func(){}}
	w.SetObserver(r)
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
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	r.happened("start")
	if startHook != nil {
		startHook(sc, s)
	}
	report := progressReporter(s, sc.Limit, wallStart, opts.Progress)
	s.RunUntil(sc.Limit, func() bool {
		report()
		if r.dirty {
			r.dirty = false
			r.checkExact()
		}
		return (r.pending == 0 && len(r.ms) > 0) || w.Violation() != nil ||
			(opts.MaxEvents != 0 && s.Events() >= opts.MaxEvents)
	})
	if err := tr.Flush(); err != nil {
		return nil, fmt.Errorf("scenario %s: writing trace: %w", sc.Name, err)
	}
	res = &Result{
		Scenario:          sc.Name,
		World:             "model",
		Nodes:             sc.Cluster.Nodes,
		ElectionTimeoutMS: float64(sc.Cluster.ElectionTimeout) / float64(sim.Millisecond),
		Linearizability:   checker.LinNA,
		Seed:              seed,
		Measures:          map[string]*float64{},
		Events:            s.Events(),
		VirtualSeconds:    s.Now().Seconds(),
		WallSeconds:       time.Since(wallStart).Seconds(),
		TraceHash:         tr.HashHex(),
		Safety:            "ok",
		Liveness:          "ok",
		Replay:            sc.ReplayCommand(seed),
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
	if v := w.Violation(); v != nil {
		res.Safety = "violated"
		res.Violation = fmt.Sprintf("at %.6fs: %v", s.Now().Seconds(), v)
	}
	if err := r.checkLinearizability(res, opts); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	res.OK = res.Safety == "ok" && res.Liveness == "ok" && (res.Linearizability == checker.LinOK || res.Linearizability == checker.LinNA)
	return res, nil
}

// progressReporter returns a function to call after every event: every
// 1024 events it looks at the wall clock and calls progress once
// ProgressEvery has passed since the last call.
func progressReporter(s *sim.Sim, limit sim.Time, start time.Time, progress func(RunProgress)) func() {
	if progress == nil {
		return func() {}
	}
	last := start
	return func() {
		if s.Events()&0x3ff != 0 {
			return
		}
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			progress(RunProgress{Now: s.Now(), Limit: limit, Events: s.Events(), Wall: now.Sub(start)})
		}
	}
}

// trigger runs fn at t.At, or t.After once measure t.When completes.
func (r *runner) trigger(t Trigger, fn func()) {
	if t.At != nil {
		r.s.At(*t.At, fn)
		return
	}
	r.waiting[t.When] = append(r.waiting[t.When], func() { r.s.After(t.After, fn) })
}

// happened starts the measures that run from event name.
func (r *runner) happened(name string) {
	now := r.s.Now()
	for _, m := range r.ms {
		if m.started || m.From != name {
			continue
		}
		m.started, m.start = true, now
		if ls := r.w.Leaders(); len(ls) == 1 {
			m.leaderAtStart = ls[0]
		}
		if m.Mode == "polled" {
			r.schedulePoll(m, m.PollCost)
		} else {
			r.dirty = true
		}
	}
}

func (r *runner) schedulePoll(m *measureState, after sim.Time) {
	r.s.After(after, func() {
		if m.done {
			return
		}
		if r.holds(m) {
			r.complete(m)
			return
		}
		r.schedulePoll(m, m.Poll+m.PollCost)
	})
}

func (r *runner) checkExact() {
	for _, m := range r.ms {
		if m.started && !m.done && m.Mode == "exact" && r.holds(m) {
			r.complete(m)
		}
	}
}

func (r *runner) complete(m *measureState) {
	m.done, m.end = true, r.s.Now()
	r.pending--
	r.s.Trace().Record(sim.Event{Time: r.s.Now(), Kind: sim.KindMeasure, Msg: m.Name, Index: uint64(m.end - m.start),
		Detail: strconv.FormatFloat((m.end - m.start).Seconds(), 'f', 6, 64)})
	for _, fn := range r.waiting[m.Name] {
		fn()
	}
	delete(r.waiting, m.Name)
}

// holds evaluates a measure's condition (conditions.go).
func (r *runner) holds(m *measureState) bool { return conditionHolds(r, m.Until, m.leaderAtStart) }

// The model world as conditions read it. A frozen tab counts as not live:
// it cannot answer the harness's poll, and what it last believed (leading,
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
		n += c.Acked
	}
	return n
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
		r.chats = []*netmodel.ChatClient{netmodel.NewChatClient(r.w.Tab(at), 1)}
	} else {
		for u := 1; u <= c.Users; u++ {
			tab := r.w.Tab(raft.ID((u-1)%r.w.Nodes() + 1))
			r.chats = append(r.chats, netmodel.NewChatClient(tab, uint64(u)))
		}
	}
	for _, cl := range r.chats {
		cl.Push(c.Lines)
	}
	r.happened("workload")
}

// chatsIdle reports whether every chat user whose tab is open had all its
// lines appended (a user whose tab closed sends nothing more).
func (r *runner) chatsIdle() bool {
	for _, c := range r.chats {
		if c.Pending() > 0 && c.Tab().Alive() {
			return false
		}
	}
	return true
}

func (r *runner) fault(f *Fault) {
	w := r.w
	switch {
	case f.Kill != nil:
		for _, id := range r.pick(f.Kill, "kill") {
			w.Kill(id)
		}
	case f.Restart != nil:
		for _, id := range f.Restart.ids(w.Nodes(), w.Alive) {
			if err := w.Restart(id); err != nil {
				w.Fault(id, "restart failed: "+err.Error())
			}
		}
	case f.Partition != nil:
		if groups := f.Partition.groups(); groups != nil {
			w.Partition(groups)
		} else {
			w.Cut(raft.ID(f.Partition.From), raft.ID(f.Partition.To))
		}
	case f.Heal:
		w.Heal()
	case f.Loss != nil:
		w.SetLoss(f.Loss.Loss, f.Loss.Duplicate)
	default:
		r.worldFault(f)
	}
	r.dirty = true
	r.annotate("fault", f.Name)
	r.happened(f.Name)
}

// ids returns the tabs a restart step reopens: the listed ones, then
// (with Killed) every tab not open, in order.
func (a *RestartAction) ids(nodes int, alive func(raft.ID) bool) []raft.ID {
	var ids []raft.ID
	for _, id := range a.Nodes {
		ids = append(ids, raft.ID(id))
	}
	for i := 1; a.Killed && i <= nodes; i++ {
		if !alive(raft.ID(i)) {
			ids = append(ids, raft.ID(i))
		}
	}
	return ids
}

// groups returns a partition step's groups (nil: a one-way cut).
func (a *PartitionAction) groups() [][]raft.ID {
	if len(a.Groups) == 0 {
		return nil
	}
	groups := make([][]raft.ID, len(a.Groups))
	for g, ids := range a.Groups {
		for _, id := range ids {
			groups[g] = append(groups[g], raft.ID(id))
		}
	}
	return groups
}

func (r *runner) annotate(tag, text string) {
	r.annotations = append(r.annotations, checker.Annotation{Time: int64(r.s.Now()), Tag: tag, Text: text})
}

// checkLinearizability checks the KV clients' history with porcupine.
func (r *runner) checkLinearizability(res *Result, opts RunOptions) error {
	res.Linearizability = checker.LinNA
	timeout := opts.LinTimeout
	if timeout == 0 {
		timeout = DefaultLinTimeout
	}
	var results []checker.LinResult
	if r.kv != nil {
		ops := kvHistory(r.kv.History())
		res.Operations += len(ops)
		results = append(results, checker.CheckKV(ops, timeout))
	}
	if len(r.chats) > 0 {
		ops := chatHistory(r.chats)
		res.Operations += len(ops)
		results = append(results, checker.CheckChat(ops, timeout))
	}
	// The worst result stands: illegal, then unknown, then ok.
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

// pick chooses the tabs a fault step acts on: the leader first (as the
// paper's kill tests do), then the listed nodes, then random live others
// until the count is reached.
func (r *runner) pick(k *Target, action string) []raft.ID {
	w := r.w
	n := w.Nodes()
	chosen := make([]bool, n+1)
	var out []raft.ID
	pick := func(id raft.ID) {
		if !chosen[id] && w.Alive(id) {
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
		var best raft.ID
		var bestTerm uint64
		for _, id := range w.Leaders() {
			if st, _ := w.Status(id); best == 0 || st.Term > bestTerm {
				best, bestTerm = id, st.Term
			}
		}
		if best != 0 {
			pick(best)
		} else {
			w.Fault(0, action+": no leader")
		}
	}
	for _, id := range k.Nodes {
		pick(raft.ID(id))
	}
	for len(out) < total {
		var cand []raft.ID
		for i := 1; i <= n; i++ {
			if !chosen[i] && w.Alive(raft.ID(i)) {
				cand = append(cand, raft.ID(i))
			}
		}
		if len(cand) == 0 {
			break
		}
		pick(cand[r.faults.IntN(len(cand))])
	}
	w.Fault(0, action+" "+strings.Trim(fmt.Sprint(out), "[]"))
	return out
}
