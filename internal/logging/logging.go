// Package logging sets up the structured logs every ycloud daemon writes: JSON on stderr
// through log/slog, with controller-runtime's logr sent to the same handler so both kinds of
// log lines look alike.
package logging

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// Setup installs the JSON handler at level ("debug", "info", "warn" or "error") as the
// slog default and as controller-runtime's logger.
func Setup(level string) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("log level %q: %w", level, err)
	}
	h := slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	return nil
}
