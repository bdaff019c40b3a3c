package pionworld

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func recv(t *testing.T, cl *SignalClient) Signal {
	t.Helper()
	select {
	case m, ok := <-cl.In:
		require.True(t, ok, "socket closed")
		return m
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no signal within 5 s")
	}
	return Signal{}
}

func TestSignalServerRelaysExpiresAndGoesDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewSignalServer(0)
	require.NoError(t, err)
	defer s.Stop()
	assert.True(t, strings.HasPrefix(s.URL(), "ws://127.0.0.1:"))
	a, err := DialSignal(ctx, s.URL(), 1)
	require.NoError(t, err)
	b, err := DialSignal(ctx, s.URL(), 2)
	require.NoError(t, err)
	_, err = DialSignal(ctx, s.URL(), 2)
	assert.ErrorIs(t, err, ErrIDTaken)

	resp, err := http.Get("http://" + strings.TrimPrefix(s.URL(), "ws://") + "/peers")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "[1,2]", string(body), "presence")

	require.NoError(t, a.Send(ctx, Signal{Type: SigOffer, Dst: 2, Payload: "sdp"}))
	m := recv(t, b)
	assert.Equal(t, Signal{Type: SigOffer, Src: 1, Dst: 2, Payload: "sdp"}, m)
	require.NoError(t, a.Send(ctx, Signal{Type: SigOffer, Dst: 9, Payload: "sdp"}))
	assert.Equal(t, SigExpire, recv(t, a).Type, "no such peer")

	// An outage closes every socket; after Start tabs can register again.
	s.Stop()
	for range a.In {
	}
	require.NoError(t, s.Start())
	a2, err := DialSignal(ctx, s.URL(), 1)
	require.NoError(t, err)
	a2.Close()
}

// TestClusterThroughTheSignalingServer: three tabs introduced by the real
// WebSocket server, in real time; with the server then down, the
// established datachannels still carry writes.
func TestClusterThroughTheSignalingServer(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	s, err := NewSignalServer(0)
	require.NoError(t, err)
	defer s.Stop()
	c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 6, SignalingURL: s.URL()})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start())
	s.Stop() // an outage: established channels do not need the server
	res, err := c.Bench(1, 10*time.Second, 50)
	require.NoError(t, err)
	assert.Equal(t, 50, res.Writes)
}

// TestSignalingOutageFreezesMembershipNotCommits: the paper's bootstrap
// through the real server (real time, about 2 s). With the server down,
// writes still commit over the established channels, and a tab that
// closes is not removed: the leader cannot read presence. Once the server
// is back and the tabs registered again, the leader removes it.
func TestSignalingOutageFreezesMembershipNotCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("a signaling outage in real time: not with -short")
	}
	before := runtime.NumGoroutine()
	defer func() {
		for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind")
	}()
	s, err := NewSignalServer(0)
	require.NoError(t, err)
	defer s.Stop()
	c, err := New(Options{Nodes: 3, Raft: netmodel.RaftOptions{ElectionTimeout: sim.Time(300 * time.Millisecond)}, Ordered: true, MaxRetransmits: -1, Seed: 8,
		SignalingURL: s.URL(), PaperBootstrap: true})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start())
	waitUp(t, c, 10*time.Second)
	lead := c.Leaders()[0]
	var victim raft.ID = 3
	if lead == victim {
		victim = 2
	}
	s.Stop()
	c.Kill(victim)
	res, err := c.Bench(1, 5*time.Second, 20)
	require.NoError(t, err)
	assert.Equal(t, 20, res.Writes, "commits flow during the outage")
	time.Sleep(500 * time.Millisecond) // five presence rounds
	assert.Contains(t, c.Status(lead).Voters, victim, "no membership change while presence cannot be read")
	assert.False(t, up(c))

	require.NoError(t, s.Start())
	require.NoError(t, c.ReconnectSignaling(context.Background()))
	waitUp(t, c, 5*time.Second)
	assert.NotContains(t, c.Status(c.Leaders()[0]).Voters, victim, "removed once presence is back")
}
