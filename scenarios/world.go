package scenarios

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
	"go.yaml.in/yaml/v4"
)

// This file holds the realistic-world parts of a scenario: datachannel
// modes, per-link overrides, the browser, storage and connections, and the
// fault steps that act on them.

// Datachannel is a datachannel mode, written as a name
// ("ordered-reliable", "unordered-reliable", "unordered-unreliable") or as
// a mapping {ordered, max_retransmits, max_packet_lifetime} with the
// meaning of RTCDataChannelInit.
type Datachannel struct {
	Mode netmodel.ChannelMode
}

// datachannelInit is the mapping form of a Datachannel.
type datachannelInit struct {
	Ordered *bool `yaml:"ordered"`
	// Both are unsigned shorts in RTCDataChannelInit (WebRTC §6.1).
	MaxRetransmits    *int      `yaml:"max_retransmits" bound:"0,65535"`
	MaxPacketLifetime *sim.Time `yaml:"max_packet_lifetime" bound:"0,65535ms"`
}

func (dc *Datachannel) decodeYAML(d *decoder, n *yaml.Node, field string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		m, err := netmodel.ParseChannelMode(n.Value)
		if err != nil {
			return err
		}
		dc.Mode = m
		return nil
	case yaml.MappingNode:
		var init datachannelInit
		if err := d.decodeStruct(n, reflect.ValueOf(&init).Elem(), field); err != nil {
			return err
		}
		if err := (boundWalker{d.errAtField}).walkStruct(reflect.ValueOf(&init).Elem(), field); err != nil {
			return err
		}
		var m netmodel.ChannelMode
		if init.Ordered != nil {
			m.Unordered = !*init.Ordered
		}
		switch {
		case init.MaxRetransmits != nil && init.MaxPacketLifetime != nil:
			// RTCPeerConnection.createDataChannel throws a TypeError too.
			return fmt.Errorf("give max_retransmits or max_packet_lifetime, not both")
		case init.MaxRetransmits != nil:
			m.Reliability, m.MaxRetransmits = netmodel.LimitRetransmits, *init.MaxRetransmits
		case init.MaxPacketLifetime != nil:
			m.Reliability, m.MaxPacketLifeTime = netmodel.LimitLifetime, *init.MaxPacketLifetime
		}
		if err := m.Validate(); err != nil {
			return err
		}
		dc.Mode = m
		return nil
	}
	return fmt.Errorf("want a mode name or a mapping {ordered, max_retransmits, max_packet_lifetime}")
}

// String names the mode.
func (dc Datachannel) String() string { return dc.Mode.String() }

// Bytes is a size in bytes, written as an integer or with a binary suffix
// (KiB, MiB, GiB, TiB).
type Bytes int

func (b *Bytes) decodeYAML(_ *decoder, n *yaml.Node, _ string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a size such as 16384, 16KiB or 5MiB")
	}
	s, mult := n.Value, 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<40)/int64(mult) {
		return fmt.Errorf("want a non-negative size such as 16384, 16KiB or 5MiB, got %q", n.Value)
	}
	*b = Bytes(v * int64(mult))
	return nil
}

// Burst is a Gilbert-Elliott bursty loss model: per transmission the link
// moves good to bad with p_good_to_bad and back with p_bad_to_good, then
// loses the packet with its state's loss rate.
type Burst struct {
	PGoodToBad float64 `yaml:"p_good_to_bad" bound:"0,1"`
	PBadToGood float64 `yaml:"p_bad_to_good" bound:"0,1"`
	LossGood   float64 `yaml:"loss_good" bound:"0,1"`
	LossBad    float64 `yaml:"loss_bad" bound:"0,1"`
}

func (b *Burst) model() *netmodel.GilbertElliott {
	if b == nil {
		return nil
	}
	return &netmodel.GilbertElliott{PGoodToBad: b.PGoodToBad, PBadToGood: b.PBadToGood, LossGood: b.LossGood, LossBad: b.LossBad}
}

func (sc *Scenario) validateBurst(field string, b *Burst) error {
	if b == nil {
		return nil
	}
	if b.LossBad >= 1 && b.PBadToGood == 0 {
		return sc.errAt(field+".p_bad_to_good", "a bad state that loses everything must be left (p_bad_to_good > 0)")
	}
	return nil
}

// Link overrides the world's settings on the directed links from From to
// To (0 matches any tab), so links can be asymmetric. Later entries win.
type Link struct {
	From        uint64       `yaml:"from" bound:"node"`
	To          uint64       `yaml:"to" bound:"node"`
	Latency     *Latency     `yaml:"latency"`
	Loss        *float64     `yaml:"loss" bound:"0,1"`
	Burst       *Burst       `yaml:"burst"`
	Bandwidth   *Bytes       `yaml:"bandwidth" bound:"1,1099511627776"`
	Datachannel *Datachannel `yaml:"datachannel"`
}

// Browser is the tabs' browser: timer clamping and throttling, and a
// random process of visibility changes.
type Browser struct {
	Throttling      bool       `yaml:"throttling"`
	NestedClampMin  sim.Time   `yaml:"nested_clamp_min" bound:"0,10s"`
	HiddenAlign     sim.Time   `yaml:"hidden_align" bound:"1ms,1h,off"`
	IntensiveAlign  sim.Time   `yaml:"intensive_align" bound:"1ms,1h,off"`
	IntensiveGrace  sim.Time   `yaml:"intensive_grace" bound:"0,24h"`
	WebRTCExemption bool       `yaml:"webrtc_exemption"`
	Visibility      Visibility `yaml:"visibility"`
	// TimerLateness: how late each page timer runs after it is due (the
	// model's; a real world's timers are late by themselves). Unset:
	// timers run when due.
	TimerLateness *Latency `yaml:"timer_lateness"`
}

// Visibility is the random visibility process of every tab (all zero:
// tabs stay in the foreground unless a fault step says otherwise).
type Visibility struct {
	MeanForeground     sim.Time `yaml:"mean_foreground" bound:"10ms,24h,off"`
	MeanHidden         sim.Time `yaml:"mean_hidden" bound:"10ms,24h,off"`
	FreezeAfterHidden  sim.Time `yaml:"freeze_after_hidden" bound:"0,24h"`
	DiscardAfterHidden sim.Time `yaml:"discard_after_hidden" bound:"0,24h"`
	ReloadAfter        sim.Time `yaml:"reload_after" bound:"0,24h"`
}

// Storage is each tab's localStorage.
type Storage struct {
	// Quota 0 means unlimited.
	Quota           Bytes    `yaml:"quota" bound:"0,1099511627776"`
	WriteCost       sim.Time `yaml:"write_cost" bound:"0,10s"`
	WriteCostPerKiB sim.Time `yaml:"write_cost_per_kib" bound:"0,10s"`
}

// Connection is connection set-up, ICE failure detection and the
// signaling server.
type Connection struct {
	Setup        bool `yaml:"setup"`
	SetupRTTsMin int  `yaml:"setup_rtts_min" bound:"0,100"`
	SetupRTTsMax int  `yaml:"setup_rtts_max" bound:"0,100"`
	// OpenAtStart: every pair of tabs is connected when Raft starts (the
	// pages meshed first, as the paper's harness and the real worlds do).
	OpenAtStart      bool     `yaml:"open_at_start"`
	SignalingLatency sim.Time `yaml:"signaling_latency" bound:"0,1h"`
	ICEDisconnected  sim.Time `yaml:"ice_disconnected" bound:"0,1h"`
	ICEFailed        sim.Time `yaml:"ice_failed" bound:"0,1h"`
	PingInterval     sim.Time `yaml:"ping_interval" bound:"10ms,1h,off"`
	AliveTimeout     sim.Time `yaml:"alive_timeout" bound:"0,24h"`
	ExpireTimeout    sim.Time `yaml:"expire_timeout" bound:"0,24h"`
}

// defaultTabEnvironment sets the defaults of the tabs' environment (the
// channels, browser timers, storage and connections), each taken from
// netmodel's sourced defaults (cited there, from
// docs/facts/netmodel-parameters.md).
func defaultTabEnvironment(sc *Scenario) {
	ch := netmodel.DefaultChannelOptions()
	sc.World.MaxMessageSize = Bytes(ch.MaxMessageSize)
	sc.World.SCTP = ch.SCTP
	sc.World.SendBufferLimit = Bytes(ch.SendBufferLimit)
	b := netmodel.DefaultBrowserOptions()
	sc.Browser = Browser{Throttling: b.Throttling, NestedClampMin: b.NestedClampMin, HiddenAlign: b.HiddenAlign,
		IntensiveAlign: b.IntensiveAlign, IntensiveGrace: b.IntensiveGrace, WebRTCExemption: b.WebRTCExemption}
	st := netmodel.DefaultStorageOptions()
	sc.Storage = Storage{Quota: Bytes(st.Quota), WriteCost: st.WriteCost, WriteCostPerKiB: st.WriteCostPerKiB}
	c := netmodel.DefaultConnOptions()
	sc.Connection = Connection{Setup: c.Setup, SetupRTTsMin: c.SetupRTTsMin, SetupRTTsMax: c.SetupRTTsMax,
		SignalingLatency: c.SignalingLatency, ICEDisconnected: c.ICEDisconnected, ICEFailed: c.ICEFailed,
		PingInterval: c.PingInterval, AliveTimeout: c.AliveTimeout, ExpireTimeout: c.ExpireTimeout}
}

// tabEnvironmentOptions fills the tabs' environment in the netmodel options.
func (sc *Scenario) tabEnvironmentOptions(o *netmodel.Options) {
	w := &sc.World
	o.Mode = w.Datachannel.Mode
	if w.Bandwidth != nil {
		o.Profile.Bandwidth = float64(*w.Bandwidth)
	}
	if w.Burst != nil {
		o.Profile.Burst = w.Burst.model()
	}
	o.Channel = netmodel.ChannelOptions{MaxMessageSize: int(w.MaxMessageSize), SCTP: w.SCTP, SendBufferLimit: int(w.SendBufferLimit)}
	for _, l := range w.Links {
		lo := netmodel.LinkOverride{From: raft.ID(l.From), To: raft.ID(l.To), Loss: l.Loss, Burst: l.Burst.model()}
		if l.Latency != nil {
			lat := l.Latency.model()
			lo.Latency = &lat
		}
		if l.Bandwidth != nil {
			bw := float64(*l.Bandwidth)
			lo.Bandwidth = &bw
		}
		if l.Datachannel != nil {
			m := l.Datachannel.Mode
			lo.Mode = &m
		}
		o.Channel.Links = append(o.Channel.Links, lo)
	}
	b := &sc.Browser
	v := &b.Visibility
	o.Browser = netmodel.BrowserOptions{Throttling: b.Throttling, NestedClampMin: b.NestedClampMin, HiddenAlign: b.HiddenAlign,
		IntensiveAlign: b.IntensiveAlign, IntensiveGrace: b.IntensiveGrace, WebRTCExemption: b.WebRTCExemption,
		Process: netmodel.VisibilityProcess{MeanForeground: v.MeanForeground, MeanHidden: v.MeanHidden,
			FreezeAfterHidden: v.FreezeAfterHidden, DiscardAfterHidden: v.DiscardAfterHidden, ReloadAfter: v.ReloadAfter}}
	if b.TimerLateness != nil {
		o.Browser.TimerLateness = b.TimerLateness.model()
	}
	o.Storage = netmodel.StorageOptions{Quota: int(sc.Storage.Quota), WriteCost: sc.Storage.WriteCost, WriteCostPerKiB: sc.Storage.WriteCostPerKiB}
	c := &sc.Connection
	o.Conn = netmodel.ConnOptions{Setup: c.Setup, SetupRTTsMin: c.SetupRTTsMin, SetupRTTsMax: c.SetupRTTsMax, OpenAtStart: c.OpenAtStart,
		SignalingLatency: c.SignalingLatency, ICEDisconnected: c.ICEDisconnected, ICEFailed: c.ICEFailed,
		PingInterval: c.PingInterval, AliveTimeout: c.AliveTimeout, ExpireTimeout: c.ExpireTimeout}
}

// validateTabEnvironment checks the tabs' environment. Errors that only
// netmodel can judge (a whole option set) are positioned at the section.
func (sc *Scenario) validateTabEnvironment() error {
	w := &sc.World
	if w.MaxMessageSize > 64<<10 {
		// facts §2: the default cap is 16 KiB and 64 KiB is the most a
		// browser is sure to accept (W3C default max-message-size 65536).
		return sc.errAt("world.max_message_size", "at most 64KiB (65536), got %d", w.MaxMessageSize)
	}
	if w.SCTP != "chrome" && w.SCTP != "pion" {
		return sc.errAt("world.sctp", "want chrome or pion, got %q", w.SCTP)
	}
	if err := sc.validateBurst("world.burst", w.Burst); err != nil {
		return err
	}
	if w.WakeCost > 0 && w.Cores == 0 {
		return sc.errAt("world.wake_cost", "pages take turns on world.cores cores: set cores too (wake cost %v, cores 0)", w.WakeCost)
	}
	n := uint64(sc.Cluster.Nodes)
	for i, l := range w.Links {
		f := fmt.Sprintf("world.links[%d]", i)
		if l.From > n {
			return sc.errAt(f+".from", "node %d does not exist (nodes are 1..%d; 0 means any)", l.From, n)
		}
		if l.To > n {
			return sc.errAt(f+".to", "node %d does not exist (nodes are 1..%d; 0 means any)", l.To, n)
		}
		if err := sc.validateLatency(f+".latency", l.Latency); err != nil {
			return err
		}
		if l.Loss != nil && (*l.Loss < 0 || *l.Loss >= 1) {
			return sc.errAt(f+".loss", "must be in [0, 1), got %v", *l.Loss)
		}
		if err := sc.validateBurst(f+".burst", l.Burst); err != nil {
			return err
		}
	}
	b := &sc.Browser
	for _, t := range []struct {
		name string
		v    sim.Time
	}{{"nested_clamp_min", b.NestedClampMin}, {"hidden_align", b.HiddenAlign}, {"intensive_align", b.IntensiveAlign}} {
		if t.v > 60*sim.Minute {
			return sc.errAt("browser."+t.name, "more than an hour (%v) is surely a mistake", t.v)
		}
	}
	if err := sc.validateLatency("browser.timer_lateness", b.TimerLateness); err != nil {
		return err
	}
	if err := sc.validateKVClient(); err != nil {
		return err
	}
	c := &sc.Connection
	if c.Setup {
		if c.SetupRTTsMin < 0 || c.SetupRTTsMax < c.SetupRTTsMin {
			return sc.errAt("connection.setup_rtts_max", "want 0 <= setup_rtts_min <= setup_rtts_max, got %d..%d", c.SetupRTTsMin, c.SetupRTTsMax)
		}
		if c.ICEFailed < c.ICEDisconnected {
			return sc.errAt("connection.ice_failed", "must not be shorter than ice_disconnected (%v)", c.ICEDisconnected)
		}
		if c.PingInterval <= 0 || c.AliveTimeout <= 0 {
			return sc.errAt("connection.ping_interval", "ping_interval and alive_timeout must be positive")
		}
	}
	// Whatever else netmodel rejects; its message names the section.
	o := sc.WorldOptions()
	if err := o.Validate(); err != nil {
		return sc.errAt("world", "%v", err)
	}
	return nil
}

// validateKVClient checks the KV clients' way to their pages, each side
// an optional latency distribution.
func (sc *Scenario) validateKVClient() error {
	p := sc.World.KVClient
	if p == nil {
		return nil
	}
	if err := sc.validateLatency("world.kv_client.request", p.Request); err != nil {
		return err
	}
	return sc.validateLatency("world.kv_client.answer", p.Answer)
}

// validateLatency checks an optional latency distribution at field.
func (sc *Scenario) validateLatency(field string, l *Latency) error {
	if l == nil {
		return nil
	}
	if err := l.model().Validate(); err != nil {
		return sc.errAt(field, "%v", err)
	}
	return nil
}

func (l *Latency) model() netmodel.Latency {
	return netmodel.Latency{Dist: netmodel.DistKind(l.Dist), Mean: l.Mean, Jitter: l.Jitter}
}

// model is the path in netmodel's terms (a side left out: none).
func (p *KVClientPath) model() netmodel.KVClientPath {
	var out netmodel.KVClientPath
	if p == nil {
		return out
	}
	if p.Request != nil {
		out.Request = p.Request.model()
	}
	if p.Answer != nil {
		out.Answer = p.Answer.model()
	}
	return out
}
