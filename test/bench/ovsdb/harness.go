package main

import (
	"fmt"
	"os"

	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// benchTB lets a program use the test harness (ovsdbtest.TB): cleanups run when the
// measurement ends, and Fatalf aborts it (after the cleanups) instead of a test.
type benchTB struct {
	cleanups []func()
	failed   bool
}

type fatal struct{ msg string }

func (b *benchTB) Helper()                 {}
func (b *benchTB) Cleanup(f func())        { b.cleanups = append(b.cleanups, f) }
func (b *benchTB) Logf(f string, a ...any) { fmt.Fprintf(os.Stderr, "# "+f+"\n", a...) }
func (b *benchTB) Failed() bool            { return b.failed }

func (b *benchTB) Fatalf(f string, a ...any) {
	b.failed = true
	panic(fatal{fmt.Sprintf(f, a...)})
}

func (b *benchTB) TempDir() string {
	dir, err := os.MkdirTemp("", "bench-ovsdb")
	if err != nil {
		b.Fatalf("temp dir: %v", err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// withNB runs fn against a fresh standalone NB ovsdb-server and always stops it (by PID)
// and removes its files afterwards.
func withNB(fn func(srv *ovsdbtest.Server) error) (err error) {
	tb := &benchTB{}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", f.msg)
		}
		for i := len(tb.cleanups) - 1; i >= 0; i-- {
			tb.cleanups[i]()
		}
	}()
	srv := ovsdbtest.StartStandalone(tb, ovsdbtest.NBSchema)
	return fn(srv)
}
