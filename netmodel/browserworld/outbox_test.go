package browserworld

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
	"github.com/stretchr/testify/require"
)

// What is queued while the writer is busy leaves as one frame, in the
// order sent; a later send leaves in a frame of its own.
func TestOutboxSendsWhatQueuedAsOneFrameInOrder(t *testing.T) {
	frames := make(chan []ctl.Msg, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			msgs, err := ctl.DecodeFrame(b)
			if err != nil {
				t.Error(err)
				return
			}
			frames <- msgs
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)

	// The writer starts after three sends, as if busy with a frame.
	o := &outbox{conn: conn, logf: t.Logf, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	defer o.close()
	for req := uint64(1); req <= 3; req++ {
		o.send(ctl.Msg{Type: ctl.Propose, Req: req})
	}
	go o.run()
	got := <-frames
	require.Len(t, got, 3)
	for i, m := range got {
		require.Equal(t, uint64(i+1), m.Req)
	}
	o.send(ctl.Msg{Type: ctl.Start})
	require.Equal(t, []ctl.Msg{{Type: ctl.Start}}, <-frames)
}
