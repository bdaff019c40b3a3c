package browserworld

import (
	"testing"

	"github.com/raftsim/raftsim/raft"
	"github.com/stretchr/testify/assert"
)

// An open page that has not reported yet is live with a blank status (a
// follower with no configuration), so that "up" cannot hold without it;
// a closed page is not live.
func TestAnOpenPageWithoutAReportIsLiveAndNoMember(t *testing.T) {
	c := &Cluster{opt: Options{Nodes: 3}, tabs: []*tabState{nil,
		{alive: true, hasStatus: true, status: raft.Status{ID: 1, Role: raft.Leader, Voters: []raft.ID{1}}},
		{alive: true},
		{alive: false, hasStatus: true, status: raft.Status{ID: 3, Role: raft.Leader}},
	}}
	st, live := c.Status(2)
	assert.True(t, live)
	assert.Equal(t, raft.Follower, st.Role)
	assert.Empty(t, st.Voters)
	_, live = c.Status(3)
	assert.False(t, live)
	assert.Equal(t, []raft.ID{1}, c.Leaders(), "a closed page's last report does not lead")
}
