package labe2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/test/images"
	"github.com/ycloud-sdn/ycloud/test/lab"
	"github.com/ycloud-sdn/ycloud/test/lab/labtest"
)

// TestLabUpDownTwice runs the whole lab life cycle twice in a row: a leak, or state that the
// first cycle leaves for the second, fails the second.
func TestLabUpDownTwice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the lab e2e test needs root (network namespaces, mounts, cgroups); CI runs it as root")
	}
	dir, err := os.MkdirTemp("/var/tmp", "ylab-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Derived from the PID so that two runs on one machine (two engineers) do not collide
	// on namespace names or the underlay.
	pid := os.Getpid()
	// 10.200-219: test/e2e/demo uses 10.220-239 and may run at the same time.
	underlay, err := labtest.FreeUnderlay(200, 20, pid)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lab.Config{
		Dir:          dir,
		Clusters:     1,
		Nodes:        2,
		CNI:          lab.CNIReference,
		ICGateways:   1,
		Prefix:       labtest.Prefix("yt", pid),
		Underlay:     underlay,
		ReadyTimeout: 2 * time.Minute,
		Log:          testWriter{t},
		// This test is about the lab's orchestration; ycloud-controller and ycloud-cni have
		// their own tests, and the reference CNI does not use them.
		Controller: lab.Component{Disabled: true},
		CNIDaemon:  lab.Component{Disabled: true},
	}
	var starts []time.Duration
	for round := 1; round <= 2; round++ {
		ok := t.Run(fmt.Sprintf("cycle%d", round), func(t *testing.T) {
			starts = append(starts, cycle(t, cfg)...)
		})
		if !ok {
			break
		}
	}
	if len(starts) > 0 {
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		t.Logf("pod create -> Running over %d pods: median %v, min %v, max %v",
			len(starts), starts[len(starts)/2].Round(time.Millisecond), starts[0].Round(time.Millisecond), starts[len(starts)-1].Round(time.Millisecond))
	}
}

// cycle is one up -> pods -> exec -> down round; it returns the pods' start times.
func cycle(t *testing.T, cfg lab.Config) []time.Duration {
	before, err := labtest.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	t0 := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	t.Logf("up took %v", time.Since(t0).Round(time.Millisecond))
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			if err := l.Down(context.Background()); err != nil {
				t.Errorf("down after failure: %v", err)
			}
		}
	})

	spoke := lab.SpokeName(1)
	cs, err := l.Client(spoke)
	if err != nil {
		t.Fatal(err)
	}
	checkNodes(ctx, t, l, cs, spoke)
	checkChassis(ctx, t, l, spoke)
	checkIdempotentUp(ctx, t, cfg, l)

	// Two pods per node, placed by the scheduler through a node selector.
	nodes := l.Nodes(spoke)
	var pods []*corev1.Pod
	for _, n := range nodes {
		for i := 1; i <= 2; i++ {
			pods = append(pods, testPod(fmt.Sprintf("%s-p%d", n.Name, i), n.Name))
		}
	}
	starts := startPods(ctx, t, cs, pods)

	for _, p := range pods {
		checkExec(ctx, t, l, spoke, p.Name)
	}
	// Across nodes: a pod on node 1 fetches from a pod on node 2 over the reference bridge,
	// the routes between pod CIDRs and the underlay through both nodes' OVS br-phy.
	remote, err := cs.CoreV1().Pods("default").Get(ctx, pods[len(pods)-1].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Exec(ctx, spoke, "default", pods[0].Name, "/bin/ynettest", "http-get", "--url", "http://"+remote.Status.PodIP+":8080/cross")
	if err != nil {
		t.Fatalf("cross-node http-get from %s to %s (%s): %v; stderr %s", pods[0].Name, remote.Name, remote.Status.PodIP, err, res.Stderr)
	}
	var hr struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &hr); err != nil || hr.Status != 200 || !strings.Contains(hr.Body, `"hostname":"`+remote.Name+`"`) {
		t.Fatalf("cross-node http-get: status %d body %q (err %v)", hr.Status, hr.Body, err)
	}

	if err := l.CheckProcesses(); err != nil {
		t.Fatalf("a lab process died: %v", err)
	}
	if st := l.Status(ctx); !st.Healthy() {
		var b strings.Builder
		st.Write(&b)
		t.Fatalf("status is not healthy:\n%s", b.String())
	}

	procs := l.Processes()
	t0 = time.Now()
	if err := l.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	downDone = true
	t.Logf("down took %v", time.Since(t0).Round(time.Millisecond))
	for _, err := range labtest.CheckGone(cfg, procs, before) {
		t.Error(err)
	}
	return starts
}

// checkNodes wants every lab node registered and Ready with the lab's node IP, and its
// network namespace present.
func checkNodes(ctx context.Context, t *testing.T, l *lab.Lab, cs kubernetes.Interface, spoke string) {
	t.Helper()
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]corev1.Node{}
	for _, n := range list.Items {
		got[n.Name] = n
	}
	netns, err := labtest.NetnsList()
	if err != nil {
		t.Fatal(err)
	}
	want := l.Nodes(spoke)
	if len(want) != 2 || len(got) != 2 {
		t.Fatalf("want 2 nodes, lab has %d, apiserver %d", len(want), len(got))
	}
	for _, n := range want {
		kn, ok := got[n.Name]
		if !ok {
			t.Fatalf("node %s not registered", n.Name)
		}
		ready := false
		for _, c := range kn.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if !ready {
			t.Errorf("node %s not Ready", n.Name)
		}
		var internal string
		for _, a := range kn.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				internal = a.Address
			}
		}
		if internal != n.IP {
			t.Errorf("node %s InternalIP %q, want the lab's node IP %s", n.Name, internal, n.IP)
		}
		if !slices.Contains(netns, n.NetNS) {
			t.Errorf("node %s: netns %s missing from ip netns list %v", n.Name, n.NetNS, netns)
		}
	}
}

// checkChassis wants each node registered in the spoke's southbound DB by its
// ovn-controller, with a geneve encapsulation on the node IP and the interconnect gateway
// flag only on the first node (ICGateways: 1): proof that the lab's Open_vSwitch settings
// reached OVN.
func checkChassis(ctx context.Context, t *testing.T, l *lab.Lab, spoke string) {
	t.Helper()
	ep, err := l.OVN(spoke)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := ovsdb.NewDatabaseModel(sb.Schema(), sb.Models()...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ovsdb.Dial(ctx, dm, ep.SB, ovsdb.WithoutReconnect())
	if err != nil {
		t.Fatalf("dial %s: %v", ep.SB, err)
	}
	defer c.Close()
	res, err := c.Transact(ctx, ovsdb.Select(&sb.Chassis{}).WhereAll(), ovsdb.Select(&sb.Encap{}).WhereAll())
	if err != nil {
		t.Fatal(err)
	}
	var chassis []sb.Chassis
	var encaps []sb.Encap
	if err := dm.Decode(res[0].Rows, &chassis); err != nil {
		t.Fatal(err)
	}
	if err := dm.Decode(res[1].Rows, &encaps); err != nil {
		t.Fatal(err)
	}
	byName := map[string]sb.Chassis{}
	for _, ch := range chassis {
		byName[ch.Name] = ch
	}
	for _, n := range l.Nodes(spoke) {
		ch, ok := byName[n.Name]
		if !ok {
			t.Errorf("node %s has no chassis in %s", n.Name, ep.SB)
			continue
		}
		if got := ch.OtherConfig["is-interconn"] == "true"; got != n.ICGateway {
			t.Errorf("chassis %s is-interconn=%q, node ICGateway=%t", n.Name, ch.OtherConfig["is-interconn"], n.ICGateway)
		}
		found := false
		for _, e := range encaps {
			if e.ChassisName == n.Name && e.Type == "geneve" && e.IP == n.IP {
				found = true
			}
		}
		if !found {
			t.Errorf("chassis %s has no geneve encap on %s (encaps %+v)", n.Name, n.IP, encaps)
		}
	}
}

// checkIdempotentUp: Up again with the same shape changes nothing; another shape is refused.
func checkIdempotentUp(ctx context.Context, t *testing.T, cfg lab.Config, l *lab.Lab) {
	t.Helper()
	n := len(l.Processes())
	again, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("second up with the same shape: %v", err)
	}
	if m := len(again.Processes()); m != n {
		t.Fatalf("second up changed the process list: %d -> %d", n, m)
	}
	other := cfg
	other.Nodes = 3
	if _, err := lab.Up(ctx, other); err == nil || !strings.Contains(err.Error(), "already up") {
		t.Fatalf("up with another shape: err = %v, want an 'already up' error", err)
	}
}

func testPod(name, node string) *corev1.Pod {
	grace := int64(1)
	automount := false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "lab-e2e"}},
		Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{"kubernetes.io/hostname": node},
			TerminationGracePeriodSeconds: &grace,
			AutomountServiceAccountToken:  &automount,
			Containers: []corev1.Container{{
				Name:            "net",
				Image:           images.TestImage,
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"/bin/ynettest", "serve", "--tcp", "7000", "--http", "8080"},
			}},
		},
	}
}

// startPods creates the pods at once and returns, per pod, the time from its create call
// to the first update in which the kubelet reports phase Running.
func startPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, pods []*corev1.Pod) []time.Duration {
	t.Helper()
	w, err := cs.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "app=lab-e2e"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	created := map[string]time.Time{}
	var wg sync.WaitGroup
	errs := make([]error, len(pods))
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
				errs[i] = fmt.Errorf("create pod %s: %w", p.Name, err)
				return
			}
			mu.Lock()
			created[p.Name] = t0
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	running := map[string]time.Duration{}
	deadline := time.After(90 * time.Second)
	for len(running) < len(pods) {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("pod watch closed; running so far: %v", running)
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Deleted {
				continue
			}
			if _, seen := running[p.Name]; !seen && p.Status.Phase == corev1.PodRunning {
				mu.Lock()
				running[p.Name] = time.Since(created[p.Name])
				mu.Unlock()
				t.Logf("pod %s on %s Running after %v (IP %s)", p.Name, p.Spec.NodeName, running[p.Name].Round(time.Millisecond), p.Status.PodIP)
				if p.Spec.NodeName != p.Spec.NodeSelector["kubernetes.io/hostname"] {
					t.Errorf("pod %s runs on %s, selected %s", p.Name, p.Spec.NodeName, p.Spec.NodeSelector["kubernetes.io/hostname"])
				}
			}
		case <-deadline:
			t.Fatalf("pods not Running after 90s: running %v of %d", running, len(pods))
		}
	}
	out := make([]time.Duration, 0, len(running))
	for _, d := range running {
		out = append(out, d)
	}
	return out
}

// checkExec runs the test tool and busybox in a pod through the exec API.
func checkExec(ctx context.Context, t *testing.T, l *lab.Lab, cluster, pod string) {
	t.Helper()
	res, err := l.Exec(ctx, cluster, "default", pod, "/bin/ynettest", "tcp-rr", "--addr", "127.0.0.1:7000", "--count", "20")
	if err != nil {
		t.Fatalf("exec ynettest in %s: %v (stderr %q)", pod, err, res.Stderr)
	}
	var rr struct {
		Count int   `json:"count"`
		P50   int64 `json:"p50_us"`
	}
	if err := json.Unmarshal([]byte(res.Stdout), &rr); err != nil || rr.Count != 20 || rr.P50 <= 0 {
		t.Fatalf("ynettest tcp-rr in %s: %q (err %v)", pod, res.Stdout, err)
	}
	res, err = l.Exec(ctx, cluster, "default", pod, "hostname")
	if err != nil || strings.TrimSpace(res.Stdout) != pod {
		t.Fatalf("busybox hostname in %s: %q, %v", pod, res.Stdout, err)
	}
	res, err = l.Exec(ctx, cluster, "default", pod, "sh", "-c", "echo out; echo err >&2; exit 7")
	var exit *lab.ExitError
	if !errors.As(err, &exit) || exit.Code != 7 || res.ExitCode != 7 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Fatalf("exec sh exit 7 in %s: result %+v, err %v", pod, res, err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
