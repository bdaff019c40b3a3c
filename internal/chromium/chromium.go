// Package chromium finds Debian's chromium for the tests that drive a
// real browser (the page, the browser world): without it they skip with
// the install hint, except in CI (CI=true), where they fail.
package chromium

import (
	"os"
	"os/exec"
)

// TB is the part of testing.TB that Require uses; the package does not
// import testing, so that the browser world's BrowserUIFeatures does not
// link it into raftsim.
type TB interface {
	Helper()
	Fatal(args ...any)
	Skip(args ...any)
}

// Require returns chromium's path, or skips t (fails it in CI) without it.
func Require(t TB) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; CI must install it (apt-get install chromium)")
		}
		t.Skip("chromium not found: install Debian's chromium (apt-get install chromium) to run the browser tests")
	}
	return p
}

// BrowserUIFeatures are Chromium features to turn off
// (--disable-features) wherever raftsim drives a headless Chromium: each
// browser context opens a window of its own, and each window's omnibox
// popup is a WebUI page in a renderer of its own that, in Chromium
// 156.0.8078.108, keeps about a core busy for the first 10 s after launch
// (measured: docs/worlds.md, "The browser's own work on the tabs'
// cores"). No page raftsim opens needs them; with them on, the browser
// world's tabs and the page's tests share the cores with them.
const BrowserUIFeatures = "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup"
