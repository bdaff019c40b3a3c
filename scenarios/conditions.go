package scenarios

import (
	"slices"

	"github.com/raftsim/raftsim/raft"
)

// condWorld is what a measure's condition reads of a world; the model
// runner and the real-stack runner both provide it, so a condition means
// the same on both.
type condWorld interface {
	nodes() int
	// liveStatus returns node id's status and whether it answers the
	// harness's poll (an open tab, and in the model not a frozen one:
	// what a frozen tab last believed is stale).
	liveStatus(id raft.ID) (raft.Status, bool)
	chatLines(id raft.ID) int
	chatsAcked() int // lines the chat users have had acknowledged
	hasChats() bool
	chatsIdle() bool
	kvDone() bool
}

// condScratch holds a condition's lists between checks, so that checking
// after every event allocates nothing (a runner keeps one; conditions are
// checked on its loop only).
type condScratch struct {
	live   []raft.ID
	voters [][]raft.ID
}

// holds evaluates condition cond (CondUp, ...) over w's live nodes;
// leaderAtStart is the leader when the measure started.
func (c *condScratch) holds(w condWorld, cond string, leaderAtStart raft.ID) bool {
	c.live, c.voters = c.live[:0], c.voters[:0]
	leaders, followers := 0, 0
	var leader raft.ID
	for i := 1; i <= w.nodes(); i++ {
		id := raft.ID(i)
		st, ok := w.liveStatus(id)
		if !ok {
			continue
		}
		c.live = append(c.live, id)
		c.voters = append(c.voters, st.Voters)
		switch st.Role {
		case raft.Leader:
			leaders++
			leader = id
		case raft.Follower:
			followers++
		}
	}
	switch cond {
	case CondLeader:
		return leaders == 1
	case CondNewLeader:
		return leaders == 1 && leader != leaderAtStart
	case CondPropagated:
		// Every line a user had acknowledged is on every live tab.
		want := w.chatsAcked()
		for _, id := range c.live {
			if w.chatLines(id) < want {
				return false
			}
		}
		return w.hasChats() && w.chatsIdle()
	case CondCommitted:
		return w.hasChats() && w.chatsIdle()
	case CondKVDone:
		return w.kvDone()
	case CondUp:
		if leaders != 1 || followers != len(c.live)-1 {
			return false
		}
		for _, vs := range c.voters {
			if !slices.Equal(vs, c.live) {
				return false
			}
		}
		return true
	}
	return false
}
