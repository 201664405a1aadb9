package framework

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// RepoRoot returns the top of the ycloud checkout (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("framework: cannot locate source file")
	}
	// test/framework/paths.go -> repository root is two levels up.
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// BinDir is where install-deps.sh links the pinned binaries. YCLOUD_BIN overrides it.
func BinDir() string {
	if d := os.Getenv("YCLOUD_BIN"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "bin")
}

// OCMCRDDir is the directory of the upstream OCM CRDs. YCLOUD_OCM_CRDS overrides it; the
// default is the shared/ folder that sits beside the checkout.
func OCMCRDDir() string {
	if d := os.Getenv("YCLOUD_OCM_CRDS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(), "..", "shared", "ocm-crds")
}

// requireBinaries fails early with a message that says how to fix a missing toolchain,
// instead of a timeout deep inside the control-plane start.
func requireBinaries(names ...string) error {
	for _, n := range names {
		p := filepath.Join(BinDir(), n)
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("binary %s missing (%w): run `make deps` (hack/install-deps.sh)", p, err)
		}
	}
	return nil
}
