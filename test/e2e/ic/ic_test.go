// Package ice2e is the interconnect end-to-end test in the lab (issue 8): a hub and two
// spokes of two real kubelet nodes each, every node an OVN-IC gateway candidate, with
// ycloud-hub, the OCM stand-ins, ycloud-controller and ycloud-ic per spoke, real ovn-ic and
// OVN-IC databases. Everything starts from objects applied on the hub:
//
//	tenant-a  FederatedVpc vpc-a 10.100.0.0/16 on spoke1 + spoke2   pods a1 (spoke1), a2 (spoke2)
//	tenant-b  FederatedVpc vpc-b 10.100.0.0/16 on spoke1 + spoke2   pods b1 (spoke1), b2, b3 (spoke2)
//
// a1/a2 and b1/b2 use the same addresses (.10 in each cluster's piece), b3 has an address
// only tenant-b uses. The test checks, in this order: each tenant's pods reach each other
// across the clusters (TCP with the expected pod answering, ICMP), tenant-a cannot send a
// single packet to tenant-b's pod (its interface counters do not move), the hub shows each
// cluster's link; taking spoke2 out of tenant-a's placement withdraws spoke2's routes from
// spoke1's router (tenant-b keeps its own); and stopping the active gateway chassis of
// tenant-b in spoke2 (its ovn-controller) moves traffic to the standby, with the outage
// measured by a UDP probe running across it.
package ice2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/render"
	"github.com/ycloud-sdn/ycloud/ic"
	"github.com/ycloud-sdn/ycloud/test/images"
	"github.com/ycloud-sdn/ycloud/test/lab"
	"github.com/ycloud-sdn/ycloud/test/lab/labtest"
)

const (
	ns       = "ic-e2e"
	cidr     = "10.100.0.0/16"
	subnet   = "web"
	httpPort = 8080
	udpPort  = 7001
)

type tenant struct{ name, fvpc string }

var (
	tenantA = tenant{"tenant-a", "vpc-a"}
	tenantB = tenant{"tenant-b", "vpc-b"}
)

func (tn tenant) vpc() string { return render.VpcName(tn.name, tn.fvpc) }
func (tn tenant) label() string {
	return "ycloud.io/" + tn.name
}

// world is the running lab and clients.
type world struct {
	t   *testing.T
	l   *lab.Lab
	hub client.Client
	// spoke clients by cluster name.
	spokes map[string]client.Client
	// alloc: tenant -> cluster -> the web subnet's piece.
	alloc map[string]map[string]netip.Prefix
}

type pod struct {
	name, cluster, node string
	tn                  tenant
	ip                  string
}

func TestInterconnect(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the interconnect e2e test needs root (network namespaces, mounts, cgroups); CI runs it as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bins, err := labtest.BuildComponents(ctx, lab.DefaultRepoRoot(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/var/tmp", "yic-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	// 10.240-249: test/e2e/lab uses 10.200-219 and test/e2e/demo 10.220-239; all may run
	// at the same time.
	underlay, err := labtest.FreeUnderlay(240, 10, pid)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lab.Config{
		Dir: dir, Clusters: 2, Nodes: 2, CNI: lab.CNIYcloud, ICGateways: 2,
		Prefix: labtest.Prefix("yi", pid), Underlay: underlay,
		ReadyTimeout: 3 * time.Minute, Log: testWriter{t},
	}
	labtest.UseComponents(&cfg, bins)
	before, err := labtest.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		if dl, oerr := lab.Open(dir); oerr == nil {
			_ = dl.Down(context.WithoutCancel(ctx))
		}
		t.Fatalf("lab up: %v (logs in %s/logs)", err, dir)
	}
	t.Cleanup(func() {
		procs := l.Processes()
		dctx, dcancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer dcancel()
		if err := l.Down(dctx); err != nil {
			t.Errorf("lab down: %v", err)
		}
		for _, err := range labtest.CheckGone(cfg, procs, before) {
			t.Errorf("after down: %v", err)
		}
		if t.Failed() {
			t.Logf("lab logs kept in %s/logs", dir)
			return
		}
		os.RemoveAll(dir)
	})
	w := newWorld(t, l)

	// The hub side: cluster labels (the platform team's), then per tenant what a tenant
	// applies: namespace, binding to the default cluster set, Placement, FederatedVpc.
	for _, s := range l.Spokes() {
		w.label(ctx, s, map[string]*string{tenantA.label(): ptr.To("true"), tenantB.label(): ptr.To("true")})
	}
	for _, tn := range []tenant{tenantA, tenantB} {
		w.createTenant(ctx, tn)
	}
	for _, tn := range []tenant{tenantA, tenantB} {
		w.waitReady(ctx, tn, 2)
	}

	pods := map[string]*pod{
		"a1": {name: "a1", cluster: "spoke1", node: "spoke1-n1", tn: tenantA, ip: w.addr(tenantA, "spoke1", 10)},
		"a2": {name: "a2", cluster: "spoke2", node: "spoke2-n2", tn: tenantA, ip: w.addr(tenantA, "spoke2", 10)},
		"b1": {name: "b1", cluster: "spoke1", node: "spoke1-n2", tn: tenantB, ip: w.addr(tenantB, "spoke1", 10)},
		"b2": {name: "b2", cluster: "spoke2", node: "spoke2-n1", tn: tenantB, ip: w.addr(tenantB, "spoke2", 10)},
		"b3": {name: "b3", cluster: "spoke2", node: "spoke2-n2", tn: tenantB, ip: w.addr(tenantB, "spoke2", 12)},
	}
	w.runPods(ctx, pods)
	a1, a2, b1, b2, b3 := pods["a1"], pods["a2"], pods["b1"], pods["b2"], pods["b3"]

	t.Run("each tenant reaches its pods across clusters", func(t *testing.T) {
		for _, pair := range [][2]*pod{{a1, a2}, {a2, a1}, {b1, b2}, {b2, b1}} {
			src, dst := pair[0], pair[1]
			w.reachHTTP(ctx, t, src, dst)
			w.reachPing(ctx, t, src, dst.ip)
		}
	})

	t.Run("tenant-a cannot send one packet to tenant-b", func(t *testing.T) {
		// b3's address exists only in tenant-b (in spoke2). a1 tries TCP and ICMP; b3's
		// interface must not receive a single packet meanwhile.
		rx0 := w.rxPackets(ctx, t, b3)
		for range 3 {
			if ok, detail := w.httpGet(ctx, a1, b3.ip, 2*time.Second); ok {
				t.Fatalf("a1 (tenant-a) reached %s, tenant-b's pod b3: %s", b3.ip, detail)
			}
			if w.ping(ctx, a1, b3.ip, 1) {
				t.Fatalf("a1 (tenant-a) got an echo reply from %s, tenant-b's pod b3", b3.ip)
			}
		}
		if rx1 := w.rxPackets(ctx, t, b3); rx1 != rx0 {
			t.Fatalf("tenant-b's pod b3 received %d packets while tenant-a probed its address", rx1-rx0)
		}
		// And the overlapping address answers from the caller's tenant only.
		if ans := w.mustHTTP(ctx, t, a1, b2.ip); ans != a2.name {
			t.Fatalf("a1 -> %s answered by %s, want tenant-a's %s", b2.ip, ans, a2.name)
		}
	})

	t.Run("hub shows each cluster's link", func(t *testing.T) {
		for _, tn := range []tenant{tenantA, tenantB} {
			w.eventually(ctx, t, time.Minute, tn.name+" interconnect roll-up", func() error {
				fv := w.fvpc(ctx, tn)
				if len(fv.Status.Clusters) != 2 {
					return fmt.Errorf("%d clusters in status", len(fv.Status.Clusters))
				}
				for _, c := range fv.Status.Clusters {
					if c.TransitSwitch == "" || c.TransitSwitch != fv.Status.TransitSwitch || c.ActiveGateway == "" || c.LearnedRoutes == 0 {
						return fmt.Errorf("cluster %+v (transit %q)", c, fv.Status.TransitSwitch)
					}
				}
				return nil
			})
		}
		if fa, fb := w.fvpc(ctx, tenantA), w.fvpc(ctx, tenantB); fa.Status.TransitSwitch == fb.Status.TransitSwitch || fa.Status.TransitSubnet == fb.Status.TransitSubnet {
			t.Fatalf("tenants share a transit switch or subnet: %s %s / %s %s", fa.Status.TransitSwitch, fa.Status.TransitSubnet, fb.Status.TransitSwitch, fb.Status.TransitSubnet)
		}
	})

	t.Run("removing spoke2 from tenant-a's placement withdraws its routes", func(t *testing.T) {
		spoke2Piece := w.alloc[tenantA.name]["spoke2"].String()
		if !w.routerHasRoute(ctx, t, "spoke1", tenantA, spoke2Piece) {
			t.Fatalf("spoke1's %s router has no route to %s before the change", tenantA.vpc(), spoke2Piece)
		}
		w.label(ctx, "spoke2", map[string]*string{tenantA.label(): nil})
		w.waitReady(ctx, tenantA, 1)
		w.eventually(ctx, t, time.Minute, "route to "+spoke2Piece+" withdrawn from spoke1", func() error {
			if w.routerHasRoute(ctx, t, "spoke1", tenantA, spoke2Piece) {
				return errors.New("still in the router")
			}
			var vpc iaasv1.Vpc
			if err := w.spokes["spoke1"].Get(ctx, client.ObjectKey{Name: tenantA.vpc()}, &vpc); err != nil {
				return err
			}
			if st := vpc.Status.Interconnect; st == nil || st.LearnedRoutes != 0 {
				return fmt.Errorf("status.interconnect %+v: want 0 learned routes", st)
			}
			return nil
		})
		// a2 still runs in spoke2, but nothing routes to it from spoke1 any more.
		if w.ping(ctx, a1, a2.ip, 2) {
			t.Fatalf("a1 still reaches %s after spoke2 left tenant-a's placement", a2.ip)
		}
		// Tenant-b is untouched: spoke1 still routes to its spoke2 piece.
		if p := w.alloc[tenantB.name]["spoke2"].String(); !w.routerHasRoute(ctx, t, "spoke1", tenantB, p) {
			t.Fatalf("spoke1's %s router lost its route to %s", tenantB.vpc(), p)
		}
		w.reachHTTP(ctx, t, b1, b2)
		// The pod's address keeps the spoke2 Subnet (finalizer); once it is gone the work
		// agent finishes the Foreground deletion and the hub's work disappears.
		w.deletePod(ctx, t, a2)
		work := render.WorkName("vpc", tenantA.name, tenantA.fvpc)
		w.eventually(ctx, t, 2*time.Minute, "manifestwork spoke2/"+work+" gone", func() error {
			var mw workv1.ManifestWork
			err := w.hub.Get(ctx, client.ObjectKey{Namespace: "spoke2", Name: work}, &mw)
			if err == nil {
				return fmt.Errorf("still there (deleting: %t)", mw.DeletionTimestamp != nil)
			}
			return client.IgnoreNotFound(err)
		})
	})

	t.Run("gateway failover to the standby", func(t *testing.T) {
		// Tenant-b's gateways in spoke2, highest priority first.
		var vpc iaasv1.Vpc
		if err := w.spokes["spoke2"].Get(ctx, client.ObjectKey{Name: tenantB.vpc()}, &vpc); err != nil {
			t.Fatal(err)
		}
		st := vpc.Status.Interconnect
		if st == nil || len(st.GatewayChassis) < 2 {
			t.Fatalf("spoke2 %s status.interconnect %+v: want two gateway chassis", tenantB.vpc(), st)
		}
		fb := w.fvpc(ctx, tenantB)
		lrp := ic.RouterPortName(tenantB.vpc(), fb.Status.TransitSwitch)
		active := w.activeGateway(ctx, t, "spoke2", lrp)
		if active != st.GatewayChassis[0] {
			t.Fatalf("active gateway of %s is %q, want the highest priority %q", lrp, active, st.GatewayChassis[0])
		}
		standby := st.GatewayChassis[1]
		// The probe's target must not sit on the node that goes down.
		target := b2
		if target.node == active {
			target = b3
		}
		w.reachHTTP(ctx, t, b1, target)

		type probeOut struct {
			res probeResult
			err error
		}
		done := make(chan probeOut, 1)
		steady := make(chan struct{})
		go func() {
			r, err := w.udpProbe(ctx, b1, target.ip, 20*time.Millisecond, 15*time.Second, steady)
			done <- probeOut{r, err}
		}()
		// The gateway goes down only once traffic flows steadily (50 answers in a row).
		select {
		case <-steady:
		case out := <-done:
			t.Fatalf("udp probe b1 -> %s ended before traffic was steady: %+v %v", target.ip, out.res, out.err)
		case <-time.After(30 * time.Second):
			t.Fatalf("udp probe b1 -> %s: no steady traffic within 30s", target.ip)
		}
		stopAt := time.Now()
		if err := w.l.StopOVNController(ctx, active); err != nil {
			t.Fatal(err)
		}
		out := <-done
		if out.err != nil {
			t.Fatalf("udp probe b1 -> %s: %v", target.ip, out.err)
		}
		r := out.res
		stop := stopAt.UnixMilli()
		outage := time.Duration(0)
		lost := 0
		for _, o := range r.Outages {
			switch {
			case o.ToUnixMs != 0 && o.ToUnixMs < stop:
				t.Fatalf("%d datagrams lost before the gateway was stopped: %+v", o.Lost, r)
			case o.ToUnixMs == 0:
				t.Fatalf("traffic never came back after the gateway stopped: %+v", r)
			case o.FromUnixMs < stop-500:
				// Traffic must have flowed until the stop: the outage starts at the last
				// answer before it.
				t.Fatalf("no answer in the 500ms before the gateway was stopped: %+v", r)
			}
			if d := time.Duration(o.ToUnixMs-max(o.FromUnixMs, stop)) * time.Millisecond; d > outage {
				outage, lost = d, o.Lost
			}
		}
		if !r.LastAnswered {
			t.Fatalf("the last datagram was not answered: %+v", r)
		}
		if got := w.activeGateway(ctx, t, "spoke2", lrp); got != standby {
			t.Fatalf("active gateway of %s after the stop: %q, want the standby %s", lrp, got, standby)
		}
		w.reachHTTP(ctx, t, b1, target)
		t.Logf("gateway failover in spoke2 (%s -> %s): traffic back %v after ovn-controller stopped, %d datagrams lost (%d of %d answered, every %s)",
			active, standby, outage, lost, r.Answered, r.Sent, r.Interval)
	})
}

func newWorld(t *testing.T, l *lab.Lab) *world {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, iaasv1.AddToScheme, fedv1.AddToScheme,
		clusterv1.AddToScheme, clusterv1beta1.AddToScheme, clusterv1beta2.AddToScheme, workv1.AddToScheme} {
		utilruntime.Must(add(scheme))
	}
	w := &world{t: t, l: l, spokes: map[string]client.Client{}, alloc: map[string]map[string]netip.Prefix{}}
	for _, c := range l.Clusters() {
		cfg, err := l.RESTConfig(c)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		if c == lab.HubName {
			w.hub = cl
		} else {
			w.spokes[c] = cl
		}
	}
	return w
}

// label sets (value) or removes (nil) labels of a ManagedCluster.
func (w *world) label(ctx context.Context, cluster string, labels map[string]*string) {
	w.t.Helper()
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: cluster}}
	if err := w.hub.Patch(ctx, mc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		w.t.Fatalf("label managedcluster %s: %v", cluster, err)
	}
}

func (w *world) createTenant(ctx context.Context, tn tenant) {
	w.t.Helper()
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tn.name}},
		&clusterv1beta2.ManagedClusterSetBinding{ObjectMeta: metav1.ObjectMeta{Name: lab.DefaultClusterSet, Namespace: tn.name},
			Spec: clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: lab.DefaultClusterSet}},
		&clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: tn.name, Namespace: tn.name},
			Spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{{
				RequiredClusterSelector: clusterv1beta1.ClusterSelector{LabelSelector: metav1.LabelSelector{
					MatchLabels: map[string]string{tn.label(): "true"}}}}}}},
		&fedv1.FederatedVpc{ObjectMeta: metav1.ObjectMeta{Name: tn.fvpc, Namespace: tn.name},
			Spec: fedv1.FederatedVpcSpec{CIDRBlock: cidr, PlacementRef: fedv1.PlacementRef{Name: tn.name},
				Subnets: []fedv1.FederatedSubnet{{Name: subnet, PerClusterPrefixLength: ptr.To[int32](24), Default: true}}}},
	}
	for _, o := range objs {
		if err := w.hub.Create(ctx, o); err != nil {
			w.t.Fatalf("hub: create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func (w *world) fvpc(ctx context.Context, tn tenant) *fedv1.FederatedVpc {
	w.t.Helper()
	var fv fedv1.FederatedVpc
	if err := w.hub.Get(ctx, client.ObjectKey{Namespace: tn.name, Name: tn.fvpc}, &fv); err != nil {
		w.t.Fatalf("federatedvpc %s/%s: %v", tn.name, tn.fvpc, err)
	}
	return &fv
}

// waitReady waits until the FederatedVpc is Ready on exactly n clusters, and records its
// web pieces.
func (w *world) waitReady(ctx context.Context, tn tenant, n int) {
	w.t.Helper()
	var fv *fedv1.FederatedVpc
	w.eventually(ctx, w.t, 2*time.Minute, fmt.Sprintf("%s/%s Ready on %d clusters", tn.name, tn.fvpc, n), func() error {
		fv = w.fvpc(ctx, tn)
		c := meta.FindStatusCondition(fv.Status.Conditions, "Ready")
		switch {
		case c == nil:
			return errors.New("no Ready condition")
		case c.Status != metav1.ConditionTrue || c.ObservedGeneration != fv.Generation:
			return fmt.Errorf("%s: %s", c.Reason, c.Message)
		case int(fv.Status.ClusterCount) != n || int(fv.Status.ReadyClusters) != n:
			return fmt.Errorf("%d clusters, %d ready", fv.Status.ClusterCount, fv.Status.ReadyClusters)
		}
		return nil
	})
	if w.alloc[tn.name] == nil {
		w.alloc[tn.name] = map[string]netip.Prefix{}
	}
	for _, a := range fv.Status.Allocations {
		if a.Subnet == subnet {
			p, err := netip.ParsePrefix(strings.Split(a.CIDRBlock, ",")[0])
			if err != nil {
				w.t.Fatalf("allocation %+v: %v", a, err)
			}
			w.alloc[tn.name][a.Cluster] = p
		}
	}
}

// addr is the address offset from the start of a tenant's piece in a cluster.
func (w *world) addr(tn tenant, cluster string, offset int) string {
	w.t.Helper()
	p, ok := w.alloc[tn.name][cluster]
	if !ok {
		w.t.Fatalf("no %s piece of %s in %s", subnet, tn.name, cluster)
	}
	ip := p.Masked().Addr()
	for range offset {
		ip = ip.Next()
	}
	return ip.String()
}

// runPods creates the pods (static addresses in their tenant's web subnet) and waits until
// they run.
func (w *world) runPods(ctx context.Context, pods map[string]*pod) {
	w.t.Helper()
	for _, c := range w.l.Spokes() {
		if err := w.spokes[c].Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			w.t.Fatal(err)
		}
		// Pods are refused until kube-controller-manager made the ServiceAccount.
		w.eventually(ctx, w.t, time.Minute, c+" ServiceAccount "+ns+"/default", func() error {
			return w.spokes[c].Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, &corev1.ServiceAccount{})
		})
	}
	for _, p := range pods {
		grace := int64(1)
		obj := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: ns, Annotations: map[string]string{
				iaasv1.AnnotationSubnet: render.SubnetName(p.tn.name, p.tn.fvpc, subnet),
				iaasv1.AnnotationVnicIp: p.ip,
			}},
			Spec: corev1.PodSpec{
				NodeName:                      p.node,
				TerminationGracePeriodSeconds: &grace,
				AutomountServiceAccountToken:  ptr.To(false),
				Containers: []corev1.Container{{
					Name: "ynettest", Image: images.TestImage, ImagePullPolicy: corev1.PullNever,
					Command: []string{"/bin/ynettest", "serve", "--http", strconv.Itoa(httpPort), "--udp", strconv.Itoa(udpPort)},
				}},
			},
		}
		if err := w.spokes[p.cluster].Create(ctx, obj); err != nil {
			w.t.Fatalf("%s: pod %s: %v", p.cluster, p.name, err)
		}
	}
	for _, p := range pods {
		w.eventually(ctx, w.t, 3*time.Minute, p.cluster+" pod "+p.name+" Running", func() error {
			var cur corev1.Pod
			if err := w.spokes[p.cluster].Get(ctx, client.ObjectKey{Namespace: ns, Name: p.name}, &cur); err != nil {
				return err
			}
			if cur.Status.Phase != corev1.PodRunning || cur.Status.PodIP != p.ip {
				return fmt.Errorf("phase %s, IP %q (want %s)", cur.Status.Phase, cur.Status.PodIP, p.ip)
			}
			return nil
		})
	}
}

func (w *world) deletePod(ctx context.Context, t *testing.T, p *pod) {
	t.Helper()
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: ns}}
	if err := w.spokes[p.cluster].Delete(ctx, obj); err != nil {
		t.Fatalf("delete pod %s: %v", p.name, err)
	}
}

// exec runs a command in a pod; a non-zero exit is reported through ok=false.
func (w *world) exec(ctx context.Context, p *pod, cmd ...string) (out string, ok bool, err error) {
	res, err := w.l.Exec(ctx, p.cluster, ns, p.name, cmd...)
	var exit *lab.ExitError
	if errors.As(err, &exit) {
		return res.Stdout, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("exec in %s/%s: %w (stderr %q)", p.cluster, p.name, err, res.Stderr)
	}
	return res.Stdout, true, nil
}

// httpGet asks ip:8080 from a pod; ok means an answer, detail is the answering pod's
// hostname and the request's source as it saw it.
func (w *world) httpGet(ctx context.Context, from *pod, ip string, timeout time.Duration) (ok bool, detail string) {
	url := "http://" + net.JoinHostPort(ip, strconv.Itoa(httpPort)) + "/ic"
	out, ok, err := w.exec(ctx, from, "/bin/ynettest", "http-get", "--url", url, "--timeout", timeout.String())
	if err != nil {
		w.t.Fatal(err)
	}
	if !ok {
		return false, strings.TrimSpace(out)
	}
	var res struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	var ans struct {
		Hostname string `json:"hostname"`
		Remote   string `json:"remote"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || json.Unmarshal([]byte(res.Body), &ans) != nil {
		w.t.Fatalf("http-get output %q", out)
	}
	remote, _, _ := net.SplitHostPort(ans.Remote)
	return res.Status == 200, ans.Hostname + " " + remote
}

// mustHTTP polls until ip answers from the pod and returns the answering hostname; the
// request must arrive with the source pod's own address (no NAT inside a VPC).
func (w *world) mustHTTP(ctx context.Context, t *testing.T, from *pod, ip string) string {
	t.Helper()
	var host string
	w.eventually(ctx, t, 30*time.Second, from.name+" -> "+ip+" TCP", func() error {
		ok, detail := w.httpGet(ctx, from, ip, 2*time.Second)
		if !ok {
			return errors.New(detail)
		}
		h, remote, _ := strings.Cut(detail, " ")
		if remote != from.ip {
			return fmt.Errorf("%s saw the request from %s, want %s", h, remote, from.ip)
		}
		host = h
		return nil
	})
	return host
}

func (w *world) reachHTTP(ctx context.Context, t *testing.T, from, to *pod) {
	t.Helper()
	if got := w.mustHTTP(ctx, t, from, to.ip); got != to.name {
		t.Fatalf("%s -> %s answered by %s, want %s", from.name, to.ip, got, to.name)
	}
}

// ping sends count echo requests (busybox ping) and reports whether any was answered.
func (w *world) ping(ctx context.Context, from *pod, ip string, count int) bool {
	_, ok, err := w.exec(ctx, from, "ping", "-c", strconv.Itoa(count), "-W", "2", ip)
	if err != nil {
		w.t.Fatal(err)
	}
	return ok
}

func (w *world) reachPing(ctx context.Context, t *testing.T, from *pod, ip string) {
	t.Helper()
	w.eventually(ctx, t, 30*time.Second, from.name+" ping "+ip, func() error {
		if !w.ping(ctx, from, ip, 1) {
			return errors.New("no echo reply")
		}
		return nil
	})
}

// rxPackets reads the packets received on a pod's eth0.
func (w *world) rxPackets(ctx context.Context, t *testing.T, p *pod) int64 {
	t.Helper()
	out, ok, err := w.exec(ctx, p, "cat", "/sys/class/net/eth0/statistics/rx_packets")
	if err != nil || !ok {
		t.Fatalf("rx_packets of %s: %v %q", p.name, err, out)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Fatalf("rx_packets of %s: %q", p.name, out)
	}
	return n
}

type probeResult struct {
	Sent         int    `json:"sent"`
	Answered     int    `json:"answered"`
	Interval     string `json:"interval"`
	LastAnswered bool   `json:"last_answered"`
	Outages      []struct {
		FromUnixMs int64 `json:"from_unix_ms"`
		ToUnixMs   int64 `json:"to_unix_ms"`
		Lost       int   `json:"lost"`
	} `json:"outages"`
}

// udpProbe runs ynettest udp-probe in a pod and closes steady when the probe reports 50
// answers in a row (on stderr, while it keeps running).
func (w *world) udpProbe(ctx context.Context, from *pod, ip string, interval, d time.Duration, steady chan<- struct{}) (probeResult, error) {
	var r probeResult
	var stdout strings.Builder
	pr, pw := io.Pipe()
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), `"steady":true`) {
				signalled = true
				close(steady)
			}
		}
	}()
	code, err := w.l.ExecStream(ctx, lab.ExecOptions{Cluster: from.cluster, Namespace: ns, Pod: from.name,
		Command: []string{"/bin/ynettest", "udp-probe", "--addr", net.JoinHostPort(ip, strconv.Itoa(udpPort)),
			"--interval", interval.String(), "--duration", d.String(), "--steady", "50"},
		Stdout: &stdout, Stderr: pw})
	pw.Close()
	<-scanned
	out := stdout.String()
	var exit *lab.ExitError
	if errors.As(err, &exit) || (err == nil && code != 0) {
		return r, fmt.Errorf("udp-probe failed (exit %d): %s", code, strings.TrimSpace(out))
	}
	if err != nil {
		return r, fmt.Errorf("exec udp-probe in %s/%s: %w", from.cluster, from.name, err)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("udp-probe output %q: %w", out, err)
	}
	return r, nil
}

// ctl runs an OVN *ctl tool (tests may; the product never does).
func ctl(ctx context.Context, tool string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// routerHasRoute reports whether a tenant's VPC router in a cluster has a static route to
// prefix (ovn-ic adds the learned ones there).
func (w *world) routerHasRoute(ctx context.Context, t *testing.T, cluster string, tn tenant, prefix string) bool {
	t.Helper()
	eps, err := w.l.OVN(cluster)
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ctl(ctx, "ovn-nbctl", "--db="+eps.NB, "lr-route-list", ovnRouter(tn))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(routes, prefix+" ")
}

func ovnRouter(tn tenant) string { return "vpc-" + tn.vpc() }

// activeGateway is the chassis that holds a distributed gateway port's chassisredirect
// binding in a cluster's southbound database (the active gateway).
func (w *world) activeGateway(ctx context.Context, t *testing.T, cluster, lrp string) string {
	t.Helper()
	eps, err := w.l.OVN(cluster)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	w.eventually(ctx, t, 30*time.Second, "chassis of cr-"+lrp, func() error {
		uuid, err := ctl(ctx, "ovn-sbctl", "--db="+eps.SB, "--bare", "--columns=chassis", "find", "Port_Binding", "logical_port=cr-"+lrp)
		if err != nil {
			return err
		}
		if uuid == "" {
			return errors.New("not bound")
		}
		name, err = ctl(ctx, "ovn-sbctl", "--db="+eps.SB, "--bare", "--columns=name", "list", "Chassis", uuid)
		return err
	})
	return name
}

// eventually polls cond every 200ms until it returns nil or the timeout passes.
func (w *world) eventually(ctx context.Context, t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s: not within %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testWriter sends the lab's progress to the test log.
type testWriter struct{ t *testing.T }

var twMu sync.Mutex

func (w testWriter) Write(p []byte) (int, error) {
	twMu.Lock()
	defer twMu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
