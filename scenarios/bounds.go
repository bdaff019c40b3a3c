package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Bounds: every numeric field of a scenario carries its range in a
// `bound:"MIN,MAX"` struct tag (durations written as durations, sizes in
// bytes), with ",off" when 0 is also accepted (the feature switched off)
// although it lies below MIN. `bound:"node"` marks a node id, checked
// against the cluster's size by Validate. Slices carry `maxlen:"N"`. One
// walk over the scenario (checkBounds) checks them all, with a positioned
// error naming the field; every float must also be finite. The bounds
// table in docs/scenario-bounds.md is generated from the same tags
// (BoundsTable), so the documentation cannot drift from the checks.

// MaxFileSize is the largest scenario file Load reads.
const MaxFileSize = 4 << 20

// MaxSweepRuns bounds the runs of one sweep (points times seeds).
const MaxSweepRuns = 100_000

// bound is one parsed `bound` tag.
type bound struct {
	min, max float64
	off      bool // 0 is accepted too
	node     bool // a node id, checked by Validate
	text     string
}

// parseBound parses tag for a field of type t; it panics on a malformed
// tag, a programming error caught by TestEveryNumericFieldHasABound.
func parseBound(tag string, t reflect.Type) bound {
	if tag == "node" {
		return bound{node: true, text: "a node id"}
	}
	parts := strings.Split(tag, ",")
	if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "off") {
		panic(fmt.Sprintf("scenarios: malformed bound tag %q", tag))
	}
	b := bound{min: parseBoundValue(parts[0], t), max: parseBoundValue(parts[1], t), off: len(parts) == 3, text: tag}
	return b
}

func parseBoundValue(s string, t reflect.Type) float64 {
	if t == timeType {
		d, err := time.ParseDuration(s)
		if err != nil && s != "0" {
			panic(fmt.Sprintf("scenarios: bound %q is not a duration", s))
		}
		return float64(d)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(fmt.Sprintf("scenarios: bound %q is not a number", s))
	}
	return v
}

// format writes a bound value in the field's unit.
func (b bound) format(v float64, t reflect.Type) string {
	switch t {
	case timeType:
		return formatDuration(time.Duration(v))
	case bytesType:
		return formatBytes(int64(v))
	}
	if t.Kind() == reflect.Uint64 && v >= math.MaxUint64 {
		return "2^64-1"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// formatDuration writes d in its largest whole unit (1h, 65535ms).
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		size   time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond}} {
		if d != 0 && d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	return d.String()
}

func formatBytes(v int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v >= u.size && v%u.size == 0 {
			return strconv.FormatInt(v/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10)
}

// check reports whether v lies within b ("" if so, else why not).
func (b bound) check(v float64, t reflect.Type) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "must be a finite number"
	case b.node:
		return ""
	case b.off && v == 0:
		return ""
	case v < b.min || v > b.max:
		msg := fmt.Sprintf("must be between %s and %s", b.format(b.min, t), b.format(b.max, t))
		if b.off {
			msg += " (or 0: off)"
		}
		return msg + ", got " + b.format(v, t)
	}
	return ""
}

// numeric returns v's value as a float64, and whether v is a number.
func numeric(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

// boundWalker checks the bounds of a value's fields, reporting through
// errAt (the scenario's positioned errors, or the decoder's).
type boundWalker struct {
	errAt func(field, format string, args ...any) error
}

// checkBounds walks the scenario and checks every bound.
func (sc *Scenario) checkBounds() error {
	return boundWalker{sc.errAt}.walkStruct(reflect.ValueOf(sc).Elem(), "")
}

func (sc boundWalker) walkStruct(v reflect.Value, field string) error {
	for _, f := range yamlFields(v.Type(), field) {
		if err := sc.walkValue(v.Field(f.index), f.path, f.Tag); err != nil {
			return err
		}
	}
	return nil
}

// yamlField is a struct field written in YAML, with its field path.
type yamlField struct {
	reflect.StructField
	index int
	path  string // an inlined struct's path is its parent's
}

// yamlFields lists t's YAML fields under the field path field.
func yamlFields(t reflect.Type, field string) []yamlField {
	var out []yamlField
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline := yamlName(f)
		if name == "" && !inline {
			continue
		}
		sub := field
		if !inline {
			sub = joinField(field, name)
		}
		out = append(out, yamlField{f, i, sub})
	}
	return out
}

func (sc boundWalker) walkValue(v reflect.Value, field string, tag reflect.StructTag) error {
	switch {
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return sc.walkValue(v.Elem(), field, tag)
	case v.Kind() == reflect.Slice:
		return sc.walkSlice(v, field, tag)
	case v.Type() == countType:
		return sc.checkField(v.FieldByName("N"), field, tag)
	case v.Type() == faultType:
		return sc.walkFault(v.Interface().(Fault), field)
	case v.Kind() == reflect.Struct:
		return sc.walkStruct(v, field)
	}
	return sc.checkField(v, field, tag)
}

// walkFault walks a fault step: its name and trigger, then its action
// under the action's key.
func (sc boundWalker) walkFault(f Fault, field string) error {
	if err := sc.walkStruct(reflect.ValueOf(&f).Elem(), field); err != nil || f.Action == nil {
		return err
	}
	return sc.walkValue(reflect.ValueOf(f.Action), joinField(field, f.Action.Key()), "")
}

func (sc boundWalker) walkSlice(v reflect.Value, field string, tag reflect.StructTag) error {
	if s := tag.Get("maxlen"); s != "" {
		n, _ := strconv.Atoi(s)
		if v.Len() > n {
			return sc.errAt(field, "at most %d entries, got %d", n, v.Len())
		}
	}
	for i := range v.Len() {
		if err := sc.walkValue(v.Index(i), fmt.Sprintf("%s[%d]", field, i), tag); err != nil {
			return err
		}
	}
	return nil
}

// checkField checks one number against its tag.
func (sc boundWalker) checkField(v reflect.Value, field string, tag reflect.StructTag) error {
	x, ok := numeric(v)
	if !ok {
		return nil
	}
	b := parseBound(tag.Get("bound"), v.Type())
	if msg := b.check(x, v.Type()); msg != "" {
		return sc.errAt(field, "%s", msg)
	}
	return nil
}

// yamlName returns a struct field's YAML name, or inline for an inlined
// struct ("" and false: not a YAML field).
func yamlName(f reflect.StructField) (name string, inline bool) {
	tag := f.Tag.Get("yaml")
	if tag == "" || tag == "-" {
		return "", false
	}
	parts := strings.Split(tag, ",")
	return parts[0], len(parts) > 1 && parts[1] == "inline"
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	if name == "" {
		return parent
	}
	return parent + "." + name
}

// checkSize refuses scenarios whose runs or seeds cannot be counted in
// bounds: too many sweep runs, or seeds that wrap around 2^64.
func (sc *Scenario) checkSize() error {
	points := max(len(sc.Sweep.Nodes), 1) * max(len(sc.Sweep.ElectionTimeout), 1)
	if runs := points * sc.Seeds; runs > MaxSweepRuns {
		return sc.errAt("sweep", "%d points x %d seeds = %d runs; at most %d", points, sc.Seeds, runs, MaxSweepRuns)
	}
	if sc.Seed > math.MaxUint64-uint64(sc.Seeds-1) {
		return sc.errAt("seed", "seed %d plus %d seeds wraps around 2^64", sc.Seed, sc.Seeds)
	}
	return nil
}

// BoundsTable returns the documented bound of every numeric field and
// the longest lists, as Markdown table rows (field, range, unit), in the
// order of the scenario's fields.
func BoundsTable() string {
	var b strings.Builder
	b.WriteString("| field | accepted | unit |\n|---|---|---|\n")
	tableStruct(&b, reflect.TypeOf(Scenario{}), "")
	return b.String()
}

func tableStruct(b *strings.Builder, t reflect.Type, field string) {
	for _, f := range yamlFields(t, field) {
		tableType(b, f.Type, f.path, f.Tag)
	}
}

func tableType(b *strings.Builder, t reflect.Type, field string, tag reflect.StructTag) {
	switch {
	case t.Kind() == reflect.Pointer:
		tableType(b, t.Elem(), field, tag)
	case t.Kind() == reflect.Slice:
		if n := tag.Get("maxlen"); n != "" {
			fmt.Fprintf(b, "| `%s` | at most %s entries | list |\n", field, n)
		}
		tableType(b, t.Elem(), field+"[]", tag)
	case t == countType:
		tableRow(b, reflect.TypeOf(0), field, tag, "nodes, or `minority`")
	case t == datachannelType:
		tableStruct(b, reflect.TypeOf(datachannelInit{}), field)
	case t == faultType:
		tableStruct(b, t, field)
		for _, key := range FaultKeys() {
			tableType(b, reflect.TypeOf(faultRegistry[key].new()), joinField(field, key), "")
		}
	case t.Kind() == reflect.Struct && t != timeType:
		tableStruct(b, t, field)
	default:
		if _, ok := numeric(reflect.Zero(t)); ok {
			tableRow(b, t, field, tag, unitOf(t))
		}
	}
}

func tableRow(b *strings.Builder, t reflect.Type, field string, tag reflect.StructTag, unit string) {
	bd := parseBound(tag.Get("bound"), t)
	accepted := bd.text
	if !bd.node {
		accepted = bd.format(bd.min, t) + " to " + bd.format(bd.max, t)
		if bd.off {
			accepted += ", or 0 (off)"
		}
	} else {
		accepted = "a node id, 1 to `cluster.nodes`"
	}
	fmt.Fprintf(b, "| `%s` | %s | %s |\n", field, accepted, unit)
}

func unitOf(t reflect.Type) string {
	switch {
	case t == timeType:
		return "duration"
	case t == bytesType:
		return "bytes (or KiB, MiB, GiB, TiB)"
	case t.Kind() == reflect.Float64:
		return "number"
	}
	return "integer"
}
