package scenarios

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/raftsim/raftsim/sim"
)

// Sweep lists the values of each axis; a scenario runs at every
// combination, Seeds seeds each. An empty axis keeps the cluster's value.
type Sweep struct {
	Nodes           []int      `yaml:"nodes" bound:"1,1001" maxlen:"1000"`
	ElectionTimeout []sim.Time `yaml:"election_timeout" bound:"1ms,1h" maxlen:"1000"`
}

// Point is one combination of sweep values.
type Point struct {
	Nodes           int
	ElectionTimeout sim.Time
}

// Points returns the sweep's combinations in order: election timeout
// outermost, then nodes.
func (sc *Scenario) Points() []Point {
	nodes := sc.Sweep.Nodes
	if len(nodes) == 0 {
		nodes = []int{sc.Cluster.Nodes}
	}
	ets := sc.Sweep.ElectionTimeout
	if len(ets) == 0 {
		ets = []sim.Time{sc.Cluster.ElectionTimeout}
	}
	var out []Point
	for _, et := range ets {
		for _, n := range nodes {
			out = append(out, Point{Nodes: n, ElectionTimeout: et})
		}
	}
	return out
}

// At returns a copy of the scenario at point p, validated. The copy
// shares the file's read-only parts; runs of different copies may go on
// concurrently.
func (sc *Scenario) At(p Point) (*Scenario, error) {
	c := *sc
	c.Cluster.Nodes, c.Cluster.ElectionTimeout = p.Nodes, p.ElectionTimeout
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sweep point nodes=%d election_timeout=%v: %w", p.Nodes, p.ElectionTimeout, err)
	}
	return &c, nil
}

// Job is one run of a sweep: a point and a seed.
type Job struct {
	Index int // position in the whole sweep
	Point Point
	Seed  uint64
}

// Jobs returns the sweep's runs, or with shards > 1 the deterministic
// slice number shard (1-based) of them: every shards-th run.
func (sc *Scenario) Jobs(shard, shards int) []Job {
	var out []Job
	i := 0
	for _, p := range sc.Points() {
		for s := 0; s < sc.Seeds; s++ {
			if shards <= 1 || i%shards == shard-1 {
				out = append(out, Job{Index: i, Point: p, Seed: sc.Seed + uint64(s)})
			}
			i++
		}
	}
	return out
}

// SweepOptions say how to run a sweep.
type SweepOptions struct {
	// Workers runs this many runs at once (0: one per CPU). Each run is
	// single-threaded and deterministic, so the results do not depend on
	// it.
	Workers int
	// Shard and Shards select a slice of the runs (0 or 1 shards: all).
	Shard, Shards int
	// Progress, if set, is called after each run (from one goroutine at a
	// time) with the runs done and the total.
	Progress func(done, total int)
	// World is the world every run runs on (RunOptions.World).
	World string
}

// ErrShard: a shard outside 1..shards.
var ErrShard = errors.New("shard must be k/n with 1 <= k <= n")

// RunSweep runs the sweep's jobs on a pool of workers and returns the
// results in job order, whatever the number of workers.
func RunSweep(sc *Scenario, opt SweepOptions) ([]*Result, error) {
	if opt.Shards > 1 && (opt.Shard < 1 || opt.Shard > opt.Shards) {
		return nil, fmt.Errorf("%w, got %d/%d", ErrShard, opt.Shard, opt.Shards)
	}
	points := map[Point]*Scenario{}
	for _, p := range sc.Points() {
		c, err := sc.At(p)
		if err != nil {
			return nil, err
		}
		points[p] = c
	}
	jobs := sc.Jobs(opt.Shard, opt.Shards)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	results := make([]*Result, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range min(workers, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				results[i], errs[i] = Run(points[j.Point], j.Seed, RunOptions{World: opt.World})
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress(done, len(jobs))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

// csvFixed are the CSV columns before the measures: with the seed, the
// key of a run.
var csvFixed = []string{"scenario", "world", "profile", "datachannel", "nodes", "election_timeout_ms", "seed"}

// csvTail are the CSV columns after the measures.
var csvTail = []string{"safety", "liveness", "linearizability", "ok", "events", "virtual_seconds", "wall_seconds", "trace_hash"}

// trailerPrefix begins the last line of a sweep CSV, which gives the
// number of rows: a file cut at a row boundary lacks it.
const trailerPrefix = "# raftsim sweep: "

func trailer(rows int) string { return fmt.Sprintf("%s%d rows", trailerPrefix, rows) }

// trailer is the table's closing line: the rows, and the shard it holds
// ("# raftsim sweep: 5 rows (shard 2 of 8)"), so that merge can tell a
// missing shard.
func (t *Table) trailer() string {
	if t.Shards > 0 {
		return fmt.Sprintf("%s (shard %d of %d)", trailer(len(t.Rows)), t.Shard, t.Shards)
	}
	return trailer(len(t.Rows))
}

// readTrailer takes a closing line for a table of its rows: the rows'
// count and, if it names one, the shard.
func (t *Table) readTrailer(s string) bool {
	if s == trailer(len(t.Rows)) {
		return true
	}
	var k, n int
	if _, err := fmt.Sscanf(strings.TrimPrefix(s, trailer(len(t.Rows))), " (shard %d of %d)", &k, &n); err != nil || k < 1 || k > n {
		return false
	}
	t.Shard, t.Shards = k, n
	return t.trailer() == s
}

// WriteCSV writes one row per run: every parameter, the seed, each
// measure in seconds (empty if it never completed), the checks, events,
// virtual and wall time, and the trace hash; then a last line
// "# raftsim sweep: N rows" (N the number of rows), which ReadCSV
// requires. measures gives the measure columns' order.
func WriteCSV(w io.Writer, sc *Scenario, results []*Result) error {
	return WriteShardCSV(w, sc, results, 0, 0)
}

// WriteShardCSV is WriteCSV for shard k of n of a sweep (n 0: the whole
// sweep): the closing line names the shard.
func WriteShardCSV(w io.Writer, sc *Scenario, results []*Result, k, n int) error {
	var measures []string
	for _, m := range sc.Measures {
		measures = append(measures, m.Name)
	}
	t := &Table{Header: append(append(slices.Clone(csvFixed), measures...), csvTail...), Shard: k, Shards: n}
	for _, r := range results {
		row := []string{r.Scenario, r.World, sc.World.Profile, sc.World.Datachannel.String(),
			strconv.Itoa(r.Nodes), formatFloat(r.ElectionTimeoutMS), strconv.FormatUint(r.Seed, 10)}
		for _, m := range measures {
			if v := r.Measures[m]; v != nil {
				row = append(row, strconv.FormatFloat(*v, 'f', 6, 64))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, r.Safety, r.Liveness, r.Linearizability, strconv.FormatBool(r.OK),
			strconv.FormatUint(r.Events, 10), strconv.FormatFloat(r.VirtualSeconds, 'f', 6, 64),
			strconv.FormatFloat(r.WallSeconds, 'f', 6, 64), r.TraceHash)
		t.Rows = append(t.Rows, row)
	}
	return t.Write(w)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Table is a CSV of runs read back: the header and the rows.
type Table struct {
	Header []string
	Rows   [][]string
	// Name is the file's name and Lines the line each row starts on, for
	// errors (empty for a table not read from a file).
	Name  string
	Lines []int
	// Shard k of Shards: the slice of a sweep the table holds (Shards
	// 0: a whole sweep).
	Shard, Shards int
}

// ReadCSV reads a sweep CSV, name naming it in errors, and checks it:
// the header is a sweep CSV's, every row has the header's number of
// columns, the number columns hold finite numbers (a measure may be
// empty), ok is true or false, and the file ends with its
// "# raftsim sweep: N rows" line, N the number of rows read. Errors name
// the file and line.
func ReadCSV(r io.Reader, name string) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	t := &Table{Name: name}
	end := 0 // the trailer's line, once read
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		switch {
		case end > 0:
			return nil, fmt.Errorf("%s:%d: more after the closing line %q (line %d)", name, line, trailer(len(t.Rows)), end)
		case t.Header == nil:
			if err := checkHeader(rec); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			t.Header = rec
		case len(rec) == 1 && strings.HasPrefix(rec[0], "#"):
			if !t.readTrailer(rec[0]) {
				return nil, fmt.Errorf("%s:%d: closing line %q, want %q: rows are missing or the file is not a sweep CSV", name, line, rec[0], trailer(len(t.Rows)))
			}
			end = line
		default:
			if err := t.checkRow(rec); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			t.Rows, t.Lines = append(t.Rows, rec), append(t.Lines, line)
		}
	}
	if t.Header == nil {
		return nil, fmt.Errorf("%s: empty, not a sweep CSV", name)
	}
	if end == 0 {
		line := 1
		if len(t.Lines) > 0 {
			line = t.Lines[len(t.Lines)-1]
		}
		return nil, fmt.Errorf("%s:%d: the file ends without its closing line %q: it was cut short or not written by raftsim sweep", name, line, trailerPrefix+"N rows")
	}
	return t, nil
}

// checkHeader checks a sweep CSV's header: the fixed columns, one or more
// distinct measures, the tail columns.
func checkHeader(h []string) error {
	n, k := len(csvFixed), len(csvTail)
	if len(h) < n+k || !slices.Equal(h[:n], csvFixed) || !slices.Equal(h[len(h)-k:], csvTail) {
		return fmt.Errorf("not a sweep CSV header: %q", strings.Join(h, ","))
	}
	seen := map[string]bool{}
	for _, c := range h {
		if c == "" || seen[c] {
			return fmt.Errorf("header has an empty or repeated column %q", c)
		}
		seen[c] = true
	}
	return nil
}

// checkRow checks one row against t's header.
func (t *Table) checkRow(row []string) error {
	if len(row) != len(t.Header) {
		return fmt.Errorf("%d columns, the header has %d", len(row), len(t.Header))
	}
	measures := t.Header[len(csvFixed) : len(t.Header)-len(csvTail)]
	for i, c := range t.Header {
		v := row[i]
		var err error
		switch {
		case c == "nodes" || c == "seed" || c == "events":
			_, err = strconv.ParseUint(v, 10, 64)
		case c == "election_timeout_ms" || c == "virtual_seconds" || c == "wall_seconds":
			err = checkNumber(v)
		case c == "ok":
			_, err = strconv.ParseBool(v)
		case slices.Contains(measures, c) && v != "":
			err = checkNumber(v)
		}
		if err != nil {
			return fmt.Errorf("column %s: %q is not a valid value", c, v)
		}
	}
	return nil
}

// checkNumber accepts a finite, non-negative decimal number.
func checkNumber(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f < 0 {
		return errors.New("not a finite non-negative number")
	}
	return nil
}

// Column returns the index of a column, or -1.
func (t *Table) Column(name string) int { return slices.Index(t.Header, name) }

// where names row i's file and line.
func (t *Table) where(i int) string {
	if i < len(t.Lines) {
		return fmt.Sprintf("%s:%d", t.Name, t.Lines[i])
	}
	return fmt.Sprintf("%s: row %d", t.Name, i+1)
}

// MergeCSV joins shard CSVs with the same header into one, rows ordered by
// election timeout, nodes, then seed (the order of a whole sweep). It
// refuses another header and a run (scenario, parameters and seed) that
// is there twice, in one table or two, naming the files and lines.
func MergeCSV(tables []*Table) (*Table, error) {
	if len(tables) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	if err := completeShards(tables); err != nil {
		return nil, err
	}
	out := &Table{Header: tables[0].Header}
	seen := map[string]string{} // run key -> where
	for _, t := range tables {
		if !slices.Equal(t.Header, out.Header) {
			return nil, fmt.Errorf("%s:1: header %q differs from %s's", t.Name, strings.Join(t.Header, ","), tables[0].Name)
		}
		for i, row := range t.Rows {
			key := strings.Join(row[:len(csvFixed)], "\x00")
			if prev, ok := seen[key]; ok {
				return nil, fmt.Errorf("%s: the run %s is also at %s (the same shard given twice?)",
					t.where(i), strings.Join(row[:len(csvFixed)], ","), prev)
			}
			seen[key] = t.where(i)
			out.Rows = append(out.Rows, row)
		}
	}
	et, n, seed := out.Column("election_timeout_ms"), out.Column("nodes"), out.Column("seed")
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	whole := func(s string) uint64 { u, _ := strconv.ParseUint(s, 10, 64); return u }
	slices.SortStableFunc(out.Rows, func(a, b []string) int {
		return cmp.Or(cmp.Compare(num(a[et]), num(b[et])), cmp.Compare(whole(a[n]), whole(b[n])), cmp.Compare(whole(a[seed]), whole(b[seed])))
	})
	return out, nil
}

// completeShards checks that tables that are shards of a sweep are all
// of its shards, each once: a missing shard would otherwise leave its
// runs silently out of the merge.
func completeShards(tables []*Table) error {
	n := tables[0].Shards
	have := map[int]string{}
	for _, t := range tables {
		switch {
		case t.Shards != n && (t.Shards == 0 || n == 0):
			return fmt.Errorf("%s: shard %d of %d beside %s, a whole sweep: merge joins the shards of one sweep", t.Name, max(t.Shard, tables[0].Shard), max(t.Shards, n), tables[0].Name)
		case t.Shards != n:
			return fmt.Errorf("%s: shard %d of %d, but %s is of %d shards", t.Name, t.Shard, t.Shards, tables[0].Name, n)
		case n > 0 && have[t.Shard] != "":
			return fmt.Errorf("%s: shard %d of %d, as is %s (the same shard given twice?)", t.Name, t.Shard, n, have[t.Shard])
		}
		have[t.Shard] = t.Name
	}
	var missing []string
	for k := 1; k <= n; k++ {
		if have[k] == "" {
			missing = append(missing, strconv.Itoa(k))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("shard %s of %d missing: its runs would be left out of the merge", strings.Join(missing, ", "), n)
	}
	return nil
}

// Write writes the table as CSV, ending with the "# raftsim sweep: N
// rows" line.
func (t *Table) Write(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, t.trailer())
	return err
}
