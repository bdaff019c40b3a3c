package raft

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A leader keeps each follower's unacknowledged appends in one array:
// acknowledgements shift the list down rather than reslice it, so the
// appends that follow reuse the array instead of growing a new one.
func TestAcknowledgementsKeepTheInflightArray(t *testing.T) {
	nw := newNetwork(t, 3, nil)
	nw.elect(1)
	lead := nw.raft(1)
	pr := lead.Progress(2)
	require.True(t, pr.Replicating)
	var array *uint64
	for round := range 5 {
		// Three appends in flight, then their acknowledgements.
		for i := range 3 {
			require.NoError(t, lead.Propose([]byte{byte(round), byte(i)}))
			nw.drain(1)
		}
		require.Len(t, pr.inflight, 3, "round %d", round)
		if round == 0 {
			array = unsafe.SliceData(pr.inflight)
		}
		assert.Same(t, array, unsafe.SliceData(pr.inflight), "round %d: the list's array is the first round's", round)
		nw.deliver()
		assert.Empty(t, pr.inflight, "round %d: all acknowledged", round)
	}
}
