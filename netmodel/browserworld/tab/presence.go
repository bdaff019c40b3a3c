//go:build js && wasm

package main

import (
	"strings"
	"syscall/js"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
)

// The paper's membership (Init.Presence): the leader reads the signaling
// server's list of connected tabs (GET /peers, as Raft.js's leader read
// PeerJS's) every 100 ms, every 50 ms while more than one change is
// pending, and makes at most one change per read
// (netmodel.MembershipChange: the model's and pion's rule, so the three
// worlds change membership alike).

// Presence read intervals: every world's (netmodel.PresenceInterval).
const (
	presenceInterval     = time.Duration(netmodel.PresenceInterval)
	presenceFastInterval = time.Duration(netmodel.PresenceFastInterval)
)

// leading starts the presence loop when the tab becomes leader.
func (t *tab) leading(cur raft.Status) {
	if t.init.Presence && cur.Role == raft.Leader && !t.presenceArmed {
		t.schedulePresence(presenceInterval)
	}
}

// schedulePresence reads the list after d (at once if d is negative).
func (t *tab) schedulePresence(d time.Duration) {
	t.presenceArmed = true
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		f.Release()
		t.readPresence(time.Now())
		return nil
	})
	global.Call("setTimeout", f, float64(max(d, 0))/float64(time.Millisecond))
}

// readPresence fetches the signaling server's list; membership gets it
// (null if it could not be read) and the time the read's timer fired.
func (t *tab) readPresence(fired time.Time) {
	url := "http" + strings.TrimPrefix(t.signalURL, "ws") + "/peers"
	fail := func(string) { t.membership(js.Null(), fired) }
	await(global.Call("fetch", url), func(resp js.Value) {
		if !resp.Get("ok").Bool() {
			t.membership(js.Null(), fired)
			return
		}
		await(resp.Call("json"), func(list js.Value) { t.membership(list, fired) }, fail)
	}, fail)
}

// membership compares the tabs listed with the configuration and makes
// at most one change; then it schedules the next read, unless the tab no
// longer leads. A list it cannot read, or one without this tab (it is not
// registered), changes nothing.
//
// The next read is due next after this one's timer fired, not after the
// list came back: Raft.js's round is synchronous, so its period starts
// when its timer fires; timing it from the answer would add the fetch's
// round trip to every round.
func (t *tab) membership(list js.Value, fired time.Time) {
	if t.dead || t.h == nil || t.h.Raft == nil || t.h.Raft.Status().Role != raft.Leader {
		t.presenceArmed = false
		return
	}
	n := t.init.Nodes
	present := make([]bool, n+1)
	if list.Truthy() {
		for i := range list.Length() {
			if id := list.Index(i).Int(); id >= 1 && id <= n {
				present[id] = true
			}
		}
	}
	next := presenceInterval
	if present[t.id] {
		cc, pending := netmodel.MembershipChange(t.h.Raft, present, t.init.Raft.CatchUp)
		if pending > 0 {
			_ = t.h.Raft.ProposeConfChange(cc) // refused while a change is pending: read again
			t.process()
		}
		if pending > 1 {
			next = presenceFastInterval
		}
	}
	t.schedulePresence(next - time.Since(fired))
}
