// Package impair decides what a real network does to each packet between
// two tabs in the real-time worlds: loss (flat or bursty), duplication,
// delay and queueing, from the scenario's links (netmodel.ResolveLink:
// the profile changed by the per-link overrides), and the cuts that
// partitions make. The pion world asks it in its vnet router's chunk
// filter, the browser world in its TURN relay: one set of rules for both.
package impair

import (
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
)

// Fate is what happens to one packet.
type Fate struct {
	Drop      bool          // lost, or cut
	Duplicate bool          // delivered twice
	Delay     time.Duration // added before it goes on (latency and queueing)
}

// Network holds the links' settings and cuts of a cluster of tabs 1..n.
// Its methods may be called from any goroutine.
type Network struct {
	n         int
	mu        sync.Mutex // serializes setting changes
	base      netmodel.Profile
	overrides []netmodel.LinkOverride
	links     atomic.Pointer[[]netmodel.LinkParams]
	cuts      atomic.Pointer[[]bool] // [from*(n+1)+to]; nil: none
	cutOff    []atomic.Bool          // [id]: every packet of the tab dropped

	drawMu    sync.Mutex // guards the draws and the links' state
	r         *mrand.Rand
	bad       []bool      // Gilbert-Elliott state per directed link
	busyUntil []time.Time // per directed link: when its queued packets have left
}

// New returns the network of tabs 1..nodes with the profile's settings
// changed by the overrides; seed seeds its draws.
func New(nodes int, base netmodel.Profile, overrides []netmodel.LinkOverride, seed uint64) *Network {
	n1 := nodes + 1
	w := &Network{n: nodes, base: base, overrides: overrides, r: mrand.New(mrand.NewPCG(seed, 0x1055)),
		bad: make([]bool, n1*n1), busyUntil: make([]time.Time, n1*n1), cutOff: make([]atomic.Bool, n1)}
	w.resolve()
	return w
}

// resolve recomputes every directed link's settings (w.mu held or during
// construction).
func (w *Network) resolve() {
	n1 := w.n + 1
	t := make([]netmodel.LinkParams, n1*n1)
	for a := 1; a <= w.n; a++ {
		for b := 1; b <= w.n; b++ {
			t[a*n1+b] = netmodel.ResolveLink(w.base, w.overrides, raft.ID(a), raft.ID(b))
		}
	}
	w.links.Store(&t)
}

// Impaired reports whether anything would ever change a packet: a loss,
// duplication, latency or bandwidth on some link (cuts aside).
func (w *Network) Impaired() bool {
	for _, l := range *w.links.Load() {
		if l.Loss > 0 || l.Burst != nil || l.Duplicate > 0 || l.Bandwidth > 0 || l.Latency != (netmodel.Latency{}) {
			return true
		}
	}
	return false
}

// SetLoss sets the loss rate of every link; a bursty loss model gives way
// to the flat rate, and per-link overrides stay (as in the model).
func (w *Network) SetLoss(p float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.base.Loss, w.base.Burst = p, nil
	w.resolve()
}

// SetDuplicate sets the share of packets delivered twice on every link.
func (w *Network) SetDuplicate(p float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.base.Duplicate = p
	w.resolve()
}

// Partition cuts every link between tabs of different groups, both ways;
// tabs in no group keep their links. Cuts add to those in place.
func (w *Network) Partition(groups [][]raft.ID) {
	group := make([]int, w.n+1)
	for g, ids := range groups {
		for _, id := range ids {
			group[id] = g + 1
		}
	}
	w.editCuts(func(cut func(from, to int)) {
		for a := 1; a <= w.n; a++ {
			for b := 1; b <= w.n; b++ {
				if a != b && group[a] != 0 && group[b] != 0 && group[a] != group[b] {
					cut(a, b)
				}
			}
		}
	})
}

// Cut drops every packet from one tab to another (one way).
func (w *Network) Cut(from, to raft.ID) {
	w.editCuts(func(cut func(from, to int)) { cut(int(from), int(to)) })
}

// CutOff drops every packet of tab id, both ways, while off is true (a
// tab that ended without a goodbye, or blackholed); unlike a cut, Heal
// leaves it, and only CutOff(id, false) (the tab restarted) ends it.
func (w *Network) CutOff(id raft.ID, off bool) {
	if int(id) >= 1 && int(id) <= w.n {
		w.cutOff[id].Store(off)
	}
}

// Heal restores every cut link.
func (w *Network) Heal() { w.cuts.Store(nil) }

// editCuts replaces the cut matrix with a copy that edit adds cuts to.
func (w *Network) editCuts(edit func(cut func(from, to int))) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n1 := w.n + 1
	m := make([]bool, n1*n1)
	if old := w.cuts.Load(); old != nil {
		copy(m, *old)
	}
	edit(func(from, to int) { m[from*n1+to] = true })
	w.cuts.Store(&m)
}

// Decide draws the fate of one packet of size bytes from tab src to tab
// dst sent at now (a tab id of 0, or out of range, is not a tab: its
// packets pass untouched). The draws are in a fixed order per packet:
// loss, duplication, latency.
func (w *Network) Decide(src, dst, size int, now time.Time) Fate {
	if src <= 0 || dst <= 0 || src > w.n || dst > w.n {
		return Fate{}
	}
	k := src*(w.n+1) + dst
	if w.cutOff[src].Load() || w.cutOff[dst].Load() {
		return Fate{Drop: true}
	}
	if cuts := w.cuts.Load(); cuts != nil && (*cuts)[k] {
		return Fate{Drop: true}
	}
	l := &(*w.links.Load())[k]
	w.drawMu.Lock()
	defer w.drawMu.Unlock()
	if g := l.Burst; g != nil {
		var lost bool
		if w.bad[k], lost = g.Step(w.bad[k], w.r); lost {
			return Fate{Drop: true}
		}
	} else if l.Loss > 0 && w.r.Float64() < l.Loss {
		return Fate{Drop: true}
	}
	var f Fate
	f.Duplicate = l.Duplicate > 0 && w.r.Float64() < l.Duplicate
	f.Delay = time.Duration(l.Latency.Sample(w.r))
	if l.Bandwidth > 0 {
		// The link sends one packet after the other at its rate: this
		// one leaves when those before it have.
		start := w.busyUntil[k]
		if start.Before(now) {
			start = now
		}
		w.busyUntil[k] = start.Add(time.Duration(float64(size) / l.Bandwidth * float64(time.Second)))
		f.Delay += w.busyUntil[k].Sub(now)
	}
	f.Delay = max(f.Delay, 0)
	return f
}
