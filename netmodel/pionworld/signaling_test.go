package pionworld

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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
	c, err := New(Options{Nodes: 3, ElectionTimeout: 300 * time.Millisecond, Ordered: true, MaxRetransmits: -1, Seed: 6, SignalingURL: s.URL()})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Start())
	s.Stop() // an outage: established channels do not need the server
	res, err := c.Bench(1, 10*time.Second, 50)
	require.NoError(t, err)
	assert.Equal(t, 50, res.Writes)
}
