package realkv

import (
	"sync"
	"testing"
	"time"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// store is a cluster of one store that answers every attempt at once,
// from a goroutine of its own, as a real tab's reply would come.
type store struct {
	mu    sync.Mutex
	kv    *app.KV
	sends int
}

func (s *store) Nodes() int           { return 3 }
func (s *store) Alive(raft.ID) bool   { return true }
func (s *store) Lead(raft.ID) raft.ID { return 1 }
func (s *store) Record(sim.Event)     {}
func (s *store) Send(to raft.ID, a host.KVAttempt, reply func(bool, string)) {
	go func() {
		s.mu.Lock()
		s.sends++
		res := s.kv.Apply(a.Cmd)
		s.mu.Unlock()
		reply(res.OK, res.Value)
	}()
}

func TestClientsRunTheirOperationsOnRealTimers(t *testing.T) {
	s := &store{kv: app.NewKV()}
	done := make(chan struct{}, 100)
	k := Start(s, Options{KVOptions: host.KVOptions{Keys: 2, Ops: 5, ReadRatio: 0.5, Think: sim.Millisecond,
		Timeout: sim.Second, Retries: 1}, Clients: 2, Seed: 1, Start: time.Now(),
		OnDone: func() { done <- struct{}{} }})
	require.Eventually(t, k.Done, 10*time.Second, time.Millisecond)
	k.Stop()
	h := k.History()
	require.Len(t, h, 10, "2 clients x 5 operations")
	for _, r := range h {
		assert.True(t, r.Returned, "%+v", r)
		assert.GreaterOrEqual(t, r.Return, r.Call)
	}
	assert.Len(t, done, 10, "OnDone once an operation")
	s.mu.Lock()
	sent := s.sends
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	assert.Equal(t, sent, s.sends, "nothing is sent after Stop")
}
