// Command ycloud-hub is the hub control plane of ycloud: it turns the federation.iaas.yusur.io
// objects of a hub cluster into OCM ManifestWorks for the clusters their Placements select,
// and reports the clusters' state back into their status.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ycloud-sdn/ycloud/hub"
	"github.com/ycloud-sdn/ycloud/internal/logging"
)

func main() {
	cfg := hub.DefaultConfig()
	fs := flag.NewFlagSet("ycloud-hub", flag.ExitOnError)
	cfg.BindFlags(fs)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ycloud-hub [flags]\n\n"+
			"Runs on the hub cluster. For every FederatedVpc it reads the PlacementDecisions of its\n"+
			"Placement and writes one ManifestWork per selected cluster (the spoke Vpc <tenant>.<name>\n"+
			"and Subnets <tenant>.<name>.<subnet>, with per-cluster CIDRs carved from the VPC CIDR),\n"+
			"allocates the VPC's OVN-IC transit switch, link subnet and tunnel key, and rolls the\n"+
			"clusters' status up into the FederatedVpc's Ready condition. Logs are JSON on stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])

	if err := logging.Setup(*logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "--log-level: %v\n", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := hub.Run(ctx, cfg); err != nil {
		slog.Error("ycloud-hub failed", "err", err)
		os.Exit(1)
	}
}
