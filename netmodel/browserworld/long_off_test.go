//go:build !long

package browserworld

// longTests: without -tags long the property runs and soaks are smaller
// and the slowest real-time tests skip, so go test ./... stays quick;
// .ci/run builds with -tags long.
const longTests = false
