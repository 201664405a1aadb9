package hub_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub"
	"github.com/ycloud-sdn/ycloud/hub/render"
	"github.com/ycloud-sdn/ycloud/test/integration/hub/fleet"
)

// The package shares one fleet (a hub and two spokes with real OVN, spoke controllers and
// work agents): starting it costs most of the package's time. Tests run in file order and
// use their own tenants or objects, so each reads on its own.

// labelTenantA is the ManagedCluster label tenant-a's Placement "both" requires; removing
// it from a cluster moves tenant-a's VPC off that cluster and leaves tenant-b's alone.
const labelTenantA = "ycloud.test/tenant-a"

var (
	fl  *fleet.Fleet
	hc  client.Client // hub client
	hp  *hubProcess
	ctx = context.Background()
)

func TestMain(m *testing.M) {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	os.Exit(run(m))
}

func run(m *testing.M) (code int) {
	tb := &fleet.ProcessTB{}
	defer tb.Close()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fleet.Fatal)
			if !ok {
				panic(r)
			}
			fmt.Fprintln(os.Stderr, "setup:", f.Msg)
			code = 1
		}
	}()
	start := time.Now()
	fl = fleet.Start(tb, fleet.Options{Spokes: 2, AgentSync: 500 * time.Millisecond, ClusterLabels: map[string]string{labelTenantA: "yes"}})
	hc = fl.HubClient
	for tenant, placements := range map[string]map[string]map[string]string{
		"tenant-a": {"both": {labelTenantA: "yes"}},
		"tenant-b": {"all": nil},
		"tenant-c": {"all": nil},
		// "dash"+"a-vpc" and "dash-a"+"vpc" both give the work name ycloud-vpc-dash-a-vpc.
		"dash":   {"all": nil},
		"dash-a": {"all": nil},
	} {
		if err := fl.AddTenant(ctx, tenant, placements); err != nil {
			tb.Fatalf("%v", err)
		}
	}
	hp = &hubProcess{}
	if err := hp.start(); err != nil {
		tb.Fatalf("%v", err)
	}
	defer hp.stop()
	fmt.Fprintf(os.Stderr, "# fleet (hub + 2 spokes with OVN) up in %s\n", time.Since(start).Round(time.Millisecond))
	return m.Run()
}

// hubProcess runs ycloud-hub in this process, so a test can stop and start it.
type hubProcess struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan error
}

func (h *hubProcess) start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancel != nil {
		return errors.New("hub already running")
	}
	cfg := hub.DefaultConfig()
	cfg.REST = fl.Hub.Config
	cfg.MetricsAddr, cfg.HealthAddr, cfg.LeaderElect = "0", "0", false
	c, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- hub.Run(c, cfg) }()
	return nil
}

func (h *hubProcess) stop() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("hub exited: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("hub did not stop within 30s")
	}
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, d, err)
		}
		<-tick.C
	}
}

func fvpc(ns, name, cidr, placement string, subnets ...fedv1.FederatedSubnet) *fedv1.FederatedVpc {
	return &fedv1.FederatedVpc{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: fedv1.FederatedVpcSpec{CIDRBlock: iaasv1.DualStackCIDR(cidr), PlacementRef: fedv1.PlacementRef{Name: placement}, Subnets: subnets}}
}

func carvedSubnet(name string, bits int32) fedv1.FederatedSubnet {
	return fedv1.FederatedSubnet{Name: name, PerClusterPrefixLength: &bits}
}

func pinnedSubnet(name, cidr, cluster string) fedv1.FederatedSubnet {
	return fedv1.FederatedSubnet{Name: name, CIDRBlock: iaasv1.DualStackCIDR(cidr), Cluster: cluster}
}

func getFV(t *testing.T, ns, name string) *fedv1.FederatedVpc {
	t.Helper()
	fv := &fedv1.FederatedVpc{}
	if err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, fv); err != nil {
		t.Fatalf("get federatedvpc %s/%s: %v", ns, name, err)
	}
	return fv
}

// condition returns the FederatedVpc's condition of that type once it describes the
// current generation.
func condition(ns, name, typ string) (*metav1.Condition, *fedv1.FederatedVpc, error) {
	fv := &fedv1.FederatedVpc{}
	if err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, fv); err != nil {
		return nil, nil, err
	}
	c := meta.FindStatusCondition(fv.Status.Conditions, typ)
	if c == nil || c.ObservedGeneration != fv.Generation {
		return nil, fv, fmt.Errorf("%s/%s: no %s condition for generation %d yet (%v)", ns, name, typ, fv.Generation, fv.Status.Conditions)
	}
	return c, fv, nil
}

// waitReady waits until the FederatedVpc is Ready on exactly n clusters.
func waitReady(t *testing.T, ns, name string, n int) *fedv1.FederatedVpc {
	t.Helper()
	var fv *fedv1.FederatedVpc
	eventually(t, 90*time.Second, fmt.Sprintf("%s/%s ready on %d clusters", ns, name, n), func() error {
		c, got, err := condition(ns, name, fedv1.ConditionReady)
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || got.Status.ReadyClusters != int32(n) || got.Status.ClusterCount != int32(n) {
			return fmt.Errorf("Ready=%s %s %q, %d/%d clusters", c.Status, c.Reason, c.Message, got.Status.ReadyClusters, got.Status.ClusterCount)
		}
		fv = got
		return nil
	})
	return fv
}

// waitProblem waits for Ready=False with the given reason.
func waitProblem(t *testing.T, ns, name, reason string) *metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	eventually(t, 30*time.Second, fmt.Sprintf("%s/%s Ready=False %s", ns, name, reason), func() error {
		c, _, err := condition(ns, name, fedv1.ConditionReady)
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != reason {
			return fmt.Errorf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
		}
		cond = c
		return nil
	})
	return cond
}

// worksOf lists the hub's works of a FederatedVpc in every cluster namespace.
func worksOf(t *testing.T, ns, name string) []workv1.ManifestWork {
	t.Helper()
	var list workv1.ManifestWorkList
	if err := hc.List(ctx, &list, client.MatchingLabels{render.LabelKind: render.KindFederatedVpc, render.LabelTenant: ns}); err != nil {
		t.Fatalf("list works: %v", err)
	}
	var out []workv1.ManifestWork
	for _, w := range list.Items {
		if w.Annotations[render.AnnotationOwner] == ns+"/"+name {
			out = append(out, w)
		}
	}
	return out
}

// allocation returns the recorded piece of a subnet in a cluster.
func allocation(fv *fedv1.FederatedVpc, subnet, cluster string) (fedv1.SubnetAllocation, bool) {
	for _, a := range fv.Status.Allocations {
		if a.Subnet == subnet && a.Cluster == cluster {
			return a, true
		}
	}
	return fedv1.SubnetAllocation{}, false
}

func spokeGone(c client.Client, obj client.Object) error {
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%T %s still exists", obj, obj.GetName())
}

// metricSum sums the samples of a metric in this process's controller-runtime registry
// whose labels include want.
func metricSum(t *testing.T, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := true
			for k, v := range want {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == k && l.GetValue() == v)
				}
				ok = ok && found
			}
			if !ok {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}
