// Command ycloud-lab starts and stops the ycloud lab: a hub and spoke Kubernetes clusters
// with real kubelets in network namespaces, OVN per spoke and OVN interconnect. See
// test/lab for what it builds, and test/lab/demo for `ycloud-lab demo` (make demo); run
// `ycloud-lab help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ycloud-sdn/ycloud/test/lab"
	"github.com/ycloud-sdn/ycloud/test/lab/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := lab.RunCLI(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, demo.Command())
	stop()
	os.Exit(code)
}
