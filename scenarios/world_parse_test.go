package scenarios_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Errors in the realistic-world sections point at the offending value.
func TestWorldSectionErrorsArePositioned(t *testing.T) {
	tests := []struct {
		name, text string
		line, col  int
		field, msg string
	}{
		{"unknown mode name", "world:\n  datachannel: reliable-ish\n", 2, 16, "world.datachannel", `unknown datachannel mode "reliable-ish"`},
		{"unknown key in a mode mapping", "world:\n  datachannel:\n    ordered: false\n    retries: 3\n", 4, 5, "world.datachannel.retries", "unknown field"},
		{"both partial reliability limits", "world:\n  datachannel:\n    max_retransmits: 3\n    max_packet_lifetime: 500ms\n", 3, 5, "world.datachannel", "not both"},
		{"negative max_retransmits", "world:\n  datachannel:\n    max_retransmits: -1\n", 3, 22, "world.datachannel.max_retransmits", "must be between 0 and 65535, got -1"},
		{"a mode of the wrong shape", "world:\n  datachannel: [ordered]\n", 2, 16, "world.datachannel", "want a mode name or a mapping"},
		{"message size over 64 KiB", "world:\n  max_message_size: 128KiB\n", 2, 21, "world.max_message_size", "at most 64KiB"},
		{"a size that is not one", "world:\n  max_message_size: big\n", 2, 21, "world.max_message_size", "want a non-negative size"},
		{"unknown sctp", "world:\n  sctp: firefox\n", 2, 9, "world.sctp", "want chrome or pion"},
		{"a wake cost without cores", "world:\n  wake_cost: 2ms\n", 2, 14, "world.wake_cost", "set cores too"},
		{"a batch cost out of bounds", "world:\n  batch_cost: 11s\n", 2, 15, "world.batch_cost", "between"},
		{"a warm-up cost out of bounds", "world:\n  warmup_costs: [1ms, 11s]\n", 2, 23, "world.warmup_costs[1]", "between"},
		{"a wake cost out of bounds", "world:\n  cores: 2\n  wake_cost: 11s\n", 3, 14, "world.wake_cost", "between"},
		{"burst probability", "world:\n  burst:\n    p_good_to_bad: 2\n", 3, 20, "world.burst.p_good_to_bad", "must be between 0 and 1, got 2"},
		{"link to a missing node", "world:\n  links:\n    - from: 1\n      to: 9\n", 4, 11, "world.links[0].to", "node 9 does not exist"},
		{"link loss", "world:\n  links:\n    - from: 1\n      loss: 1\n", 4, 13, "world.links[0].loss", "must be in [0, 1)"},
		{"link latency", "world:\n  links:\n    - latency: {dist: gamma, mean: 1ms}\n", 3, 16, "world.links[0].latency", "unknown latency distribution"},
		{"link mode", "world:\n  links:\n    - datachannel: fast\n", 3, 20, "world.links[0].datachannel", "unknown datachannel mode"},
		{"unknown browser field", "browser:\n  throttle: true\n", 2, 3, "browser.throttle", "unknown field"},
		{"negative storage cost", "storage:\n  write_cost: -1ms\n", 2, 15, "storage.write_cost", "must not be negative"},
		{"setup rtts reversed", "connection:\n  setup_rtts_min: 6\n  setup_rtts_max: 4\n", 3, 19, "connection.setup_rtts_max", "setup_rtts_min <= setup_rtts_max"},
		{"ice failed before disconnected", "connection:\n  ice_disconnected: 10s\n  ice_failed: 5s\n", 3, 15, "connection.ice_failed", "must not be shorter"},
		{"unknown visibility state", "faults:\n  - at: 1s\n    visibility:\n      leader: true\n      state: minimized\n", 5, 14, "faults[0].visibility.state", "minimized"},
		{"visibility of nobody", "faults:\n  - at: 1s\n    visibility:\n      state: hidden\n", 4, 7, "faults[0].visibility", "picks no node"},
		{"signaling sideways", "faults:\n  - at: 1s\n    signaling: sideways\n", 3, 16, "faults[0].signaling", "want down or up"},
		{"blackhole too many", "faults:\n  - at: 1s\n    blackhole:\n      count: 9\n", 4, 14, "faults[0].blackhole.count", "picks 9 nodes"},
		{"path change of a missing node", "faults:\n  - at: 1s\n    path_change:\n      nodes: [7]\n", 4, 15, "faults[0].path_change.nodes[0]", "node 7 does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = scenarios.Parse("inline.yaml", []byte(tt.text)) })
			se := asError(t, err)
			prefix := fmt.Sprintf("inline.yaml:%d:%d: %s: ", tt.line, tt.col, tt.field)
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "want prefix %q, got %q", prefix, err.Error())
			assert.Contains(t, se.Msg, tt.msg)
		})
	}
}

func TestWorldSectionsParse(t *testing.T) {
	sc, err := scenarios.Parse("inline.yaml", []byte(`
world:
  profile: lte
  datachannel:
    ordered: true
    max_packet_lifetime: 500ms
  max_message_size: 32KiB
  sctp: pion
  bandwidth: 1MiB
  links:
    - from: 1
      to: 2
      loss: 0.1
      datachannel: unordered-unreliable
browser:
  webrtc_exemption: false
  visibility:
    mean_foreground: 60s
    mean_hidden: 30s
storage:
  quota: 64KiB
connection:
  ice_failed: 10s
`))
	require.NoError(t, err)
	o := sc.WorldOptions()
	assert.Equal(t, netmodel.ChannelMode{Reliability: netmodel.LimitLifetime, MaxPacketLifeTime: 500 * sim.Millisecond}, o.Mode)
	assert.Equal(t, 32<<10, o.Channel.MaxMessageSize)
	assert.Equal(t, "pion", o.Channel.SCTP)
	assert.Equal(t, float64(1<<20), o.Profile.Bandwidth)
	require.Len(t, o.Channel.Links, 1)
	assert.Equal(t, netmodel.UnorderedUnreliable, *o.Channel.Links[0].Mode)
	assert.Equal(t, 0.1, *o.Channel.Links[0].Loss)
	assert.False(t, o.Browser.WebRTCExemption)
	assert.True(t, o.Browser.Throttling, "unset fields keep their defaults")
	assert.Equal(t, 60*sim.Second, o.Browser.Process.MeanForeground)
	assert.Equal(t, 64<<10, o.Storage.Quota)
	assert.Equal(t, 10*sim.Second, o.Conn.ICEFailed)
	assert.Equal(t, netmodel.DefaultConnOptions().ICEDisconnected, o.Conn.ICEDisconnected)
}
