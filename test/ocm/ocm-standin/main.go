// Command ocm-standin runs the OCM stand-ins of test/ocm as processes, for the lab (DESIGN.md
// section 6: the real klusterlet work agent and the real placement controller cannot run on
// this machine). It is a test tool, built into bin/ by `make build`, and never part of a
// product bundle.
//
//	ocm-standin work-agent --cluster spoke1 --hub-kubeconfig H --spoke-kubeconfig S
//	ocm-standin placement --hub-kubeconfig H
//
// Both log JSON on stderr and stop on SIGTERM or SIGINT. --health-probe-bind-address serves
// /healthz, which answers 200 once the stand-in's informers have synced.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ycloud-sdn/ycloud/internal/logging"
	"github.com/ycloud-sdn/ycloud/test/ocm/placement"
	"github.com/ycloud-sdn/ycloud/test/ocm/workagent"
)

const usage = `Usage: ocm-standin <work-agent|placement> [flags]

Test stand-ins for Open Cluster Management (test/ocm), for the ycloud lab only:
  work-agent  applies the ManifestWorks in the hub namespace <cluster> to that cluster's
              apiserver (server-side apply), reports Applied/Available and statusFeedback,
              honours deleteOption (as the klusterlet work agent does)
  placement   turns Placements (label selectors over ManagedClusters in the cluster sets
              bound to the Placement's namespace) into PlacementDecisions

Run "ocm-standin <command> -h" for the command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "work-agent" && args[0] != "placement") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet("ocm-standin "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	hubKC := fs.String("hub-kubeconfig", "", "kubeconfig of the hub apiserver (required)")
	health := fs.String("health-probe-bind-address", "0", "address of /healthz (200 once started and synced); 0 disables it")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	var (
		cluster, spokeKC *string
		sync             *time.Duration
		workers          *int
	)
	if cmd == "work-agent" {
		cluster = fs.String("cluster", "", "name of the managed cluster: the agent serves the ManifestWorks in the hub namespace of this name (required)")
		spokeKC = fs.String("spoke-kubeconfig", "", "kubeconfig of the managed cluster's apiserver (required)")
		sync = fs.Duration("status-sync-interval", workagent.DefaultStatusSyncInterval, "how often applied objects are re-read for Available and statusFeedback (the real agent's default is 10s)")
		workers = fs.Int("workers", 4, "ManifestWorks reconciled at once")
	}
	fs.Usage = func() {
		fmt.Fprint(stderr, usage+"\nFlags of "+cmd+":\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := logging.Setup(*level); err != nil {
		fmt.Fprintf(stderr, "--log-level: %v\n", err)
		return 2
	}
	if *hubKC == "" {
		fmt.Fprintln(stderr, "--hub-kubeconfig is required")
		return 2
	}
	hubCfg, err := loadConfig(*hubKC)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	var (
		start  func(context.Context) error
		synced func(context.Context) bool
	)
	switch cmd {
	case "work-agent":
		if *cluster == "" || *spokeKC == "" {
			fmt.Fprintln(stderr, "--cluster and --spoke-kubeconfig are required")
			return 2
		}
		spokeCfg, err := loadConfig(*spokeKC)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		a, err := workagent.New(workagent.Options{ClusterName: *cluster, HubConfig: hubCfg, SpokeConfig: spokeCfg,
			StatusSyncInterval: *sync, Workers: *workers})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		start, synced = a.Start, a.WaitSynced
	case "placement":
		c, err := placement.New(placement.Options{HubConfig: hubCfg})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		start, synced = c.Start, c.WaitSynced
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *health != "0" && *health != "" {
		if err := serveHealth(ctx, *health, synced); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	slog.Info("ocm stand-in starting", "command", cmd)
	if err := start(ctx); err != nil && ctx.Err() == nil {
		slog.Error("ocm stand-in failed", "command", cmd, "err", err)
		return 1
	}
	return 0
}

func loadConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// serveHealth answers /healthz with 200 once synced has returned true (it is asked once,
// in the background; the stand-ins' caches sync once).
func serveHealth(ctx context.Context, addr string, synced func(context.Context) bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--health-probe-bind-address %s: %w", addr, err)
	}
	var ok atomic.Bool
	go func() { ok.Store(synced(ctx)) }()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !ok.Load() {
			http.Error(w, "caches not synced yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}
