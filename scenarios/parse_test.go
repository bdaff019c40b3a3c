package scenarios_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsim/raftsim/scenarios"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badFiles lists every file in testdata/bad with the position and field its
// error must name. Line and column are those of the offending key (unknown
// or repeated field, a fault step with the wrong number of actions) or
// value (everything else); for a syntax error, where the parser stopped.
var badFiles = []struct {
	file      string
	line, col int
	field     string
	msg       string // a part of the message
}{
	{"unknown-field-top.yaml", 3, 1, "nodez", "unknown field"},
	{"unknown-field-nested.yaml", 4, 3, "cluster.nodez", "unknown field"},
	{"wrong-type.yaml", 4, 10, "cluster.nodes", `want an integer, got "many"`},
	{"negative-duration.yaml", 5, 21, "cluster.election_timeout", "must not be negative"},
	{"nodes-zero.yaml", 5, 10, "cluster.nodes", "must be between 1 and 1001, got 0"},
	{"kill-too-many.yaml", 9, 14, "faults[0].kill.count", "picks 12 nodes but the cluster has 5"},
	{"unknown-profile.yaml", 5, 12, "world.profile", `unknown network profile "dialup"`},
	{"unknown-datachannel.yaml", 5, 16, "world.datachannel", `unknown datachannel mode "carrier-pigeon"`},
	// The parser stops at the second ':' of line 4 (column 28).
	{"invalid-syntax.yaml", 4, 28, "", "invalid YAML"},
	{"two-actions.yaml", 4, 5, "faults[0]", "exactly one action"},
	{"unknown-condition.yaml", 8, 12, "measures[1].until", `unknown condition "sunny"`},
	{"unknown-when.yaml", 5, 11, "faults[0].when", `unknown measure "upp"`},
	{"duplicate-field.yaml", 5, 3, "cluster.nodes", "field given twice"},
	{"restart-unknown-node.yaml", 8, 18, "faults[0].restart.nodes[1]", "node 4 does not exist"},
	{"unknown-from.yaml", 5, 11, "measures[0].from", `unknown start event "kill"`},
}

// asError returns err as a *scenarios.Error, failing the test if it is
// anything else.
func asError(t *testing.T, err error) *scenarios.Error {
	t.Helper()
	require.Error(t, err)
	se, ok := err.(*scenarios.Error)
	require.True(t, ok, "error is a %T, not a *scenarios.Error: %v", err, err)
	return se
}

func TestBadFilesArePositionedErrors(t *testing.T) {
	for _, tt := range badFiles {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/bad/" + tt.file
			var sc *scenarios.Scenario
			var err error
			require.NotPanics(t, func() { sc, err = scenarios.Load(path) })
			require.Nil(t, sc)
			se := asError(t, err)
			prefix := fmt.Sprintf("%s:%d:%d: ", path, tt.line, tt.col)
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "want prefix %q, got %q", prefix, err.Error())
			assert.Equal(t, path, se.File)
			assert.Equal(t, tt.line, se.Line, "line")
			assert.Equal(t, tt.col, se.Column, "column")
			assert.Equal(t, tt.field, se.Field)
			if tt.field != "" {
				assert.Contains(t, err.Error(), prefix+tt.field+": ", "the message names the field")
			}
			assert.Contains(t, se.Msg, tt.msg)
		})
	}
}

func TestEveryBadFileHasAnExpectation(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	var got, want []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	for _, tt := range badFiles {
		want = append(want, tt.file)
	}
	assert.ElementsMatch(t, want, got)
}

func TestParseErrorsWithoutAFile(t *testing.T) {
	// Parse names the text as told; every error kind is still a
	// *scenarios.Error at a position.
	tests := []struct {
		name, text string
		line, col  int
		field      string
	}{
		{"empty seeds", "seeds: 0\n", 1, 8, "seeds"},
		{"a list where a mapping goes", "cluster: [1, 2]\n", 1, 10, "cluster"},
		{"a mapping where an integer goes", "cluster:\n  nodes: {a: 1}\n", 2, 10, "cluster.nodes"},
		{"a bad duration", "limit: soon\n", 1, 8, "limit"},
		{"a bad boolean", "cluster:\n  prevote: maybe\n", 2, 12, "cluster.prevote"},
		{"loss out of range", "world:\n  loss: 1.5\n", 2, 9, "world.loss"},
		{"an alias", "name: &n x\ndescription: *n\n", 2, 14, "description"},
		{"a count that is not a number", "faults:\n  - at: 1s\n    kill:\n      count: most\n", 4, 14, "faults[0].kill.count"},
		{"a kill of nobody", "faults:\n  - at: 1s\n    kill:\n      count: 0\n", 4, 7, "faults[0].kill"},
		{"a fault without a trigger", "faults:\n  - heal: true\n", 2, 5, "faults[0]"},
		{"at and when", "measures:\n  - name: up\n    until: up\nfaults:\n  - at: 1s\n    when: up\n    heal: true\n", 6, 11, "faults[0].when"},
		{"propagated without a workload", "measures:\n  - name: p\n    until: propagated\n", 3, 12, "measures[0].until"},
		{"a measure without a name", "measures:\n  - until: up\n", 2, 5, "measures[0].name"},
		{"a measure twice", "measures:\n  - name: up\n    until: up\n  - name: up\n    until: leader\n", 4, 11, "measures[1].name"},
		{"isolate and groups at once", "faults:\n  - at: 1s\n    partition:\n      isolate: {leader: true}\n      groups: [[1], [2]]\n", 4, 16, "faults[0].partition.isolate"},
		{"isolate an unknown node", "faults:\n  - at: 1s\n    partition:\n      isolate: {nodes: [9]}\n", 4, 25, "faults[0].partition.isolate.nodes[0]"},
		{"a defaulted field that is invalid together with another", "cluster:\n  membership: static\n", 2, 15, "cluster.membership"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = scenarios.Parse("inline.yaml", []byte(tt.text)) })
			se := asError(t, err)
			prefix := fmt.Sprintf("inline.yaml:%d:%d: %s: ", tt.line, tt.col, tt.field)
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "want prefix %q, got %q", prefix, err.Error())
			assert.Equal(t, tt.field, se.Field)
		})
	}
}

func TestEmptyFilesAreDefaultsOrPositionedErrors(t *testing.T) {
	// A file only says what differs from the defaults, so a file saying
	// nothing could well be all defaults; if it is an error instead, the
	// error must still point at a real position (lines and columns count
	// from 1).
	for _, text := range []string{"", "\n", "# only a comment\n"} {
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			sc, err := scenarios.Parse("empty.yaml", []byte(text))
			if err == nil {
				assert.Equal(t, scenarios.Default().Cluster, sc.Cluster)
				return
			}
			se := asError(t, err)
			assert.GreaterOrEqual(t, se.Line, 1, "line of %v", err)
			assert.GreaterOrEqual(t, se.Column, 1, "column of %v", err)
		})
	}
}

func TestShippedScenariosLoad(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no shipped scenarios found")
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			sc, err := scenarios.Load(f)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(f, ".yaml"), sc.Name, "a scenario's name is its file's")
			assert.Equal(t, f, sc.File())
			assert.NotEmpty(t, sc.Description)
			assert.GreaterOrEqual(t, sc.Cluster.Nodes, 1)
			assert.Positive(t, sc.Cluster.ElectionTimeout)
			assert.NotEmpty(t, sc.Measures, "a shipped scenario measures something")
			for _, m := range sc.Measures {
				assert.NotEmpty(t, m.Mode, "measure %s", m.Name)
				assert.NotEmpty(t, m.From, "measure %s", m.Name)
			}
			require.NoError(t, sc.Validate(), "a loaded scenario validates again")
		})
	}
}

func TestDefaultsFillWhatAFileLeavesOut(t *testing.T) {
	sc, err := scenarios.Parse("min.yaml", []byte("measures:\n  - name: up\n    until: up\nfaults:\n  - at: 1s\n    heal: true\n"))
	require.NoError(t, err)
	def := scenarios.Default()
	assert.Equal(t, "scenario", sc.Name)
	assert.Equal(t, def.Cluster, sc.Cluster)
	assert.Equal(t, def.World, sc.World)
	assert.Equal(t, def.Limit, sc.Limit)
	require.Len(t, sc.Measures, 1)
	assert.Equal(t, "polled", sc.Measures[0].Mode)
	assert.Equal(t, "start", sc.Measures[0].From)
	assert.Equal(t, scenarios.DefaultPoll, sc.Measures[0].Poll)
	require.Len(t, sc.Faults, 1)
	assert.Equal(t, "heal", sc.Faults[0].Name)
}

func ptr[T any](v T) *T { return &v }

func TestApplyValidatesAgain(t *testing.T) {
	// Kills 5 of 9; with fewer than 5 nodes the step no longer fits.
	const killFive = `name: kill-five
cluster:
  nodes: 9
faults:
  - name: kill
    at: 2s
    kill:
      count: 5
measures:
  - name: recovered
    from: kill
    until: up
`
	const killNode7 = `name: kill-seven
cluster:
  nodes: 9
faults:
  - at: 2s
    kill:
      nodes: [7]
measures:
  - name: up
    until: up
`
	tests := []struct {
		name  string
		file  string // a shipped scenario, or
		text  string // inline text
		o     scenarios.Overrides
		field string // "": no error
		flag  string // an out-of-bound override: refused, naming the flag
		line  int
		col   int
	}{
		{name: "kill-half with 2 nodes", file: "kill-half.yaml", o: scenarios.Overrides{Nodes: ptr(2)}},
		{name: "kill-half with 1 node", file: "kill-half.yaml", o: scenarios.Overrides{Nodes: ptr(1)}},
		{name: "kill-leader with 3 nodes", file: "kill-leader.yaml", o: scenarios.Overrides{Nodes: ptr(3)}},
		{name: "kill-half with 0 nodes", file: "kill-half.yaml", o: scenarios.Overrides{Nodes: ptr(0)}, flag: "--nodes"},
		{name: "startup with -3 nodes", file: "startup.yaml", o: scenarios.Overrides{Nodes: ptr(-3)}, flag: "--nodes"},
		{name: "kill-half with a zero election timeout", file: "kill-half.yaml",
			o: scenarios.Overrides{ElectionTimeout: ptr(sim.Time(0))}, flag: "--election-timeout"},
		{name: "kill-half with 0 seeds", file: "kill-half.yaml", o: scenarios.Overrides{Seeds: ptr(0)}, flag: "--seeds"},
		{name: "kill 5 of 5", text: killFive, o: scenarios.Overrides{Nodes: ptr(5)}},
		{name: "kill 5 of 4", text: killFive, o: scenarios.Overrides{Nodes: ptr(4)},
			field: "faults[0].kill.count", line: 8, col: 14},
		{name: "kill node 7 of 7", text: killNode7, o: scenarios.Overrides{Nodes: ptr(7)}},
		{name: "kill node 7 of 6", text: killNode7, o: scenarios.Overrides{Nodes: ptr(6)},
			field: "faults[0].kill.nodes[0]", line: 7, col: 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sc *scenarios.Scenario
			var err error
			name := tt.file
			if tt.file != "" {
				sc, err = scenarios.Load(tt.file)
			} else {
				name = "inline.yaml"
				sc, err = scenarios.Parse(name, []byte(tt.text))
			}
			require.NoError(t, err, "before the overrides")
			err = sc.Apply(tt.o)
			if tt.flag != "" {
				var oe *scenarios.OverrideError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, tt.flag, oe.Flag)
				return
			}
			if tt.field == "" {
				require.NoError(t, err)
				if tt.o.Nodes != nil {
					assert.Equal(t, *tt.o.Nodes, sc.Cluster.Nodes)
				}
				return
			}
			se := asError(t, err)
			assert.Equal(t, tt.field, se.Field)
			prefix := fmt.Sprintf("%s:%d:%d: %s: ", name, tt.line, tt.col, tt.field)
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "want prefix %q, got %q", prefix, err.Error())
		})
	}
}

func TestApplySetsEveryOverride(t *testing.T) {
	sc, err := scenarios.Load("startup.yaml")
	require.NoError(t, err)
	require.NoError(t, sc.Apply(scenarios.Overrides{
		Nodes: ptr(21), ElectionTimeout: ptr(250 * sim.Millisecond), Seed: ptr(uint64(7)), Seeds: ptr(20),
	}))
	assert.Equal(t, 21, sc.Cluster.Nodes)
	assert.Equal(t, 250*sim.Millisecond, sc.Cluster.ElectionTimeout)
	assert.Equal(t, uint64(7), sc.Seed)
	assert.Equal(t, 20, sc.Seeds)
	assert.Equal(t, "raftsim run startup.yaml --nodes 21 --election-timeout 250ms --seed 9", sc.ReplayCommand(9))

	// Nil overrides keep the file's values.
	require.NoError(t, sc.Apply(scenarios.Overrides{}))
	assert.Equal(t, 21, sc.Cluster.Nodes)
}

// FuzzParse: whatever the text, Parse does not panic, and fails only with
// a positioned *scenarios.Error; what it accepts validates again.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"*.yaml", "testdata/bad/*.yaml"} {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		seeds = append(seeds, files...)
	}
	require.NotEmpty(f, seeds)
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{"---\n", "null\n", "[]\n", "name: [\n", "cluster:\n  nodes: 99999999999999999999\n",
		"faults:\n  - at: 1s\n    kill: {count: minority}\n", "limit: -1s\n", "seeds: 0x10\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var sc *scenarios.Scenario
		var err error
		require.NotPanics(t, func() { sc, err = scenarios.Parse("fuzz.yaml", data) })
		if err != nil {
			require.Nil(t, sc)
			se := asError(t, err)
			assert.Equal(t, "fuzz.yaml", se.File)
			assert.GreaterOrEqual(t, se.Line, 1)
			assert.GreaterOrEqual(t, se.Column, 1)
			assert.NotEmpty(t, se.Msg)
			var target *scenarios.Error
			assert.True(t, errors.As(err, &target))
			return
		}
		require.NotNil(t, sc)
		require.NoError(t, sc.Validate())
		assert.GreaterOrEqual(t, sc.Cluster.Nodes, 1)
	})
}
