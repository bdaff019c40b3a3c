package viz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"github.com/raftsim/raftsim/internal/chromium"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// markupName is a trace name with markup, as a file could be called.
const markupName = `<b id=injected>name</b><img src=x onerror="window.pwned=1">.jsonl`

// loadMarkup loads testdata/markup.jsonl: markup in the msg and the
// detail of events of every kind the page shows, and in the name.
func loadMarkup(t *testing.T) *Trace {
	t.Helper()
	fh, err := os.Open("testdata/markup.jsonl")
	require.NoError(t, err)
	defer fh.Close()
	tr, err := Load(fh, markupName)
	require.NoError(t, err)
	return tr
}

func TestPagesHoldNoMarkupFromTheTrace(t *testing.T) {
	tr := loadMarkup(t)
	standalone, served, err := render(tr)
	require.NoError(t, err)
	for _, page := range [][]byte{standalone, served} {
		assert.NotContains(t, string(page), "<img")
		assert.NotContains(t, string(page), "<b id=injected")
	}
	require.NoError(t, checkPage(standalone, tr, true))
	require.NoError(t, checkPage(served, tr, false))
}

// policyOf parses a Content-Security-Policy into its directives.
func policyOf(csp string) map[string][]string {
	p := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 {
			p[f[0]] = f[1:]
		}
	}
	return p
}

var (
	blockRE   = regexp.MustCompile(`(?is)<(script|style)([^>]*)>(.*?)</(?:script|style)>`)
	metaCSPRE = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`)
)

// checkPolicy checks that csp admits exactly page's inline blocks, by
// their hashes, and nothing else.
func checkPolicy(t *testing.T, page, csp string, served bool) {
	t.Helper()
	assert.NotContains(t, csp, "unsafe")
	p := policyOf(csp)
	assert.Equal(t, []string{"'none'"}, p["default-src"])
	assert.Equal(t, []string{"'none'"}, p["base-uri"])
	assert.Equal(t, []string{"'none'"}, p["form-action"])
	want, data := map[string][]string{}, 0
	for _, m := range blockRE.FindAllStringSubmatch(page, -1) {
		if m[0][:len(dataOpen)] == dataOpen {
			// The trace's JSON data block: never run, so not admitted
			// by the policy; it must hold no markup at all.
			data++
			assert.NotContains(t, m[3], "<", "the data block holds markup")
			continue
		}
		assert.Empty(t, m[2], "an inline block has attributes: %s", m[2])
		sum := sha256.Sum256([]byte(m[3]))
		want[m[1]] = append(want[m[1]], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	assert.Len(t, want["script"], 1, "one script: the page's own")
	assert.Len(t, want["style"], 1)
	assert.Equal(t, want["script"], p["script-src"], "script-src: the hashes of the inline scripts")
	assert.Equal(t, want["style"], p["style-src"], "style-src: the hash of the inline style")
	assert.Equal(t, map[bool]int{true: 0, false: 1}[served], data, "the standalone page holds the trace as one JSON data block")
	if served {
		assert.Equal(t, []string{"'self'"}, p["connect-src"])
		assert.Equal(t, []string{"'none'"}, p["frame-ancestors"])
	} else {
		assert.NotContains(t, p, "connect-src")
	}
	outside := blockRE.ReplaceAllString(page, "")
	assert.NotRegexp(t, `(?i)<[^>]*\son[a-z]+\s*=`, outside, "no inline event handlers")
	assert.NotRegexp(t, `(?i)<[^>]*\sstyle\s*=`, outside, "no style attributes")
}

func TestPagesCarryAStrictContentSecurityPolicy(t *testing.T) {
	for _, tr := range []*Trace{loadGolden(t), loadMarkup(t)} {
		var b strings.Builder
		require.NoError(t, WriteHTML(&b, tr))
		page := b.String()
		metas := metaCSPRE.FindAllStringSubmatch(page, -1)
		require.Len(t, metas, 1, "one CSP meta tag")
		assert.Less(t, strings.Index(page, metas[0][0]), strings.Index(page, "<style>"), "the meta tag comes before the blocks")
		checkPolicy(t, page, html.UnescapeString(metas[0][1]), false)

		h, err := Handler(tr, []byte("<html>porcupine</html>"))
		require.NoError(t, err)
		get := func(path string) (string, http.Header) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
			require.Equal(t, 200, w.Code, path)
			return w.Body.String(), w.Result().Header
		}
		served, hdr := get("/")
		assert.NotRegexp(t, metaCSPRE, served, "the served page's policy is its header")
		checkPolicy(t, served, hdr.Get("Content-Security-Policy"), true)
		_, hdr = get("/trace.json")
		assert.Equal(t, jsonCSP, hdr.Get("Content-Security-Policy"))
		_, hdr = get("/history.html")
		assert.Equal(t, historyCSP, hdr.Get("Content-Security-Policy"))
		assert.NotContains(t, policyOf(historyCSP), "connect-src", "the history page reaches nothing")
	}
}

func TestServerAnswersOnlyItsOwnHostNames(t *testing.T) {
	h, err := Handler(loadGolden(t), nil)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(nil)
	addr := srv.Listener.Addr().String()
	_, port, _ := strings.Cut(addr, ":")
	srv.Config = NewServer(addr, h)
	srv.Start()
	defer srv.Close()
	assert.NotZero(t, srv.Config.ReadHeaderTimeout)
	assert.NotZero(t, srv.Config.ReadTimeout)
	assert.NotZero(t, srv.Config.WriteTimeout)
	assert.NotZero(t, srv.Config.IdleTimeout)
	for host, want := range map[string]int{
		"127.0.0.1:" + port: 200, "localhost:" + port: 200, "LocalHost:" + port: 200,
		"evil.example": 421, "evil.example:" + port: 421, "127.0.0.1": 421, "localhost": 421,
		"127.0.0.1:1": 421, "127.0.0.2:" + port: 421, "[::1]:" + port: 421, "127.0.0.1:" + port + ".evil.example": 421,
	} {
		for _, path := range []string{"/", "/trace.json"} {
			req, err := http.NewRequest("GET", srv.URL+path, nil)
			require.NoError(t, err)
			req.Host = host
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode, "Host: %s %s", host, path)
			if want != 200 {
				assert.NotContains(t, string(body), "raftsim:", "nothing of the trace")
			}
		}
	}
	w := httptest.NewRecorder()
	OnlyHost("not an address", h).ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:80/", nil))
	assert.Equal(t, 421, w.Code, "a malformed address refuses everything")
}

// newBrowser returns a context for a new tab, in a browser context of
// its own, of the package's headless Chromium (skipping without it,
// failing in CI).
func newBrowser(t testing.TB) context.Context { return newBrowserFor(t, 90*time.Second) }

// newBrowserFor is newBrowser with a context that ends after d.
func newBrowserFor(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("the page in Chromium: not in -short")
	}
	browser := chromium.Require(t)
	ctx, cancel := chromedp.NewContext(sharedBrowser(t, browser), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, d)
	t.Cleanup(cancel)
	return ctx
}

// The package's tests share one Chromium: starting one takes about half
// a second, and there are dozens of page tests. Each test gets its own
// browser context (no shared storage) and tab; TestMain stops it.
var shared struct {
	once          sync.Once
	ctx           context.Context
	err           error
	cancel, alloc context.CancelFunc
}

// sharedBrowser starts the shared Chromium on first use.
func sharedBrowser(t testing.TB, path string) context.Context {
	t.Helper()
	shared.once.Do(func() {
		// chromedp's own disabled features, and Chromium's UI renderers
		// that would share the cores with the page (a window each test):
		// without them the package's tests took 35-39 s, with them 24.
		features := "site-per-process,Translate,BlinkGenPropertyTrees," + chromium.BrowserUIFeatures
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 800),
			chromedp.Flag("disable-features", features))
		var actx context.Context
		actx, shared.alloc = chromedp.NewExecAllocator(context.Background(), opts...)
		shared.ctx, shared.cancel = chromedp.NewContext(actx)
		shared.err = chromedp.Do(shared.ctx)
	})
	require.NoError(t, shared.err, "starting chromium")
	return shared.ctx
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
		shared.alloc()
	}
	os.Exit(code)
}

// stepEverywhere steps through every event of the page and, at each,
// selects every node, so every panel renders every string; it counts,
// after each render, the elements that only injected markup makes.
const stepEverywhere = `(() => {
  const bad = () => document.querySelectorAll("img, image, iframe, #injected, [onerror]").length;
  const events = Number(document.getElementById("event-count").textContent);
  const nodes = document.querySelectorAll("#ring .node").length;
  let worst = bad(), steps = 0, shown = false;
  for (let i = 0; i <= events; i++) {
    window.raftsimGo(i);
    worst = Math.max(worst, bad());
    for (let n = 1; n <= nodes; n++) {
      document.querySelector('#ring .node[data-id="' + n + '"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
      if (document.querySelector("#detail h3").textContent !== "Node " + n) throw new Error("node " + n + " not selected");
      worst = Math.max(worst, bad());
      shown = shown || document.getElementById("detail").textContent.includes("<b id=injected>");
      steps++;
    }
  }
  return { worst, steps, nodes, shown, text: document.getElementById("event-text").textContent };
})()`

type stepResult struct {
	Worst, Steps, Nodes int
	Shown               bool
	Text                string
}

// checkNoInjection loads url, steps everywhere, and checks that no trace
// string became markup or ran, and that the page broke no rule of its
// Content-Security-Policy.
func checkNoInjection(t *testing.T, ctx context.Context, url string, events int) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("window.raftsimReady === true"))
	require.NoError(t, err, "the page started (its scripts ran under the policy)")
	eval := func(js string, v any) {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
		require.NoError(t, err, js)
		if v != nil {
			b, err := json.Marshal(got)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, v))
		}
	}
	eval(`window.violations = []; document.addEventListener("securitypolicyviolation", (e) => window.violations.push(e.violatedDirective + " " + e.blockedURI))`, nil)
	var r stepResult
	eval(stepEverywhere, &r)
	assert.Zero(t, r.Worst, "elements made from trace strings")
	assert.Equal(t, 3, r.Nodes)
	assert.Equal(t, (events+1)*3, r.Steps)
	assert.True(t, r.Shown, "the markup is shown as text")
	assert.Contains(t, r.Text, "<img src=x", "the last event's text, as text")
	time.Sleep(300 * time.Millisecond) // time for an injected image's error handler
	var after struct {
		Pwned      string
		Title      string
		Violations []string
		Font       string
		Cells      int
	}
	eval(`({ pwned: typeof window.pwned, title: document.title, violations: window.violations,
	  font: getComputedStyle(document.body).fontSize, cells: document.querySelectorAll(".logrow i").length })`, &after)
	assert.Equal(t, "undefined", after.Pwned, "window.pwned")
	assert.Equal(t, "raftsim: "+markupName, after.Title)
	assert.Empty(t, after.Violations, "Content-Security-Policy violations")
	assert.Equal(t, "13px", after.Font, "the inline style applies")
	assert.Positive(t, after.Cells, "log cells drawn")
}

// TestPageShowsTraceStringsOnlyAsText drives headless Chromium over the
// markup trace, served and standalone (from a file:// URL).
func TestPageShowsTraceStringsOnlyAsText(t *testing.T) {
	ctx := newBrowser(t)
	tr := loadMarkup(t)
	events := len(tr.Events)
	t.Run("served", func(t *testing.T) {
		h, err := Handler(tr, nil)
		require.NoError(t, err)
		ln, url, err := Listen(0)
		require.NoError(t, err)
		srv := NewServer(ln.Addr().String(), h)
		go srv.Serve(ln)
		defer srv.Close()
		checkNoInjection(t, ctx, url, events)
	})
	t.Run("standalone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "markup.html")
		fh, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, WriteHTML(fh, tr))
		require.NoError(t, fh.Close())
		checkNoInjection(t, ctx, "file://"+path, events)
	})
}
