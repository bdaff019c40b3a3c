package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryNumericFieldHasABound: a new numeric field without a bound tag
// fails here, and every tag parses.
func TestEveryNumericFieldHasABound(t *testing.T) {
	var missing []string
	var walk func(t reflect.Type, field string)
	walk = func(t reflect.Type, field string) {
		for _, f := range yamlFields(t, field) {
			sub := f.path
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			switch {
			case ft == countType:
			case ft == faultType:
				walk(ft, sub)
				for _, key := range FaultKeys() {
					if at := reflect.TypeOf(faultRegistry[key].new()).Elem(); at.Kind() == reflect.Struct {
						walk(at, sub+"."+key)
					}
				}
				continue
			case ft == datachannelType:
				walk(reflect.TypeOf(datachannelInit{}), sub)
				continue
			case ft.Kind() == reflect.Struct && ft != timeType:
				walk(ft, sub)
				continue
			default:
				if _, ok := numeric(reflect.Zero(ft)); !ok {
					continue
				}
			}
			if f.Tag.Get("bound") == "" {
				missing = append(missing, sub)
				continue
			}
			parseBound(f.Tag.Get("bound"), ft) // panics if malformed
		}
	}
	walk(reflect.TypeOf(Scenario{}), "")
	assert.Empty(t, missing, "numeric fields without a bound tag")
}

// The documented table is generated from the tags; -update rewrites it.
func TestBoundsTableIsDocumented(t *testing.T) {
	path := filepath.Join("..", "docs", "scenario-bounds.md")
	data, err := os.ReadFile(path)
	if *update {
		head, _, _ := strings.Cut(string(data), "<!-- generated -->")
		require.NoError(t, os.WriteFile(path, []byte(head+"<!-- generated -->\n"+BoundsTable()), 0o644))
		return
	}
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(data), "<!-- generated -->\n")
	require.True(t, ok, "%s lacks its <!-- generated --> marker", path)
	assert.Equal(t, BoundsTable(), table, "docs/scenario-bounds.md is stale: go test ./scenarios -run BoundsTable -update")
}

// Hostile values that once crashed, hung or were silently accepted: each
// now gets a positioned error naming the field.
func TestHostileValuesAreRefusedWithAPositionedError(t *testing.T) {
	tests := []struct{ name, yaml, field string }{
		{"nodes overflow makeslice", "cluster: {nodes: 9223372036854775807}", "cluster.nodes"},
		{"5000 nodes", "cluster: {nodes: 5000}", "cluster.nodes"},
		{"uniform latency overflowing Int64N", "world: {latency: {dist: uniform, mean: 2562047h, jitter: 2562047h}}", "world.latency.mean"},
		{"link latency overflowing Int64N", "world: {links: [{from: 1, to: 2, latency: {dist: uniform, mean: 2562047h, jitter: 2562047h}}]}", "world.links[0].latency.mean"},
		{"two billion chat lines", "workload: {chat: {at: 1s, lines: 2000000000}}", "workload.chat.lines"},
		{"a hundred million kv clients", "workload: {kv: {at: 1s, clients: 100000000}}", "workload.kv.clients"},
		{"a hundred million chat users", "workload: {chat: {at: 1s, lines: 1, users: 100000000}}", "workload.chat.users"},
		{"retries with a 1ns timeout", "workload: {kv: {at: 1s, retries: 2000000000, timeout: 1ns}}", "workload.kv.timeout"},
		{"visibility mean of 1ns", "browser: {visibility: {mean_foreground: 1ns, mean_hidden: 1ns}}", "browser.visibility.mean_foreground"},
		{"limit of a million hours", "limit: 1000000h", "limit"},
		{"sweep of 10^12 points", "seeds: 100000\nsweep: {nodes: [1, 3, 5, 7, 9], election_timeout: [100ms, 200ms]}", "sweep"},
		{"seed wrapping around", "seed: 18446744073709551615\nseeds: 2", "seed"},
		{"max_retransmits beyond an unsigned short", "world: {datachannel: {ordered: false, max_retransmits: 70000}}", "world.datachannel.max_retransmits"},
		{"ping every nanosecond", "connection: {ping_interval: 1ns}", "connection.ping_interval"},
		{"a negative kill count", "faults: [{at: 1s, kill: {count: -1}}]", "faults[0].kill.count"},
		{"timer lateness of a day", "browser: {timer_lateness: {dist: lognormal, mean: 24h}}", "browser.timer_lateness.mean"},
		{"timer lateness of an unknown shape", "browser: {timer_lateness: {dist: sometimes, mean: 1ms}}", "browser.timer_lateness"},
		{"a KV client a day from its page", "world: {kv_client: {request: {dist: constant, mean: 24h}}}", "world.kv_client.request.mean"},
		{"a KV client's answer of an unknown shape", "world: {kv_client: {answer: {dist: sometimes, mean: 1ms}}}", "world.kv_client.answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("hostile.yaml", []byte(tt.yaml))
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.field, pe.Field, "%v", err)
			assert.Positive(t, pe.Line)
		})
	}
}

// NaN and infinities pass every "< 0 || > 1" check; the bound walk refuses
// them in every float field.
func TestNaNAndInfinitiesAreRefused(t *testing.T) {
	fields := map[string]string{
		"world.loss":                "world: {loss: %s}",
		"world.duplicate":           "world: {duplicate: %s}",
		"world.burst.loss_bad":      "world: {burst: {p_good_to_bad: 0.1, p_bad_to_good: 0.5, loss_bad: %s}}",
		"cluster.snapshot_at_quota": "cluster: {snapshot_at_quota: %s}",
		"workload.kv.reads":         "workload: {kv: {at: 1s, reads: %s}}",
		"workload.kv.cas":           "workload: {kv: {at: 1s, cas: %s}}",
		"workload.kv.rate":          "workload: {kv: {at: 1s, rate: %s}}",
		"faults[0].loss.loss":       "faults: [{at: 1s, loss: {loss: %s}}]",
	}
	for field, tmpl := range fields {
		for _, v := range []string{"NaN", "Inf", "-Inf", "+Inf", "nan", "infinity"} {
			_, err := Parse("nan.yaml", []byte(strings.Replace(tmpl, "%s", v, 1)))
			var pe *Error
			require.ErrorAs(t, err, &pe, "%s = %s accepted", field, v)
			assert.Equal(t, field, pe.Field, "%v", err)
		}
	}
}

func TestOversizedScenarioFilesAreRefused(t *testing.T) {
	big := strings.Repeat("# padding\n", MaxFileSize/10+1)
	_, err := Parse("big.yaml", []byte(big))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "big.yaml:1:1")
	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err := Load("/dev/zero")
		require.Error(t, err, "/dev/zero is read up to the cap, not forever")
	}
}

// Every shipped scenario and the bounded values in between still load.
func TestShippedScenariosAreWithinBounds(t *testing.T) {
	files, err := filepath.Glob("../scenarios/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := Load(f)
		assert.NoError(t, err, f)
	}
	for seed := uint64(1); seed <= 500; seed++ {
		require.NoError(t, Swarm(seed, SwarmOptions{}).Validate(), "swarm seed %d", seed)
	}
}
