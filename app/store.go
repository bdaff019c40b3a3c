// Package app is the replicated application: the KV store and the chat
// lists behind client sessions. Raft (package raft) replicates opaque
// entry data; a command travels as Command.Encode's bytes.
package app

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Result is what applying a command returns to its client.
type Result struct {
	OK    bool   // put/append: true; get: key present; cas, seqAppend: applied
	Value string // get, cas: the value after the operation
	Cnt   int64  // seqAppend: the list's counter after the operation
	// Stale: an older command of a client whose session has moved on (a
	// delayed duplicate); SessionExpired: the client's session was
	// forgotten. Neither was applied (Store).
	Stale          bool
	SessionExpired bool
}

// StateMachine applies committed commands. Apply must be deterministic.
type StateMachine interface {
	Apply(Command) Result
}

// KV is a key-value store with get, put, cas and append.
type KV struct {
	data map[string]string
}

// NewKV returns an empty store.
func NewKV() *KV { return &KV{data: make(map[string]string)} }

// Apply implements StateMachine.
func (kv *KV) Apply(c Command) Result {
	switch c.Op {
	case OpGet:
		v, ok := kv.data[c.Key]
		return Result{OK: ok, Value: v}
	case OpPut:
		kv.data[c.Key] = c.Value
		return Result{OK: true, Value: c.Value}
	case OpCAS:
		cur := kv.data[c.Key]
		if cur != c.Expect {
			return Result{OK: false, Value: cur}
		}
		kv.data[c.Key] = c.Value
		return Result{OK: true, Value: c.Value}
	case OpAppend:
		kv.data[c.Key] += c.Value
		return Result{OK: true, Value: kv.data[c.Key]}
	}
	return Result{}
}

// Get returns the stored value of key (for inspection, not through Raft).
func (kv *KV) Get(key string) (string, bool) {
	v, ok := kv.data[key]
	return v, ok
}

// Chat is the paper's chat state machine: named lists, each with a counter.
// seqAppend{key, cnt, value} appends value only if cnt equals the list's
// counter, then increments it; the result is [applied, counter], and a
// client whose append was refused retries with the returned counter.
type Chat struct {
	lists map[string]*chatList
}

type chatList struct {
	cnt   int64
	lines []string
}

// NewChat returns an empty chat.
func NewChat() *Chat { return &Chat{lists: make(map[string]*chatList)} }

// Apply implements StateMachine.
func (ch *Chat) Apply(c Command) Result {
	if c.Op != OpSeqAppend {
		return Result{}
	}
	l := ch.lists[c.Key]
	if l == nil {
		l = &chatList{}
		ch.lists[c.Key] = l
	}
	if c.Cnt != l.cnt {
		return Result{OK: false, Cnt: l.cnt}
	}
	l.cnt++
	l.lines = append(l.lines, c.Value)
	return Result{OK: true, Cnt: l.cnt}
}

// Lines returns list key's lines (shared; do not modify).
func (ch *Chat) Lines(key string) []string {
	if l := ch.lists[key]; l != nil {
		return l.lines
	}
	return nil
}

// Store is a tab's replicated state: the KV store and the chat lists,
// behind client sessions (Raft dissertation §6.3). Each client numbers its
// commands 1, 2, ...; the store keeps every client's last sequence number
// and reply, so a command retried, duplicated or delayed is applied once:
// a repeat of the last command gets the saved reply, an older one
// Result.Stale. A session is forgotten after SessionTTL entries without a
// command from its client; a later command of that client (Seq > 1 with
// no session) is refused with Result.SessionExpired instead of being
// applied, so expiry can cost a client its session but never a double
// apply.
type Store struct {
	KV         *KV
	Chat       *Chat
	SessionTTL uint64 // in log entries; 0: sessions never expire
	// ApplyRetryTwice plants raft.BugApplyRetryTwice, for testing the
	// checkers only: the store skips its deduplication, so a retried
	// command is applied again (the host sets it from its Config.Bugs). It
	// is not part of the encoded store: set it again after RestoreStore.
	ApplyRetryTwice bool

	sessions  map[uint64]*session
	expired   map[uint64]bool // clients whose sessions expired
	lastSweep uint64
}

type session struct {
	seq    uint64
	result Result
	last   uint64 // index of the client's last command
}

// NewStore returns an empty store whose sessions expire after ttl entries
// (0: never).
func NewStore(ttl uint64) *Store {
	return &Store{KV: NewKV(), Chat: NewChat(), SessionTTL: ttl, sessions: make(map[uint64]*session), expired: make(map[uint64]bool)}
}

// Apply applies the command of the entry at index. A command with Client
// 0 has no session and is always applied.
func (s *Store) Apply(index uint64, c Command) Result {
	s.expire(index)
	if c.Client == 0 {
		return s.apply(c)
	}
	sess := s.sessions[c.Client]
	switch {
	case sess == nil && s.expired[c.Client]:
		return Result{SessionExpired: true}
	case s.ApplyRetryTwice:
		// Planted bug: no deduplication, the command is applied again.
	case sess != nil && c.Seq == sess.seq:
		sess.last = index
		return sess.result
	case sess != nil && c.Seq < sess.seq:
		return Result{Stale: true}
	}
	res := s.apply(c)
	if sess == nil {
		sess = &session{}
		s.sessions[c.Client] = sess
	}
	sess.seq, sess.result, sess.last = c.Seq, res, index
	return res
}

func (s *Store) apply(c Command) Result {
	if c.Op == OpSeqAppend {
		return s.Chat.Apply(c)
	}
	return s.KV.Apply(c)
}

// expire forgets the sessions idle for more than SessionTTL entries. It
// sweeps every SessionTTL/4 entries; which sessions go does not depend on
// the map's order.
func (s *Store) expire(index uint64) {
	if s.SessionTTL == 0 || index < s.lastSweep+max(s.SessionTTL/4, 1) {
		return
	}
	s.lastSweep = index
	for id, sess := range s.sessions {
		if index-sess.last > s.SessionTTL {
			delete(s.sessions, id)
			s.expired[id] = true
		}
	}
}

// Sessions returns how many client sessions the store keeps.
func (s *Store) Sessions() int { return len(s.sessions) }

// storeImage is a Store's encoded form. encoding/json writes map keys in
// sorted order, so equal stores encode to equal bytes.
type storeImage struct {
	KV       map[string]string       `json:"kv"`
	Chat     map[string][]string     `json:"chat"`
	Sessions map[uint64]sessionImage `json:"sessions"`
	Expired  []uint64                `json:"expired"`
	Sweep    uint64                  `json:"sweep"`
}

type sessionImage struct {
	Seq    uint64 `json:"seq"`
	Result Result `json:"result"`
	Last   uint64 `json:"last"`
}

// Encode returns the store as bytes for a snapshot.
func (s *Store) Encode() []byte {
	img := storeImage{KV: s.KV.data, Chat: map[string][]string{}, Sessions: map[uint64]sessionImage{}, Sweep: s.lastSweep}
	for k, l := range s.Chat.lists {
		img.Chat[k] = l.lines
	}
	for id, sess := range s.sessions {
		img.Sessions[id] = sessionImage{Seq: sess.seq, Result: sess.result, Last: sess.last}
	}
	for id := range s.expired {
		img.Expired = append(img.Expired, id)
	}
	slices.Sort(img.Expired)
	b, err := json.Marshal(img)
	if err != nil {
		panic("app: encoding a store: " + err.Error()) // plain data: cannot fail
	}
	return b
}

// RestoreStore returns the store encoded in data.
func RestoreStore(data []byte, ttl uint64) (*Store, error) {
	var img storeImage
	if err := json.Unmarshal(data, &img); err != nil {
		return nil, fmt.Errorf("app: restoring a store: %w", err)
	}
	s := NewStore(ttl)
	for k, v := range img.KV {
		s.KV.data[k] = v
	}
	for k, lines := range img.Chat {
		s.Chat.lists[k] = &chatList{cnt: int64(len(lines)), lines: lines}
	}
	for id, si := range img.Sessions {
		s.sessions[id] = &session{seq: si.Seq, result: si.Result, last: si.Last}
	}
	for _, id := range img.Expired {
		s.expired[id] = true
	}
	s.lastSweep = img.Sweep
	return s, nil
}
