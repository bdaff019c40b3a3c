package scenarios

import "testing"

// sized is a property test's size: short under -short, long with
// -tags long, normal otherwise.
func sized(short, normal, long int) int {
	switch {
	case testing.Short():
		return short
	case longTests:
		return long
	}
	return normal
}
