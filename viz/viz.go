// Package viz turns a raftsim trace into a step-through web page: served
// on 127.0.0.1, or written as one self-contained HTML file. The page's
// assets are embedded; nothing is fetched from the network.
package viz

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/raftsim/raftsim/sim"
)

//go:embed assets
var assets embed.FS

// ErrEmptyTrace: the trace holds no events.
var ErrEmptyTrace = errors.New("the trace holds no events")

// MaxNode is the highest node id a trace may name: the page draws every
// node up to the highest, so a wild id would stall it.
const MaxNode = 1 << 16

// Trace is a trace prepared for the page: events as compact rows, with
// the strings they use in a table.
type Trace struct {
	Name    string   `json:"name"`
	Nodes   int      `json:"nodes"` // nodes are 1..Nodes; clients are not nodes
	End     int64    `json:"end"`   // virtual ns of the last event
	Strings []string `json:"strings"`
	// Events: [time, kind, node, peer, term, index, msg string, detail string].
	Events [][8]int64 `json:"events"`
	// Instants: the events whose message the network held or lost later
	// than the event says, [event (0-based), lost, tx, rx] (sim.Event's
	// Lost, Tx and Rx; 0: none), in event order. Few events have them,
	// so they are kept apart rather than widening every event.
	Instants [][4]int64 `json:"instants"`
	Kinds    []string   `json:"kinds"`
	History  string     `json:"history,omitempty"` // link to a porcupine page
	// Measures: the measure events, each with its interval's phases.
	Measures []Measure `json:"measures"`
	// Operations: the client operations, call to return.
	Operations []Operation `json:"operations"`
}

// Load reads a JSONL trace. A malformed or truncated line is an error
// naming the line.
func Load(r io.Reader, name string) (*Trace, error) {
	events, err := sim.ReadTrace(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmptyTrace)
	}
	t := &Trace{Name: name}
	index := map[string]int64{}
	str := func(s string) int64 {
		if i, ok := index[s]; ok {
			return i
		}
		i := int64(len(t.Strings))
		t.Strings = append(t.Strings, s)
		index[s] = i
		return i
	}
	str("")
	for k := sim.Kind(1); ; k++ {
		n := k.String()
		if strings.HasPrefix(n, "kind(") {
			break
		}
		t.Kinds = append(t.Kinds, n)
	}
	var last int64
	for i, e := range events {
		if int64(e.Time) < last {
			return nil, fmt.Errorf("%s: event %d goes back in time (%v after %v)", name, i+1, e.Time, sim.Time(last))
		}
		last = int64(e.Time)
		node := e.Node
		if peerIsNode(e.Kind) {
			node = max(node, e.Peer)
		}
		if node > MaxNode {
			return nil, fmt.Errorf("%s: event %d names node %d; the page draws at most %d", name, i+1, node, MaxNode)
		}
		t.Nodes = max(t.Nodes, int(node))
		t.Events = append(t.Events, [8]int64{int64(e.Time), int64(e.Kind), int64(e.Node), int64(e.Peer),
			int64(e.Term), int64(e.Index), str(e.Msg), str(e.Detail)})
		if e.Lost|e.Tx|e.Rx != 0 {
			t.Instants = append(t.Instants, [4]int64{int64(i), int64(e.Lost), int64(e.Tx), int64(e.Rx)})
		}
	}
	t.End = last
	t.Measures = measures(events)
	t.Operations = operations(events)
	return t, nil
}

// peerIsNode reports whether an event of kind k names a node in its
// peer field. Every kind names a node (or none, 0) in its node field, but
// only messages (send, deliver, drop) and faults (a message fragmented
// from node to peer) name one in the peer field: a client event's peer
// is the client's id (1001 and up in KV traces), which must not become
// a node of the drawing.
func peerIsNode(k sim.Kind) bool {
	switch k {
	case sim.KindSend, sim.KindDeliver, sim.KindDrop, sim.KindFault:
		return true
	}
	return false
}

// pageTmpl is index.html; the assets are embedded, so a parse error is
// a build mistake and panics at start-up.
var pageTmpl = template.Must(template.ParseFS(assets, "assets/index.html"))

// appJS and appCSS are the page's script and style, inlined verbatim.
// The script is the diagram's and the timeline's files, then app.js,
// which uses them.
var appJS, appCSS = mustAsset("assets/spacetime.js") + mustAsset("assets/timeline.js") + mustAsset("assets/app.js"), mustAsset("assets/style.css")

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// historyCSP is the policy of the porcupine history page. That page is
// porcupine's own HTML, with inline scripts, styles and handlers we do
// not control and cannot hash ahead of time, so its policy allows inline
// code ('unsafe-inline') but nothing from anywhere: no fetches, frames or
// images from the network, so even an injection there cannot send data
// away or load more script.
const historyCSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// jsonCSP is the policy of /trace.json: nothing, should it be rendered.
const jsonCSP = "default-src 'none'; frame-ancestors 'none'"

// hashSource is the CSP source expression for an inline block whose text
// (exactly what lies between its tags) is text.
func hashSource(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// policy is the page's Content-Security-Policy: nothing but the inline
// scripts and styles given, by hash. The served page may also fetch its
// own trace.json; frame-ancestors works only in a header, so it is left
// out of the standalone page's meta tag (where browsers ignore it).
func policy(served bool, scripts, styles []string) string {
	src := func(directive string, blocks []string) string {
		for _, b := range blocks {
			directive += " " + hashSource(b)
		}
		return directive
	}
	p := []string{"default-src 'none'", src("script-src", scripts), src("style-src", styles), "base-uri 'none'", "form-action 'none'"}
	if served {
		p = append(p, "connect-src 'self'", "frame-ancestors 'none'")
	}
	return strings.Join(p, "; ")
}

// inline checks that text can go between <tag> and </tag> whole: it must
// not hold the closing tag (in any case) or a comment opener, which
// would end the block early or change how it is parsed. Trace strings
// cannot: json.Marshal writes <, > and & as \u escapes.
func inline(tag, text string) error {
	low := strings.ToLower(text)
	if strings.Contains(low, "</"+tag) || strings.Contains(low, "<!--") {
		return fmt.Errorf("viz: the inline %s block would hold </%s or <!--", tag, tag)
	}
	return nil
}

// dataOpen and dataClose enclose the standalone page's trace: a JSON
// data block, which the browser does not run (so the policy need not
// admit it) and the script reads with JSON.parse, much faster than
// compiling the same data as a script literal.
const (
	dataOpen  = `<script type="application/json" id="trace">`
	dataClose = `</script>`
)

// pair is the data of a page of two traces: the traces, A then B, and
// where they first differ. (A page of one trace carries the Trace.)
type pair struct {
	Traces  [2]*Trace  `json:"traces"`
	Compare Difference `json:"compare"`
}

// pageData is the JSON a page carries or fetches: the trace, or with b
// the pair, and the page's title.
func pageData(t, b *Trace) ([]byte, string, error) {
	if b == nil {
		data, err := json.Marshal(t)
		return data, t.Name, err
	}
	data, err := json.Marshal(pair{Traces: [2]*Trace{t, b}, Compare: Compare(t, b)})
	return data, t.Name + " vs " + b.Name, err
}

// page renders index.html with the trace (or with b, both traces and
// their difference) inlined (standalone) or fetched, and returns it with
// its Content-Security-Policy. Every string of the trace reaches the
// page escaped: the title by html/template, the trace as JSON with <, >
// and & escaped (so it cannot hold "</script" or "<!--"); the page's
// script puts strings into the document only as text. The policy names
// the inline blocks by the hashes of exactly the text written between
// their tags.
func page(t, b *Trace, standalone bool) ([]byte, string, error) {
	data, title, err := pageData(t, b)
	if err != nil {
		return nil, "", err
	}
	if !standalone {
		data = nil
	}
	for _, b := range [...][2]string{{"script", string(data)}, {"script", appJS}, {"style", appCSS}} {
		if err := inline(b[0], b[1]); err != nil {
			return nil, "", err
		}
	}
	csp := policy(!standalone, []string{appJS}, []string{appCSS})
	var meta template.HTML
	if standalone {
		meta = template.HTML(`<meta http-equiv="Content-Security-Policy" content="` + html.EscapeString(csp) + `">`)
	}
	var buf bytes.Buffer
	err = pageTmpl.Execute(&buf, map[string]any{
		"Title": title, "CSP": meta, "CSS": template.CSS(appCSS), "Data": template.JS(data), "JS": template.JS(appJS),
	})
	if err != nil {
		return nil, "", err
	}
	// The hashes hold only if the blocks were written verbatim, and the
	// script reads back the trace only if the data block was.
	blocks := []string{"<style>" + appCSS + "</style>", "<script>" + appJS + "</script>"}
	if standalone {
		blocks = append(blocks, dataOpen+string(data)+dataClose)
	}
	for _, b := range blocks {
		if !bytes.Contains(buf.Bytes(), []byte(b)) {
			return nil, "", errors.New("viz: an inline block was not written verbatim")
		}
	}
	return buf.Bytes(), csp, nil
}

// WriteHTML writes one self-contained page: assets and trace inlined,
// with a Content-Security-Policy meta tag admitting only its own inline
// blocks.
func WriteHTML(w io.Writer, t *Trace) error { return writeHTML(w, t, nil) }

// WriteComparison writes one self-contained page of two traces, a and
// b, on one clock, marking where they first differ (Compare).
func WriteComparison(w io.Writer, a, b *Trace) error {
	if b == nil {
		return errors.New("viz: a comparison needs two traces")
	}
	return writeHTML(w, a, b)
}

func writeHTML(w io.Writer, t, b *Trace) error {
	p, _, err := page(t, b, true)
	if err != nil {
		return err
	}
	_, err = w.Write(p)
	return err
}

// Handler serves the page at /, the trace at /trace.json, and the
// porcupine history page at /history.html if one was given; every other
// path is 404, so nothing else on the machine can be read through it.
// The page is served with a strict Content-Security-Policy header. Wrap
// the handler in OnlyHost (or use NewServer) before serving it.
func Handler(t *Trace, history []byte) (http.Handler, error) { return handler(t, nil, history) }

// ComparisonHandler is Handler for the page of two traces, a and b (as
// WriteComparison): /trace.json holds both and their difference; the
// history, if given, is a's.
func ComparisonHandler(a, b *Trace, history []byte) (http.Handler, error) {
	if b == nil {
		return nil, errors.New("viz: a comparison needs two traces")
	}
	return handler(a, b, history)
}

func handler(t, b *Trace, history []byte) (http.Handler, error) {
	body, csp, err := page(t, b, false)
	if err != nil {
		return nil, err
	}
	if history != nil {
		t.History = "history.html"
	}
	traceJSON, _, err := pageData(t, b)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	serve := func(ctype, policy string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Content-Security-Policy", policy)
			w.Header().Set("Referrer-Policy", "no-referrer")
			w.Write(body)
		}
	}
	mux.HandleFunc("GET /{$}", serve("text/html; charset=utf-8", csp, body))
	mux.HandleFunc("GET /trace.json", serve("application/json", jsonCSP, traceJSON))
	if history != nil {
		mux.HandleFunc("GET /history.html", serve("text/html; charset=utf-8", historyCSP, history))
	}
	return mux, nil
}

// OnlyHost answers only requests whose Host header names the server
// listening at addr (127.0.0.1:PORT, as net.Listener.Addr gives it) by
// one of its own names, 127.0.0.1:PORT or localhost:PORT; any other
// host gets 421 Misdirected Request. This defends against DNS
// rebinding: a web page of evil.example whose name is rebound to
// 127.0.0.1 reaches the port, but with Host: evil.example. A malformed
// addr refuses everything.
func OnlyHost(addr string, h http.Handler) http.Handler {
	allowed := map[string]bool{}
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "" && port != "0" {
		allowed["127.0.0.1:"+port], allowed["localhost:"+port] = true, true
		if port == "80" { // browsers leave out the default port
			allowed["127.0.0.1"], allowed["localhost"] = true, true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, "421 misdirected request: this server answers only to 127.0.0.1 and localhost", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// NewServer returns a server for h listening at addr (the listener's
// address): it answers only addr's own host names (OnlyHost) and times
// out slow or idle clients, so none can hold a connection open.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           OnlyHost(addr, h),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      2 * time.Minute, // a long trace's JSON, however slow the browser
		IdleTimeout:       time.Minute,
	}
}

// Listen binds 127.0.0.1 (port 0: any free port) and returns the
// listener and the page's URL.
func Listen(port int) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, "", err
	}
	return ln, "http://" + ln.Addr().String() + "/", nil
}
