package browserworld

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/raftsim/raftsim/internal/chromium"
)

// browser is the headless Chromium the tabs live in: its own profile
// directory and process group, so Close can kill all of it.
type browser struct {
	dir         string // the cluster's: the profile and config are in it
	profile     string
	allocCtx    context.Context
	cancelAlloc context.CancelFunc
	ctx         context.Context // the browser's first page (about:blank)
	cancel      context.CancelFunc
	pgid        int
}

// ErrNoChromium: no chromium on PATH (Options.Chromium unset).
var ErrNoChromium = errors.New("browserworld: chromium not found (install Debian's chromium: apt-get install chromium)")

// launch starts headless Chromium with the flags the tabs need: no
// sandbox (containers), and host candidates on loopback without mDNS
// names, so that RTCPeerConnections between tabs connect with
// iceServers: [] (facts: browser-world).
func launch(path, dir string) (*browser, error) {
	profile := filepath.Join(dir, "profile")
	if path == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			return nil, ErrNoChromium
		}
		path = p
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.UserDataDir(profile),
		// chromium.BrowserUIFeatures: the omnibox popups' renderers,
		// one a tab's window, work on the tabs' cores that no real
		// deployment has (4 of them at 3 tabs).
		// DisconnectWebSocketOnBFCache: Chromium 156.0.8078.108 closes
		// a page's WebSockets ("going away") when the page is frozen,
		// the harness's control socket with them, and the harness takes
		// a closed control socket for a closed tab (docs/worlds.md).
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns,"+
			chromium.BrowserUIFeatures+",DisconnectWebSocketOnBFCache"),
		// Chromium's own rules for background pages (timer alignment
		// and throttling of hidden tabs), which chromedp's defaults
		// turn off: a hidden tab here is hidden as in a real browser.
		chromedp.Flag("disable-background-timer-throttling", false),
		chromedp.Flag("disable-backgrounding-occluded-windows", false),
		chromedp.Flag("disable-renderer-backgrounding", false),
		// Chromium's crash handler leaves the process group (it is
		// reparented to init, in a group of its own); with its config
		// directory in the cluster's, its command line names the
		// cluster's directory, which Close sweeps for leftovers.
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(dir, "config")),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// Its own process group, so Close kills every process of
			// this browser at once; and killed with the harness's
			// thread (chromedp's default, which this func replaces).
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		}))
	b := &browser{dir: dir, profile: profile}
	b.allocCtx, b.cancelAlloc = chromedp.NewExecAllocator(context.Background(), opts...)
	b.ctx, b.cancel = chromedp.NewContext(b.allocCtx)
	if err := chromedp.Do(b.ctx); err != nil {
		b.close()
		return nil, fmt.Errorf("browserworld: starting chromium: %w", err)
	}
	if p := chromedp.FromContext(b.ctx).Browser.Process(); p != nil {
		b.pgid = p.Pid // Setpgid: the group's id is the leader's pid
	}
	return b, nil
}

// newContext creates a browser context (its own localStorage).
func (b *browser) newContext() (cdp.BrowserContextID, error) {
	res, err := chromedp.CallBrowser(b.ctx, target.CreateBrowserContext, target.CreateBrowserContextParams{})
	if err != nil {
		return "", fmt.Errorf("browserworld: creating a browser context: %w", err)
	}
	return res.BrowserContextID, nil
}

// openPage opens url in a new page of browser context bc; logf (if set)
// gets the page's console and exceptions. Cancelling the returned context
// closes the page; the browser context (and its localStorage) stays.
func (b *browser) openPage(bc cdp.BrowserContextID, url string, logf func(string, ...any)) (context.Context, context.CancelFunc, error) {
	opts := []chromedp.ContextOption{chromedp.WithExistingBrowserContext(bc)}
	if logf != nil {
		opts = append(opts, chromedp.WithListener(func(ev any) {
			switch ev := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
				logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
			case *runtime.EventExceptionThrown:
				logf("exception: %s", (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			}
		}))
	}
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("browserworld: opening %s: %w", url, err)
	}
	return ctx, cancel, nil
}

// close stops the browser: gracefully for a moment, then SIGKILL to its
// whole process group, then any process still naming its profile.
func (b *browser) close() {
	done := make(chan struct{})
	go func() {
		tctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		defer cancel()
		_ = chromedp.Cancel(tctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
	b.cancel()
	if b.pgid > 0 {
		_ = syscall.Kill(-b.pgid, syscall.SIGKILL)
	}
	b.cancelAlloc()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left := append(leftovers(b.dir), groupMembers(b.pgid)...)
		if len(left) == 0 {
			return
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// leftovers returns the live processes whose command line names dir
// (Chromium passes --user-data-dir to every child; its crash handler gets
// a database in its config directory).
func leftovers(dir string) []int {
	return processes("cmdline", func(cmdline string) bool { return strings.Contains(cmdline, dir) })
}

// groupMembers returns the live (not zombie) processes of process group
// pgid (none for pgid <= 0).
func groupMembers(pgid int) []int {
	if pgid <= 0 {
		return nil
	}
	return processes("stat", func(stat string) bool {
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		f := strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
		return len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid)
	})
}

// processes returns the processes whose /proc/PID/file satisfies match.
func processes(file string, match func(string) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), file))
		if err == nil && match(string(b)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
