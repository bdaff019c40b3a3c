package scenarios

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
)

// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): rather than
// every fault kind at once at low intensity, each seed switches on a random
// subset of fault kinds at random intensities, so that a bug that one kind
// masks (frequent crashes hide a slow leak of votes) still meets the kinds
// that expose it.

// FaultKind is one kind of fault the swarm can switch on.
type FaultKind string

// The fault kinds of the swarm.
const (
	KindLoss      FaultKind = "loss"        // packet loss on every link
	KindDuplicate FaultKind = "duplicate"   // packet duplication
	KindReorder   FaultKind = "reorder"     // unordered channels and wide latency jitter
	KindPartition FaultKind = "partition"   // two-way partitions into two groups
	KindCut       FaultKind = "cut"         // one-way cuts of a single link
	KindCrash     FaultKind = "crash"       // tabs killed, restarted from storage later
	KindHidden    FaultKind = "hidden"      // tabs in the background (throttled timers)
	KindFrozen    FaultKind = "frozen"      // tabs frozen (nothing runs)
	KindDiscard   FaultKind = "discard"     // tabs discarded, reloaded from storage
	KindSignaling FaultKind = "signaling"   // signaling server outages
	KindChurn     FaultKind = "churn"       // tabs close and others open: presence membership changes
	KindStorage   FaultKind = "storage"     // a small storage quota (compaction, quota kills)
	KindBlackhole FaultKind = "blackhole"   // tabs cut off without a close event
	KindTransfer  FaultKind = "transfer"    // leadership transfers
	KindPathChg   FaultKind = "path-change" // network path changes (ICE restarts)
)

// swarmKind is a kind of fault the swarm can switch on. Kinds with a
// window generator (registered beside their fault step's kind, in
// fault_*.go) come as windows during the fault phase; the others (loss,
// duplication, reordering, storage) shape the scenario up front.
type swarmKind struct {
	kind FaultKind
	// rank orders the kinds (FaultKinds); a seed's draws depend on it.
	rank int
	// minNodes: the smallest cluster a window of the kind makes sense on.
	minNodes int
	// window returns the steps of one window of the kind.
	window func(w *swarmWindow) []Fault
	// optIn: drawn only when SwarmOptions.OptIn names the kind (a kind
	// whose findings are still being sorted out).
	optIn bool
	// ownDraw: the kind's windows are drawn from a second stream and come
	// one after another beside the others' instead of taking turns with
	// them, so the kind leaves every seed's other draws as they were
	// (whether it is on is a coin of its own, kindDrawn, like every
	// kind's).
	ownDraw bool
}

var swarmKinds = map[FaultKind]swarmKind{}

// registerSwarmKind adds a kind the swarm can switch on; it returns a
// function that removes it again.
func registerSwarmKind(k swarmKind) (unregister func()) {
	if _, dup := swarmKinds[k.kind]; dup {
		panic("scenarios: swarm kind " + string(k.kind) + " registered twice")
	}
	swarmKinds[k.kind] = k
	return func() { delete(swarmKinds, k.kind) }
}

func init() {
	for _, k := range []swarmKind{{kind: KindLoss, rank: 10}, {kind: KindDuplicate, rank: 20},
		{kind: KindReorder, rank: 30}, {kind: KindStorage, rank: 120}} {
		registerSwarmKind(k)
	}
}

// swarmWindow is one window of a fault kind in a swarm scenario: from t
// to end, with one random tab drawn for it.
type swarmWindow struct {
	r      *rand.Rand
	n      int
	t, end sim.Time
	one    []uint64
	nodes  func(k int) []uint64 // k random distinct tabs
	// phaseEnd is the end of the fault phase (no step may come later);
	// electionTimeout the cluster's.
	phaseEnd, electionTimeout sim.Time
}

// at is a trigger at time t.
func (w *swarmWindow) at(t sim.Time) Trigger { return Trigger{At: &t} }

// FaultKinds lists every kind, in a fixed order (by rank).
func FaultKinds() []FaultKind {
	var ks []swarmKind
	for _, k := range swarmKinds {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b swarmKind) int { return a.rank - b.rank })
	out := make([]FaultKind, len(ks))
	for i, k := range ks {
		out[i] = k.kind
	}
	return out
}

// SwarmOptions shape the swarm's scenarios.
type SwarmOptions struct {
	// MaxNodes bounds the cluster size (0: 41).
	MaxNodes int
	// PlantedBug, if set, is switched on in every scenario (raft.Bug
	// names): the swarm hunts it.
	PlantedBug string
	// OptIn names opt-in kinds to draw too (membership).
	OptIn []FaultKind
}

// SwarmLivenessBound is how long after its final heal a swarm scenario
// must have elected a leader and committed a new chat line (virtual
// time). With pion's SCTP timers it is longer by pion's RTO maximum
// (60 s, facts §3): after a long lossy spell a reliable channel resends
// only at its next backed-off retransmission, up to a minute after the
// heal (the swarm found this: seed 213, two tabs at 33% loss).
const (
	SwarmLivenessBound     = 60 * sim.Second
	swarmPionSCTPExtraTime = 60 * sim.Second
)

// Names of the swarm scenario's liveness steps and measures.
const (
	swarmFinal     = "final-heal"
	swarmLeader    = "leader"
	swarmCommitted = "committed"
)

// Swarm returns the random scenario of seed: a cluster of 1 to MaxNodes
// tabs with random timers and Raft options, a random subset of fault kinds
// at random intensities during a fault phase, KV clients throughout, then
// a final heal (links, loss, tabs, signaling), after which a leader must be
// elected and a chat line committed within SwarmLivenessBound. The Description
// lists the kinds chosen. Run it with seed as the run seed.
func Swarm(seed uint64, opt SwarmOptions) *Scenario {
	maxNodes := opt.MaxNodes
	if maxNodes <= 0 {
		maxNodes = 41
	}
	r := rand.New(rand.NewPCG(seed, 0x5a4a4d))
	later := rand.New(rand.NewPCG(seed, 0x6c6174)) // ownDraw kinds
	sc := Default()
	sc.Name = fmt.Sprintf("swarm-%d", seed)
	sc.Seed = seed
	sc.Cluster.PlantedBug = opt.PlantedBug
	sc.Cluster.Nodes = swarmSize(r, maxNodes)
	var kinds []FaultKind
	for _, k := range FaultKinds() {
		if kindDrawn(seed, k) && (!swarmKinds[k].optIn || slices.Contains(opt.OptIn, k)) {
			kinds = append(kinds, k)
		}
	}
	on := func(k FaultKind) bool { return slices.Contains(kinds, k) }
	etLow := swarmRaft(r, &sc.Cluster, on)
	// Raft.js's append trigger, from a stream of its own: drawing it
	// shifts no other draw. (Its commit rule, half_commit_quorum, is never
	// drawn: it is unsafe across membership changes, by design of the
	// paper's implementation; see testdata/findings.)
	sc.Cluster.HeartbeatOnPropose = ownStream(seed, "heartbeat_on_propose").IntN(4) == 0
	swarmNetwork(r, sc, etLow, on)
	swarmTimerLateness(seed, sc)
	swarmSendCost(seed, sc)
	swarmMachine(seed, sc)
	swarmCPUScale(seed, sc)
	swarmClients(r, sc)
	swarmKVClientPath(seed, sc)
	faultPhase := swarmFaultPhase(r, sc, kinds, on)
	spreadClients(sc.Workload.KV, faultPhase)
	swarmOwnWindows(later, sc, kinds, faultPhase)
	sortFaults(sc.Faults)
	swarmFinalHeal(sc, faultPhase)
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	sc.Description = fmt.Sprintf("swarm seed %d: %d nodes; faults: %s", seed, sc.Cluster.Nodes, strings.Join(names, ", "))
	if len(kinds) == 0 {
		sc.Description = fmt.Sprintf("swarm seed %d: %d nodes; no faults", seed, sc.Cluster.Nodes)
	}
	sc.fillDefaults()
	return sc
}

// swarmTimerLateness makes a quarter of the seeds' page timers late, by
// a lognormal of mean 0.1-5 ms (log-uniform; the real worlds' were about
// 1 ms late, docs/worlds.md), from a stream of its own: drawing it
// shifts no other draw.
func swarmTimerLateness(seed uint64, sc *Scenario) {
	r := ownStream(seed, "timer_lateness")
	if r.IntN(4) != 0 {
		return
	}
	mean := logUniform(r, 100*sim.Microsecond, 5*sim.Millisecond)
	sc.Browser.TimerLateness = &Latency{Dist: "lognormal", Mean: mean, Jitter: mean / 2}
}

// swarmSendCost charges a quarter of the seeds' pages 5-500 us for each
// message a batch sends, its timers armed after (log-uniform; pion's
// write took 39 us, docs/worlds.md), from a stream of its own: drawing it
// shifts no other draw.
func swarmSendCost(seed uint64, sc *Scenario) {
	r := ownStream(seed, "send_cost")
	if r.IntN(4) != 0 {
		return
	}
	sc.World.SendCost = logUniform(r, 5*sim.Microsecond, 500*sim.Microsecond)
}

// swarmMachine has a quarter of the seeds' pages take turns on 1-4
// cores, each turn costing 0.1-5 ms (log-uniform; Chromium's pages on the
// project's VM cost about 3, docs/worlds.md), at most a twentieth of the
// election timeout for a round of every page, so that a run stays live;
// from a stream of its own: drawing it shifts no other draw.
func swarmMachine(seed uint64, sc *Scenario) {
	r := ownStream(seed, "machine")
	if r.IntN(4) != 0 {
		return
	}
	cores := 1 + r.IntN(4)
	most := sc.Cluster.ElectionTimeout * sim.Time(cores) / sim.Time(20*sc.Cluster.Nodes)
	most = min(max(most, 100*sim.Microsecond), 5*sim.Millisecond)
	sc.World.Cores = cores
	sc.World.WakeCost = logUniform(r, 100*sim.Microsecond, most)
	// A page's costs besides its turn, as chromium-vm has them: after each
	// batch, and for a (re)started page's first two messages.
	sc.World.BatchCost = logUniform(r, 10*sim.Microsecond, most)
	warm := logUniform(r, 100*sim.Microsecond, max(most, sc.Cluster.ElectionTimeout/20))
	sc.World.WarmupCosts = []sim.Time{warm, warm / 2}
	swarmStartCost(seed, sc, most)
}

// swarmStartCost has half of the scheduled machines' seeds start their
// pages together at a cost of 0.1 ms up to the turn's cap (most, at least
// 0.1 ms) each (log-uniform; chromium-vm's is 3.6 ms), shared by the
// cores, from a stream of its own: drawing it shifts no other draw.
func swarmStartCost(seed uint64, sc *Scenario, most sim.Time) {
	r := ownStream(seed, "start_cost")
	if r.IntN(2) != 0 {
		return
	}
	sc.World.StartCost = logUniform(r, 100*sim.Microsecond, most)
}

// swarmCPUScale has a quarter of the seeds run on a machine 0.5-2 times
// as fast as the costs' (log-uniform; the project's VM moved by a third
// between days, docs/worlds.md), from a stream of its own: drawing it
// shifts no other draw.
func swarmCPUScale(seed uint64, sc *Scenario) {
	r := ownStream(seed, "cpu_scale")
	if r.IntN(4) != 0 {
		return
	}
	sc.World.CPUScale = math.Exp(math.Log(0.5) + r.Float64()*math.Log(4))
}

// swarmKVClientPath puts a quarter of the seeds' KV clients outside their
// pages, each way a lognormal of mean 0.1-5 ms (log-uniform, sd the
// mean; the browser world's harness is about 1 ms away), from a stream
// of its own: drawing it shifts no other draw.
func swarmKVClientPath(seed uint64, sc *Scenario) {
	r := ownStream(seed, "kv_client")
	if r.IntN(4) != 0 {
		return
	}
	way := func() *Latency {
		mean := logUniform(r, 100*sim.Microsecond, 5*sim.Millisecond)
		return &Latency{Dist: "lognormal", Mean: mean, Jitter: mean}
	}
	sc.World.KVClient = &KVClientPath{Request: way(), Answer: way()}
}

// kindDrawn reports whether the scenario of seed switches kind on: a
// coin from the kind's own stream, so adding a kind (or opting in to one)
// changes only the scenarios that draw it, and those only by its windows.
func kindDrawn(seed uint64, k FaultKind) bool {
	return ownStream(seed, string(k)).IntN(2) == 0
}

// ownStream is the stream of seed that only name's draws use.
func ownStream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// swarmSize draws the cluster size: mostly small clusters (fast, and
// where most bugs show), odd and even alike, up to maxNodes.
func swarmSize(r *rand.Rand, maxNodes int) int {
	switch p := r.IntN(20); {
	case p < 10:
		return 1 + r.IntN(min(5, maxNodes))
	case p < 16:
		return 1 + r.IntN(min(13, maxNodes))
	case p < 19:
		return 1 + r.IntN(min(25, maxNodes))
	}
	return 1 + r.IntN(maxNodes)
}

// swarmRaft draws the timers and Raft options; it returns the low end of
// the election timeout's range.
func swarmRaft(r *rand.Rand, c *Cluster, on func(FaultKind) bool) (etLow sim.Time) {
	etLow = 100 * sim.Millisecond
	c.ElectionTimeout = etLow + sim.Time(r.IntN(900))*sim.Millisecond
	c.PreVote = r.IntN(3) == 0
	c.CheckQuorum = r.IntN(3) == 0
	c.DeferCommitNotice = r.IntN(2) == 0
	c.NaiveBacktrack = r.IntN(4) == 0
	c.MaxInflight = 1 + r.IntN(16)
	if r.IntN(2) == 0 {
		c.MaxEntriesPerAppend = 1 + r.IntN(8)
	}
	c.CatchUp = r.IntN(2) == 0
	if r.IntN(2) == 0 {
		c.SnapshotEvery = uint64(5 + r.IntN(100))
	}
	// Membership churn needs the leader's presence loop: it adds a
	// removed tab that is still open back, as after the final heal it
	// must (a removed tab left out keeps campaigning, Raft dissertation
	// §4.2.3, and static membership would never add it back).
	if on(KindChurn) || on(KindMembership) || on(KindMembershipBurst) || on(KindMembershipRace) || r.IntN(2) == 0 {
		c.Bootstrap, c.Membership = string(netmodel.BootstrapPaper), "presence"
	} else {
		c.Bootstrap, c.Membership = string(netmodel.BootstrapStatic), "static"
	}
	if c.NaiveBacktrack && c.Membership == "presence" && !c.CheckQuorum {
		// Not drawn together: with presence membership a live tab can sit
		// outside the leader's configuration (closed, removed, back); it
		// hears no heartbeats and, lacking the lease of Raft §6 (here
		// CheckQuorum's), deposes every leader within two election
		// timeouts. Raft.js's repair, one index per heartbeat, then never
		// brings a majority up to date within one term, so nothing
		// commits and the tab is never added back: a livelock (seed 12712,
		// and 1771 with an election timeout of 1.5 s). Raft does not
		// promise liveness there; the swarm's liveness check would fail on
		// the configuration, not on a bug.
		c.NaiveBacktrack = false
	}
	return etLow
}

// swarmNetwork draws the network: profile, datachannel mode, latency,
// and the election timeout's floor that the latency calls for.
func swarmNetwork(r *rand.Rand, sc *Scenario, etLow sim.Time, on func(FaultKind) bool) {
	c := &sc.Cluster
	profiles := swarmProfiles()
	sc.World.Profile = profiles[r.IntN(len(profiles))]
	if sc.World.Profile == "lte" || sc.World.Profile == "degraded-mesh" {
		// An election timeout well above the path's round trips, as a
		// deployment on such a network would choose.
		etLow = 600 * sim.Millisecond
		c.ElectionTimeout = etLow + sim.Time(r.IntN(1000))*sim.Millisecond
	}
	mode := netmodel.ChannelMode{Unordered: on(KindReorder) && r.IntN(4) != 0}
	if r.IntN(3) == 0 {
		if r.IntN(2) == 0 {
			mode.Reliability, mode.MaxRetransmits = netmodel.LimitRetransmits, r.IntN(4)
		} else {
			mode.Reliability, mode.MaxPacketLifeTime = netmodel.LimitLifetime, sim.Time(50+r.IntN(1000))*sim.Millisecond
		}
	}
	sc.World.Datachannel = Datachannel{Mode: mode}
	if on(KindReorder) {
		// Uniform jitter, or a lognormal with a long tail: now and then a
		// message arrives long after later ones (stale answers).
		mean := sim.Time(1+r.IntN(30)) * sim.Millisecond
		if r.IntN(2) == 0 {
			sc.World.Latency = &Latency{Dist: "uniform", Mean: mean, Jitter: mean * sim.Time(1+r.IntN(9)) / 10}
		} else {
			sc.World.Latency = &Latency{Dist: "lognormal", Mean: mean, Jitter: mean * sim.Time(1+r.IntN(40)) / 10}
		}
	}
	// An election timeout an order of magnitude above the mean round
	// trip, as Raft asks (§5.6: broadcastTime << electionTimeout; 10x the
	// mean round trip is 20x the mean one-way latency) and a deployment on
	// that network would choose: one drawn below becomes the floor plus its
	// distance from the low end of the range it was drawn from.
	// Below it, on wifi's long-tailed latency (mean 10 ms, sd 40 ms) an
	// election timeout of about 110 ms lets the tail depose every leader
	// within a second or two, and with naive backtracking no leader
	// repairs a majority's logs before it goes (seeds 5708, 9516, 9665:
	// up to 210 terms in two minutes, no commit).
	lat := netmodel.Profiles[sc.World.Profile].Latency.Mean
	if sc.World.Latency != nil {
		lat = sc.World.Latency.Mean
	}
	if floor := 20 * lat; c.ElectionTimeout < floor {
		c.ElectionTimeout = floor + c.ElectionTimeout - etLow
	}
	if r.IntN(2) == 0 {
		sc.World.SCTP = "pion"
	}
	if r.IntN(4) == 0 {
		// The first-cut world: channels need no set-up, so a restarted
		// tab hears its peers at once (and can vote in the election it
		// crashed in).
		sc.Connection.Setup = false
	}
	if r.IntN(3) == 0 {
		sc.World.MaxMessageSize = Bytes(1<<10 + r.IntN(16<<10))
	}
	if on(KindStorage) {
		sc.Storage.Quota = Bytes(64<<10 + r.IntN(448<<10))
		c.SnapshotAtQuota = 0.3 + 0.5*r.Float64()
	}
	if on(KindHidden) && r.IntN(2) == 0 {
		// The random visibility process runs on after the final heal, so
		// it only hides tabs (a process that froze tabs could freeze a
		// majority at any time; frozen tabs come from fault steps).
		sc.Browser.Visibility = Visibility{MeanForeground: sim.Time(2+r.IntN(20)) * sim.Second, MeanHidden: sim.Time(1+r.IntN(10)) * sim.Second}
	}
	if r.IntN(3) == 0 {
		sc.Browser.WebRTCExemption = false
	}
}

// swarmClients adds KV clients that run throughout.
func swarmClients(r *rand.Rand, sc *Scenario) {
	kv := &KVWorkload{Trigger: Trigger{At: new(sim.Time)}, Clients: 1 + r.IntN(5), Keys: 1 + r.IntN(4),
		Ops: 10 + r.IntN(70), Reads: 0.2 + 0.5*r.Float64(), Cas: 0.3 * r.Float64(),
		Think: sim.Time(r.IntN(200)) * sim.Millisecond, Timeout: sim.Time(300+r.IntN(1200)) * sim.Millisecond,
		Retries: r.IntN(4), ReadMode: string(netmodel.ReadIndex)}
	if kv.Think == 0 {
		kv.Think = sim.Millisecond
	}
	sc.Workload.KV = kv
}

// spreadClients paces the KV clients over the fault phase: a client done
// in its first seconds sees none of the faults that follow, and stale
// reads or lost writes only show in operations issued across them.
func spreadClients(kv *KVWorkload, faultPhase sim.Time) {
	kv.Think = max(kv.Think, faultPhase/sim.Time(kv.Ops))
}

// swarmFaultPhase draws the fault phase: steps of the kinds switched on,
// in windows that overlap at random. It returns the phase's length.
func swarmFaultPhase(r *rand.Rand, sc *Scenario, kinds []FaultKind, on func(FaultKind) bool) sim.Time {
	n := sc.Cluster.Nodes
	faultPhase := sim.Time(5+r.IntN(25)) * sim.Second
	at := func(t sim.Time) Trigger { return Trigger{At: &t} }
	nodes := randomNodes(r, n)
	if on(KindLoss) || on(KindDuplicate) {
		la := &LossAction{}
		if on(KindLoss) {
			la.Loss = 0.4 * r.Float64()
		}
		if on(KindDuplicate) {
			la.Duplicate = 0.2 * r.Float64()
		}
		sc.Faults = append(sc.Faults, Fault{Name: "lossy", Trigger: at(0), Action: la})
	}
	var windowKinds []swarmKind
	for _, k := range kinds {
		if sk := swarmKinds[k]; sk.window != nil && !sk.ownDraw && n >= max(sk.minNodes, 1) {
			windowKinds = append(windowKinds, sk)
		}
	}
	// Windows overlap at random: each starts a random gap after the last
	// one started, and lasts a random length.
	meanGap := sim.Time(200+r.IntN(3000)) * sim.Millisecond
	for t := sim.Time(r.IntN(2000)) * sim.Millisecond; len(windowKinds) > 0 && t < faultPhase; t += sim.Time(r.Int64N(int64(2*meanGap))) + sim.Millisecond {
		// Window lengths spread over three orders of magnitude: a tab
		// that reloads within one election round trips up other bugs
		// than one gone for seconds.
		end := min(t+logUniform(r, 5*sim.Millisecond, 6*sim.Second), faultPhase)
		w := &swarmWindow{r: r, n: n, t: t, end: end, nodes: nodes, phaseEnd: faultPhase, electionTimeout: sc.Cluster.ElectionTimeout}
		w.one = nodes(1)
		sc.Faults = append(sc.Faults, windowKinds[r.IntN(len(windowKinds))].window(w)...)
	}
	return faultPhase
}

// randomNodes draws k distinct tabs of n from r.
func randomNodes(r *rand.Rand, n int) func(k int) []uint64 {
	return func(k int) []uint64 {
		var ids []uint64
		for _, p := range r.Perm(n)[:k] {
			ids = append(ids, uint64(p+1))
		}
		return ids
	}
}

// swarmOwnWindows adds the windows of the ownDraw kinds switched on, each
// kind's one after another through the fault phase (each starts 0-1 s
// after the one before ends: its window function sets w.end to its
// actual end), drawn from r.
func swarmOwnWindows(r *rand.Rand, sc *Scenario, kinds []FaultKind, faultPhase sim.Time) {
	n := sc.Cluster.Nodes
	nodes := randomNodes(r, n)
	for _, k := range kinds {
		sk := swarmKinds[k]
		if !sk.ownDraw || sk.window == nil || n < max(sk.minNodes, 1) {
			continue
		}
		for t := sim.Time(r.IntN(3000)) * sim.Millisecond; t < faultPhase; {
			w := &swarmWindow{r: r, n: n, t: t, end: faultPhase, nodes: nodes, phaseEnd: faultPhase, electionTimeout: sc.Cluster.ElectionTimeout}
			w.one = nodes(1)
			sc.Faults = append(sc.Faults, sk.window(w)...)
			t = w.end + sim.Time(r.IntN(1000))*sim.Millisecond + sim.Millisecond
		}
	}
}

// swarmFinalHeal heals everything after the fault phase; then a leader
// must be elected and a chat line committed within SwarmLivenessBound.
func swarmFinalHeal(sc *Scenario, faultPhase sim.Time) {
	at := func(t sim.Time) Trigger { return Trigger{At: &t} }
	heal := faultPhase + sim.Millisecond
	sc.Faults = append(sc.Faults,
		Fault{Name: swarmFinal + "-links", Trigger: at(heal), Action: healAll()},
		Fault{Name: swarmFinal + "-loss", Trigger: at(heal), Action: &LossAction{}},
		Fault{Name: swarmFinal + "-signaling", Trigger: at(heal), Action: signaling("up")},
		Fault{Name: swarmFinal, Trigger: at(heal), Action: &RestartAction{Killed: true}},
		// After the reopening: a tab closed while hidden reopens hidden
		// (its window is), and only open tabs can be shown (soak seed
		// 9982 kept a leader hidden, its heartbeat throttled, for ever).
		Fault{Name: swarmFinal + "-tabs", Trigger: at(heal), Action: &VisibilityAction{Target: Target{All: true}, State: "foreground"}},
	)
	sc.Workload.Chat = &ChatWorkload{Trigger: Trigger{When: swarmLeader}, Lines: 1}
	sc.Measures = []Measure{
		{Name: swarmLeader, From: swarmFinal, Until: CondLeader, Mode: "exact"},
		{Name: swarmCommitted, From: "workload", Until: CondCommitted, Mode: "exact"},
	}
	sc.Limit = heal + SwarmLivenessBound
	if sc.World.SCTP == "pion" {
		sc.Limit += swarmPionSCTPExtraTime
	}
}

// swarmProfiles lists the network profiles the swarm draws from: every
// built-in profile, the first five in the order the swarm has always
// drawn them (so a seed keeps its scenario), then any newer ones sorted.
func swarmProfiles() []string {
	out := []string{"loopback", "lan", "wifi", "lte", "degraded-mesh"}
	for _, name := range netmodel.ProfileNames() {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// logUniform draws a duration between lo and hi, uniform in its logarithm.
func logUniform(r *rand.Rand, lo, hi sim.Time) sim.Time {
	return sim.Time(float64(lo) * math.Pow(float64(hi)/float64(lo), r.Float64()))
}

// sortFaults orders timed fault steps by time (stable: steps at the same
// time keep their order).
func sortFaults(fs []Fault) {
	slices.SortStableFunc(fs, func(a, b Fault) int {
		switch {
		case a.At == nil || b.At == nil:
			return 0
		case *a.At < *b.At:
			return -1
		case *a.At > *b.At:
			return 1
		}
		return 0
	})
}
