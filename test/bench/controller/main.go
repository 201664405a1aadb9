// Command controller is `make bench-controller`: 5,000 pods over 50 subnets in 5 VPCs
// against a fresh OVN, with ycloud-controller as a separate process, next to the same
// logical switch ports created by ovn-nbctl in batches of 100 (what a shell-based
// controller does at best). It prints RESULT lines (DESIGN.md section 8).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
	"github.com/ycloud-sdn/ycloud/test/bench/benchtb"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

var (
	pods      = flag.Int("pods", 5000, "pods to create")
	vpcs      = flag.Int("vpcs", 5, "VPCs")
	subnets   = flag.Int("subnets", 50, "subnets, spread evenly over the VPCs")
	nodes     = flag.Int("nodes", 10, "nodes the pods are spread over")
	parallel  = flag.Int("create-parallelism", 32, "concurrent pod creates")
	baseReps  = flag.Int("baseline-reps", 3, "repetitions of the ovn-nbctl baseline (median reported)")
	benchTime = flag.Duration("timeout", 15*time.Minute, "overall deadline")
	profile   = flag.String("cpuprofile", "", "write a 20 s CPU profile of the controller taken while pods are created")
)

func main() {
	flag.Parse()
	tb := benchtb.New()
	defer tb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *benchTime)
	defer cancel()
	if err := run(ctx, tb); err != nil {
		tb.Fatalf("bench-controller: %v", err)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

func run(ctx context.Context, tb *benchtb.TB) error {
	bin, err := buildController(tb)
	if err != nil {
		return err
	}
	k8s, err := framework.Start(framework.Options{Name: "bench"})
	if err != nil {
		return err
	}
	tb.Cleanup(func() { _ = k8s.Stop() })
	central := ovsdbtest.StartOVNCentral(tb)
	c := k8s.Client

	// Topology: VPCs, subnets, nodes, namespace.
	logf("creating %d vpcs, %d subnets, %d nodes", *vpcs, *subnets, *nodes)
	var objs []client.Object
	for v := 0; v < *vpcs; v++ {
		objs = append(objs, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("vpc%d", v)}})
	}
	for s := 0; s < *subnets; s++ {
		objs = append(objs, &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: subnetName(s)},
			Spec: iaasv1.SubnetSpec{Vpc: fmt.Sprintf("vpc%d", s%*vpcs), CIDRBlock: iaasv1.DualStackCIDR(fmt.Sprintf("10.%d.%d.0/24", 100+s/200, s%200))}})
	}
	for n := 0; n < *nodes; n++ {
		objs = append(objs, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node%d", n)}})
	}
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}})
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return err
		}
	}

	nbc, err := nbWatcher(ctx, central.NBEndpoint())
	if err != nil {
		return err
	}
	defer nbc.Close()

	proc, err := startController(tb, bin, k8s.Kubeconfig, central.NBEndpoint(), "run1")
	if err != nil {
		return err
	}
	if err := proc.waitReady(ctx); err != nil {
		return err
	}
	if err := poll(ctx, "subnets in NB", func() (bool, string) {
		n := 0
		for s := 0; s < *subnets; s++ {
			if ls, _ := ovsdb.Lookup[nb.LogicalSwitch](nbc.Cache(), "name", subnetName(s)); len(ls) == 1 {
				n++
			}
		}
		return n == *subnets, fmt.Sprintf("%d/%d", n, *subnets)
	}); err != nil {
		return err
	}

	cs, err := kubernetes.NewForConfig(k8s.Config)
	if err != nil {
		return err
	}
	writes0, err := apiWrites(ctx, cs)
	if err != nil {
		return err
	}
	txn0, err := proc.metric("ycloud_ovsdb_transactions_total")
	if err != nil {
		return err
	}

	// The measured part: pods in, until every port is in NB.
	logf("creating %d pods", *pods)
	if *profile != "" {
		go func() {
			resp, err := http.Get("http://" + proc.metricsAddr + "/debug/pprof/profile?seconds=20")
			if err != nil {
				logf("profile: %v", err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(*profile)
			if err != nil {
				logf("profile: %v", err)
				return
			}
			defer f.Close()
			_, _ = io.Copy(f, resp.Body)
		}()
	}
	start := time.Now()
	var created atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *parallel)
	next := make(chan int)
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("pod%d", i),
						Annotations: map[string]string{iaasv1.AnnotationSubnet: subnetName(i % *subnets)}},
					Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node%d", i%*nodes), Containers: []corev1.Container{{Name: "c", Image: "x"}}},
				}
				if err := c.Create(ctx, p); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				created.Add(1)
			}
		}()
	}
	for i := 0; i < *pods; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("create pods: %w", err)
	default:
	}
	createdIn := time.Since(start)
	logf("created %d pods in %.1fs (%.0f/s)", created.Load(), createdIn.Seconds(), float64(*pods)/createdIn.Seconds())
	if err := poll(ctx, "pod ports in NB", func() (bool, string) {
		n := countPodPorts(nbc)
		return n >= *pods, fmt.Sprintf("%d/%d", n, *pods)
	}); err != nil {
		return err
	}
	elapsed := time.Since(start)
	ours := float64(*pods) / elapsed.Seconds()
	logf("all %d ports in NB after %.1fs", *pods, elapsed.Seconds())

	// Writes are counted once the controller is done with the pods: every Vnic status says
	// ready (the last write the pod path makes).
	if err := poll(ctx, "vnic statuses", func() (bool, string) {
		var l iaasv1.VnicList
		if err := c.List(ctx, &l, client.InNamespace("bench")); err != nil {
			return false, err.Error()
		}
		n := 0
		for _, v := range l.Items {
			if v.Status.Ready {
				n++
			}
		}
		return n >= *pods, fmt.Sprintf("%d/%d", n, *pods)
	}); err != nil {
		return err
	}
	// Subnet status refreshes are delayed a few seconds by design; let them land.
	settle(ctx, 8*time.Second)
	writes1, err := apiWrites(ctx, cs)
	if err != nil {
		return err
	}
	txn1, err := proc.metric("ycloud_ovsdb_transactions_total")
	if err != nil {
		return err
	}
	controllerWrites := writes1 - writes0 - float64(*pods) // minus the bench's own pod creates
	rss := proc.peakRSSMiB()

	// Restart: kill -9, start again, ready = /readyz OK and a new pod allocated.
	proc.kill()
	restartStart := time.Now()
	proc2, err := startController(tb, bin, k8s.Kubeconfig, central.NBEndpoint(), "run2")
	if err != nil {
		return err
	}
	if err := proc2.waitReady(ctx); err != nil {
		return err
	}
	readyz := time.Since(restartStart)
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "probe"},
		Spec: corev1.PodSpec{NodeName: "node0", Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	if err := c.Create(ctx, probe); err != nil {
		return err
	}
	if err := poll(ctx, "probe pod allocated", func() (bool, string) {
		var p corev1.Pod
		if err := c.Get(ctx, client.ObjectKeyFromObject(probe), &p); err != nil {
			return false, err.Error()
		}
		_, ok := p.Annotations[iaasv1.AnnotationAllocation]
		return ok, "waiting"
	}); err != nil {
		return err
	}
	restart := time.Since(restartStart)
	logf("restart: readyz after %.2fs, new pod allocated after %.2fs", readyz.Seconds(), restart.Seconds())
	proc2.kill()

	// Baseline: the same ports by ovn-nbctl, 100 per invocation, on a fresh NB each time.
	var base []float64
	for r := 0; r < *baseReps; r++ {
		d, err := nbctlBaseline(ctx, tb)
		if err != nil {
			return err
		}
		base = append(base, float64(*pods)/d.Seconds())
		logf("baseline rep %d: %d ports in %.1fs", r+1, *pods, d.Seconds())
	}
	baseline := median(base)

	fmt.Printf("RESULT controller_pods_per_s=%.1f pods/s vs=nbctl_batch100 baseline=%.1f ratio=%.2f\n", ours, baseline, ours/baseline)
	fmt.Printf("RESULT controller_restart_ready_s=%.2f s\n", restart.Seconds())
	fmt.Printf("RESULT controller_peak_rss_mib=%.0f MiB\n", rss)
	fmt.Printf("RESULT controller_nb_txns_per_pod=%.2f txn\n", (txn1-txn0)/float64(*pods))
	fmt.Printf("RESULT controller_api_writes_per_pod=%.2f writes\n", controllerWrites/float64(*pods))
	fmt.Printf("# controller run: 1 repetition (5k pods is the expensive part); baseline: median of %d; pod creation alone took %.1fs\n", *baseReps, createdIn.Seconds())
	return nil
}

func subnetName(i int) string { return fmt.Sprintf("sub%d", i) }

func countPodPorts(nbc *ovsdb.Client) int {
	l, _ := ovsdb.List[nb.LogicalSwitchPort](nbc.Cache(), func(p *nb.LogicalSwitchPort) bool {
		return p.ExternalIDs[ovnnb.KeyOwnerKind] == ovnnb.KindVnic
	})
	return len(l)
}

func nbWatcher(ctx context.Context, ep string) (*ovsdb.Client, error) {
	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		return nil, err
	}
	c, err := ovsdb.Dial(ctx, dm, ep, ovsdb.WithIndex(nb.LogicalSwitchTable, "name"))
	if err != nil {
		return nil, err
	}
	if _, err := c.Monitor(ctx, ovsdb.TableMonitor{Table: nb.LogicalSwitchTable, Columns: []string{"name"}},
		ovsdb.TableMonitor{Table: nb.LogicalSwitchPortTable, Columns: []string{"name", "external_ids"}}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// apiWrites sums the apiserver's mutating request counters.
func apiWrites(ctx context.Context, cs *kubernetes.Clientset) (float64, error) {
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("apiserver metrics: %w", err)
	}
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		verb := label(line, "verb")
		if verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "DELETE" && verb != "APPLY" {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum, nil
}

func label(line, name string) string {
	i := strings.Index(line, name+`="`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(name)+2:]
	return rest[:strings.IndexByte(rest, '"')]
}

type process struct {
	cmd         *exec.Cmd
	done        chan struct{}
	metricsAddr string
	healthAddr  string
	hwm         float64
}

func buildController(tb *benchtb.TB) (string, error) {
	out := filepath.Join(tb.TempDir(), "ycloud-controller")
	b, err := exec.Command("go", "build", "-o", out, "github.com/ycloud-sdn/ycloud/cmd/ycloud-controller").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build controller: %v: %s", err, b)
	}
	return out, nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startController(tb *benchtb.TB, bin, kubeconfig, nbAddr, name string) (*process, error) {
	p := &process{done: make(chan struct{}), metricsAddr: freeAddr(), healthAddr: freeAddr()}
	p.cmd = exec.Command(bin, "--kubeconfig", kubeconfig, "--ovn-nb", nbAddr, "--cluster", "bench",
		"--metrics-bind-address", p.metricsAddr, "--health-probe-bind-address", p.healthAddr,
		"--leader-elect=false", "--log-level", "warn", "--pprof")
	logPath := filepath.Join(tb.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	tb.Cleanup(p.kill)
	logf("controller %s pid %d, log %s", name, p.cmd.Process.Pid, logPath)
	return p, nil
}

func (p *process) waitReady(ctx context.Context) error {
	return poll(ctx, "controller /readyz", func() (bool, string) {
		select {
		case <-p.done:
			return false, "controller exited"
		default:
		}
		resp, err := http.Get("http://" + p.healthAddr + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

func (p *process) metric(name string) (float64, error) {
	resp, err := http.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum, sc.Err()
}

// peakRSSMiB reads VmHWM, the process's peak resident set.
func (p *process) peakRSSMiB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return p.hwm
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			p.hwm = kb / 1024
		}
	}
	return p.hwm
}

func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// nbctlBaseline creates the same switches and ports with ovn-nbctl on a fresh NB: one
// invocation per 100 ports, each port with addresses and port security like ours.
func nbctlBaseline(ctx context.Context, tb *benchtb.TB) (time.Duration, error) {
	srv := ovsdbtest.StartStandalone(tb, ovsdbtest.NBSchema)
	defer srv.Stop()
	db := "--db=" + srv.Endpoint()
	nbctl := func(args ...string) error {
		out, err := exec.CommandContext(ctx, "ovn-nbctl", append([]string{db}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ovn-nbctl: %v: %s", err, out)
		}
		return nil
	}
	if err := nbctl("init"); err != nil {
		return 0, err
	}
	var args []string
	for s := 0; s < *subnets; s++ {
		args = append(args, "--", "ls-add", subnetName(s))
	}
	if err := nbctl(args[1:]...); err != nil {
		return 0, err
	}
	start := time.Now()
	args = nil
	for i := 0; i < *pods; i++ {
		name := fmt.Sprintf("pod%d.eth0.bench", i)
		addr := fmt.Sprintf("0a:58:%02x:%02x:%02x:%02x 10.%d.%d.%d", rand.IntN(256), rand.IntN(256), i/256%256, i%256, 100+(i%*subnets)/200, (i%*subnets)%200, 2 + i / *subnets)
		args = append(args, "--", "lsp-add", subnetName(i%*subnets), name, "--", "lsp-set-addresses", name, addr, "--", "lsp-set-port-security", name, addr)
		if (i+1)%100 == 0 || i == *pods-1 {
			if err := nbctl(args[1:]...); err != nil {
				return 0, err
			}
			args = nil
		}
	}
	return time.Since(start), nil
}

func poll(ctx context.Context, what string, cond func() (bool, string)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		last = state
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %s)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func settle(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
