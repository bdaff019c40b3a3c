// Package scenarios loads scenario files and runs them: the cluster, the
// world, the workload, the faults on a timeline or on conditions, what to
// measure, and the seeds.
package scenarios

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"go.yaml.in/yaml/v4"
)

// Scenario is one scenario file. Every field has a default (see Default);
// a file only says what differs.
type Scenario struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Cluster     Cluster     `yaml:"cluster"`
	World       WorldConfig `yaml:"world"`
	Browser     Browser     `yaml:"browser"`
	Storage     Storage     `yaml:"storage"`
	Connection  Connection  `yaml:"connection"`
	Workload    Workload    `yaml:"workload"`
	Faults      []Fault     `yaml:"faults" maxlen:"10000"`
	Measures    []Measure   `yaml:"measures" maxlen:"100"`
	// Sweep: run at every combination of these values (raftsim sweep).
	Sweep Sweep `yaml:"sweep"`
	// Seed is the first seed; Seeds how many consecutive seeds to run.
	Seed  uint64 `yaml:"seed" bound:"0,18446744073709551615"`
	Seeds int    `yaml:"seeds" bound:"1,100000"`
	// Limit is the virtual time after which a run stops; measures not done
	// by then are reported as never completed.
	Limit sim.Time `yaml:"limit" bound:"1ms,24h"`

	file string
	pos  map[string]pos
}

// Cluster is the Raft cluster.
type Cluster struct {
	Nodes           int      `yaml:"nodes" bound:"1,1001"`
	ElectionTimeout sim.Time `yaml:"election_timeout" bound:"1ms,1h"`
	// Heartbeat 0 means election_timeout / 5, the paper's rule.
	Heartbeat sim.Time `yaml:"heartbeat" bound:"100us,1h,off"`
	// Bootstrap: "paper" (node 1 starts alone; the others join as
	// signaling reports them) or "static" (all start as members).
	Bootstrap string `yaml:"bootstrap"`
	// Membership: "presence" (the leader follows the signaling peer list,
	// as the paper) or "static".
	Membership          string `yaml:"membership"`
	PreVote             bool   `yaml:"prevote"`
	CheckQuorum         bool   `yaml:"check_quorum"`
	MaxInflight         int    `yaml:"max_inflight" bound:"0,100000"`
	MaxEntriesPerAppend int    `yaml:"max_entries_per_append" bound:"0,1000000"`
	MaxBytesPerAppend   int    `yaml:"max_bytes_per_append" bound:"0,1073741824"`
	DeferCommitNotice   bool   `yaml:"defer_commit_notice"`
	// SessionTTL: a client session is forgotten after this many log
	// entries without a command from its client (0: never).
	SessionTTL uint64 `yaml:"session_ttl" bound:"0,1000000000"`
	// SnapshotEvery: each tab snapshots and compacts its log every this
	// many applied entries (0: never); SnapshotAtQuota: also once its
	// storage passes this share of the quota (0: never).
	// NaiveBacktrack: after a rejected append the leader steps nextIndex
	// back by one and retries at the next heartbeat, as Raft.js did;
	// false: fast backtracking with the follower's hint.
	NaiveBacktrack bool `yaml:"naive_backtrack"`
	// HalfCommitQuorum: an entry commits once half the voters, rounded
	// up, hold it (Raft.js's getMajorityIndex: 1 of 2, 2 of 4); false:
	// more than half. Elections need more than half either way.
	HalfCommitQuorum bool `yaml:"half_commit_quorum"`
	// HeartbeatOnPropose: a new entry goes out with a heartbeat the
	// leader runs 1 ms later, which restarts the heartbeat period
	// (Raft.js); false: at once.
	HeartbeatOnPropose bool `yaml:"heartbeat_on_propose"`
	// CatchUp: new servers join as non-voting learners and are promoted
	// once caught up (false: they vote at once, as in the paper).
	CatchUp         bool    `yaml:"catch_up"`
	SnapshotEvery   uint64  `yaml:"snapshot_every" bound:"0,1000000000"`
	SnapshotAtQuota float64 `yaml:"snapshot_at_quota" bound:"0,1"`
	// PlantedBug switches on one of raft's planted bugs by name (for
	// testing the checkers: raftsim fuzz --plant-bug); "" runs correct
	// Raft.
	PlantedBug string `yaml:"planted_bug"`
}

// WorldConfig is the modeled network and browser (the scenario's world section).
type WorldConfig struct {
	Profile     string      `yaml:"profile"`
	Datachannel Datachannel `yaml:"datachannel"`
	// MaxMessageSize: larger messages are split into fragments.
	MaxMessageSize Bytes `yaml:"max_message_size" bound:"64,1073741824"`
	// SCTP picks the retransmission timers: chrome or pion.
	SCTP string `yaml:"sctp"`
	// SendBufferLimit: a send that would queue more fails.
	SendBufferLimit Bytes `yaml:"send_buffer_limit" bound:"0,1099511627776"`
	// Bandwidth (bytes per second) and Burst override the profile's.
	Bandwidth *Bytes `yaml:"bandwidth" bound:"1,1099511627776"`
	Burst     *Burst `yaml:"burst"`
	// Links override settings on single directed links.
	Links []Link `yaml:"links" maxlen:"10000"`
	// HandlerCost is the CPU time of every handled message or timer.
	HandlerCost sim.Time `yaml:"handler_cost" bound:"0,10s"`
	// StartCost is the CPU time of a page's start of Raft at the run's
	// start; the pages share the cores while they start
	// (netmodel.Options.StartCost).
	StartCost sim.Time `yaml:"start_cost" bound:"0,10s"`
	// BatchCost is the CPU time of every batch a handled message or timer
	// produced, after its sends left (netmodel.Options.BatchCost).
	BatchCost sim.Time `yaml:"batch_cost" bound:"0,10s"`
	// SendCost is the CPU time of each message a batch sends; the
	// batch's timers are armed after its sends (netmodel.Options.SendCost).
	SendCost sim.Time `yaml:"send_cost" bound:"0,1s"`
	// PathCorrelation is how much of their path's delay the messages a
	// tab sends at one instant (a broadcast) share
	// (netmodel.Options.PathCorrelation).
	PathCorrelation float64 `yaml:"path_correlation" bound:"0,0.99"`
	// WarmupCosts are the extra CPU times of a tab's first handled
	// messages after it (re)started (netmodel.Options.WarmupCosts).
	WarmupCosts []sim.Time `yaml:"warmup_costs" bound:"0,10s" maxlen:"100"`
	// Cores and TabLoad: the tabs' browsers share Cores cores, each busy
	// TabLoad of a core in the background; their work slows by the
	// excess (netmodel.MachineOptions). Cores 0: a core each.
	Cores   int     `yaml:"cores" bound:"0,4096"`
	TabLoad float64 `yaml:"tab_load" bound:"0,1"`
	// WakeCost: the pages take turns on the cores, each turn costing
	// this beyond its work (netmodel.MachineOptions); 0: no scheduler.
	WakeCost sim.Time `yaml:"wake_cost" bound:"0,10s"`
	// CPUScale: every CPU time above (and storage writes, and the
	// harness's polls) takes this many times longer, for a machine
	// slower or faster than the one the costs were measured on
	// (netmodel.MachineOptions.CPUScale); 0 or 1: as given.
	CPUScale float64 `yaml:"cpu_scale" bound:"0,10"`
	// Latency overrides the profile's one-way latency distribution.
	Latency *Latency `yaml:"latency"`
	// KVClient: how far the KV clients are from their tabs' pages
	// (netmodel.KVClientPath); unset: in the pages. The model's only: a
	// real world's clients are where its harness puts them.
	KVClient *KVClientPath `yaml:"kv_client"`
	// Loss and Duplicate override the profile's rates when set.
	Loss               *float64 `yaml:"loss" bound:"0,1"`
	Duplicate          *float64 `yaml:"duplicate" bound:"0,1"`
	PresenceCloseDelay sim.Time `yaml:"presence_close_delay" bound:"0,1h"`
	PresenceJoinDelay  sim.Time `yaml:"presence_join_delay" bound:"0,1h"`
}

// KVClientPath is the way between a KV client and its tab's page, each
// direction a latency distribution (unset: no way to go).
type KVClientPath struct {
	Request *Latency `yaml:"request"`
	Answer  *Latency `yaml:"answer"`
}

// Latency is a one-way link latency distribution: constant, uniform
// (mean ± jitter) or lognormal (mean, standard deviation jitter).
type Latency struct {
	Dist   string   `yaml:"dist"`
	Mean   sim.Time `yaml:"mean" bound:"0,10m"`
	Jitter sim.Time `yaml:"jitter" bound:"0,10m"`
}

// Trigger says when a step happens: at a virtual time, or a wait after a
// measure completes (as the harness saw it).
type Trigger struct {
	At    *sim.Time `yaml:"at" bound:"0,24h"`
	When  string    `yaml:"when"`
	After sim.Time  `yaml:"after" bound:"0,24h"`
	// Jitter adds a draw uniform in [0, Jitter) to the time, from the
	// run's own stream: the same for a seed in every world. A kill at a
	// fixed time after a measure lands at the same point of the
	// heartbeat period seed after seed; jitter spreads it.
	Jitter sim.Time `yaml:"jitter" bound:"0,1h"`
}

// Workload is what clients do.
type Workload struct {
	Chat *ChatWorkload `yaml:"chat"`
	KV   *KVWorkload   `yaml:"kv"`
}

// KVWorkload runs KV clients (kv.go): each issues Ops get / put / cas
// operations on Keys keys, one at a time, from its own tab.
type KVWorkload struct {
	Trigger `yaml:",inline"`
	Clients int     `yaml:"clients" bound:"0,1000"`
	Keys    int     `yaml:"keys" bound:"0,1000000"`
	Ops     int     `yaml:"ops" bound:"0,1000000"`
	Reads   float64 `yaml:"reads" bound:"0,1"`
	Cas     float64 `yaml:"cas" bound:"0,1"`
	// Think is the wait between an answer and the next call.
	Think sim.Time `yaml:"think" bound:"0,1h"`
	// Timeout and Retries: a command unanswered after Timeout is sent
	// again, Retries times; then the client gives up on it.
	Timeout sim.Time `yaml:"timeout" bound:"1ms,1h,off"`
	Retries int      `yaml:"retries" bound:"0,1000"`
	// ReadMode: "readindex" (linearizable) or "local" (the paper's reads
	// from the leader's local state).
	ReadMode string `yaml:"read_mode"`
	// Rate (operations per second per client) makes the load open:
	// operations start at that average rate whether or not earlier ones
	// were answered. 0: closed loop.
	Rate float64 `yaml:"rate" bound:"0,10000"`
}

// ChatWorkload pushes Lines chat lines into the leader's send queue (the
// paper's propagate tests).
type ChatWorkload struct {
	Trigger `yaml:",inline"`
	Lines   int `yaml:"lines" bound:"1,1000000"`
	// Users: 0 or 1, one client in the leader's tab (the paper's propagate
	// tests); more, user u in tab (u-1) mod n + 1, each sending Lines.
	Users int `yaml:"users" bound:"0,1000"`
}

// Fault is one fault step: a name, a trigger and exactly one action,
// written under its kind's key (faults.go: the registry of kinds).
type Fault struct {
	Name    string `yaml:"name"`
	Trigger `yaml:",inline"`
	// Action is what the step does (KillAction, PartitionAction, ...).
	Action FaultAction `yaml:"-"`
}

// Target picks the tabs a fault step acts on: the leader (if Leader), the
// listed Nodes, and random live others until Count are chosen.
type Target struct {
	// All picks every live tab.
	All    bool     `yaml:"all"`
	Leader bool     `yaml:"leader"`
	Count  Count    `yaml:"count" bound:"0,1001"`
	Nodes  []uint64 `yaml:"nodes" bound:"node" maxlen:"1001"`
}

// Count is a number of nodes, or "minority": floor((n-1)/2), the most a
// cluster of n can lose and keep a majority.
type Count struct {
	N        int
	Minority bool
}

func (c *Count) decodeYAML(_ *decoder, n *yaml.Node, _ string) error {
	if n.Value == "minority" {
		c.Minority = true
		return nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a number of nodes or \"minority\", got %q", n.Value)
	}
	c.N = v
	return nil
}

// Of returns the count for a cluster of n nodes.
func (c Count) Of(n int) int {
	if c.Minority {
		return (n - 1) / 2
	}
	return c.N
}

// Measure is a named phase: from an event until a condition holds.
type Measure struct {
	Name string `yaml:"name"`
	// From is "start", "workload", or the name of a fault step.
	From string `yaml:"from"`
	// Until is a condition: "up", "propagated", "committed", "leader" or
	// "new-leader".
	Until string `yaml:"until"`
	// Mode is "polled" (checked every Poll plus PollCost, as the paper's
	// harness did) or "exact" (the instant the condition first holds).
	Mode     string   `yaml:"mode"`
	Poll     sim.Time `yaml:"poll" bound:"0,1h"`
	PollCost sim.Time `yaml:"poll_cost" bound:"0,1h"`
}

// Conditions a measure can wait for.
const (
	// CondUp: exactly one leader, no candidates, every other live node a
	// follower, and every live node's configuration is exactly the live
	// nodes (the paper's "up"; after kills, its "recovered").
	CondUp = "up"
	// CondPropagated: every live node has applied exactly the workload's
	// chat lines.
	CondPropagated = "propagated"
	// CondLeader: exactly one live leader.
	CondLeader = "leader"
	// CondNewLeader: exactly one live leader, and not the one that led
	// when the measure started.
	CondNewLeader = "new-leader"
	// CondCommitted: the chat client has had every line acknowledged
	// (committed and applied in its tab).
	CondCommitted = "committed"
	// CondKVDone: every KV client has issued all its operations and each
	// was answered or given up.
	CondKVDone = "kv-done"
)

// Load reads and validates a scenario file.
func Load(path string) (*Scenario, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	defer fh.Close()
	// Read one byte past the cap, so that /dev/zero or a huge file is
	// refused after MaxFileSize bytes instead of read to the end.
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses and validates scenario text; name is used in errors.
func Parse(name string, data []byte) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("a scenario file holds at most %d bytes", MaxFileSize)}
	}
	sc := Default()
	p, err := parseYAML(name, data, sc)
	if err != nil {
		return nil, err
	}
	sc.file, sc.pos = name, p
	sc.fillDefaults()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// errAt returns an error positioned at field (or its nearest written
// parent; line 1 if the field was defaulted).
func (sc *Scenario) errAt(field, format string, args ...any) error {
	p := pos{1, 1}
	for f := field; f != ""; {
		if q, ok := sc.pos[f]; ok {
			p = q
			break
		}
		i := lastSep(f)
		if i < 0 {
			break
		}
		f = f[:i]
	}
	file := sc.file
	if file == "" {
		file = "<scenario>"
	}
	return &Error{File: file, Line: p.line, Column: p.col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func lastSep(f string) int {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == '.' || f[i] == '[' {
			return i
		}
	}
	return -1
}

// CheckPlantedBug reports whether name is one of raft's planted bugs (""
// is none); the error lists the names.
func CheckPlantedBug(name string) error {
	if name == "" {
		return nil
	}
	_, err := raft.ParseBug(name)
	return err
}

// Validate checks the scenario as a whole. Errors name file:line:column
// and the field.
func (sc *Scenario) Validate() error {
	if err := sc.checkBounds(); err != nil {
		return err
	}
	if err := sc.checkSize(); err != nil {
		return err
	}
	c := &sc.Cluster
	if c.Bootstrap != string(netmodel.BootstrapPaper) && c.Bootstrap != string(netmodel.BootstrapStatic) {
		return sc.errAt("cluster.bootstrap", "want paper or static, got %q", c.Bootstrap)
	}
	if c.Membership != "presence" && c.Membership != "static" {
		return sc.errAt("cluster.membership", "want presence or static, got %q", c.Membership)
	}
	if c.Bootstrap == string(netmodel.BootstrapPaper) && c.Membership != "presence" {
		return sc.errAt("cluster.membership", "bootstrap paper needs membership presence (joiners are added as signaling reports them)")
	}
	if err := CheckPlantedBug(c.PlantedBug); err != nil {
		return sc.errAt("cluster.planted_bug", "%v", err)
	}
	if _, err := netmodel.LookupProfile(sc.World.Profile); err != nil {
		return sc.errAt("world.profile", "%v", err)
	}
	if err := sc.validateLatency("world.latency", sc.World.Latency); err != nil {
		return err
	}
	if l := sc.World.Loss; l != nil && *l == 1 {
		return sc.errAt("world.loss", "must be below 1 (a link that loses everything is a partition)")
	}
	if err := sc.validateTabEnvironment(); err != nil {
		return err
	}
	measures := map[string]bool{}
	for i, m := range sc.Measures {
		f := fmt.Sprintf("measures[%d]", i)
		if m.Name == "" {
			return sc.errAt(f+".name", "a measure needs a name")
		}
		if measures[m.Name] {
			return sc.errAt(f+".name", "measure %q defined twice", m.Name)
		}
		measures[m.Name] = true
		switch m.Until {
		case CondUp, CondLeader, CondNewLeader:
		case CondPropagated, CondCommitted:
			if sc.Workload.Chat == nil {
				return sc.errAt(f+".until", "%s needs a chat workload", m.Until)
			}
		case CondKVDone:
			if sc.Workload.KV == nil {
				return sc.errAt(f+".until", "%s needs a kv workload", m.Until)
			}
		default:
			return sc.errAt(f+".until", "unknown condition %q (want up, propagated, committed, leader, new-leader or kv-done)", m.Until)
		}
		if m.Mode != "polled" && m.Mode != "exact" {
			return sc.errAt(f+".mode", "want polled or exact, got %q", m.Mode)
		}
		if m.Mode == "polled" && m.Poll+m.PollCost <= 0 {
			return sc.errAt(f+".poll", "a polled measure needs a positive poll interval")
		}
	}
	faults := map[string]bool{}
	for i := range sc.Faults {
		if err := sc.validateFault(i, measures); err != nil {
			return err
		}
		faults[sc.Faults[i].Name] = true
	}
	if w := sc.Workload.Chat; w != nil {
		if err := sc.validateTrigger("workload.chat", w.Trigger, measures); err != nil {
			return err
		}
	}
	if err := sc.validateKV(measures); err != nil {
		return err
	}
	for i, m := range sc.Measures {
		ok := m.From == "start" || faults[m.From] || (m.From == "workload" && (sc.Workload.Chat != nil || sc.Workload.KV != nil))
		if !ok {
			return sc.errAt(fmt.Sprintf("measures[%d].from", i), "unknown start event %q (want start, workload, or a fault step's name)", m.From)
		}
	}
	return nil
}

func (sc *Scenario) validateTrigger(f string, t Trigger, measures map[string]bool) error {
	switch {
	case t.At != nil && t.When != "":
		return sc.errAt(f+".when", "give either at or when, not both")
	case t.At == nil && t.When == "":
		return sc.errAt(f, "needs at (a time) or when (a measure's name)")
	case t.When != "" && !measures[t.When]:
		return sc.errAt(f+".when", "unknown measure %q", t.When)
	}
	return nil
}

func (sc *Scenario) validateFault(i int, measures map[string]bool) error {
	f := &sc.Faults[i]
	if err := sc.validateTrigger(fmt.Sprintf("faults[%d]", i), f.Trigger, measures); err != nil {
		return err
	}
	return sc.validateAction(i, f)
}

// validateTarget checks that a target names existing nodes and picks at
// least one and at most all of them.
func (sc *Scenario) validateTarget(field string, k *Target) error {
	n := sc.Cluster.Nodes
	for j, id := range k.Nodes {
		if id < 1 || id > uint64(n) {
			return sc.errAt(fmt.Sprintf("%s.nodes[%d]", field, j), "node %d does not exist (nodes are 1..%d)", id, n)
		}
	}
	total := max(k.Count.Of(n), len(k.Nodes))
	if k.Leader && total == 0 {
		total = 1
	}
	if k.All {
		total = n
	}
	if total > n {
		return sc.errAt(field+".count", "picks %d nodes but the cluster has %d", total, n)
	}
	if total == 0 {
		return sc.errAt(field, "picks no node (set leader, count or nodes)")
	}
	return nil
}
