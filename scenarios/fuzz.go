package scenarios

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/raftsim/raftsim/checker"
)

// What a swarm run can fail on.
const (
	FailSafety          = "safety"          // a Raft safety invariant broke
	FailLinearizability = "linearizability" // porcupine found no linearization
	FailLiveness        = "liveness"        // no leader or no commit within the bounds after the final heal
)

// Failure is a run that failed a check.
type Failure struct {
	Seed     uint64
	Kind     string // FailSafety, FailLinearizability, FailLiveness or FailPanic
	Detail   string
	Scenario *Scenario
}

func (f *Failure) Error() string {
	return fmt.Sprintf("seed %d: %s: %s", f.Seed, f.Kind, f.Detail)
}

// FuzzLinTimeout bounds the linearizability check of one swarm run.
const FuzzLinTimeout = 10 * time.Second

// Check runs sc with seed and reports the first check it fails (nil: it
// passed): safety, then linearizability, then liveness. A history the
// checker could not decide in time is not a failure; unknown reports it.
func Check(sc *Scenario, seed uint64) (failure *Failure, unknown bool, err error) {
	return check(sc, seed, FuzzLinTimeout)
}

func check(sc *Scenario, seed uint64, linTimeout time.Duration) (*Failure, bool, error) {
	f, res, err := checkRun(sc, seed, linTimeout)
	if err != nil {
		return nil, false, err
	}
	return f, res.Linearizability == checker.LinUnknown, nil
}

// checkRun runs sc with seed and classifies the result.
func checkRun(sc *Scenario, seed uint64, linTimeout time.Duration) (*Failure, *Result, error) {
	res, err := Run(sc, seed, RunOptions{LinTimeout: linTimeout})
	if err != nil {
		return nil, nil, err
	}
	return classify(sc, seed, res), res, nil
}

func classify(sc *Scenario, seed uint64, res *Result) *Failure {
	fail := func(kind, detail string) *Failure {
		return &Failure{Seed: seed, Kind: kind, Detail: detail, Scenario: sc}
	}
	switch {
	case res.Panic != "":
		return fail(FailPanic, res.Panic)
	case res.Safety != "ok":
		return fail(FailSafety, res.Violation)
	case res.Linearizability == checker.LinIllegal:
		return fail(FailLinearizability, res.LinDetail)
	case res.Liveness != "ok":
		var missing []string
		for _, name := range res.MeasureOrder {
			if res.Measures[name] == nil {
				missing = append(missing, name)
			}
		}
		return fail(FailLiveness, fmt.Sprintf("never reached: %v (by the run's limit, %v)", missing, sc.Limit))
	}
	return nil
}

// FuzzOptions configure a swarm.
type FuzzOptions struct {
	// FirstSeed is the first seed; Seeds how many to run. With Duration
	// set, seeds run until it has passed (Seeds, if set, still bounds
	// them).
	FirstSeed uint64
	Seeds     int
	Duration  time.Duration
	// Workers runs this many seeds at once (0: one per CPU).
	Workers int
	Swarm   SwarmOptions
	// StopAtFirst stops at the first failure (in seed order among the
	// seeds run), as hunting a planted bug does.
	StopAtFirst bool
	// Progress, if set, is called after each run (one call at a time).
	Progress func(FuzzProgress)
}

// FuzzProgress is where a swarm stands.
type FuzzProgress struct {
	Done, Total int // Total 0: bounded by time
	Failures    int
}

// FuzzReport is what a swarm found.
type FuzzReport struct {
	Runs     int // seeds run
	Unknown  int // runs whose history the checker could not decide in time
	Failures []*Failure
	// Clean is the longest run of consecutive seeds from FirstSeed that
	// all passed.
	Clean int
	// Coverage marks: runs that applied each kind of fault step, and the
	// cases each world-independent invariant decided, over all runs.
	FaultRuns map[string]int
	Exercised map[string]int
}

// cover adds a run's coverage marks to the report.
func (rep *FuzzReport) cover(res *Result) {
	if res == nil {
		return
	}
	for k := range res.FaultsApplied {
		rep.FaultRuns[k]++
	}
	for k, n := range res.Exercised {
		rep.Exercised[k] += n
	}
}

// ErrNoBound: a swarm needs seeds or a duration.
var ErrNoBound = errors.New("fuzz: give a number of seeds or a duration")

// Fuzz runs swarm scenarios on all cores and checks each. Every run is
// deterministic; which seeds run depends on time only when Duration bounds
// the swarm. Failures are reported in seed order.
func Fuzz(opt FuzzOptions) (*FuzzReport, error) {
	if opt.Seeds <= 0 && opt.Duration <= 0 {
		return nil, ErrNoBound
	}
	if opt.FirstSeed == 0 {
		opt.FirstSeed = 1
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var deadline time.Time
	if opt.Duration > 0 {
		deadline = time.Now().Add(opt.Duration)
	}
	type outcome struct {
		fail    *Failure
		unknown bool
	}
	cov := &FuzzReport{FaultRuns: map[string]int{}, Exercised: map[string]int{}}
	var (
		mu       sync.Mutex
		next     = opt.FirstSeed
		results  = map[uint64]outcome{}
		stopAt   = ^uint64(0) // no seed at or after a found failure is started when stopping at the first
		runErr   error
		failures int
		wg       sync.WaitGroup
	)
	take := func() (uint64, bool) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case runErr != nil, next >= stopAt,
			opt.Seeds > 0 && next >= opt.FirstSeed+uint64(opt.Seeds),
			!deadline.IsZero() && time.Now().After(deadline):
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed, ok := take()
				if !ok {
					return
				}
				f, res, err := checkRun(Swarm(seed, opt.Swarm), seed, FuzzLinTimeout)
				unknown := res != nil && res.Linearizability == checker.LinUnknown
				mu.Lock()
				cov.cover(res)
				if err != nil && runErr == nil {
					runErr = fmt.Errorf("fuzz seed %d: %w", seed, err)
				}
				results[seed] = outcome{f, unknown}
				if f != nil {
					failures++
					if opt.StopAtFirst && seed < stopAt {
						stopAt = seed + 1
					}
				}
				if opt.Progress != nil {
					opt.Progress(FuzzProgress{Done: len(results), Total: opt.Seeds, Failures: failures})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if runErr != nil {
		return nil, runErr
	}
	rep := &FuzzReport{Runs: len(results), FaultRuns: cov.FaultRuns, Exercised: cov.Exercised}
	clean := true
	for seed := opt.FirstSeed; seed < next; seed++ {
		o, ran := results[seed]
		if !ran {
			clean = false
			continue
		}
		if o.unknown {
			rep.Unknown++
		}
		if o.fail != nil {
			rep.Failures = append(rep.Failures, o.fail)
			clean = false
		}
		if clean {
			rep.Clean++
		}
	}
	if opt.StopAtFirst && len(rep.Failures) > 1 {
		rep.Failures = rep.Failures[:1]
	}
	return rep, nil
}
