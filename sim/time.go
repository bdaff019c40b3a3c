// Package sim is raftsim's discrete-event kernel: virtual time, one event
// queue ordered by (time, sequence), named random streams derived from the
// run's seed, and a hashed trace of typed events.
//
// Nothing in sim reads the wall clock, starts a goroutine, or draws from
// global randomness: two runs with the same seed execute the same events in
// the same order and end with the same trace hash.
package sim

import (
	"fmt"
	"time"
)

// Time is virtual time in nanoseconds since the start of a run. It is used
// both for instants and for spans, so that one integer type carries all of
// a run's time arithmetic.
type Time int64

// Units of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
)

// FromDuration converts a time.Duration (a span, not a clock reading).
func FromDuration(d time.Duration) Time { return Time(d) }

// Duration converts t to a time.Duration.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// String formats t like a time.Duration ("1.5s").
func (t Time) String() string { return time.Duration(t).String() }

// Max returns the later of a and b.
func Max(a, b Time) Time {
	if a > b {
		return a
	}
	return b
}

// ErrStopped reports that a run was stopped before its end condition.
var ErrStopped = fmt.Errorf("sim: stopped")
