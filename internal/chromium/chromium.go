// Package chromium finds Debian's chromium for the tests that drive a
// real browser (the page, the browser world): without it they skip with
// the install hint, except in CI (CI=true), where they fail.
package chromium

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns chromium's path, or skips t (fails it in CI) without it.
func Require(t testing.TB) string {
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
