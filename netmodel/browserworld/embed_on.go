//go:build tabwasm

package browserworld

import "embed"

// tabDist is the tab program built by go generate (gentab), embedded
// with -tags tabwasm.
//
//go:embed tabdist/tab.wasm tabdist/wasm_exec.js
var tabDist embed.FS

const tabEmbedded = true
