package scenarios

import (
	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/checker"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/sim"
)

// fillKV sets the KV workload's defaults: 5 clients on 5 keys, 50
// operations each, half reads and a tenth cas, 10 ms think time, a 1 s
// timeout with 2 retries, linearizable reads.
func (w *KVWorkload) fillDefaults(written func(string) bool) {
	// A field takes its default when the file does not set it and it is
	// zero (a scenario built in Go sets what it wants).
	def := func(field string, zero bool, set func()) {
		if zero && !written("workload.kv."+field) {
			set()
		}
	}
	def("clients", w.Clients == 0, func() { w.Clients = 5 })
	def("keys", w.Keys == 0, func() { w.Keys = 5 })
	def("ops", w.Ops == 0, func() { w.Ops = 50 })
	def("reads", w.Reads == 0, func() { w.Reads = 0.5 })
	def("cas", w.Cas == 0, func() { w.Cas = 0.1 })
	def("think", w.Think == 0, func() { w.Think = 10 * sim.Millisecond })
	def("timeout", w.Timeout == 0, func() { w.Timeout = sim.Second })
	def("retries", w.Retries == 0, func() { w.Retries = 2 })
	def("read_mode", w.ReadMode == "", func() { w.ReadMode = string(netmodel.ReadIndex) })
}

// clientOptions are the workload's client settings, for every world.
func (w *KVWorkload) clientOptions() host.KVOptions {
	return host.KVOptions{Keys: w.Keys, Ops: w.Ops, ReadRatio: w.Reads, CasRatio: w.Cas,
		Think: w.Think, Timeout: w.Timeout, Retries: w.Retries, Rate: w.Rate}
}

func (sc *Scenario) validateKV(measures map[string]bool) error {
	w := sc.Workload.KV
	if w == nil {
		return nil
	}
	f := "workload.kv"
	switch {
	case w.Clients < 1:
		return sc.errAt(f+".clients", "must be at least 1, got %d", w.Clients)
	case w.Keys < 1:
		return sc.errAt(f+".keys", "must be at least 1, got %d", w.Keys)
	case w.Ops < 1:
		return sc.errAt(f+".ops", "must be at least 1, got %d", w.Ops)
	case w.Reads < 0 || w.Cas < 0 || w.Reads+w.Cas > 1:
		return sc.errAt(f+".reads", "reads and cas are shares of the operations: each >= 0, together <= 1")
	case w.Timeout <= 0:
		return sc.errAt(f+".timeout", "must be positive")
	case w.Rate < 0:
		return sc.errAt(f+".rate", "must not be negative, got %v", w.Rate)
	case w.Retries < 0:
		return sc.errAt(f+".retries", "must not be negative")
	case w.ReadMode != string(netmodel.ReadIndex) && w.ReadMode != string(netmodel.ReadLocal):
		return sc.errAt(f+".read_mode", "want readindex or local, got %q", w.ReadMode)
	}
	return sc.validateTrigger(f, w.Trigger, measures)
}

// kvHistory converts the clients' records for the checker.
func kvHistory(records []netmodel.KVRecord) []checker.KVOp {
	ops := make([]checker.KVOp, 0, len(records))
	for _, h := range records {
		op := checker.KVOp{Client: h.Client, Key: h.Key, Value: h.Value, Expect: h.Expect,
			Call: int64(h.Call), Return: int64(h.Return), Returned: h.Returned, Found: h.Found, OK: h.OK, Out: h.Out}
		switch h.Op {
		case app.OpGet:
			op.Kind = checker.KVGet
		case app.OpPut:
			op.Kind = checker.KVPut
		case app.OpCAS:
			op.Kind = checker.KVCas
		}
		ops = append(ops, op)
	}
	return ops
}

// commitLatencies returns, in seconds, the time from call to answer of
// every answered put and cas: writes go through the log in every world,
// so this is the commit latency a client sees.
func commitLatencies(ops []checker.KVOp) []float64 {
	var out []float64
	for _, op := range ops {
		if op.Returned && (op.Kind == checker.KVPut || op.Kind == checker.KVCas) {
			out = append(out, float64(op.Return-op.Call)/float64(sim.Second))
		}
	}
	return out
}

// chatHistory converts the chat users' records for the checker.
func chatHistory(clients []ChatUser) []checker.ChatOp {
	var ops []checker.ChatOp
	for _, c := range clients {
		for _, h := range c.History() {
			ops = append(ops, checker.ChatOp{Client: h.Client, Value: h.Value, Cnt: h.Cnt,
				Call: int64(h.Call), Return: int64(h.Return), Returned: h.Returned, OK: h.OK, OutCnt: h.OutCnt})
		}
	}
	return ops
}
