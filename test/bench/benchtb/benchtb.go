// Package benchtb lets benchmark programs (plain mains run by `make bench-*`) use the test
// harnesses, which take a testing.TB-like value: cleanups run in reverse order at Close or on
// Fatalf, so a failed benchmark still stops every server it started.
package benchtb

import (
	"fmt"
	"os"
	"sync"
)

// TB implements the subset of testing.TB the harnesses use.
type TB struct {
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// New returns a TB; call Close when the benchmark ends.
func New() *TB { return &TB{} }

func (t *TB) Helper() {}

func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *TB) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func (t *TB) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	t.Logf("ERROR: "+format, args...)
}

// Fatalf reports, runs the cleanups and exits non-zero.
func (t *TB) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	t.Close()
	os.Exit(1)
}

func (t *TB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *TB) TempDir() string {
	d, err := os.MkdirTemp("", "ycloud-bench-")
	if err != nil {
		t.Fatalf("tempdir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Close runs the cleanups, newest first. It is safe to call twice.
func (t *TB) Close() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
