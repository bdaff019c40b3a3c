package scenarios

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/netmodel"
	"go.yaml.in/yaml/v4"
)

// Marshal writes the scenario as a scenario file: Parse reads it back to
// an equal scenario (the fuzzer's reproducers depend on it, and a test
// checks it over random scenarios). Only what differs from the defaults is
// written, so the file says what is special about the scenario.
func (sc *Scenario) Marshal() ([]byte, error) {
	root, err := encodeStruct(reflect.ValueOf(sc).Elem(), reflect.ValueOf(Default()).Elem())
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	return buf.Bytes(), nil
}

var (
	bytesType       = reflect.TypeOf(Bytes(0))
	countType       = reflect.TypeOf(Count{})
	datachannelType = reflect.TypeOf(Datachannel{})
	kvType          = reflect.TypeOf(KVWorkload{})
	measureType     = reflect.TypeOf(Measure{})
	faultType       = reflect.TypeOf(Fault{})
)

// encodeStruct encodes the fields of v that differ from base (the value
// the field takes when a file leaves it out).
func encodeStruct(v, base reflect.Value) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, inline, _ := strings.Cut(tag, ",")
		fv, fb := v.Field(i), base.Field(i)
		if inline == "inline" {
			sub, err := encodeStruct(fv, fb)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, sub.Content...)
			continue
		}
		if reflect.DeepEqual(fv.Interface(), fb.Interface()) {
			continue
		}
		n, err := encodeValue(fv, fb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if n == nil {
			continue
		}
		m.Content = append(m.Content, scalar("!!str", name), n)
	}
	return m, nil
}

// encodeValue encodes one value; base is what an omitted value becomes.
func encodeValue(v, base reflect.Value) (*yaml.Node, error) {
	switch v.Type() {
	case timeType:
		return scalar("!!str", time.Duration(v.Int()).String()), nil
	case bytesType:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case countType:
		c := v.Interface().(Count)
		if c.Minority {
			return scalar("!!str", "minority"), nil
		}
		return scalar("!!int", strconv.Itoa(c.N)), nil
	case datachannelType:
		return encodeDatachannel(v.Interface().(Datachannel).Mode), nil
	case faultType:
		return encodeFault(v.Interface().(Fault))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, nil // a nil pointer is what an omitted field gives
		}
		return encodeValue(v.Elem(), omitted(v.Elem()))
	case reflect.Struct:
		return encodeStruct(v, base)
	case reflect.Slice:
		if v.Len() == 0 {
			return nil, nil
		}
		s := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range v.Len() {
			n, err := encodeValue(v.Index(i), omitted(v.Index(i)))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if n == nil {
				n = &yaml.Node{Kind: yaml.MappingNode}
			}
			s.Content = append(s.Content, n)
		}
		if v.Type().Elem().Kind() != reflect.Struct {
			s.Style = yaml.FlowStyle
		}
		return s, nil
	case reflect.String:
		return scalar("!!str", v.String()), nil
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float64:
		return scalar("!!float", strconv.FormatFloat(v.Float(), 'g', -1, 64)), nil
	}
	return nil, fmt.Errorf("cannot write a %s", v.Type())
}

// omitted returns what a struct written inside a list or behind a pointer
// holds for the fields the file leaves out: zero, or the defaults that
// fillDefaults gives the KV workload and measures.
func omitted(v reflect.Value) reflect.Value {
	switch v.Type() {
	case kvType:
		var kv KVWorkload
		kv.fillDefaults(func(string) bool { return false })
		return reflect.ValueOf(kv)
	case measureType:
		// A measure always writes its poll: its default depends on the
		// condition.
		m := v.Interface().(Measure)
		return reflect.ValueOf(Measure{Poll: m.Poll + 1})
	}
	return reflect.Zero(v.Type())
}

// encodeDatachannel writes a mode by name when it has one, else as the
// RTCDataChannelInit mapping.
func encodeDatachannel(m netmodel.ChannelMode) *yaml.Node {
	if _, err := netmodel.ParseChannelMode(m.String()); err == nil {
		return scalar("!!str", m.String())
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	n.Content = append(n.Content, scalar("!!str", "ordered"), scalar("!!bool", strconv.FormatBool(!m.Unordered)))
	switch m.Reliability {
	case netmodel.LimitRetransmits:
		n.Content = append(n.Content, scalar("!!str", "max_retransmits"), scalar("!!int", strconv.Itoa(m.MaxRetransmits)))
	case netmodel.LimitLifetime:
		n.Content = append(n.Content, scalar("!!str", "max_packet_lifetime"), scalar("!!str", time.Duration(m.MaxPacketLifeTime).String()))
	}
	return n
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}
