package raft

import (
	"errors"
	"fmt"
	"time"
)

// Leadership transfer (Raft dissertation §3.10): the leader brings the
// target's log up to date, then tells it to campaign at once (TimeoutNow),
// so a tab about to be hidden or closed can hand over without the cluster
// waiting out an election timeout. Proposals are refused meanwhile; the
// transfer is abandoned after an election timeout.

// ErrTransferring: the leader is handing over leadership and takes no
// proposals.
var ErrTransferring = errors.New("raft: leadership transfer in progress")

// transferContext marks vote requests of a transfer: followers grant
// them even under the CheckQuorum lease (the leader asked for it).
const transferContext = 1

// TransferLeadership starts handing leadership to voter to.
func (r *Raft) TransferLeadership(to ID) error {
	switch {
	case r.role != Leader:
		return ErrNotLeader
	case to == r.id || !r.isVoter(to) || r.prs[to] == nil:
		return fmt.Errorf("%w: cannot transfer to %d", ErrInvalidConfChange, to)
	}
	r.transferee, r.transferBeats = to, 0
	pr := r.prs[to]
	if pr.Match == r.log.lastIndex() {
		r.send(Message{Type: MsgTimeoutNow, To: to})
		return nil
	}
	r.sendAppend(to, pr, false)
	return nil
}

// Transferee returns the server leadership is being handed to (None: no
// transfer).
func (r *Raft) Transferee() ID { return r.transferee }

// transferProgress is called when the transferee acknowledged entries.
func (r *Raft) transferProgress(from ID, pr *Progress) {
	if r.transferee == from && pr.Match == r.log.lastIndex() {
		r.send(Message{Type: MsgTimeoutNow, To: from})
	}
}

// campaignTransfer campaigns at once for a real term, marking the vote
// requests as a transfer's.
func (r *Raft) campaignTransfer() {
	r.campaignContext = transferContext
	r.campaign(false)
	r.campaignContext = 0
}

// transferTick counts heartbeats; after an election timeout the transfer
// is abandoned and the leader takes proposals again.
func (r *Raft) transferTick() {
	if r.transferee == None {
		return
	}
	r.transferBeats++
	if r.heartbeat*time.Duration(r.transferBeats) >= r.cfg.ElectionTimeout {
		r.transferee = None
	}
}
