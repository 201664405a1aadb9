// Command ycloud-controller is the per-cluster control plane of ycloud: it reconciles Vpc,
// Subnet, Vnic, VnicIp, pods and nodes of one spoke cluster into its OVN northbound database.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ycloud-sdn/ycloud/internal/logging"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
)

func main() {
	cfg := controller.DefaultConfig()
	fs := flag.NewFlagSet("ycloud-controller", flag.ExitOnError)
	cfg.BindFlags(fs)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ycloud-controller [flags]\n\n"+
			"Reconciles the iaas.yusur.io resources, pods and nodes of one cluster into OVN:\n"+
			"Vpc -> Logical_Router, Subnet -> Logical_Switch + router port, pod -> VnicIp + Vnic + Nic +\n"+
			"Logical_Switch_Port, node -> management port on the join subnet. Logs are JSON on stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])

	if err := logging.Setup(*logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "--log-level: %v\n", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := controller.Run(ctx, cfg, nil); err != nil {
		slog.Error("ycloud-controller failed", "err", err)
		os.Exit(1)
	}
}
