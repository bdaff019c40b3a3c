// Package viz turns a raftsim trace into a step-through web page: served
// on 127.0.0.1, or written as one self-contained HTML file. The page's
// assets are embedded; nothing is fetched from the network.
package viz

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/raftsim/raftsim/sim"
)

//go:embed assets
var assets embed.FS

// ErrEmptyTrace: the trace holds no events.
var ErrEmptyTrace = errors.New("the trace holds no events")

// Trace is a trace prepared for the page: events as compact rows, with
// the strings they use in a table.
type Trace struct {
	Name    string   `json:"name"`
	Nodes   int      `json:"nodes"`
	End     int64    `json:"end"` // virtual ns of the last event
	Strings []string `json:"strings"`
	// Events: [time, kind, node, peer, term, index, msg string, detail string].
	Events  [][8]int64 `json:"events"`
	Kinds   []string   `json:"kinds"`
	History string     `json:"history,omitempty"` // link to a porcupine page
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
		t.Nodes = max(t.Nodes, int(e.Node), int(e.Peer))
		t.Events = append(t.Events, [8]int64{int64(e.Time), int64(e.Kind), int64(e.Node), int64(e.Peer),
			int64(e.Term), int64(e.Index), str(e.Msg), str(e.Detail)})
	}
	t.End = last
	return t, nil
}

// page renders index.html with the trace inlined (standalone) or fetched.
func page(t *Trace, standalone bool) ([]byte, error) {
	idx, err := assets.ReadFile("assets/index.html")
	if err != nil {
		return nil, err
	}
	css, _ := assets.ReadFile("assets/style.css")
	js, _ := assets.ReadFile("assets/app.js")
	tmpl, err := template.New("index").Parse(string(idx))
	if err != nil {
		return nil, err
	}
	var data template.JS = "null"
	if standalone {
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		data = template.JS(b)
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"Title": t.Name, "CSS": template.CSS(css), "JS": template.JS(js), "Trace": data,
	})
	return buf.Bytes(), err
}

// WriteHTML writes one self-contained page: assets and trace inlined.
func WriteHTML(w io.Writer, t *Trace) error {
	b, err := page(t, true)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Handler serves the page at /, the trace at /trace.json, and the
// porcupine history page at /history.html if one was given; every other
// path is 404, so nothing else on the machine can be read through it.
func Handler(t *Trace, history []byte) (http.Handler, error) {
	html, err := page(t, false)
	if err != nil {
		return nil, err
	}
	if history != nil {
		t.History = "history.html"
	}
	traceJSON, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	serve := func(ctype string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Write(body)
		}
	}
	mux.HandleFunc("GET /{$}", serve("text/html; charset=utf-8", html))
	mux.HandleFunc("GET /trace.json", serve("application/json", traceJSON))
	if history != nil {
		mux.HandleFunc("GET /history.html", serve("text/html; charset=utf-8", history))
	}
	return mux, nil
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
