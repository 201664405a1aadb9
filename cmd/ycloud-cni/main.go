// Command ycloud-cni is the per-node CNI daemon; see package cni/daemon.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ycloud-sdn/ycloud/cni/daemon"
)

func main() {
	cfg := daemon.DefaultConfig()
	cfg.NodeName = os.Getenv("NODE_NAME")
	fs := flag.NewFlagSet("ycloud-cni", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "ycloud-cni: the ycloud CNI node daemon (serves the ycloud CNI plugin on a unix socket).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	cfg.BindFlags(fs)
	verbose := fs.Bool("v", false, "log debug messages")
	_ = fs.Parse(os.Args[1:])
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := daemon.Run(ctx, cfg); err != nil {
		slog.Error("ycloud-cni failed", "err", err)
		os.Exit(1)
	}
}
