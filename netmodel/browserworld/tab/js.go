//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"github.com/raftsim/raftsim/sim"
	"syscall/js"
)

// The browser's APIs as the tab uses them. Everything runs on the page's
// one thread: a js.FuncOf callback runs Go to completion before the event
// loop goes on, so the tab needs no locks and starts no goroutines.

var (
	global     = js.Global()
	uint8Array = global.Get("Uint8Array")
)

// try runs fn and returns the JavaScript exception it threw, if any.
func try(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(js.Error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

// await calls ok with a promise's value, or fail with its error.
func await(p js.Value, ok func(js.Value), fail func(string)) {
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		ok(args[0])
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		then.Release()
		catch.Release()
		fail(args[0].Call("toString").String())
		return nil
	})
	p.Call("then", then, catch)
}

// nowNanos is the machine's clock in ns since the epoch, to the
// microsecond (performance.timeOrigin + performance.now()): the harness
// orders every tab's trace events by it.
func nowNanos() sim.Time {
	return sim.Time((timeOrigin + performance.Call("now").Float()) * 1e6)
}

var (
	performance = global.Get("performance")
	timeOrigin  = performance.Get("timeOrigin").Float() // fixed for the page's life
)

// socket is a browser WebSocket carrying JSON text frames.
type socket struct {
	ws  js.Value
	fns []js.Func
}

// dial opens a WebSocket; onMsg gets each text frame, onClose runs once
// when the socket closes (or fails to open).
func dial(url string, onOpen func(), onMsg func([]byte), onClose func()) *socket {
	s := &socket{ws: global.Get("WebSocket").New(url)}
	on := func(ev string, fn func(js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			fn(args[0])
			return nil
		})
		s.fns = append(s.fns, f)
		s.ws.Set(ev, f)
	}
	on("onopen", func(js.Value) { onOpen() })
	on("onmessage", func(ev js.Value) { onMsg([]byte(ev.Get("data").String())) })
	on("onclose", func(js.Value) {
		for _, f := range s.fns {
			f.Release()
		}
		s.fns = nil
		onClose()
	})
	return s
}

// send sends v as a JSON text frame (dropped if the socket is not open).
func (s *socket) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("tab: encoding %T: %v", v, err))
	}
	if s.ws.Get("readyState").Int() != 1 {
		return
	}
	_ = try(func() { s.ws.Call("send", string(b)) })
}

// close closes the socket.
func (s *socket) close() { _ = try(func() { s.ws.Call("close") }) }
