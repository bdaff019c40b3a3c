package scenarios

import (
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// CrashAfterAckAction arms a crash at the most fragile moment: the next
// tab to send a vote grant (Vote) or an append acknowledgement is closed
// right after the batch that sent it, and reopened from storage Down
// later. A host that answers before its answer is durable then comes back
// without it (FoundationDB's simulator kills processes right after they
// reply for the same reason): a vote given twice in a term, an
// acknowledged entry gone.
type CrashAfterAckAction struct {
	Vote bool     `yaml:"vote"`
	Down sim.Time `yaml:"down" bound:"1ms,1h"`
}

// KindCrashAfterAck: tabs crashed right after they vote or acknowledge,
// back from storage soon after.
const KindCrashAfterAck FaultKind = "crash-after-ack"

func init() {
	registerFault(faultKind{key: "crash_after_ack", new: func() FaultAction { return &CrashAfterAckAction{} }, modelOnly: true})
	registerSwarmKind(swarmKind{kind: KindCrashAfterAck, rank: 240, minNodes: 2, window: func(w *swarmWindow) []Fault {
		a := &CrashAfterAckAction{Vote: w.r.IntN(2) == 0, Down: logUniform(w.r, sim.Millisecond, 2*sim.Second)}
		return []Fault{{Name: "crash-after-ack", Trigger: w.at(w.t), Action: a}}
	}})
}

// Key implements FaultAction.
func (a *CrashAfterAckAction) Key() string { return "crash_after_ack" }

// Validate implements FaultAction.
func (a *CrashAfterAckAction) Validate(c *faultCheck) error {
	if a.Down == 0 {
		return c.errAt("down", "a crash needs a time down (down: 20ms)")
	}
	return nil
}

// Apply implements FaultAction: the crash waits for the next answer.
func (a *CrashAfterAckAction) Apply(r *runner) error {
	r.crashAfter = a
	what := "append acknowledgement"
	if a.Vote {
		what = "vote grant"
	}
	r.note(0, "crash armed: the next tab to send a "+what)
	return nil
}

// Shrink implements FaultAction.
func (a *CrashAfterAckAction) Shrink(int) (FaultAction, bool) { return a, true }

// answers reports whether a batch of messages holds the answer a waits
// for.
func (a *CrashAfterAckAction) answers(msgs []raft.Message) bool {
	want := raft.MsgAppResp
	if a.Vote {
		want = raft.MsgVoteResp
	}
	for i := range msgs {
		if msgs[i].Type == want && !msgs[i].Reject {
			return true
		}
	}
	return false
}

// crashAfterAnswer closes node once the batch being sent has left, if an
// armed crash waits for an answer it holds, and reopens it Down later.
func (r *runner) crashAfterAnswer(node raft.ID, rd *raft.Ready) {
	a := r.crashAfter
	if a == nil || !a.answers(rd.Messages) {
		return
	}
	r.crashAfter = nil
	now := r.w.Now()
	r.w.At(now, func() {
		r.note(node, "crash after answering")
		r.w.Kill(node)
	})
	r.w.At(now+a.Down, func() {
		if err := r.w.Restart(node); err != nil {
			r.note(node, "restart failed: "+err.Error())
		}
	})
}
