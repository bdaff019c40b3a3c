//go:build !long

package browserworld

// longTests: without -tags long the slowest browser tests skip, so go
// test ./... stays quick; .ci/run builds with -tags long.
const longTests = false
