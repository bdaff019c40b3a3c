//go:build js && wasm

package main

import "syscall/js"

// maxCosts bounds the durations a costLog keeps.
const maxCosts = 100000

// costLog keeps how long one kind of work held the page's thread (ms),
// for the harness to read: the model's per-task costs are measured here.
type costLog struct{ ms []float64 }

// since keeps the time from start (performance.now(), ms) to now.
func (l *costLog) since(start float64) {
	if len(l.ms) == maxCosts {
		l.ms = l.ms[:0]
	}
	l.ms = append(l.ms, performance.Call("now").Float()-start)
}

// expose sets window[name](), which returns the kept durations and
// forgets them.
func (l *costLog) expose(name string) {
	global.Set(name, js.FuncOf(func(js.Value, []js.Value) any {
		out := make([]any, len(l.ms))
		for i, v := range l.ms {
			out[i] = v
		}
		l.ms = l.ms[:0]
		return js.ValueOf(out)
	}))
}
