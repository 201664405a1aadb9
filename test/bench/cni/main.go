// Command cni is `make bench-cni`: CNI ADD latency of ycloud (shim + ycloud-cni daemon +
// OVS port + ovn-controller's ovn-installed) next to the reference bridge + host-local
// plugins on a Linux bridge, on the same machine in the same run. Latency is measured
// from starting the plugin binary to its result, as a runtime sees it, for N sequential
// ADDs and for rounds of C concurrent ADDs on one node.
//
// For ycloud the controller's allocation is already on every pod before the clock starts
// (pods are created and their allocations awaited first), so the figures are the CNI's,
// not the controller's. Both plugins are run by the same code, from a thread in the
// node's network namespace, with a fresh pod namespace per ADD.
//
// It prints RESULT lines (DESIGN.md section 8); ratio = ycloud / bridge:
//
//	RESULT cni_add_p50_ms_seq=<ms> ms vs=bridge baseline=<ms> ratio=<x>
//	RESULT cni_add_p99_ms_seq=<ms> ms vs=bridge baseline=<ms> ratio=<x>
//	RESULT cni_add_p99_ms_conc20=<ms> ms vs=bridge baseline=<ms> ratio=<x>
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/test/bench/benchtb"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

var (
	seq       = flag.Int("seq", 100, "sequential ADDs per plugin")
	conc      = flag.Int("conc", 20, "concurrent ADDs per round")
	rounds    = flag.Int("rounds", 5, "concurrent rounds per plugin (the median round's p99 is reported)")
	benchTime = flag.Duration("timeout", 15*time.Minute, "overall deadline")
)

func main() {
	flag.Parse()
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	tb := benchtb.New()
	defer tb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *benchTime)
	defer cancel()
	if err := run(ctx, tb); err != nil {
		tb.Fatalf("bench-cni: %v", err)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// plugin is one CNI set-up under test.
type plugin struct {
	name   string
	cni    *cnitest.Plugin
	hostNS ns.NetNS
	// next returns the attachment of the i-th ADD (ycloud: a pre-allocated pod).
	next func(i int) (*cnitest.Attachment, error)
}

func run(ctx context.Context, tb *benchtb.TB) error {
	total := *seq + *conc**rounds
	binDir := tb.TempDir()
	bins, err := cnitest.BuildBinaries(binDir, "github.com/ycloud-sdn/ycloud/cmd/ycloud", "github.com/ycloud-sdn/ycloud/cmd/ycloud-cni")
	if err != nil {
		return err
	}
	refBin := filepath.Join(framework.BinDir(), "cni")
	for _, p := range []string{"bridge", "host-local"} {
		if _, err := os.Stat(filepath.Join(refBin, p)); err != nil {
			return fmt.Errorf("reference plugin %s: %w (run make deps)", p, err)
		}
	}

	logf("starting apiserver, OVN central, one node, ycloud-controller and ycloud-cni")
	k8s, err := framework.Start(framework.Options{Name: "bench-cni"})
	if err != nil {
		return err
	}
	tb.Cleanup(func() { _ = k8s.Stop() })
	central := ovsdbtest.StartOVNCentral(tb)
	node := cnitest.StartNode(tb, cnitest.NodeOptions{Name: "node1"})
	node.StartOVNController()
	if err := k8s.Client.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}); err != nil {
		return err
	}
	cfg := controller.DefaultConfig()
	cfg.NBAddress = central.NBEndpoint()
	cfg.Cluster = "bench"
	cfg.MetricsAddr, cfg.HealthAddr = "0", "0"
	cfg.LeaderElect = false
	cfg.DefaultSubnetCIDR = "10.16.0.0/16"
	cctx, stopController := context.WithCancel(ctx)
	cdone := make(chan error, 1)
	go func() { cdone <- controller.Run(cctx, cfg, k8s.Config) }()
	tb.Cleanup(func() { stopController(); <-cdone })

	sock := filepath.Join(node.Dir, "cni.sock")
	metricsAddr, err := freeAddr()
	if err != nil {
		return err
	}
	cnitest.Start(tb, nil, nil, filepath.Join(node.Dir, "ycloud-cni.log"), bins["ycloud-cni"],
		"--kubeconfig", k8s.Kubeconfig, "--node-name", "node1", "--ovsdb", node.DB,
		"--ovn-remote", central.SBEndpoint(), "--encap-ip", "192.0.2.11", "--datapath-type", "netdev",
		"--socket", sock, "--pod-cidrs", cfg.DefaultSubnetCIDR, "--host-netns", node.NS.Path(),
		"--metrics-bind-address", metricsAddr)
	ycloud := &plugin{name: "ycloud", hostNS: node.NS, cni: &cnitest.Plugin{Bin: bins["ycloud"],
		Conf: fmt.Appendf(nil, `{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud","socketPath":%q,"timeoutSeconds":60}`, sock)}}
	if err := ycloud.cni.WaitReady(2 * time.Minute); err != nil {
		return fmt.Errorf("ycloud-cni not ready: %w", err)
	}

	logf("creating %d pods and waiting for their allocations", total)
	atts, err := allocatedPods(ctx, tb, k8s.Client, total)
	if err != nil {
		return err
	}
	ycloud.next = func(i int) (*cnitest.Attachment, error) { return atts[i], nil }

	brHost := cnitest.NewNetns(tb)
	bridge := &plugin{name: "bridge", hostNS: brHost, cni: &cnitest.Plugin{Bin: filepath.Join(refBin, "bridge"), Path: refBin,
		Conf: fmt.Appendf(nil, `{"cniVersion":"1.0.0","name":"bench-bridge","type":"bridge","bridge":"ycb0","isGateway":true,`+
			`"ipam":{"type":"host-local","ranges":[[{"subnet":"10.250.0.0/16"}]],"dataDir":%q}}`, tb.TempDir())}}
	bridge.next = func(i int) (*cnitest.Attachment, error) {
		n, err := cnitest.NewNetnsNoCleanup()
		if err != nil {
			return nil, err
		}
		tb.Cleanup(func() { cnitest.DeleteNetns(n) })
		id := fmt.Sprintf("bench-bridge-%04d", i)
		return &cnitest.Attachment{ContainerID: id, Netns: n.Path(), IfName: "eth0", Namespace: "bench", Name: id}, nil
	}

	// Warm up both (first exec, page cache, ovn-controller's first port) outside the
	// measurement; the last pre-allocated pods are spare for that.
	for _, p := range []*plugin{ycloud, bridge} {
		if _, err := p.add(ctx, total); err != nil {
			return fmt.Errorf("%s warm-up: %w", p.name, err)
		}
	}

	// The fixed cost of the shim: exec, connect, one round trip to the daemon.
	var st []time.Duration
	for range 20 {
		start := time.Now()
		if err := ycloud.cni.Status(ctx); err != nil {
			return err
		}
		st = append(st, time.Since(start))
	}
	logf("ycloud STATUS (shim exec + daemon round trip): p50 %v", pct(st, 50))

	// Sequential: the two plugins alternate in blocks, so that load from the rest of the
	// machine falls on both alike.
	var seqY, seqB []time.Duration
	const block = 10
	for i := 0; i < *seq; i += block {
		for _, p := range []*plugin{ycloud, bridge} {
			for j := i; j < min(i+block, *seq); j++ {
				d, err := p.add(ctx, j)
				if err != nil {
					return fmt.Errorf("%s ADD %d: %w", p.name, j, err)
				}
				if p == ycloud {
					seqY = append(seqY, d)
				} else {
					seqB = append(seqB, d)
				}
			}
		}
	}
	logf("sequential: ycloud p50 %v p99 %v; bridge p50 %v p99 %v",
		pct(seqY, 50), pct(seqY, 99), pct(seqB, 50), pct(seqB, 99))

	var roundY, roundB []time.Duration
	for r := range *rounds {
		for _, p := range []*plugin{ycloud, bridge} {
			ds, err := p.concurrent(ctx, *seq+r**conc, *conc)
			if err != nil {
				return fmt.Errorf("%s concurrent round %d: %w", p.name, r, err)
			}
			logf("concurrent round %d %s: p50 %v p99 %v", r, p.name, pct(ds, 50), pct(ds, 99))
			if p == ycloud {
				roundY = append(roundY, pct(ds, 99))
			} else {
				roundB = append(roundB, pct(ds, 99))
			}
		}
	}

	// Where ycloud's time goes, from the daemon's own histograms (averages).
	if m, err := scrape(metricsAddr); err == nil {
		avg := func(name, labels string) float64 {
			return 1000 * m[name+"_sum"+labels] / max(m[name+"_count"+labels], 1)
		}
		logf("ycloud-cni averages over %.0f ADDs: request %.1f ms, of which waiting for ovn-installed %.1f ms, for the allocation %.1f ms",
			m["ycloud_cni_ovn_install_wait_seconds_count"], avg("ycloud_cni_request_duration_seconds", `{command="ADD"}`),
			avg("ycloud_cni_ovn_install_wait_seconds", ""), avg("ycloud_cni_allocation_wait_seconds", ""))
	}
	result("cni_add_p50_ms_seq", pct(seqY, 50), pct(seqB, 50))
	result("cni_add_p99_ms_seq", pct(seqY, 99), pct(seqB, 99))
	result(fmt.Sprintf("cni_add_p99_ms_conc%d", *conc), median(roundY), median(roundB))
	return nil
}

// add runs one ADD of attachment i from the plugin's host namespace and times it.
func (p *plugin) add(ctx context.Context, i int) (time.Duration, error) {
	a, err := p.next(i)
	if err != nil {
		return 0, err
	}
	var took time.Duration
	err = p.hostNS.Do(func(ns.NetNS) error {
		// The plugin process inherits this thread's namespace (the bridge plugin works on
		// its host side there); ycloud's shim does not care, but is started the same way.
		start := time.Now()
		_, err := p.cni.Add(ctx, a)
		took = time.Since(start)
		return err
	})
	return took, err
}

// concurrent runs n ADDs at once, starting with attachment first.
func (p *plugin) concurrent(ctx context.Context, first, n int) ([]time.Duration, error) {
	out := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[k], errs[k] = p.add(ctx, first+k)
		}()
	}
	close(start)
	wg.Wait()
	return out, errors.Join(errs...)
}

// allocatedPods creates n+1 pods on node1 (one spare for the warm-up), each with a network
// namespace, and returns their attachments once ycloud-controller has written every
// allocation.
func allocatedPods(ctx context.Context, tb *benchtb.TB, c client.Client, n int) ([]*cnitest.Attachment, error) {
	atts := make([]*cnitest.Attachment, n+1)
	for i := range atts {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("bench-%04d", i)},
			Spec:       corev1.PodSpec{NodeName: "node1", Containers: []corev1.Container{{Name: "c", Image: "registry.local/pause:1"}}},
		}
		if err := c.Create(ctx, p); err != nil {
			return nil, err
		}
		netns, err := cnitest.NewNetnsNoCleanup()
		if err != nil {
			return nil, err
		}
		tb.Cleanup(func() { cnitest.DeleteNetns(netns) })
		atts[i] = &cnitest.Attachment{ContainerID: fmt.Sprintf("bench-%04d-%s", i, p.UID), Netns: netns.Path(),
			IfName: "eth0", Namespace: "default", Name: p.Name, UID: string(p.UID)}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var list corev1.PodList
		if err := c.List(ctx, &list, client.InNamespace("default")); err != nil {
			return nil, err
		}
		done := 0
		for _, p := range list.Items {
			if _, ok := p.Annotations[iaasv1.AnnotationAllocation]; ok {
				done++
			}
		}
		if done >= len(atts) {
			return atts, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d pods allocated after 5 minutes", done, len(atts))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	// Nearest rank.
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func median(ds []time.Duration) time.Duration { return pct(ds, 50) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func result(name string, ours, base time.Duration) {
	fmt.Printf("RESULT %s=%.1f ms vs=bridge baseline=%.1f ms ratio=%.2f\n", name, ms(ours), ms(base), ms(ours)/ms(base))
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scrape reads the daemon's metrics: sample (name with labels, as exposed) -> value.
func scrape(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
