//go:build !long

package browserworld

// longTests: without -tags long every browser test but the smoke test
// skips (needLong), so go test ./... stays quick; .ci/run builds with
// -tags long.
const longTests = false
