// Package raft is the Raft protocol as a pure state machine, shaped like
// etcd-io/raft: inputs go in (Step, Propose, ProposeConfChange, Fire),
// outputs come out in one batch (Ready): state and entries to persist before
// anything is sent, messages to send, committed entries to apply, and
// timers to arm. The package never reads a clock, starts a goroutine, or
// draws randomness from anything but the source in its Config, so the same
// code can be driven by a simulator or by a real-time host.
package raft

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ID identifies a server. The zero ID means "none".
type ID uint64

// None is the zero ID: no leader, no vote.
const None ID = 0

// Role is a server's role.
type Role uint8

// Roles. PreCandidate is the PreVote phase of a candidacy.
const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

var roleNames = [...]string{"follower", "precandidate", "candidate", "leader"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// MsgType is the type of a Raft message.
type MsgType uint8

// Message types.
const (
	MsgApp           MsgType = iota + 1 // AppendEntries (also the heartbeat)
	MsgAppResp                          // AppendEntries response
	MsgVote                             // RequestVote
	MsgVoteResp                         // RequestVote response
	MsgPreVote                          // PreVote request (term not yet bumped)
	MsgPreVoteResp                      // PreVote response
	MsgProp                             // a client proposal forwarded to the leader
	MsgReadIndex                        // a read request forwarded to the leader (read.go)
	MsgReadIndexResp                    // the leader's answer: the read index, or Reject
	MsgSnap                             // a chunk of a snapshot (snapshot.go)
	MsgTimeoutNow                       // campaign now: the leader hands over (transfer.go)
)

var msgNames = [...]string{"", "app", "app_resp", "vote", "vote_resp", "prevote", "prevote_resp", "prop", "read_index", "read_index_resp", "snap", "timeout_now"}

func (t MsgType) String() string {
	if int(t) < len(msgNames) && msgNames[t] != "" {
		return msgNames[t]
	}
	return "msg(" + strconv.Itoa(int(t)) + ")"
}

// Message is one Raft message. Field use by type:
//   - MsgApp: Index and LogTerm name the entry preceding Entries; Commit is
//     the leader's commit index.
//   - MsgAppResp: on success Index is the last index known to match; on a
//     rejection Index echoes the rejected MsgApp's Index, and RejectHint and
//     LogTerm point the leader at a likely match (fast backtracking).
//   - MsgVote, MsgPreVote: Index and LogTerm describe the candidate's last
//     entry.
//   - MsgProp: Entries holds the proposed command(s).
//   - MsgApp, MsgAppResp: Context is the leader's read round, echoed.
//   - MsgReadIndex, MsgReadIndexResp: Context identifies the read; Index is
//     the read index in the response.
type Message struct {
	Type       MsgType
	From, To   ID
	Term       uint64
	LogTerm    uint64
	Index      uint64
	Entries    []Entry
	Commit     uint64
	Reject     bool
	RejectHint uint64
	Context    uint64
	Snap       *SnapChunk // MsgSnap
}

// Size estimates the encoded size of m in bytes, used for batching limits
// and for modelling transmission.
func (m *Message) Size() int {
	n := 48
	for i := range m.Entries {
		n += m.Entries[i].Size()
	}
	if c := m.Snap; c != nil {
		n += 32 + 8*len(c.Voters) + len(c.Data)
	}
	return n
}

// EntryType says what an entry carries.
type EntryType uint8

// Entry types.
const (
	EntryNormal     EntryType = iota // a client command
	EntryNoop                        // the leader's no-op at the start of its term
	EntryConfChange                  // a membership change
)

// Entry is one log entry.
type Entry struct {
	Term   uint64
	Index  uint64
	Type   EntryType
	Data   []byte     // for EntryNormal: the application's command, opaque to Raft
	Change ConfChange // for EntryConfChange
}

// entryFraming is the least number of bytes Size counts for an entry's
// command: the framing of an encoded command (the application's command
// header is this size).
const entryFraming = 24

// Size estimates the encoded size of e in bytes. Every entry is counted
// with at least entryFraming bytes of command framing, with a command or
// not, so message sizes, and thus the calibrated network model's timings,
// are what they were when entries carried a decoded command.
func (e *Entry) Size() int {
	return 24 + max(len(e.Data), entryFraming) + 8*(2+len(e.Change.Voters))
}

// ConfChangeType is the kind of a membership change.
type ConfChangeType uint8

// Membership changes: one server at a time, plus the bootstrap entry that
// carries a whole initial configuration.
const (
	ConfInit ConfChangeType = iota + 1
	ConfAddNode
	ConfRemoveNode
	// ConfAddLearner adds a non-voting member that receives the log; a
	// later ConfAddNode promotes it (catch-up before voting, Raft
	// dissertation §4.2.1).
	ConfAddLearner
)

func (t ConfChangeType) String() string {
	switch t {
	case ConfInit:
		return "init"
	case ConfAddNode:
		return "add"
	case ConfRemoveNode:
		return "remove"
	case ConfAddLearner:
		return "add-learner"
	}
	return "conf(" + strconv.Itoa(int(t)) + ")"
}

// ConfChange is a membership change: add or remove Node, or (ConfInit) the
// initial configuration Voters.
type ConfChange struct {
	Type     ConfChangeType
	Node     ID
	Voters   []ID
	Learners []ID // ConfInit only
}

// HardState is the state a server must persist before it sends a message
// that depends on it.
type HardState struct {
	Term   uint64
	Vote   ID
	Commit uint64
}

// TimerKind names one of the timers a server asks its host to run.
type TimerKind uint8

// Timers. The election timer is re-armed from message handlers; the
// heartbeat timer re-arms itself (a chained timer, in browser terms).
const (
	TimerElection TimerKind = iota + 1
	TimerHeartbeat
)

func (k TimerKind) String() string {
	switch k {
	case TimerElection:
		return "election"
	case TimerHeartbeat:
		return "heartbeat"
	}
	return "timer(" + strconv.Itoa(int(k)) + ")"
}

// TimerRequest asks the host to (re)arm timer Kind to fire After from now,
// replacing any earlier request for the same kind; Stop cancels it.
type TimerRequest struct {
	Kind  TimerKind
	After time.Duration
	Stop  bool
}

// Errors returned to callers that branch on them.
var (
	ErrNotLeader         = errors.New("raft: not the leader")
	ErrNoLeader          = errors.New("raft: no known leader")
	ErrPendingConfChange = errors.New("raft: a membership change is pending")
	ErrInvalidConfChange = errors.New("raft: invalid membership change")
	// ErrNoCommitInTerm: the leader has not yet committed an entry of its
	// own term, so it takes no membership change (ProposeConfChange). It
	// wraps ErrPendingConfChange: a host that waits for a pending change
	// to commit waits for this too.
	ErrNoCommitInTerm = fmt.Errorf("%w: the leader has not committed an entry of its term", ErrPendingConfChange)
)
