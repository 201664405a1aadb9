// Package daemon is ycloud-cni, the per-node CNI daemon. The ycloud shim forwards every
// CNI call to it over a unix socket (package cnirpc); it plumbs pod interfaces (package
// nic), attaches them to br-int through OVSDB (package ovsport) and applies their QoS
// (package qos).
//
// On start it writes the chassis configuration into the local Open_vSwitch row
// (system-id = node name, ovn-remote, encap type/IP, bridge datapath type) and creates
// br-int when missing. It never starts or stops ovs-vswitchd or ovn-controller: whoever
// runs the node does.
//
// ADD waits (until the request's deadline) for the controller's allocation annotation on
// the pod, seen through an informer on this node's pods; creates the NIC; attaches it
// with external_ids:iface-id = the allocation's logical switch port; and returns once
// ovn-controller reports the port installed (external_ids:ovn-installed=true), so the
// pod's network works when the runtime starts its containers. A failure at any step
// undoes every earlier one.
//
// State: none of its own. Ports carry their owner, sandbox, interface and netns in OVS
// external_ids (package ovsport), so a restarted daemon reads everything back from OVS
// and touches no running pod. Level-driven reconcilers keep the rest converged: the pod
// worker applies QoS changes (annotation edits on running pods) and removes ports whose
// pod is gone; the management port follows the node's join allocation; a periodic
// resync repeats both.
//
//	pod netns            node netns (ovs-vswitchd, ovn-controller, this daemon's host side)
//	 eth0 ==veth== ycXXXXXXXXXXXX ---+
//	                                 |  br-int (fail_mode=secure) === geneve === other nodes
//	 node stack -- ycloud0 (internal)+
//	              iface-id=node-<n>, join IP, routes to the pod CIDRs via the join gateway
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/ovsport"
)

// JoinAllocationAnnotation on the Node holds the Allocation of its management port on the
// join subnet (written by the controller).
const JoinAllocationAnnotation = iaasv1.JoinAllocationAnnotation

// Daemon is one running ycloud-cni.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	sw      *ovsport.Switch
	nics    map[iaasv1.NicType]nic.NIC
	hostNS  ns.NetNS // the node's namespace: host-side devices, the management port
	pods    *podWatch
	metrics *metrics

	locks   keyedMutex // per sandbox: ADD, DEL and GC of one sandbox never interleave
	mgmt    chan struct{}
	chassis chan struct{}
	nodeCfg ovsport.NodeConfig // the chassis configuration from flags; see chassisConfig
}

// Run runs the daemon until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.Default().With("node", cfg.NodeName)
	restCfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: cfg.Kubeconfig, Precedence: filepath.SplitList(os.Getenv("KUBECONFIG"))},
		&clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	restCfg.UserAgent = "ycloud-cni/" + cfg.NodeName
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}

	veth, err := nic.NewVeth(cfg.HostNetns)
	if err != nil {
		return err
	}
	defer veth.Close()
	sw, err := ovsport.Dial(ctx, cfg.OVSDB, cfg.Bridge, log)
	if err != nil {
		return err
	}
	defer sw.Close()
	nodeCfg := ovsport.NodeConfig{
		SystemID: cfg.NodeName, OVNRemote: cfg.OVNRemote, EncapType: cfg.EncapType,
		EncapIP: cfg.EncapIP, DatapathType: cfg.DatapathType,
	}
	if err := sw.ConfigureNode(ctx, nodeCfg); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	d := &Daemon{
		cfg:     cfg,
		log:     log,
		sw:      sw,
		nics:    map[iaasv1.NicType]nic.NIC{iaasv1.NicTypeVeth: veth},
		hostNS:  veth.HostNS(),
		metrics: newMetrics(reg),
		mgmt:    make(chan struct{}, 1),
		chassis: make(chan struct{}, 1),
		nodeCfg: nodeCfg,
	}
	d.pods = newPodWatch(cs, cfg.NodeName, d)

	ln, err := listenUnix(cfg.SocketPath)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv := &http.Server{
		Handler:           cnirpc.Handler(d.Serve),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests in flight are cancelled on shutdown: an ADD then rolls back while the
		// OVSDB connection is still open, and the runtime retries against the next daemon.
		BaseContext: func(net.Listener) context.Context { return runCtx },
	}
	errc := make(chan error, 2)
	// DEL needs only OVS and netlink, so the socket is served before the informers
	// sync: pods can be torn down while the apiserver is unreachable.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve %s: %w", cfg.SocketPath, err)
		}
	}()
	if cfg.MetricsAddr != "0" && cfg.MetricsAddr != "" {
		msrv := d.metricsServer(reg)
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = srv.Close()
			wg.Wait()
			return fmt.Errorf("metrics listener %s: %w", cfg.MetricsAddr, err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = msrv.Serve(mln) }()
		go func() { <-runCtx.Done(); _ = msrv.Close() }()
	}
	d.pods.start(runCtx)
	wg.Add(3)
	go func() { defer wg.Done(); d.pods.run(runCtx) }()
	go func() { defer wg.Done(); d.runManagementPort(runCtx) }()
	go func() { defer wg.Done(); d.resync(runCtx) }()
	log.Info("ycloud-cni started", "socket", cfg.SocketPath, "ovsdb", cfg.OVSDB, "datapath", cfg.DatapathType)

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	stop()
	// Wait for the cancelled requests to answer (and roll back).
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	wg.Wait()
	d.pods.stop()
	log.Info("ycloud-cni stopped")
	return err
}

// resync repairs drift every ResyncPeriod: the chassis configuration and br-int (an
// ovsdb-server restarted on a fresh database loses them), every pod's QoS and ports of
// pods that are gone, the management port, and QoS rows nobody uses. A change of the Node
// (kickNode) re-applies the chassis configuration at once.
func (d *Daemon) resync(ctx context.Context) {
	tick := time.NewTicker(d.cfg.ResyncPeriod)
	defer tick.Stop()
	applied := ""
	for {
		full := false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			full = true
		case <-d.chassis:
		}
		cfg := d.chassisConfig()
		if err := d.sw.ConfigureNode(ctx, cfg); err != nil {
			d.log.Warn("resync node configuration", "err", err)
		} else if cfg.Interconn != applied {
			if cfg.Interconn != "" {
				d.log.Info("interconnect gateway role", "ovn-is-interconn", cfg.Interconn, "label", d.cfg.ICGatewayLabel)
			}
			applied = cfg.Interconn
		}
		if !full {
			continue
		}
		if d.pods.synced() {
			d.pods.enqueueAll()
		}
		d.kickManagementPort()
		if n, err := d.sw.CollectQoS(ctx); err != nil {
			d.log.Warn("collect unused qos rows", "err", err)
		} else if n > 0 {
			d.log.Info("collected unused qos rows", "rows", n)
		}
	}
}

// chassisConfig is the configuration from flags plus what the Node decides: with
// --ic-gateway-label set, ovn-is-interconn follows that label. Until the node informer has
// synced (or when the Node is gone) the key is left as it is, so a restart does not flap a
// gateway's role.
func (d *Daemon) chassisConfig() ovsport.NodeConfig {
	cfg := d.nodeCfg
	if d.cfg.ICGatewayLabel == "" || !d.pods.synced() {
		return cfg
	}
	node, err := d.pods.nodes.Get(d.cfg.NodeName)
	if err != nil {
		return cfg
	}
	cfg.Interconn = strconv.FormatBool(node.Labels[d.cfg.ICGatewayLabel] == "true")
	return cfg
}

// kickNode reacts to a change of this node's Node object: its management port and its
// chassis configuration may both follow from it.
func (d *Daemon) kickNode() {
	d.kickManagementPort()
	select {
	case d.chassis <- struct{}{}:
	default:
	}
}

// listenUnix listens on path, replacing a stale socket left by a previous run; the
// directory is private to root (the shim runs as root).
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, nil
}

func (d *Daemon) metricsServer(reg *prometheus.Registry) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := d.ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// nicFor returns the NIC implementation of a type ("" means veth).
func (d *Daemon) nicFor(t iaasv1.NicType) (nic.NIC, error) {
	if t == "" {
		t = iaasv1.NicTypeVeth
	}
	n, ok := d.nics[t]
	if !ok {
		return nil, fmt.Errorf("nic type %q is not supported on node %s", t, d.cfg.NodeName)
	}
	return n, nil
}

// ready reports why the daemon cannot serve ADD yet (nil when it can).
func (d *Daemon) ready() error {
	switch {
	case !d.sw.Connected():
		return fmt.Errorf("not connected to the Open_vSwitch database %s", d.cfg.OVSDB)
	case !d.sw.BridgeReady():
		return fmt.Errorf("bridge %s does not exist", d.cfg.Bridge)
	case !d.pods.synced():
		return errors.New("pod informer not synced with the apiserver yet")
	}
	return nil
}

// keyedMutex serializes work per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
