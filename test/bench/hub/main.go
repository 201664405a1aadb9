// Command hub benchmarks ycloud-hub: N FederatedVpcs (2 carved subnets each) placed on M
// spokes, each spoke with a real OVN central, an in-process ycloud-controller and the
// stand-in work agent; the placement stand-in runs on the hub. ycloud-hub itself runs as a
// subprocess (built from ./cmd/ycloud-hub), so its memory is its own: peak RSS is VmHWM
// from /proc/<pid>/status, and ManifestWork writes are read from its /metrics endpoint
// (ycloud_hub_manifestwork_writes_total, counted by the hub at every create and update).
//
// Every figure is printed as `RESULT name=value unit`, the median of -reps runs, each on a
// fresh fleet:
//
//	hub_200x3_ready_s       from the first create to every FederatedVpc Ready on all spokes
//	hub_writes_per_work     ManifestWork creates+updates divided by works, after an idle
//	                        window that would expose a write loop
//	hub_peak_rss_mib        VmHWM of the ycloud-hub process
//
//	go run ./test/bench/hub [-vpcs 200] [-spokes 3] [-reps 3] [-agent-sync 2s]
//
// Progress goes to stderr every 10 s; BENCH_HUB_DEBUG=1 also dumps the hub's request and
// reconcile counters at the end of each run.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/fedvpc"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/integration/hub/fleet"
)

type config struct {
	vpcs, spokes, tenants, reps int
	agentSync, idle, timeout    time.Duration
	hubArgs                     string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.vpcs, "vpcs", 200, "FederatedVpcs to create (2 carved subnets each)")
	flag.IntVar(&cfg.spokes, "spokes", 3, "spoke clusters, each with OVN, a ycloud-controller and a work agent")
	flag.IntVar(&cfg.tenants, "tenants", 10, "tenant namespaces the FederatedVpcs are spread over")
	flag.IntVar(&cfg.reps, "reps", 3, "repetitions, each on a fresh fleet; figures are medians")
	flag.DurationVar(&cfg.agentSync, "agent-sync", 2*time.Second, "work agent status sync interval (how often spoke status is read back)")
	flag.DurationVar(&cfg.idle, "idle", 10*time.Second, "idle window after everything is Ready, in which the hub must write nothing")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "overall time limit")
	flag.StringVar(&cfg.hubArgs, "hub-args", "", "extra ycloud-hub flags, space separated (e.g. \"--workers 8\")")
	flag.Parse()

	h := quietable{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})}
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-hub:", err)
		os.Exit(1)
	}
}

// logLevel lets the components of a fleet report errors while it runs and keeps them
// quiet while it is torn down (every in-flight request then fails with "context canceled").
var logLevel = new(slog.LevelVar)

// quietable drops records below logLevel in Handle too: logr sends errors to the handler
// without asking Enabled first.
type quietable struct{ slog.Handler }

func (q quietable) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < logLevel.Level() {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietable) WithAttrs(as []slog.Attr) slog.Handler { return quietable{q.Handler.WithAttrs(as)} }
func (q quietable) WithGroup(g string) slog.Handler       { return quietable{q.Handler.WithGroup(g)} }

type result struct {
	ready        time.Duration
	writes       float64 // creates + updates
	idleWrites   float64
	peakRSSBytes int64
	cpu          time.Duration // ycloud-hub's CPU time over the run
}

func run(ctx context.Context, cfg config) error {
	bin, cleanup, err := buildHub()
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Printf("# %d FederatedVpcs (2 carved /24 subnets each) over %d tenants x %d spokes; each spoke: OVN central + in-process ycloud-controller + stand-in work agent (status sync %s)\n",
		cfg.vpcs, cfg.tenants, cfg.spokes, cfg.agentSync)
	fmt.Printf("# ycloud-hub runs as a subprocess: RSS is its VmHWM; writes come from its /metrics\n")
	var rs []result
	for i := range cfg.reps {
		r, err := once(ctx, cfg, bin)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("# run %d: ready %.2fs, %.0f work writes for %d works (%.0f in the %s idle window), peak RSS %.1f MiB, ycloud-hub CPU %.1fs\n",
			i+1, r.ready.Seconds(), r.writes, cfg.vpcs*cfg.spokes, r.idleWrites, cfg.idle, float64(r.peakRSSBytes)/(1<<20), r.cpu.Seconds())
		rs = append(rs, r)
	}
	works := float64(cfg.vpcs * cfg.spokes)
	fmt.Printf("RESULT hub_%dx%d_ready_s=%.2f s\n", cfg.vpcs, cfg.spokes, median(rs, func(r result) float64 { return r.ready.Seconds() }))
	fmt.Printf("RESULT hub_writes_per_work=%.2f writes\n", median(rs, func(r result) float64 { return r.writes / works }))
	fmt.Printf("RESULT hub_peak_rss_mib=%.1f MiB\n", median(rs, func(r result) float64 { return float64(r.peakRSSBytes) / (1 << 20) }))
	return nil
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func buildHub() (string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-hub-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "ycloud-hub")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ycloud-hub")
	cmd.Dir = framework.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build ycloud-hub: %v: %s", err, out)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// once measures one run on a fresh fleet.
func once(ctx context.Context, cfg config, bin string) (res result, err error) {
	tb := &fleet.ProcessTB{}
	defer tb.Close()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fleet.Fatal)
			if !ok {
				panic(r)
			}
			err = errors.New(f.Msg)
		}
	}()
	logLevel.Set(slog.LevelError)
	defer logLevel.Set(slog.LevelError + 100)
	fl := fleet.Start(tb, fleet.Options{Spokes: cfg.spokes, AgentSync: cfg.agentSync})
	tenants := make([]string, cfg.tenants)
	for i := range tenants {
		tenants[i] = fmt.Sprintf("bench-%d", i)
		if err := fl.AddTenant(ctx, tenants[i], map[string]map[string]string{"all": nil}); err != nil {
			return res, err
		}
	}

	hub, err := startHub(tb, bin, fl.Hub.Kubeconfig, strings.Fields(cfg.hubArgs))
	if err != nil {
		return res, err
	}
	if err := hub.waitMetrics(ctx); err != nil {
		return res, err
	}

	// The objects are applied by 8 clients at once, so the figure measures the system
	// rather than one client's round trips to a busy apiserver.
	start := time.Now()
	var wg sync.WaitGroup
	createErrs := make([]error, cfg.vpcs)
	sem := make(chan struct{}, 8)
	for i := range cfg.vpcs {
		web, db := int32(24), int32(24)
		fv := &fedv1.FederatedVpc{
			ObjectMeta: metav1.ObjectMeta{Namespace: tenants[i%len(tenants)], Name: fmt.Sprintf("vpc-%d", i)},
			Spec: fedv1.FederatedVpcSpec{
				CIDRBlock:    iaasv1.DualStackCIDR(fmt.Sprintf("10.%d.%d.0/20", i/16, (i%16)*16)),
				PlacementRef: fedv1.PlacementRef{Name: "all"},
				Subnets:      []fedv1.FederatedSubnet{{Name: "web", PerClusterPrefixLength: &web}, {Name: "db", PerClusterPrefixLength: &db}},
			},
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fl.HubClient.Create(ctx, fv); err != nil {
				createErrs[i] = fmt.Errorf("create %s/%s: %w", fv.Namespace, fv.Name, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(createErrs...); err != nil {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "# %5.1fs: %d FederatedVpcs created\n", time.Since(start).Seconds(), cfg.vpcs)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	lastReport := start
	for {
		n, err := readyCount(ctx, fl, cfg.spokes)
		if err != nil {
			return res, err
		}
		if n == cfg.vpcs {
			break
		}
		if time.Since(lastReport) >= 10*time.Second {
			lastReport = time.Now()
			w, _ := hub.writes()
			applied, _ := appliedCount(ctx, fl)
			fmt.Fprintf(os.Stderr, "# %5.1fs: %d/%d ready, %.0f work writes, %d works applied\n", time.Since(start).Seconds(), n, cfg.vpcs, w, applied)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d FederatedVpcs ready: %w", n, cfg.vpcs, ctx.Err())
		case <-hub.exited:
			return res, fmt.Errorf("ycloud-hub exited; log: %s", hub.log)
		case <-tick.C:
		}
	}
	res.ready = time.Since(start)

	// Cross-check the data plane: every spoke's NB holds a router per VPC.
	for _, s := range fl.Spokes {
		routers, err := ovsdb.List[nb.LogicalRouter](s.NB.Cache(), func(r *nb.LogicalRouter) bool { return strings.HasPrefix(r.Name, "vpc-bench-") })
		if err != nil {
			return res, err
		}
		if len(routers) != cfg.vpcs {
			return res, fmt.Errorf("%s: %d federated routers in NB, want %d", s.Name, len(routers), cfg.vpcs)
		}
	}

	atReady, err := hub.writes()
	if err != nil {
		return res, err
	}
	// A converged hub must stay silent while the agents keep syncing status.
	idle := time.NewTimer(cfg.idle)
	select {
	case <-idle.C:
	case <-ctx.Done():
		return res, ctx.Err()
	}
	total, err := hub.writes()
	if err != nil {
		return res, err
	}
	res.writes, res.idleWrites = total, total-atReady
	if os.Getenv("BENCH_HUB_DEBUG") != "" {
		if resp, err := http.Get(hub.metrics); err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				l := sc.Text()
				if strings.HasPrefix(l, "rest_client_requests_total") || strings.HasPrefix(l, "rest_client_rate_limiter_duration_seconds_sum") ||
					strings.HasPrefix(l, "rest_client_rate_limiter_duration_seconds_count") || strings.HasPrefix(l, "controller_runtime_reconcile_total") ||
					strings.HasPrefix(l, "rest_client_request_duration_seconds_sum") || strings.HasPrefix(l, "rest_client_request_duration_seconds_count") {
					fmt.Fprintln(os.Stderr, "# debug", l)
				}
			}
			resp.Body.Close()
		}
	}
	if res.peakRSSBytes, err = vmHWM(hub.cmd.Process.Pid); err != nil {
		return res, err
	}
	res.cpu, _ = cpuTime(hub.cmd.Process.Pid)
	return res, nil
}

// cpuTime is the user+system CPU time a process has used, from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start at state, field 3.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	// USER_HZ is 100 on Linux for every architecture Go supports here.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// readyCount counts FederatedVpcs Ready on every spoke.
func readyCount(ctx context.Context, fl *fleet.Fleet, spokes int) (int, error) {
	var list fedv1.FederatedVpcList
	if err := fl.HubClient.List(ctx, &list); err != nil {
		return 0, err
	}
	n := 0
	for _, fv := range list.Items {
		c := meta.FindStatusCondition(fv.Status.Conditions, fedv1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == fv.Generation && int(fv.Status.ReadyClusters) == spokes {
			n++
		}
	}
	return n, nil
}

// appliedCount counts works the agents applied in their current generation.
func appliedCount(ctx context.Context, fl *fleet.Fleet) (int, error) {
	var list workv1.ManifestWorkList
	if err := fl.HubClient.List(ctx, &list); err != nil {
		return 0, err
	}
	n := 0
	for _, w := range list.Items {
		if c := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkApplied); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == w.Generation {
			n++
		}
	}
	return n, nil
}

type hubProc struct {
	cmd     *exec.Cmd
	metrics string
	log     string
	exited  chan struct{}
}

func startHub(tb *fleet.ProcessTB, bin, kubeconfig string, extra []string) (*hubProc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.CreateTemp("", "bench-hub-log-")
	if err != nil {
		return nil, err
	}
	h := &hubProc{metrics: "http://" + addr + "/metrics", log: logf.Name(), exited: make(chan struct{})}
	args := append([]string{"--kubeconfig", kubeconfig, "--metrics-bind-address", addr,
		"--health-probe-bind-address", "0", "--leader-elect=false", "--log-level", "warn"}, extra...)
	h.cmd = exec.Command(bin, args...)
	h.cmd.Stdout, h.cmd.Stderr = logf, logf
	if err := h.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start ycloud-hub: %w", err)
	}
	go func() { _ = h.cmd.Wait(); logf.Close(); close(h.exited) }()
	tb.Cleanup(func() {
		_ = h.cmd.Process.Signal(os.Interrupt)
		select {
		case <-h.exited:
		case <-time.After(20 * time.Second):
			_ = h.cmd.Process.Kill()
			<-h.exited
		}
		os.Remove(h.log)
	})
	return h, nil
}

func (h *hubProc) waitMetrics(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := h.writes(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("ycloud-hub metrics not served: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.exited:
			b, _ := os.ReadFile(h.log)
			return fmt.Errorf("ycloud-hub exited: %s", b)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writes scrapes the hub's ManifestWork creates and updates.
func (h *hubProc) writes() (float64, error) {
	resp, err := http.Get(h.metrics)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", h.metrics, resp.Status)
	}
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		// Creates and updates, whatever their result: every request is a write the
		// apiserver had to handle.
		rest, ok := strings.CutPrefix(line, fedvpc.MetricWorkWrites+"{")
		if !ok || !(strings.Contains(rest, `operation="create"`) || strings.Contains(rest, `operation="update"`)) {
			continue
		}
		_, v, _ := strings.Cut(rest, "} ")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum += f
	}
	return sum, sc.Err()
}

// vmHWM is the peak resident set size of a process, from /proc.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc/pid/status")
}
