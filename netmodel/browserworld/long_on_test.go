//go:build long

package browserworld

// longTests: built with -tags long (.ci/run does): every browser test runs.
const longTests = true
