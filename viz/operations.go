package viz

import (
	"strings"

	"github.com/raftsim/raftsim/sim"
)

// Operation is one client operation of a KV trace: from its call (a
// client event whose detail is "call KEY") to its return ("return") or
// the client giving up ("gave up"), matched by client id and sequence
// number. The client id is the one the porcupine history page names
// ("client 1001").
type Operation struct {
	Client uint64 `json:"client"` // the client's id (the event's peer)
	Node   uint64 `json:"node"`   // the tab it called
	Seq    uint64 `json:"seq"`    // the client's sequence number (the event's idx)
	Op     string `json:"op"`     // get, put, cas (the event's msg)
	Key    string `json:"key"`
	Call   int    `json:"call"`   // the call event, 0-based
	End    int    `json:"end"`    // the return or give-up event, 0-based; -1: none in the trace
	Result string `json:"result"` // "return", "gave up", or "" (none in the trace)
}

// operations pairs the trace's client calls with their returns, in the
// order of their calls. A return with no call before it is left out.
func operations(events []sim.Event) []Operation {
	out := []Operation{}
	type key struct{ client, seq uint64 }
	open := map[key]int{}
	for i, e := range events {
		if e.Kind != sim.KindClient {
			continue
		}
		k := key{e.Peer, e.Index}
		if e.Detail == "call" || strings.HasPrefix(e.Detail, "call ") {
			open[k] = len(out)
			out = append(out, Operation{Client: e.Peer, Node: e.Node, Seq: e.Index, Op: e.Msg,
				Key: strings.TrimPrefix(strings.TrimPrefix(e.Detail, "call"), " "), Call: i, End: -1})
			continue
		}
		if e.Detail != "return" && e.Detail != "gave up" {
			continue
		}
		if j, ok := open[k]; ok {
			out[j].End, out[j].Result = i, e.Detail
			delete(open, k)
		}
	}
	return out
}
