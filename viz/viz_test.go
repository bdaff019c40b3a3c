package viz

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/raftsim/raftsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const golden = "../scenarios/testdata/golden/kill-half.jsonl"

func loadGolden(t *testing.T) *Trace {
	t.Helper()
	fh, err := os.Open(golden)
	require.NoError(t, err)
	defer fh.Close()
	tr, err := Load(fh, "kill-half.jsonl")
	require.NoError(t, err)
	return tr
}

func TestLoadRejectsBadTracesWithAClearError(t *testing.T) {
	good := `{"t":0,"k":"role","n":1,"term":1,"d":"leader"}` + "\n"
	tests := []struct{ name, text, want string }{
		{"empty", "", "no events"},
		{"not JSON", good + "hello\n", "line 2"},
		{"truncated", good + `{"t":5,"k":"ro`, "line 2"},
		{"unknown kind", good + `{"t":5,"k":"party"}` + "\n", "line 2"},
		{"time going back", good + `{"t":9,"k":"term","n":1}` + "\n" + `{"t":3,"k":"term","n":1}` + "\n", "back in time"},
		{"wild node id", good + `{"t":9,"k":"send","n":1,"p":18446744073709551615}` + "\n", "names node 18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.text), "x.jsonl")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "x.jsonl")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestServerServesOnlyItsOwnFiles(t *testing.T) {
	h, err := Handler(loadGolden(t), nil)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path string) (int, string) {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		require.NoError(t, err)
		req.URL.Opaque = path // send the path as written, dots and all
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "raftsim")
	code, body = get("/trace.json")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"events"`)
	for _, p := range []string{"/../go.mod", "/%2e%2e/go.mod", "/..%2fgo.mod", "/assets/app.js", "/viz.go", "/history.html", "/etc/passwd", "//etc/passwd"} {
		code, _ := get(p)
		assert.Equal(t, 404, code, "%s", p)
	}
}

func TestListenBindsLoopbackOnly(t *testing.T) {
	ln, url, err := Listen(0)
	require.NoError(t, err)
	defer ln.Close()
	assert.True(t, strings.HasPrefix(ln.Addr().String(), "127.0.0.1:"))
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"))
}

func TestStandalonePageEmbedsEverything(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteHTML(&b, loadGolden(t)))
	page := b.String()
	assert.Contains(t, page, `<script type="application/json" id="trace">{`, "the trace as a JSON data block")
	assert.NotContains(t, page, "RAFTSIM_TRACE", "not as a script literal")
	for _, remote := range []string{"http://", "https://", "src=\"", "<link"} {
		assert.NotContains(t, page, remote, "nothing fetched from the network")
	}
}

// expected replays the trace in Go: the leader (alive, highest term) and
// its term after the first i events.
func expected(t *testing.T, i int) (leader string, term string) {
	fh, err := os.Open(golden)
	require.NoError(t, err)
	defer fh.Close()
	events, err := sim.ReadTrace(fh)
	require.NoError(t, err)
	role, terms, dead := map[uint64]string{}, map[uint64]uint64{}, map[uint64]bool{}
	for _, e := range events[:i] {
		switch {
		case e.Kind == sim.KindRole:
			role[e.Node] = e.Detail
		case e.Kind == sim.KindTerm:
			terms[e.Node] = e.Term
		case e.Kind == sim.KindFault && e.Detail == "kill":
			dead[e.Node] = true
			role[e.Node] = "follower"
		case e.Kind == sim.KindFault && e.Detail == "restart":
			dead[e.Node] = false
		}
	}
	var best uint64
	bestTerm := uint64(0)
	for n, r := range role {
		if r == "leader" && !dead[n] && (best == 0 || terms[n] > bestTerm) {
			best, bestTerm = n, terms[n]
		}
	}
	if best == 0 {
		return "none", ""
	}
	return strconv.FormatUint(best, 10), strconv.FormatUint(bestTerm, 10)
}

// TestPageInChromium drives a real headless Chromium: load the golden
// kill-half trace, step and seek, and check the leader and term shown.
func TestPageInChromium(t *testing.T) {
	ctx := newBrowser(t)
	h, err := Handler(loadGolden(t), nil)
	require.NoError(t, err)
	ln, url, err := Listen(0)
	require.NoError(t, err)
	srv := NewServer(ln.Addr().String(), h)
	go srv.Serve(ln)
	defer srv.Close()

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool]("window.raftsimReady === true"))
	require.NoError(t, err)
	text := func(id string) string {
		s, err := chromedp.Run(ctx, chromedp.TextContent("#"+id))
		require.NoError(t, err)
		return strings.TrimSpace(s)
	}
	eval := func(js string) {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](js))
		require.NoError(t, err)
	}
	key := func(k string) { require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(k))) }
	at := func(i int) {
		eval("window.raftsimGo(" + strconv.Itoa(i) + ")")
		assert.Equal(t, strconv.Itoa(i), text("event-index"))
		lead, term := expected(t, i)
		assert.Equal(t, lead, text("leader"), "leader after %d events", i)
		if term != "" {
			assert.Equal(t, term, text("term"), "term after %d events", i)
		}
	}
	// Seek around, including backwards across snapshots.
	for _, i := range []int{0, 1, 50, 300, 988, 500, 10, 700} {
		at(i)
	}
	// Step with the keyboard.
	at(100)
	key(kb.ArrowRight)
	assert.Equal(t, "101", text("event-index"))
	key(kb.ArrowLeft)
	key(kb.ArrowLeft)
	assert.Equal(t, "99", text("event-index"))
	// j jumps to the next leader change.
	at(0)
	key("j")
	assert.NotEqual(t, "none", text("leader"))
	// The address records the position.
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.hash"))
	require.NoError(t, err)
	assert.Contains(t, loc, "e=")
	// A screenshot.
	eval("window.raftsimGo(600)")
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	assert.Greater(t, len(png), 10000)
	if out := os.Getenv("RAFTSIM_SCREENSHOT"); out != "" {
		require.NoError(t, os.WriteFile(out, png, 0o644))
	}
}
