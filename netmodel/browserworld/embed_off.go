//go:build !tabwasm

package browserworld

import "embed"

// tabDist is empty without -tags tabwasm: the tab program is built when a
// cluster starts (buildTab).
var tabDist embed.FS

const tabEmbedded = false
