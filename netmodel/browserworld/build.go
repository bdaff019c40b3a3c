package browserworld

import (
	"embed"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// The page a tab loads: index.html and its WebRTC glue (embedded), Go's
// wasm_exec.js (from the toolchain that builds the tab) and tab.wasm.
//
//go:embed tab/index.html tab/rtc.js
var pageFiles embed.FS

//go:generate go run ./gentab tabdist

// buildTab puts the tab program (tab.wasm and Go's wasm_exec.js) in dir:
// the embedded one if raftsim was built with -tags tabwasm, else a fresh
// build (BuildTab).
func buildTab(dir string) error {
	if !tabEmbedded {
		return BuildTab(dir)
	}
	for _, name := range []string{"tab.wasm", "wasm_exec.js"} {
		b, err := tabDist.ReadFile("tabdist/" + name)
		if err != nil {
			return fmt.Errorf("browserworld: the embedded tab: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("browserworld: %w", err)
		}
	}
	return nil
}

// BuildTab compiles the tab program (package ./tab, GOOS=js GOARCH=wasm)
// into dir/tab.wasm and copies the toolchain's wasm_exec.js beside it. It
// runs `go build` from this package's source directory (found through
// runtime.Caller, so it must run where its source is: tests, `go run`,
// go generate); the Go build cache makes every build after the first one
// fast.
func BuildTab(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("browserworld: %w", err)
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return fmt.Errorf("browserworld: cannot locate the harness's source")
	}
	src := filepath.Dir(self)
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			return fmt.Errorf("browserworld: no go command on PATH to build the tab: %w", err)
		}
	}
	out, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("browserworld: %w", err)
	}
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(out, "tab.wasm"), "./tab")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("browserworld: building the tab (GOOS=js GOARCH=wasm go build ./tab): %w\n%s", err, out)
	}
	root, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("browserworld: go env GOROOT: %w", err)
	}
	js, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("browserworld: wasm_exec.js: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "wasm_exec.js"), js, 0o644); err != nil {
		return fmt.Errorf("browserworld: %w", err)
	}
	return nil
}

// pageHandler serves the tab's page from dir (tab.wasm, wasm_exec.js) and
// the embedded files.
func pageHandler(dir string) http.Handler {
	mux := http.NewServeMux()
	serve := func(name string) {
		mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join(dir, name))
		})
	}
	serve("tab.wasm")
	serve("wasm_exec.js")
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, pageFiles, "tab/index.html")
	})
	mux.HandleFunc("GET /rtc.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, pageFiles, "tab/rtc.js")
	})
	return isolated(mux)
}

// isolated makes the pages cross-origin isolated: Chromium then gives
// performance.now() a 5 µs resolution instead of 100 µs, and the trace's
// stamps are fine enough to show a datachannel hop (about 1 ms).
func isolated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.ServeHTTP(w, r)
	})
}
