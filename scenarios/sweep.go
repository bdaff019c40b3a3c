package scenarios

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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
				results[i], errs[i] = Run(points[j.Point], j.Seed, RunOptions{})
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

// csvFixed are the CSV columns before the measures.
var csvFixed = []string{"scenario", "world", "profile", "datachannel", "nodes", "election_timeout_ms", "seed"}

// csvTail are the CSV columns after the measures.
var csvTail = []string{"safety", "liveness", "linearizability", "ok", "events", "virtual_seconds", "wall_seconds", "trace_hash"}

// WriteCSV writes one row per run: every parameter, the seed, each
// measure in seconds (empty if it never completed), the checks, events,
// virtual and wall time, and the trace hash. measures gives the measure
// columns' order.
func WriteCSV(w io.Writer, sc *Scenario, results []*Result) error {
	var measures []string
	for _, m := range sc.Measures {
		measures = append(measures, m.Name)
	}
	cw := csv.NewWriter(w)
	header := append(append(slices.Clone(csvFixed), measures...), csvTail...)
	if err := cw.Write(header); err != nil {
		return err
	}
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
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Table is a CSV of runs read back: the header and the rows.
type Table struct {
	Header []string
	Rows   [][]string
}

// ReadCSV reads a sweep CSV.
func ReadCSV(r io.Reader, name string) (*Table, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty, not a sweep CSV", name)
	}
	if !slices.Equal(recs[0][:min(len(csvFixed), len(recs[0]))], csvFixed) {
		return nil, fmt.Errorf("%s: not a sweep CSV (header %q)", name, strings.Join(recs[0], ","))
	}
	return &Table{Header: recs[0], Rows: recs[1:]}, nil
}

// Column returns the index of a column, or -1.
func (t *Table) Column(name string) int { return slices.Index(t.Header, name) }

// MergeCSV joins shard CSVs with the same header into one, rows ordered by
// election timeout, nodes, then seed (the order of a whole sweep).
func MergeCSV(tables []*Table) (*Table, error) {
	if len(tables) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	out := &Table{Header: tables[0].Header}
	for i, t := range tables {
		if !slices.Equal(t.Header, out.Header) {
			return nil, fmt.Errorf("file %d has another header: %q", i+1, strings.Join(t.Header, ","))
		}
		out.Rows = append(out.Rows, t.Rows...)
	}
	et, n, seed := out.Column("election_timeout_ms"), out.Column("nodes"), out.Column("seed")
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	slices.SortStableFunc(out.Rows, func(a, b []string) int {
		for _, c := range []int{et, n, seed} {
			if d := num(a[c]) - num(b[c]); d != 0 {
				if d < 0 {
					return -1
				}
				return 1
			}
		}
		return 0
	})
	return out, nil
}

// Write writes the table as CSV.
func (t *Table) Write(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}
