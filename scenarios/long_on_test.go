//go:build long

package scenarios

// longTests: built with -tags long (.ci/run does): the property runs,
// soaks and real-time tests run at full size.
const longTests = true
