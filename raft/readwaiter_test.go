package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReadWaiterAnswersRejectedAtOnceAndConfirmedWhenApplied(t *testing.T) {
	var w ReadWaiter
	got := map[uint64][]bool{}
	for ctx := uint64(1); ctx <= 3; ctx++ {
		w.Add(ctx, func(ok bool) { got[ctx] = append(got[ctx], ok) })
	}
	w.Serve([]ReadState{{Context: 1, Index: 5}, {Context: 2, Rejected: true}, {Context: 3, Index: 7}, {Context: 9, Index: 1}}, 4)
	assert.Equal(t, map[uint64][]bool{2: {false}}, got, "only the rejected read is answered before index 5 is applied")
	assert.True(t, w.Busy())
	w.Serve(nil, 6)
	assert.Equal(t, map[uint64][]bool{1: {true}, 2: {false}}, got)
	w.Serve(nil, 7)
	assert.Equal(t, map[uint64][]bool{1: {true}, 2: {false}, 3: {true}}, got, "each read answered once")
	assert.False(t, w.Busy())
	w.Add(4, func(ok bool) { got[4] = append(got[4], ok) })
	w.Reset()
	w.Serve([]ReadState{{Context: 4, Index: 1}}, 10)
	assert.NotContains(t, got, uint64(4), "a reset forgets pending reads")
}
