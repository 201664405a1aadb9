// Package health installs the /healthz and /readyz checks every ycloud daemon serves
// through its controller-runtime manager: healthz answers while the process runs (a
// liveness probe must not fail because a dependency is slow), readyz only once the
// daemon's own start-up condition holds.
package health

import (
	"errors"
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Add registers healthz "ping" and readyz name with the ready checker.
func Add(mgr manager.Manager, name string, ready healthz.Checker) error {
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("healthz check: %w", err)
	}
	if err := mgr.AddReadyzCheck(name, ready); err != nil {
		return fmt.Errorf("readyz check %s: %w", name, err)
	}
	return nil
}

// Closed is a readiness checker that passes once ch is closed (the daemon closes it when
// its caches have synced).
func Closed(ch <-chan struct{}) healthz.Checker {
	return func(*http.Request) error {
		select {
		case <-ch:
			return nil
		default:
			return errors.New("caches not synced yet")
		}
	}
}
