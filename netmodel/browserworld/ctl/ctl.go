// Package ctl is the control protocol between the browserworld harness
// and a tab program: JSON messages on the socket the tab opens to the
// harness at /ctl?id=N, each WebSocket frame a JSON array of the messages
// one side had ready at once (a frame per message cost a renderer a
// WebSocket send and a JSON round per write: see EncodeFrame). It imports no browser
// or harness code, so both sides (the tab compiled to WebAssembly, the
// harness natively) share it.
package ctl

import (
	"encoding/json"
	"fmt"

	"github.com/raftsim/raftsim/app"
	"github.com/raftsim/raftsim/host"
	"github.com/raftsim/raftsim/netmodel"
	"github.com/raftsim/raftsim/raft"
	"github.com/raftsim/raftsim/sim"
)

// Message types, harness to tab.
const (
	// Init: restore storage from localStorage and register with the
	// signaling server (Init fields); the tab answers Registered.
	Init = "init"
	// Connect: offer a PeerConnection to each of Peers.
	Connect = "connect"
	// Start: start Raft from storage (the first batch arms the timers);
	// with Campaign, campaign at once.
	Start = "start"
	// Propose: submit Cmd; the tab answers Result with the same Req.
	Propose = "propose"
	// ChatStart: a chat user (host.Chat, ChatID) lives in the tab from
	// now on, its clock's time 0 at Start (ns since the epoch); the tab
	// reports ChatReport whenever it changes.
	ChatStart = "chat-start"
	// ChatPush: the user queues Lines lines.
	ChatPush = "chat-push"
)

// Message types, tab to harness.
const (
	Registered = "registered"
	Batch      = "batch"
	Result     = "result"
	Channel    = "channel" // a datachannel to Peer opened (Open) or closed
	Log        = "log"     // Text: something the harness should know (an error)
	Failed     = "failed"  // the node cannot go on (Text: why)
	ChatReport = "chat"    // the chat user's state (Chat)
)

// Msg is one control message; Type says which fields are set.
type Msg struct {
	Type string `json:"type"`

	// Init
	ID        raft.ID               `json:"id,omitempty"`
	Voters    []raft.ID             `json:"voters,omitempty"`
	Raft      *netmodel.RaftOptions `json:"raft,omitempty"`
	Seed      uint64                `json:"seed,omitempty"`
	Inc       int                   `json:"inc,omitempty"` // the incarnation: one more per restart
	SignalURL string                `json:"signal,omitempty"`
	// Trace: the harness writes a trace, so the tab reports its trace
	// events (Observation.Events); without it the tab records none.
	Trace bool `json:"trace,omitempty"`
	// Channel: the datachannel every pair of tabs shares.
	Channel *netmodel.ChannelMode `json:"channel,omitempty"`
	// Presence: the paper's membership; as leader, the tab adds and
	// removes tabs 1..Nodes as the signaling server lists them.
	Presence bool `json:"presence,omitempty"`
	Nodes    int  `json:"nodes,omitempty"`
	// Relay, if set: every connection goes through this TURN server
	// (iceTransportPolicy "relay"), which impairs the packets.
	Relay *Relay `json:"relay,omitempty"`

	// Connect
	Peers []raft.ID `json:"peers,omitempty"`

	// Start: Campaign, the paper's first server campaigns at once.
	Campaign bool `json:"campaign,omitempty"`

	// Propose, Result
	Req    uint64       `json:"req,omitempty"`
	Cmd    *app.Command `json:"cmd,omitempty"`
	Res    *app.Result  `json:"res,omitempty"`
	Reject string       `json:"reject,omitempty"` // the proposal was refused

	// Registered: what the tab restored from localStorage.
	Restored *Restored `json:"restored,omitempty"`

	// Batch
	Obs *Observation `json:"obs,omitempty"`

	// Channel
	Peer raft.ID `json:"peer,omitempty"`
	Open bool    `json:"open,omitempty"`

	// Log, Failed
	Text string `json:"text,omitempty"`

	// ChatStart, ChatPush, Chat
	ChatID uint64     `json:"chat_id,omitempty"`
	Start  int64      `json:"start,omitempty"`
	Lines  int        `json:"lines,omitempty"`
	Chat   *ChatState `json:"chat,omitempty"`
}

// ChatState is a tab's chat user as the runner reads it.
type ChatState struct {
	Pending, Acked int
	History        []host.ChatRecord
}

// Relay is a TURN server as an RTCIceServer names it.
type Relay struct {
	URL        string `json:"url"`
	Username   string `json:"username"`
	Credential string `json:"credential"`
}

// Restored is what a tab found in its localStorage on load.
type Restored struct {
	Found     bool           `json:"found"`
	HardState raft.HardState `json:"hard"`
	LastIndex uint64         `json:"last"`
	Bytes     int            `json:"bytes"` // the stored JSON's length
	// Discarded: the page was loaded again after a discard (Chrome's
	// document.wasDiscarded; here the page's ?discarded=1).
	Discarded bool `json:"discarded,omitempty"`
	// Storage is what the tab restored: the harness's mirror of the tab's
	// storage starts again from it (a page closed between persisting a
	// batch and reporting it would otherwise leave the mirror behind).
	Storage *host.Storage `json:"storage,omitempty"`
}

// Observation is one executed batch of a tab: the status before and
// after it, and the parts of its raft.Ready the harness needs to mirror
// the tab's storage (host.Storage.Write) and to feed a checker.
type Observation struct {
	Prev, Cur        raft.Status
	HardState        raft.HardState
	HardStateChanged bool           `json:",omitempty"`
	Entries          []raft.Entry   `json:",omitempty"`
	Snapshot         *raft.Snapshot `json:",omitempty"`
	Messages         []raft.Message `json:",omitempty"`
	Committed        []raft.Entry   `json:",omitempty"`
	// ChatLines is how many chat lines the tab has applied.
	ChatLines int `json:",omitempty"`
	// At is the machine's clock in ns since the epoch when the batch
	// ended (as the events': the harness times exact measures by it).
	At sim.Time
	// Events are the tab's trace events since its last batch (sends,
	// deliveries, the host's role, term, append, commit... events), in
	// order, each stamped with the machine's clock in ns since the epoch
	// (the tabs share it, so the harness can order them all).
	Events []sim.Event `json:",omitempty"`
}

// Observe makes the observation of a batch.
func Observe(prev, cur raft.Status, rd *raft.Ready, at sim.Time) *Observation {
	return &Observation{Prev: prev, Cur: cur, HardState: rd.HardState, HardStateChanged: rd.HardStateChanged,
		Entries: rd.Entries, Snapshot: rd.Snapshot, Messages: rd.Messages, Committed: rd.Committed, At: at}
}

// Ready rebuilds the batch's raft.Ready (without timers and read states).
func (o *Observation) Ready() raft.Ready {
	return raft.Ready{HardState: o.HardState, HardStateChanged: o.HardStateChanged, Entries: o.Entries,
		Snapshot: o.Snapshot, Messages: o.Messages, Committed: o.Committed}
}

// EncodeFrame encodes msgs as one frame. Sending what is ready as one
// frame is what lets a pipelined benchmark batch: the tab submits every
// proposal of a frame and then runs Raft once, so one batch carries them
// all (measured in docs/worlds.md, "WRaft's own benchmark").
func EncodeFrame(msgs []Msg) ([]byte, error) {
	b, err := json.Marshal(msgs)
	if err != nil {
		return nil, fmt.Errorf("ctl: encoding a frame of %d messages: %w", len(msgs), err)
	}
	return b, nil
}

// DecodeFrame decodes a frame made by EncodeFrame.
func DecodeFrame(b []byte) ([]Msg, error) {
	var msgs []Msg
	if err := json.Unmarshal(b, &msgs); err != nil {
		return nil, fmt.Errorf("ctl: decoding a frame: %w", err)
	}
	return msgs, nil
}
