// Command gentab builds the browser world's tab program (tab.wasm and
// Go's wasm_exec.js) into netmodel/browserworld/tabdist, where a raftsim
// built with -tags tabwasm embeds it:
//
//	go generate ./netmodel/browserworld
//	go build -tags tabwasm ./cmd/raftsim
//
// Such a binary runs --world browser without a Go toolchain or the
// source beside it.
package main

import (
	"fmt"
	"os"

	"github.com/raftsim/raftsim/netmodel/browserworld"
)

func main() {
	dir := "tabdist"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := browserworld.BuildTab(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gentab:", err)
		os.Exit(1)
	}
}
