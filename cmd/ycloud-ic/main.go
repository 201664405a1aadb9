// Command ycloud-ic joins one spoke cluster's OVN to the other clusters through OVN-IC: it
// names the availability zone, creates the transit switches of federated VPCs in the global
// IC-NB and attaches each federated VPC router to its transit switch through gateway
// chassis on the interconnect gateway nodes. ovn-ic itself runs beside it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ycloud-sdn/ycloud/ic"
	"github.com/ycloud-sdn/ycloud/internal/logging"
)

func main() {
	cfg := ic.DefaultConfig()
	fs := flag.NewFlagSet("ycloud-ic", flag.ExitOnError)
	cfg.BindFlags(fs)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ycloud-ic [flags]\n\n"+
			"Per-cluster OVN interconnect agent. For every Vpc with spec.federation it creates the\n"+
			"transit switch in the global IC-NB (first cluster wins), claims this cluster's address on\n"+
			"the transit subnet, and attaches the Vpc router (vpc-<name>) to the transit switch with\n"+
			"gateway chassis on the nodes matching --gateway-node-selector (highest priority active,\n"+
			"the others standby). It sets NB_Global.name and ic-route-adv/ic-route-learn, and reports\n"+
			"Vpc status.interconnect. Run ovn-ic (pointed at the same four databases) beside it.\n"+
			"Logs are JSON on stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])

	if err := logging.Setup(*logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "--log-level: %v\n", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ic.Run(ctx, cfg); err != nil {
		slog.Error("ycloud-ic failed", "err", err)
		os.Exit(1)
	}
}
