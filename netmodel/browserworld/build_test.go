package browserworld

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// buildTab puts the tab program in a directory, built or (with -tags
// tabwasm) embedded: a WebAssembly module and Go's glue for it.
func TestBuildTabWritesTheProgramAndItsGlue(t *testing.T) {
	if testing.Short() {
		t.Skip("go build of the tab: not in -short")
	}
	dir := t.TempDir()
	require.NoError(t, buildTab(dir))
	wasm, err := os.ReadFile(filepath.Join(dir, "tab.wasm"))
	require.NoError(t, err)
	require.Equal(t, []byte("\x00asm"), wasm[:4], "a WebAssembly module")
	js, err := os.ReadFile(filepath.Join(dir, "wasm_exec.js"))
	require.NoError(t, err)
	require.Contains(t, string(js), "globalThis.Go")
	t.Logf("embedded: %v; tab.wasm %d bytes", tabEmbedded, len(wasm))
}
