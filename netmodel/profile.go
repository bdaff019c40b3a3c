// Package netmodel is the modeled world raftsim runs Raft in: browser tabs
// with single-threaded event loops, WebRTC datachannels over lossy links,
// and a PeerJS-like signaling server. It hosts one raft.Raft per tab and
// drives it with the simulator's clock.
//
// Defaults come from docs/facts/netmodel-parameters.md (cited below as
// "facts §N"); values the facts mark unverified are marked U here too.
package netmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/raftsim/raftsim/sim"
)

// DistKind names a latency distribution.
type DistKind string

// Latency distributions.
const (
	DistConstant  DistKind = "constant"
	DistUniform   DistKind = "uniform"   // Mean ± Jitter
	DistLognormal DistKind = "lognormal" // mean Mean, standard deviation Jitter
)

// Latency is a one-way delay distribution.
type Latency struct {
	Dist   DistKind
	Mean   sim.Time
	Jitter sim.Time
}

// Validate reports an unusable distribution.
func (l Latency) Validate() error {
	switch l.Dist {
	case DistConstant, DistUniform, DistLognormal:
	default:
		return fmt.Errorf("unknown latency distribution %q (want constant, uniform or lognormal)", l.Dist)
	}
	if l.Mean < 0 || l.Jitter < 0 {
		return fmt.Errorf("latency mean and jitter must not be negative")
	}
	if l.Dist == DistUniform && l.Jitter > l.Mean {
		return fmt.Errorf("uniform latency jitter %v exceeds mean %v", l.Jitter, l.Mean)
	}
	return nil
}

// Sample draws one delay.
func (l Latency) Sample(r *rand.Rand) sim.Time {
	switch l.Dist {
	case DistUniform:
		if l.Jitter == 0 {
			return l.Mean
		}
		return l.Mean - l.Jitter + sim.Time(r.Int64N(int64(2*l.Jitter)+1))
	case DistLognormal:
		if l.Mean == 0 || l.Jitter == 0 {
			return l.Mean
		}
		return l.SampleNormal(r.NormFloat64())
	}
	return l.Mean
}

// SampleNormal draws the latency whose place in the distribution is set
// by z, a standard normal draw: the same quantile as z's (a Gaussian
// copula), so that draws from correlated z are correlated while each
// still has the distribution Sample gives.
func (l Latency) SampleNormal(z float64) sim.Time {
	switch l.Dist {
	case DistUniform:
		if l.Jitter == 0 {
			return l.Mean
		}
		u := 0.5 * math.Erfc(-z/math.Sqrt2) // the normal's CDF at z
		return l.Mean - l.Jitter + sim.Time(math.Round(u*float64(2*l.Jitter)))
	case DistLognormal:
		if l.Mean == 0 || l.Jitter == 0 {
			return l.Mean
		}
		// Parameters of the underlying normal for the given mean and sd.
		m, s := float64(l.Mean), float64(l.Jitter)
		s2 := math.Log(1 + s*s/(m*m))
		mu := math.Log(m) - s2/2
		return sim.Time(math.Exp(mu + math.Sqrt(s2)*z))
	}
	return l.Mean
}

// Profile is a network profile: the one-way latency of every link and its
// loss and duplication rates.
type Profile struct {
	Name string
	// OneMachine: the path between tabs on one machine, which a real
	// world's own loopback is (the browser world adds nothing to it).
	OneMachine bool
	Latency    Latency
	Loss       float64 // probability that one transmission of a message is lost
	Duplicate  float64 // probability that a message is delivered twice
	// Burst, when set, replaces Loss with a Gilbert-Elliott model: losses
	// come in bursts, as on wireless mesh links.
	Burst *GilbertElliott
	// Bandwidth is each link's sending rate in bytes per second (0:
	// unlimited); a message waits for the ones queued before it.
	Bandwidth float64
}

// Profiles are the built-in network profiles (facts §4; one-way delay is
// half the RTT given there).
var Profiles = map[string]Profile{
	// Two tabs on one machine: RTT 0.3 ms p50, p99 about 1 ms (M).
	"loopback": {Name: "loopback", OneMachine: true, Latency: Latency{Dist: DistLognormal, Mean: 150 * sim.Microsecond, Jitter: 100 * sim.Microsecond}},
	// Two Chromium tabs on one machine, page to page: RTT 0.695 ms
	// median, 0.585-0.865 from the 10th to the 90th percentile (M: the
	// browser world's BenchmarkDatachannelRoundTrip, Chromium 156 on the
	// project's 2-core VM), so one way about 0.35 ms, spread about
	// 0.07 ms. The loopback profile above is the wire alone (pion).
	"chromium": {Name: "chromium", OneMachine: true, Latency: Latency{Dist: DistLognormal, Mean: 350 * sim.Microsecond, Jitter: 70 * sim.Microsecond}},
	// Wired LAN: RTT 0.5 ms (0.2-2), small tail (U: engineering estimate).
	"lan": {Name: "lan", Latency: Latency{Dist: DistLognormal, Mean: 250 * sim.Microsecond, Jitter: 150 * sim.Microsecond}},
	// Wi-Fi: RTT p50 5 ms, p99 about 250 ms (WiFiSeer). A lognormal with
	// one-way median 2.5 ms and p99 125 ms has mean ~10 ms and sd ~40 ms
	// (U: derived). Loss 0.1-1% after MAC retries (U): 0.5%.
	"wifi": {Name: "wifi", Latency: Latency{Dist: DistLognormal, Mean: 10 * sim.Millisecond, Jitter: 40 * sim.Millisecond}, Loss: 0.005},
	// LTE: RTT median 55 ms, sd about 130 ms (Catchpoint 2013); one-way
	// mean ~45 ms, sd ~65 ms (U: derived). Residual loss 0.1-1% (U): 0.5%.
	"lte": {Name: "lte", Latency: Latency{Dist: DistLognormal, Mean: 45 * sim.Millisecond, Jitter: 65 * sim.Millisecond}, Loss: 0.005},
	// Degraded mesh: 3 hops x 5-20 ms, queueing to seconds, 1-10% loss
	// after link retries, bursty (Roofnet; numbers U, to calibrate). The
	// Gilbert-Elliott model spends 1/11 of transmissions in a bad state
	// losing 50%, bursts 5 transmissions long on average, and loses 0.5%
	// in the good state: a mean of about 5%.
	"degraded-mesh": {Name: "degraded-mesh", Latency: Latency{Dist: DistLognormal, Mean: 35 * sim.Millisecond, Jitter: 60 * sim.Millisecond},
		Loss: 0.05, Burst: &GilbertElliott{PGoodToBad: 0.02, PBadToGood: 0.2, LossGood: 0.005, LossBad: 0.5}},
}

// ProfileNames returns the built-in profile names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// LookupProfile returns the named profile or an error listing the known
// ones.
func LookupProfile(name string) (Profile, error) {
	p, ok := Profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown network profile %q (known: %s)", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}

// Reliability is how hard a datachannel tries to deliver a message.
type Reliability uint8

// Reliability kinds (facts §2: the DCEP channel types).
const (
	// Reliable: SCTP retransmits a lost message until it arrives.
	Reliable Reliability = iota
	// LimitRetransmits: at most ChannelMode.MaxRetransmits retransmissions,
	// then the message is abandoned (maxRetransmits).
	LimitRetransmits
	// LimitLifetime: retransmit only until ChannelMode.MaxPacketLifeTime has
	// passed since the first send, then abandon (maxPacketLifeTime).
	LimitLifetime
)

// ChannelMode is a datachannel's delivery guarantee: ordered or not, times
// the reliability. The zero value is ordered and reliable, the WebRTC
// default.
type ChannelMode struct {
	Unordered         bool
	Reliability       Reliability
	MaxRetransmits    int      // with LimitRetransmits
	MaxPacketLifeTime sim.Time // with LimitLifetime
}

// Named datachannel modes (facts §2).
var (
	// OrderedReliable: a lost packet is retransmitted after the SCTP RTO
	// and holds back every later message on the channel (head-of-line).
	OrderedReliable = ChannelMode{}
	// UnorderedReliable: retransmitted, no head-of-line blocking (PeerJS's
	// default, reliable: false, gives this mode).
	UnorderedReliable = ChannelMode{Unordered: true}
	// UnorderedUnreliable: maxRetransmits 0; a lost message is gone and
	// messages overtake each other as their delays differ.
	UnorderedUnreliable = ChannelMode{Unordered: true, Reliability: LimitRetransmits}
)

var channelModeNames = []struct {
	name string
	mode ChannelMode
}{
	{"ordered-reliable", OrderedReliable},
	{"unordered-reliable", UnorderedReliable},
	{"unordered-unreliable", UnorderedUnreliable},
}

// String names the mode: a named mode's name, otherwise a description such
// as "ordered max_retransmits=3".
func (m ChannelMode) String() string {
	for _, n := range channelModeNames {
		if n.mode == m {
			return n.name
		}
	}
	s := "ordered"
	if m.Unordered {
		s = "unordered"
	}
	switch m.Reliability {
	case LimitRetransmits:
		s += " max_retransmits=" + strconv.Itoa(m.MaxRetransmits)
	case LimitLifetime:
		s += " max_packet_lifetime=" + time.Duration(m.MaxPacketLifeTime).String()
	default:
		s += " reliable"
	}
	return s
}

// Validate reports an impossible mode.
func (m ChannelMode) Validate() error {
	switch m.Reliability {
	case Reliable:
	case LimitRetransmits:
		if m.MaxRetransmits < 0 {
			return fmt.Errorf("max_retransmits must not be negative, got %d", m.MaxRetransmits)
		}
	case LimitLifetime:
		if m.MaxPacketLifeTime < 0 {
			return fmt.Errorf("max_packet_lifetime must not be negative")
		}
	default:
		return fmt.Errorf("unknown reliability %d", m.Reliability)
	}
	return nil
}

// ParseChannelMode looks up a named datachannel mode.
func ParseChannelMode(s string) (ChannelMode, error) {
	names := make([]string, len(channelModeNames))
	for i, n := range channelModeNames {
		if n.name == s {
			return n.mode, nil
		}
		names[i] = n.name
	}
	return ChannelMode{}, fmt.Errorf("unknown datachannel mode %q (known: %s)", s, strings.Join(names, ", "))
}

// SCTP retransmission timing as browsers run it (facts §3, Chrome dcSCTP):
// RTO min 400 ms, with WebRTC's backoff cap of 3 s and no retransmission
// limit, so a reliable channel never gives up on a message. At the RTTs
// modeled here SRTT + 4 RTTVAR stays below the minimum, so the first
// retransmission waits RTOMin.
const (
	RTOMin        = 400 * sim.Millisecond
	RTOBackoffCap = 3 * sim.Second
)
