package browserworld

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/raftsim/raftsim/netmodel/browserworld/ctl"
)

// outbox is the harness's side of one tab's control socket. Sending only
// queues; one goroutine writes what is queued, all of it as one frame, so
// what is sent while a frame is on its way (the next proposals of a
// pipelined benchmark, made as results come back) leaves together and the
// tab runs Raft once for all of it.
type outbox struct {
	conn *websocket.Conn
	logf func(format string, args ...any)

	mu     sync.Mutex
	queue  []ctl.Msg
	wake   chan struct{} // one token: the queue is not empty
	closed chan struct{}
	once   sync.Once
}

// newOutbox starts the writer of conn's frames; close stops it.
func newOutbox(conn *websocket.Conn, logf func(string, ...any)) *outbox {
	o := &outbox{conn: conn, logf: logf, wake: make(chan struct{}, 1), closed: make(chan struct{})}
	go o.run()
	return o
}

// send queues m; messages leave in the order sent. What is queued when the
// socket closes is lost (the tab counts as closed).
func (o *outbox) send(m ctl.Msg) {
	o.mu.Lock()
	o.queue = append(o.queue, m)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default: // the writer is already woken
	}
}

// run writes the queue as frames until the outbox closes.
func (o *outbox) run() {
	for {
		select {
		case <-o.closed:
			return
		case <-o.wake:
		}
		o.mu.Lock()
		frame := o.queue
		o.queue = nil
		o.mu.Unlock()
		if len(frame) > 0 {
			o.write(frame)
		}
	}
}

func (o *outbox) write(msgs []ctl.Msg) {
	b, err := ctl.EncodeFrame(msgs)
	if err != nil {
		panic("browserworld: " + err.Error()) // a harness message that does not encode is a bug
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.conn.Write(ctx, websocket.MessageText, b); err != nil {
		o.logf("control send of %d messages (first %s): %v", len(msgs), msgs[0].Type, err)
	}
}

// close closes the socket at once and stops the writer.
func (o *outbox) close() {
	o.once.Do(func() { close(o.closed) })
	o.conn.CloseNow()
}
