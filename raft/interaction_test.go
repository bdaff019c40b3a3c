package raft

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Interaction scripts (testdata/*.txt), in the manner of etcd-io/raft's
// rafttest: each script drives a hand-run network (helpers_test.go) one
// step at a time, and under each command stands what the servers did:
// the state they persisted, the entries they appended and applied, the
// messages they sent, and their role changes. A change in behaviour shows
// as a diff of the script; -rewrite (or RAFT_REWRITE=1) accepts it.
//
// Commands (ids are server ids; lists are written (1,2,3)):
//
//	add-nodes N [voters=(..)] [learners=(..)] [joiner] [prevote]
//	          [checkquorum] [snapchunk=B] [defer-commit] [naive-backtrack]
//	          [half-commit] [heartbeat-on-propose]
//	    start N servers with the next free ids; by default their
//	    configuration is the N new servers; joiner: empty storage, no
//	    configuration (they wait to be contacted)
//	campaign ID                    Campaign(): an election at once, no pre-vote
//	tick-election ID               fire the election timer
//	tick-heartbeat ID              fire the heartbeat timer
//	propose ID VALUE|KEY=VALUE     Propose a put (key k by default)
//	propose-conf-change ID add|remove|learner NODE
//	read-index ID CTX              ReadIndex(CTX)
//	transfer-leader FROM TO        TransferLeadership
//	compact ID INDEX|applied [data=..]
//	deliver [from=ID] [to=ID] [type=MsgX]
//	    deliver the queued messages that match, in queue order, each
//	    followed (indented) by what its recipient did; the messages they
//	    cause are queued for the next round
//	drop [from=ID] [to=ID] [type=MsgX]   discard queued messages
//	stabilize                      deliver rounds until nothing is queued
//	isolate ID / partition (..) (..) / heal   cut or restore links; a
//	                                message on a cut link is dropped when
//	                                delivered
//	restart ID                     crash and restart from storage
//	status [ID]  log ID  progress ID  queue
//
// The output of an action is its server's Ready, one line per part:
//
//	1: now candidate term=2 lead=0     role, term or leader changed
//	1: hardstate term=2 vote=1 commit=1
//	1: append [2/3 put k=v]            entries persisted (term/index)
//	1: snapshot index=7 term=2 ...     snapshot persisted
//	1: apply [2/3 put k=v]             entries handed to the host to apply
//	1: read ctx=5 index=3              ReadIndex answered
//	1->2 MsgApp term=2 ...             messages sent
//
// Timers are left out (status lists the armed ones). status prints a
// server's role, term, vote, leader, commit and applied indexes, its last
// entry as term/index, its configuration, its first index once compacted,
// the transfer target and the armed timers; log marks the committed
// entries; progress prints a leader's view of each follower.

func TestInteraction(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			it := &interaction{t: t, nw: newEmptyNetwork(t)}
			runDataDriven(t, path, it.run)
		})
	}
}

// interaction runs the commands of one script against one network.
type interaction struct {
	t  *testing.T
	nw *network
	b  strings.Builder
}

// nodeState is what a role-change line reports.
type nodeState struct {
	role Role
	term uint64
	lead ID
}

func (it *interaction) state(id ID) nodeState {
	r := it.nw.raft(id)
	return nodeState{r.role, r.term, r.lead}
}

func (it *interaction) printf(format string, args ...any) {
	fmt.Fprintf(&it.b, format, args...)
	it.b.WriteByte('\n')
}

func (it *interaction) run(cmd ddCmd) string {
	it.b.Reset()
	if err := it.exec(cmd); err != nil {
		it.t.Fatalf("%s: %s: %v", cmd.Pos, cmd, err)
	}
	return it.b.String()
}

// act runs f on server id, then executes its Ready and prints it.
func (it *interaction) act(id ID, f func(r *Raft) error) {
	before := it.state(id)
	if err := f(it.nw.raft(id)); err != nil {
		it.printf("error: %v", err)
	}
	it.drainAndPrint(id, before, "")
}

// drainAndPrint executes server id's Ready (network.drain, which also
// checks persist-before-send) and prints it, each line after indent.
func (it *interaction) drainAndPrint(id ID, before nodeState, indent string) {
	rd := it.nw.drain(id)
	if after := it.state(id); after != before {
		it.printf("%s%d: now %v term=%d lead=%d", indent, id, after.role, after.term, after.lead)
	}
	if rd.HardStateChanged {
		hs := rd.HardState
		it.printf("%s%d: hardstate term=%d vote=%d commit=%d", indent, id, hs.Term, hs.Vote, hs.Commit)
	}
	if s := rd.Snapshot; s != nil {
		it.printf("%s%d: snapshot index=%d term=%d voters=%s%s data=%q", indent, id, s.Index, s.Term, fmtIDs(s.Voters), fmtLearners(s.Learners), s.Data)
	}
	if len(rd.Entries) > 0 {
		it.printf("%s%d: append %s", indent, id, fmtEntries(rd.Entries))
	}
	if len(rd.Committed) > 0 {
		it.printf("%s%d: apply %s", indent, id, fmtEntries(rd.Committed))
	}
	for _, rs := range rd.ReadStates {
		if rs.Rejected {
			it.printf("%s%d: read ctx=%d rejected", indent, id, rs.Context)
		} else {
			it.printf("%s%d: read ctx=%d index=%d", indent, id, rs.Context, rs.Index)
		}
	}
	for _, m := range rd.Messages {
		it.printf("%s%s", indent, fmtMsg(m))
	}
}

func (it *interaction) exec(cmd ddCmd) error {
	nw := it.nw
	args := cmd.Args
	// pos returns positional argument i.
	pos := func(i int) (string, error) {
		if i >= len(args) || args[i].Key != "" || len(args[i].Vals) != 1 {
			return "", fmt.Errorf("argument %d missing or not a single value", i+1)
		}
		return args[i].Vals[0], nil
	}
	posID := func(i int) (ID, error) {
		s, err := pos(i)
		if err != nil {
			return 0, err
		}
		id, err := parseID(s)
		if err != nil {
			return 0, err
		}
		if nw.nodes[id] == nil {
			return 0, fmt.Errorf("no server %d", id)
		}
		return id, nil
	}
	switch cmd.Name {
	case "add-nodes":
		return it.addNodes(args)

	case "campaign", "tick-election", "tick-heartbeat":
		id, err := posID(0)
		if err != nil {
			return err
		}
		it.act(id, func(r *Raft) error {
			switch cmd.Name {
			case "campaign":
				r.Campaign()
			case "tick-election":
				r.Fire(TimerElection)
			default:
				r.Fire(TimerHeartbeat)
			}
			return nil
		})

	case "propose":
		id, err := posID(0)
		if err != nil {
			return err
		}
		// "propose ID v" proposes one put; "propose ID v1 v2 ..." proposes
		// them in one batch (ProposeBatch).
		var batch [][]byte
		for i := 1; i == 1 || i < len(args); i++ {
			v, err := pos(i)
			if err != nil {
				return err
			}
			key, value, ok := strings.Cut(v, "=")
			if !ok {
				key, value = "k", v
			}
			batch = append(batch, put(key, value))
		}
		if len(batch) == 1 {
			it.act(id, func(r *Raft) error { return r.Propose(batch[0]) })
		} else {
			it.act(id, func(r *Raft) error { return r.ProposeBatch(batch) })
		}

	case "propose-conf-change":
		id, err := posID(0)
		if err != nil {
			return err
		}
		kind, err := pos(1)
		if err != nil {
			return err
		}
		s, err := pos(2)
		if err != nil {
			return err
		}
		node, err := parseID(s)
		if err != nil {
			return err
		}
		types := map[string]ConfChangeType{"add": ConfAddNode, "remove": ConfRemoveNode, "learner": ConfAddLearner}
		typ, ok := types[kind]
		if !ok {
			return fmt.Errorf("unknown change %q (add, remove, learner)", kind)
		}
		it.act(id, func(r *Raft) error { return r.ProposeConfChange(ConfChange{Type: typ, Node: node}) })

	case "read-index":
		id, err := posID(0)
		if err != nil {
			return err
		}
		s, err := pos(1)
		if err != nil {
			return err
		}
		ctx, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return err
		}
		it.act(id, func(r *Raft) error { r.ReadIndex(ctx); return nil })

	case "transfer-leader":
		from, err := posID(0)
		if err != nil {
			return err
		}
		to, err := posID(1)
		if err != nil {
			return err
		}
		it.act(from, func(r *Raft) error { return r.TransferLeadership(to) })

	case "compact":
		id, err := posID(0)
		if err != nil {
			return err
		}
		s, err := pos(1)
		if err != nil {
			return err
		}
		r := nw.raft(id)
		index := r.applied
		if s != "applied" {
			if index, err = strconv.ParseUint(s, 10, 64); err != nil {
				return err
			}
		}
		data := fmt.Sprintf("state@%d", index)
		for _, a := range args[2:] {
			if a.Key == "data" {
				data = strings.Join(a.Vals, ",")
			}
		}
		it.act(id, func(r *Raft) error { return r.Compact(index, []byte(data)) })

	case "deliver", "drop":
		match, err := msgFilter(args)
		if err != nil {
			return err
		}
		it.deliver(match, cmd.Name == "drop")

	case "stabilize":
		for round := 0; len(nw.queue) > 0; round++ {
			if round == 100 {
				return fmt.Errorf("messages do not quiesce")
			}
			it.deliver(func(Message) bool { return true }, false)
		}

	case "isolate":
		id, err := posID(0)
		if err != nil {
			return err
		}
		nw.isolate(id)

	case "partition":
		if len(args) != 2 || args[0].Key != "" || args[1].Key != "" {
			return fmt.Errorf("usage: partition (ids) (ids)")
		}
		a, err := parseIDs(args[0].Vals)
		if err != nil {
			return err
		}
		b, err := parseIDs(args[1].Vals)
		if err != nil {
			return err
		}
		nw.partition(a, b)

	case "heal":
		nw.heal()

	case "restart":
		id, err := posID(0)
		if err != nil {
			return err
		}
		it.restart(id)

	case "status":
		if len(args) == 0 {
			for _, id := range it.ids() {
				it.status(id)
			}
			break
		}
		for i := range args {
			id, err := posID(i)
			if err != nil {
				return err
			}
			it.status(id)
		}

	case "log":
		id, err := posID(0)
		if err != nil {
			return err
		}
		r := nw.raft(id)
		if r.log.offset > 0 {
			s := r.snapshot
			it.printf("snapshot index=%d term=%d voters=%s%s data=%q", s.Index, s.Term, fmtIDs(s.Voters), fmtLearners(s.Learners), s.Data)
		}
		for i := r.log.offset + 1; i <= r.log.lastIndex(); i++ {
			mark := ""
			if i <= r.commit {
				mark = " (committed)"
			}
			it.printf("%s%s", fmtEntry(*r.log.entry(i)), mark)
		}

	case "progress":
		id, err := posID(0)
		if err != nil {
			return err
		}
		r := nw.raft(id)
		if r.role != Leader {
			it.printf("%d is not the leader", id)
			break
		}
		for _, m := range r.members() {
			if pr := r.prs[m]; pr != nil {
				it.printf("%d: %s", m, fmtProgress(pr))
			}
		}

	case "queue":
		for _, m := range nw.queue {
			it.printf("%s", fmtMsg(m))
		}

	default:
		return fmt.Errorf("unknown command %q", cmd.Name)
	}
	return nil
}

// ids returns the servers' ids in order.
func (it *interaction) ids() []ID {
	var out []ID
	for id := range it.nw.nodes {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (it *interaction) addNodes(args []ddArg) error {
	if len(args) == 0 || args[0].Key != "" {
		return fmt.Errorf("usage: add-nodes N [options]")
	}
	n, err := strconv.Atoi(args[0].Vals[0])
	if err != nil {
		return err
	}
	first := ID(len(it.nw.nodes) + 1)
	var newIDs []ID
	for i := range n {
		newIDs = append(newIDs, first+ID(i))
	}
	voters, learners := newIDs, []ID(nil)
	var mods []func(*Config)
	for _, a := range args[1:] {
		switch a.Key {
		case "voters":
			if voters, err = parseIDs(a.Vals); err != nil {
				return err
			}
		case "learners":
			if learners, err = parseIDs(a.Vals); err != nil {
				return err
			}
		case "snapchunk":
			b, err := strconv.Atoi(a.Vals[0])
			if err != nil {
				return err
			}
			mods = append(mods, func(c *Config) { c.MaxSnapshotChunk = b })
		case "":
			switch a.Vals[0] {
			case "joiner":
				voters = nil
			case "prevote":
				mods = append(mods, func(c *Config) { c.PreVote = true })
			case "checkquorum":
				mods = append(mods, func(c *Config) { c.CheckQuorum = true })
			case "defer-commit":
				mods = append(mods, func(c *Config) { c.DeferCommitNotice = true })
			case "naive-backtrack":
				mods = append(mods, func(c *Config) { c.NaiveBacktrack = true })
			case "half-commit":
				mods = append(mods, func(c *Config) { c.HalfCommitQuorum = true })
			case "heartbeat-on-propose":
				mods = append(mods, func(c *Config) { c.HeartbeatOnPropose = true })
			default:
				return fmt.Errorf("unknown option %q", a.Vals[0])
			}
		default:
			return fmt.Errorf("unknown option %q", a.Key)
		}
	}
	for _, id := range newIDs {
		cfg := newTestConfig(id, voters...)
		for _, mod := range mods {
			mod(&cfg)
		}
		st := Stored{}
		if len(learners) > 0 && len(voters) > 0 {
			// A bootstrap configuration with learners: written as the
			// first entry, as New writes one with voters only.
			st.HardState = HardState{Term: 1, Commit: 1}
			st.Entries = []Entry{{Term: 1, Index: 1, Type: EntryConfChange,
				Change: ConfChange{Type: ConfInit, Voters: voters, Learners: learners}}}
		}
		r, err := New(cfg, st)
		if err != nil {
			return err
		}
		nd := &node{r: r, cfg: cfg, timers: map[TimerKind]time.Duration{}, stored: st}
		it.nw.nodes[id] = nd
		it.drainAndPrint(id, it.state(id), "")
	}
	return nil
}

// restart replaces server id by one restored from its storage (as
// network.restart does) and prints its first Ready.
func (it *interaction) restart(id ID) {
	nd := it.nw.nodes[id]
	st := Stored{HardState: nd.stored.HardState, Snapshot: nd.stored.Snapshot, Entries: slices.Clone(nd.stored.Entries)}
	r, err := New(nd.cfg, st)
	require.NoError(it.t, err)
	nd.r = r
	nd.timers = map[TimerKind]time.Duration{}
	nd.applied = nil
	it.drainAndPrint(id, it.state(id), "")
}

// deliver takes the queued messages that match out of the queue and
// delivers them (or, if drop, discards them), each followed by what its
// recipient did. What they cause is queued after the messages left.
func (it *interaction) deliver(match func(Message) bool, drop bool) {
	nw := it.nw
	var batch, rest []Message
	for _, m := range nw.queue {
		if match(m) {
			batch = append(batch, m)
		} else {
			rest = append(rest, m)
		}
	}
	nw.queue = rest
	for _, m := range batch {
		nd := nw.nodes[m.To]
		switch {
		case drop:
			it.printf("%s (dropped)", fmtMsg(m))
			continue
		case nd == nil:
			it.printf("%s (dropped: no such server)", fmtMsg(m))
			continue
		case nw.cut[[2]ID{m.From, m.To}]:
			it.printf("%s (dropped: link cut)", fmtMsg(m))
			continue
		}
		it.printf("%s", fmtMsg(m))
		before := it.state(m.To)
		nd.r.Step(m)
		it.drainAndPrint(m.To, before, "  ")
	}
}

func (it *interaction) status(id ID) {
	nd := it.nw.nodes[id]
	st := nd.r.Status()
	s := fmt.Sprintf("%d: %v term=%d vote=%d lead=%d commit=%d applied=%d last=%d/%d voters=%s%s",
		id, st.Role, st.Term, st.Vote, st.Lead, st.Commit, st.Applied, st.LastTerm, st.LastIndex, fmtIDs(st.Voters), fmtLearners(st.Learners))
	if first := nd.r.FirstIndex(); first > 1 {
		s += fmt.Sprintf(" first=%d", first)
	}
	if tr := nd.r.Transferee(); tr != None {
		s += fmt.Sprintf(" transferee=%d", tr)
	}
	var timers []string
	for _, k := range []TimerKind{TimerElection, TimerHeartbeat} {
		if _, ok := nd.timers[k]; ok {
			timers = append(timers, k.String())
		}
	}
	s += " timers=(" + strings.Join(timers, ",") + ")"
	it.printf("%s", s)
}

// msgFilter parses from=, to= and type= into a predicate.
func msgFilter(args []ddArg) (func(Message) bool, error) {
	var from, to ID
	var typ MsgType
	for _, a := range args {
		if len(a.Vals) != 1 {
			return nil, fmt.Errorf("%s: one value expected", a)
		}
		var err error
		switch a.Key {
		case "from":
			from, err = parseID(a.Vals[0])
		case "to":
			to, err = parseID(a.Vals[0])
		case "type":
			found := false
			for t, name := range msgTypeNames {
				if name == a.Vals[0] {
					typ, found = t, true
				}
			}
			if !found {
				err = fmt.Errorf("unknown message type %q", a.Vals[0])
			}
		default:
			err = fmt.Errorf("unknown filter %q (from, to, type)", a)
		}
		if err != nil {
			return nil, err
		}
	}
	return func(m Message) bool {
		return (from == None || m.From == from) && (to == None || m.To == to) && (typ == 0 || m.Type == typ)
	}, nil
}

func parseID(s string) (ID, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad server id %q", s)
	}
	return ID(n), nil
}

func parseIDs(vals []string) ([]ID, error) {
	out := []ID{}
	for _, v := range vals {
		id, err := parseID(v)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

var msgTypeNames = map[MsgType]string{
	MsgApp: "MsgApp", MsgAppResp: "MsgAppResp", MsgVote: "MsgVote", MsgVoteResp: "MsgVoteResp",
	MsgPreVote: "MsgPreVote", MsgPreVoteResp: "MsgPreVoteResp", MsgProp: "MsgProp",
	MsgReadIndex: "MsgReadIndex", MsgReadIndexResp: "MsgReadIndexResp", MsgSnap: "MsgSnap",
	MsgTimeoutNow: "MsgTimeoutNow",
}

// fmtMsg prints the fields of m that its type uses (types.go).
func fmtMsg(m Message) string {
	name, ok := msgTypeNames[m.Type]
	if !ok {
		name = m.Type.String()
	}
	s := fmt.Sprintf("%d->%d %s", m.From, m.To, name)
	if !termless(m.Type) {
		s += fmt.Sprintf(" term=%d", m.Term)
	}
	switch m.Type {
	case MsgApp:
		s += fmt.Sprintf(" index=%d logterm=%d commit=%d", m.Index, m.LogTerm, m.Commit)
		if len(m.Entries) > 0 {
			s += " entries=" + fmtEntries(m.Entries)
		}
	case MsgAppResp:
		if m.Reject {
			s += fmt.Sprintf(" reject index=%d hint=%d logterm=%d", m.Index, m.RejectHint, m.LogTerm)
		} else {
			s += fmt.Sprintf(" index=%d", m.Index)
		}
	case MsgVote, MsgPreVote:
		s += fmt.Sprintf(" index=%d logterm=%d", m.Index, m.LogTerm)
		if m.Context == transferContext {
			s += " transfer"
		}
	case MsgVoteResp, MsgPreVoteResp:
		if m.Reject {
			s += " reject"
		}
	case MsgProp:
		s += " entries=" + fmtEntries(m.Entries)
	case MsgReadIndex:
		s += fmt.Sprintf(" ctx=%d", m.Context)
	case MsgReadIndexResp:
		s += fmt.Sprintf(" ctx=%d index=%d", m.Context, m.Index)
		if m.Reject {
			s += " reject"
		}
	case MsgSnap:
		c := m.Snap
		s += fmt.Sprintf(" snap index=%d term=%d voters=%s%s bytes=%d+%d/%d", c.Index, c.Term, fmtIDs(c.Voters), fmtLearners(c.Learners), c.Offset, len(c.Data), c.Total)
	}
	// The read round rides on appends and their answers (read.go).
	if (m.Type == MsgApp || m.Type == MsgAppResp) && m.Context != 0 {
		s += fmt.Sprintf(" round=%d", m.Context)
	}
	return s
}

// fmtEntry prints an entry as term/index and its content.
func fmtEntry(e Entry) string {
	s := fmt.Sprintf("%d/%d ", e.Term, e.Index)
	switch e.Type {
	case EntryNoop:
		return s + "noop"
	case EntryConfChange:
		if e.Change.Type == ConfInit {
			return s + "conf init voters=" + fmtIDs(e.Change.Voters) + fmtLearners(e.Change.Learners)
		}
		return s + fmt.Sprintf("conf %v %d", e.Change.Type, e.Change.Node)
	}
	return s + string(e.Data)
}

func fmtEntries(ents []Entry) string {
	parts := make([]string, len(ents))
	for i, e := range ents {
		parts[i] = fmtEntry(e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func fmtIDs(ids []ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return "(" + strings.Join(parts, " ") + ")"
}

func fmtLearners(ids []ID) string {
	if len(ids) == 0 {
		return ""
	}
	return " learners=" + fmtIDs(ids)
}

func fmtProgress(pr *Progress) string {
	s := fmt.Sprintf("match=%d next=%d", pr.Match, pr.Next)
	switch {
	case pr.Replicating:
		s += fmt.Sprintf(" replicating inflight=%d", len(pr.inflight))
	case pr.probeSent:
		s += " probe (sent)"
	default:
		s += " probe"
	}
	if pr.snapSent != 0 {
		s += fmt.Sprintf(" snapshot-sent=%d", pr.snapSent)
	}
	return s
}
