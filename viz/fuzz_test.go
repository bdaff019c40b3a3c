package viz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// FuzzLoad feeds any bytes (and any trace name) to Load; whatever loads
// must render, standalone and served, and no string of the trace may
// reach either page as markup. Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		tr, err := Load(bytes.NewReader(data), name)
		if err != nil {
			return
		}
		var page bytes.Buffer
		if err := WriteHTML(&page, tr); err != nil {
			t.Fatalf("WriteHTML: %v", err)
		}
		if err := checkPage(page.Bytes(), tr, true); err != nil {
			t.Fatal(err)
		}
		if err := checkServed(tr); err != nil {
			t.Fatal(err)
		}
	})
}

// markupFree is how many '<' the standalone and the served page hold
// for a trace with no markup at all: all of them the page's own.
var markupFree = sync.OnceValues(func() ([2]int, error) {
	tr, err := Load(strings.NewReader(`{"t":0,"k":"role","n":1,"d":"leader"}`+"\n"), "plain.jsonl")
	if err != nil {
		return [2]int{}, err
	}
	standalone, served, err := render(tr)
	return [2]int{bytes.Count(standalone, []byte("<")), bytes.Count(served, []byte("<"))}, err
})

// render is the standalone and the served page of tr.
func render(tr *Trace) (standalone, served []byte, err error) {
	if standalone, _, err = page(tr, nil, true); err != nil {
		return nil, nil, err
	}
	served, _, err = page(tr, nil, false)
	return standalone, served, err
}

// checkPage checks a page of tr: it holds exactly as many '<' as a page
// of a trace without markup (so no '<' of a trace string reached it
// raw: the title escapes them, the JSON writes them as \u003c), its
// title reads back as the trace's name, and (standalone) its inlined
// JSON reads back as the trace.
func checkPage(page []byte, tr *Trace, standalone bool) error {
	base, err := markupFree()
	if err != nil {
		return err
	}
	want := base[1]
	if standalone {
		want = base[0]
	}
	if got := bytes.Count(page, []byte("<")); got != want {
		return fmt.Errorf("the page holds %d '<', a page without markup %d: a trace string reached it as markup", got, want)
	}
	title, ok := between(page, "<title>raftsim: ", "</title>")
	if !ok {
		return fmt.Errorf("no title")
	}
	// html/template writes NUL as U+FFFD; invalid UTF-8 is not compared.
	if name := strings.ReplaceAll(tr.Name, "\x00", "\uFFFD"); utf8.ValidString(name) && html.UnescapeString(string(title)) != name {
		return fmt.Errorf("title %q does not read back as the name %q", title, tr.Name)
	}
	if !standalone {
		return nil
	}
	data, ok := between(page, dataOpen, dataClose)
	if !ok {
		return fmt.Errorf("no inlined trace")
	}
	return sameTrace(data, tr)
}

// sameTrace checks that JSON data decodes to tr (as JSON carries it:
// invalid UTF-8 in the name becomes U+FFFD).
func sameTrace(data []byte, tr *Trace) error {
	if bytes.ContainsAny(data, "<>&") {
		return fmt.Errorf("the trace's JSON holds a raw <, > or &")
	}
	var got, want Trace
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("the trace's JSON does not decode: %v", err)
	}
	b, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &want); err != nil {
		return err
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("the trace's JSON does not read back as the trace")
	}
	return nil
}

// checkServed serves tr and checks the page and /trace.json.
func checkServed(tr *Trace) error {
	h, err := Handler(tr, nil)
	if err != nil {
		return fmt.Errorf("Handler: %v", err)
	}
	get := func(path string) ([]byte, error) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d", path, w.Code)
		}
		return io.ReadAll(w.Body)
	}
	body, err := get("/")
	if err != nil {
		return err
	}
	if err := checkPage(body, tr, false); err != nil {
		return fmt.Errorf("served page: %v", err)
	}
	data, err := get("/trace.json")
	if err != nil {
		return err
	}
	return sameTrace(data, tr)
}

// between is what lies between the first start and the next end.
func between(b []byte, start, end string) ([]byte, bool) {
	_, after, ok := bytes.Cut(b, []byte(start))
	if !ok {
		return nil, false
	}
	in, _, ok := bytes.Cut(after, []byte(end))
	return in, ok
}
