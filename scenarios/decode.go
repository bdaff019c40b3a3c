package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/sim"
	"go.yaml.in/yaml/v4"
)

// Error is a scenario file error at a position, naming the field.
type Error struct {
	File         string
	Line, Column int
	Field        string
	Msg          string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Field, e.Msg)
}

type pos struct{ line, col int }

// decoder fills Go values from a YAML node tree, strictly: unknown fields,
// wrong types and duplicate keys are errors with their position. It
// remembers where each field was written, so that validation errors can
// point at the line too.
type decoder struct {
	file string
	pos  map[string]pos
}

var timeType = reflect.TypeOf(sim.Time(0))

// yamlDecoder lets a type decode itself from a node.
type yamlDecoder interface {
	decodeYAML(d *decoder, n *yaml.Node, field string) error
}

func (d *decoder) errAt(n *yaml.Node, field, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Column: n.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// errAtField returns an error at the position recorded for field.
func (d *decoder) errAtField(field, format string, args ...any) error {
	p, ok := d.pos[field]
	if !ok {
		p = pos{1, 1}
	}
	return &Error{File: d.file, Line: p.line, Column: p.col, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) error {
	if n.Kind == 0 {
		return nil // an empty file or one holding only comments: all defaults
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		return d.errAt(n, field, "YAML aliases are not supported")
	}
	if field != "" {
		d.pos[field] = pos{n.Line, n.Column}
	}
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(yamlDecoder); ok {
			if err := u.decodeYAML(d, n, field); err != nil {
				var positioned *Error
				if errors.As(err, &positioned) {
					return err
				}
				return d.errAt(n, field, "%v", err)
			}
			return nil
		}
	}
	if v.Kind() == reflect.Pointer {
		if n.Tag == "!!null" {
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), field)
	}
	if v.Type() == timeType {
		if n.Kind != yaml.ScalarNode {
			return d.errAt(n, field, "want a duration such as 500ms or 3s")
		}
		dur, err := parseDuration(n.Value)
		if err != nil {
			return d.errAt(n, field, "%v", err)
		}
		v.SetInt(int64(dur))
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, field)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, field, "want a list")
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, field, "want a %s, got a %s", kindName(v.Kind()), nodeKindName(n.Kind))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return d.errAt(n, field, "want true or false, got %q", n.Value)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return d.errAt(n, field, "want an integer, got %q", n.Value)
		}
		v.SetInt(i)
	case reflect.Uint64:
		i, err := strconv.ParseUint(n.Value, 10, 64)
		if err != nil {
			return d.errAt(n, field, "want a non-negative integer, got %q", n.Value)
		}
		v.SetUint(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			return d.errAt(n, field, "want a number, got %q", n.Value)
		}
		v.SetFloat(f)
	default:
		return d.errAt(n, field, "unsupported field type %s", v.Type())
	}
	return nil
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, field string) error {
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, field, "want a mapping of fields, got a %s", nodeKindName(n.Kind))
	}
	index := map[string][]int{}
	collectFields(v.Type(), nil, index)
	known := make([]string, 0, len(index))
	for name := range index {
		known = append(known, name)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := k.Value
		if field != "" {
			sub = field + "." + k.Value
		}
		fi, ok := index[k.Value]
		if !ok {
			return d.errAt(k, sub, "unknown field (known fields here: %s)", strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return d.errAt(k, sub, "field given twice")
		}
		seen[k.Value] = true
		if err := d.decode(val, v.FieldByIndex(fi), sub); err != nil {
			return err
		}
	}
	return nil
}

// collectFields maps each YAML field name of t to its field index path,
// flattening fields tagged ",inline".
func collectFields(t reflect.Type, prefix []int, index map[string][]int) {
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		path := append(slices.Clone(prefix), i)
		parts := strings.Split(tag, ",")
		if len(parts) > 1 && parts[1] == "inline" {
			collectFields(t.Field(i).Type, path, index)
			continue
		}
		index[parts[0]] = path
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return k.String()
}

func nodeKindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "node"
}

// parseYAML parses data strictly into out, recording field positions.
func parseYAML(file string, data []byte, out any) (map[string]pos, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlSyntaxError(file, err)
	}
	d := &decoder{file: file, pos: map[string]pos{}}
	if err := d.decode(&root, reflect.ValueOf(out).Elem(), ""); err != nil {
		return nil, err
	}
	return d.pos, nil
}

// yamlSyntaxError turns the parser's error into a positioned one, using
// the position the parser reports (its Mark).
func yamlSyntaxError(file string, err error) error {
	line, col := 1, 1
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var le *yaml.LoadError
	if errors.As(err, &le) {
		if le.Mark.Line > 0 {
			line = le.Mark.Line
		}
		if le.Mark.Column > 0 {
			col = le.Mark.Column
		}
		msg = le.Message
	}
	return &Error{File: file, Line: line, Column: col, Msg: "invalid YAML: " + msg}
}

// parseDuration parses a non-negative duration such as 500ms or 3s.
func parseDuration(s string) (sim.Time, error) {
	if s == "0" {
		return 0, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 500ms or 3s, got %q", s)
	}
	if dur < 0 {
		return 0, fmt.Errorf("duration must not be negative, got %s", s)
	}
	return sim.Time(dur), nil
}
