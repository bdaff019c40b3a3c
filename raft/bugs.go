package raft

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Planted bugs, in the manner of FoundationDB's BUGGIFY: a named set of
// classic Raft mistakes that a Config (and, for the one in the state
// machine, the application's store) can switch on, to check that raftsim's checkers catch
// them. Each is a small deviation from the correct protocol, guarded by a
// check at the one place it deviates; with no bug switched on, the server
// behaves exactly as without this file. They exist for testing the
// checkers only.

// Bug names one planted bug. The zero Bug is no bug.
type Bug uint16

// The planted bugs. Each comment says what deviates and which safety
// property the deviation can break.
const (
	// BugVoteNotPersisted: a server granting a vote does not persist it.
	// The Ready carries the vote reply, but its HardState keeps the vote
	// the server had persisted for the term (none), so after a crash and
	// restart the server can vote again in the same term. Breaks Election
	// Safety (two leaders in one term).
	BugVoteNotPersisted Bug = iota + 1
	// BugVoteIgnoresLog: votes (and pre-votes) are granted on the term
	// alone, without checking that the candidate's log is at least as up
	// to date (Raft §5.4.1). Breaks Leader Completeness: a leader may lack
	// committed entries and overwrite them.
	BugVoteIgnoresLog
	// BugCommitOldTerm: the leader advances its commit index to any index
	// stored on a quorum, even when that entry is from an earlier term
	// (the Figure 8 mistake; Raft §5.4.2 forbids it). Breaks Leader
	// Completeness and State Machine Safety: an entry counted as committed
	// can still be overwritten by a later leader.
	BugCommitOldTerm
	// BugNoTruncate: a follower that receives entries conflicting with its
	// log keeps its own entries where they conflict and only appends those
	// past its last index, yet acknowledges the whole append. The leader
	// then counts it as a replica of entries it does not hold. Breaks Log
	// Matching and State Machine Safety (servers apply different entries
	// at the same index).
	BugNoTruncate
	// BugStaleAck: the leader credits every successful append response
	// with everything it has sent the follower so far (match = nextIndex
	// - 1, reading its own state instead of the response: the classic
	// pipelining bug), and does not drop successful responses from an
	// earlier term. A duplicate or stale ack of an early append then
	// counts entries still in flight (or lost, or overwritten since)
	// towards commitment. Breaks State Machine Safety (an entry committed
	// without a quorum holding it).
	BugStaleAck
	// BugDoubleConfChange: ProposeConfChange no longer refuses a change
	// while an earlier one is uncommitted, so two single-server changes
	// can be in flight at once and the old and new majorities need not
	// overlap (Raft dissertation §4.1). Breaks Election Safety.
	BugDoubleConfChange
	// BugEvenMajority: the quorum of an even-sized configuration is half
	// its voters instead of more than half (n/2 rather than n/2+1; odd
	// sizes are unaffected). Two disjoint halves can each elect a leader
	// or commit. Breaks Election Safety and State Machine Safety.
	BugEvenMajority
	// BugStaleRead: a leader answers ReadIndex requests at once with its
	// commit index, without the heartbeat round that confirms it is still
	// the leader (once it has committed an entry of its term, as before).
	// A deposed leader that has not heard of its successor serves stale
	// reads. Breaks linearizability of reads.
	BugStaleRead
	// BugApplyRetryTwice: the application's store skips its session
	// deduplication, so a retried or duplicated client command (same
	// Client and Seq) is applied again. Breaks exactly-once semantics
	// (linearizability of the client history). It lives in the state
	// machine, not in Raft: the host sets app.Store.ApplyRetryTwice from
	// its Config.Bugs.
	BugApplyRetryTwice
	// BugConfBeforeOwnTermCommit: a new leader accepts a membership
	// change before it has committed an entry of its own term; only an
	// uncommitted earlier change is refused. This is the single-server
	// membership bug Ongaro reported on raft-dev in 2015 (the Raft
	// dissertation's errata), and raft/'s own behaviour until it was
	// found by hand: an earlier leader's uncommitted change in other
	// servers' logs and the new leader's change give two configurations
	// whose majorities need not overlap. Breaks State Machine Safety (two
	// different entries committed at one index).
	BugConfBeforeOwnTermCommit

	bugEnd // one past the last bug
)

var bugNames = [...]string{
	BugVoteNotPersisted:        "vote-not-persisted",
	BugVoteIgnoresLog:          "vote-ignores-log",
	BugCommitOldTerm:           "commit-old-term",
	BugNoTruncate:              "no-truncate",
	BugStaleAck:                "stale-ack",
	BugDoubleConfChange:        "double-confchange",
	BugEvenMajority:            "even-majority",
	BugStaleRead:               "stale-read",
	BugApplyRetryTwice:         "apply-retry-twice",
	BugConfBeforeOwnTermCommit: "conf-before-own-term-commit",
}

// ErrUnknownBug is wrapped by the error ParseBug returns for a name that
// is not a planted bug.
var ErrUnknownBug = errors.New("raft: unknown planted bug")

// String returns the bug's name, as ParseBug accepts it.
func (b Bug) String() string {
	if b > 0 && b < bugEnd {
		return bugNames[b]
	}
	return "bug(" + strconv.Itoa(int(b)) + ")"
}

// Bugs returns every planted bug, in a fixed order.
func Bugs() []Bug {
	out := make([]Bug, 0, bugEnd-1)
	for b := Bug(1); b < bugEnd; b++ {
		out = append(out, b)
	}
	return out
}

// BugNames returns the names of every planted bug, in the order of Bugs.
func BugNames() []string {
	out := make([]string, 0, bugEnd-1)
	for _, b := range Bugs() {
		out = append(out, b.String())
	}
	return out
}

// ParseBug returns the bug named name. An unknown name gives an error that
// wraps ErrUnknownBug and lists the valid names.
func ParseBug(name string) (Bug, error) {
	for _, b := range Bugs() {
		if b.String() == name {
			return b, nil
		}
	}
	return 0, fmt.Errorf("%w %q (valid: %s)", ErrUnknownBug, name, strings.Join(BugNames(), ", "))
}

// BugSet is a set of planted bugs; the zero value holds none. It is a
// value (a bit set), so a Config stays comparable.
type BugSet uint32

// NewBugSet returns the set of the given bugs.
func NewBugSet(bugs ...Bug) BugSet {
	var s BugSet
	for _, b := range bugs {
		s = s.With(b)
	}
	return s
}

// ParseBugs returns the set of the named bugs (see ParseBug).
func ParseBugs(names ...string) (BugSet, error) {
	var s BugSet
	for _, name := range names {
		b, err := ParseBug(name)
		if err != nil {
			return 0, err
		}
		s = s.With(b)
	}
	return s, nil
}

// With returns s with b added. An unknown bug is ignored.
func (s BugSet) With(b Bug) BugSet {
	if b == 0 || b >= bugEnd {
		return s
	}
	return s | 1<<b
}

// Has reports whether b is in s.
func (s BugSet) Has(b Bug) bool { return b < 32 && s&(1<<b) != 0 }

// List returns the bugs in s, in the order of Bugs.
func (s BugSet) List() []Bug {
	var out []Bug
	for _, b := range Bugs() {
		if s.Has(b) {
			out = append(out, b)
		}
	}
	return out
}

// String returns the names of the bugs in s, comma-separated ("" for
// none).
func (s BugSet) String() string {
	names := make([]string, 0, len(s.List()))
	for _, b := range s.List() {
		names = append(names, b.String())
	}
	return strings.Join(names, ",")
}

// valid reports whether s holds only known bugs.
func (s BugSet) valid() bool { return s&^((1<<bugEnd)-2) == 0 }

// bug reports whether planted bug b is switched on.
func (r *Raft) bug(b Bug) bool { return r.cfg.Bugs.Has(b) }

// persistedVote is the vote the HardState carries: r.vote, unless it is
// the vote a BugVoteNotPersisted server granted (hiddenVote, in term
// hiddenTerm), which it keeps out of its HardState.
func (r *Raft) persistedVote() ID {
	if r.vote != None && r.vote == r.hiddenVote && r.term == r.hiddenTerm {
		return None
	}
	return r.vote
}

// appendPastEnd is BugNoTruncate's handling of an append whose entries
// conflict with the log: the conflicting entries are ignored and only the
// entries past the last index appended.
func (r *Raft) appendPastEnd(ents []Entry) {
	last := r.log.lastIndex()
	for i := range ents {
		if ents[i].Index > last {
			ents = ents[i:]
			r.log.append(ents...)
			for j := range ents {
				if ents[j].Type == EntryConfChange {
					r.applyConfEntry(ents[j])
				}
			}
			return
		}
	}
}
