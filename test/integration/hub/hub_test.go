package hub_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/fedvpc"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
	"github.com/ycloud-sdn/ycloud/hub/render"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
	"github.com/ycloud-sdn/ycloud/test/integration/hub/fleet"
)

// checkSpokeHas verifies one cluster's copy of a FederatedVpc: the spoke Vpc and Subnets
// with the hub's allocations, and the OVN router, switches and router ports they became.
func checkSpokeHas(s *fleet.Spoke, fv *fedv1.FederatedVpc, subnets ...string) error {
	vpcName := render.VpcName(fv.Namespace, fv.Name)
	vpc := &iaasv1.Vpc{}
	if err := s.Client.Get(ctx, client.ObjectKey{Name: vpcName}, vpc); err != nil {
		return fmt.Errorf("%s: vpc: %w", s.Name, err)
	}
	want := iaasv1.VpcFederation{Tenant: fv.Namespace, FederatedVpc: fv.Name, TransitSwitch: fv.Status.TransitSwitch,
		TransitSubnet: iaasv1.CIDR(fv.Status.TransitSubnet)}
	if vpc.Spec.Federation == nil || *vpc.Spec.Federation != want {
		return fmt.Errorf("%s: vpc %s federation %+v, want %+v", s.Name, vpcName, vpc.Spec.Federation, want)
	}
	if _, err := s.Router(ovnnb.RouterName(vpcName)); err != nil {
		return err
	}
	for _, sub := range subnets {
		a, ok := allocation(fv, sub, s.Name)
		if !ok {
			return fmt.Errorf("%s: no allocation for subnet %s in %v", s.Name, sub, fv.Status.Allocations)
		}
		name := render.SubnetName(fv.Namespace, fv.Name, sub)
		sn := &iaasv1.Subnet{}
		if err := s.Client.Get(ctx, client.ObjectKey{Name: name}, sn); err != nil {
			return fmt.Errorf("%s: subnet: %w", s.Name, err)
		}
		if string(sn.Spec.CIDRBlock) != a.CIDRBlock || sn.Spec.Vpc != vpcName || sn.Spec.Cluster != s.Name {
			return fmt.Errorf("%s: subnet %s spec %+v, want cidr %s vpc %s", s.Name, name, sn.Spec, a.CIDRBlock, vpcName)
		}
		if _, err := s.Switch(ovnnb.SwitchName(name)); err != nil {
			return err
		}
		lrp, err := s.RouterPort(ovnnb.RouterPortName(vpcName, name))
		if err != nil {
			return err
		}
		bits := netip.MustParsePrefix(a.CIDRBlock).Bits()
		if gw := fmt.Sprintf("%s/%d", a.Gateway, bits); !slices.Equal(lrp.Networks, []string{gw}) {
			return fmt.Errorf("%s: router port %s networks %v, want %s", s.Name, lrp.Name, lrp.Networks, gw)
		}
	}
	return nil
}

func TestVpcPlacedOnBothClusters(t *testing.T) {
	fv := fvpc("tenant-a", "vpc1", "10.100.0.0/16", "both", carvedSubnet("web", 24), carvedSubnet("db", 26))
	fv.Spec.Subnets[0].Default = true
	fv.Spec.StaticRoutes = []iaasv1.StaticRoute{{CIDR: "192.168.0.0/16", NextHop: "10.100.0.254"}}
	readyBefore := metricSum(t, fedvpc.MetricReadySeconds, nil)
	writesBefore := metricSum(t, fedvpc.MetricWorkWrites, nil)
	if err := hc.Create(ctx, fv); err != nil {
		t.Fatal(err)
	}
	got := waitReady(t, "tenant-a", "vpc1", 2)

	// Four pieces, none overlapping, and each cluster's web piece its own.
	if len(got.Status.Allocations) != 4 {
		t.Fatalf("allocations %+v, want web and db in 2 clusters", got.Status.Allocations)
	}
	var pieces []netip.Prefix
	for _, a := range got.Status.Allocations {
		p := netip.MustParsePrefix(a.CIDRBlock)
		for _, q := range pieces {
			if p.Overlaps(q) {
				t.Fatalf("pieces %s and %s overlap: %+v", p, q, got.Status.Allocations)
			}
		}
		if !netip.MustParsePrefix("10.100.0.0/16").Contains(p.Addr()) {
			t.Fatalf("piece %s is outside the VPC", p)
		}
		pieces = append(pieces, p)
	}
	web1, _ := allocation(got, "web", "cluster1")
	web2, _ := allocation(got, "web", "cluster2")
	if web1.CIDRBlock == web2.CIDRBlock || !strings.HasSuffix(web1.CIDRBlock, "/24") {
		t.Fatalf("web pieces %s and %s", web1.CIDRBlock, web2.CIDRBlock)
	}

	// Transit: named after the tenant, a /28 of 169.254/16, a key in OVN's global range.
	ts, err := netip.ParsePrefix(got.Status.TransitSubnet)
	if got.Status.TransitSwitch != "ts-tenant-a.vpc1" || err != nil || ts.Bits() != 28 ||
		!netip.MustParsePrefix("169.254.0.0/16").Contains(ts.Addr()) || got.Status.TunnelKey < ipam.TunnelKeyMin {
		t.Fatalf("transit %q %q %d", got.Status.TransitSwitch, got.Status.TransitSubnet, got.Status.TunnelKey)
	}

	// Per-cluster status and the roll-up.
	if c := meta.FindStatusCondition(got.Status.Conditions, fedv1.ConditionPlaced); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Placed condition %+v", c)
	}
	for i, cs := range got.Status.Clusters {
		if want := fmt.Sprintf("cluster%d", i+1); cs.Cluster != want || !cs.Applied || !cs.Ready || cs.LastTransitionTime == nil || len(cs.Subnets) != 2 {
			t.Fatalf("cluster status %d: %+v", i, cs)
		}
		for _, sub := range cs.Subnets {
			if a, _ := allocation(got, sub.Name, cs.Cluster); a.CIDRBlock != sub.CIDRBlock {
				t.Fatalf("cluster %s subnet %+v, allocation %+v", cs.Cluster, sub, a)
			}
		}
	}

	// One work per cluster, named per DESIGN.md, deleting Foreground, asking for feedback.
	works := worksOf(t, "tenant-a", "vpc1")
	if len(works) != 2 {
		t.Fatalf("%d works", len(works))
	}
	for _, w := range works {
		if w.Name != "ycloud-vpc-tenant-a-vpc1" || w.Spec.DeleteOption == nil || w.Spec.DeleteOption.PropagationPolicy != workv1.DeletePropagationPolicyTypeForeground ||
			len(w.Spec.Workload.Manifests) != 3 || len(w.Spec.ManifestConfigs) != 3 || len(w.Spec.ManifestConfigs[0].FeedbackRules) != 1 {
			t.Fatalf("work %s/%s: %+v", w.Namespace, w.Name, w.Spec)
		}
	}

	// Each spoke holds the VPC in its API and in OVN, with its own pieces.
	for _, s := range fl.Spokes {
		eventually(t, 10*time.Second, s.Name+" holds tenant-a/vpc1", func() error { return checkSpokeHas(s, got, "web", "db") })
	}
	vpc := &iaasv1.Vpc{}
	if err := fl.Spokes[0].Client.Get(ctx, client.ObjectKey{Name: "tenant-a.vpc1"}, vpc); err != nil || len(vpc.Spec.StaticRoutes) != 1 {
		t.Fatalf("spoke vpc static routes %+v: %v", vpc.Spec.StaticRoutes, err)
	}
	// Two works, written once each: no update followed the create.
	if n := metricSum(t, fedvpc.MetricWorkWrites, nil) - writesBefore; n != 2 {
		t.Fatalf("%v work writes for two works, want 2", n)
	}
	if n := metricSum(t, fedvpc.MetricReadySeconds, nil); n < readyBefore+1 {
		t.Fatalf("ready-latency histogram has %v samples, want one more than %v", n, readyBefore)
	}
}

func TestTenantsWithOverlappingCIDRsCoexist(t *testing.T) {
	if err := hc.Create(ctx, fvpc("tenant-b", "vpc1", "10.100.0.0/16", "all", carvedSubnet("web", 24))); err != nil {
		t.Fatal(err)
	}
	b := waitReady(t, "tenant-b", "vpc1", 2)
	a := waitReady(t, "tenant-a", "vpc1", 2)
	// Same CIDRs in two tenants are fine: both carve 10.100.0.0/24 for cluster1.
	wa, _ := allocation(a, "web", "cluster1")
	wb, _ := allocation(b, "web", "cluster1")
	if wa.CIDRBlock != "10.100.0.0/24" || wb.CIDRBlock != wa.CIDRBlock {
		t.Fatalf("web@cluster1: tenant-a %s, tenant-b %s; both should be 10.100.0.0/24", wa.CIDRBlock, wb.CIDRBlock)
	}
	if a.Status.TransitSwitch == b.Status.TransitSwitch || a.Status.TransitSubnet == b.Status.TransitSubnet || a.Status.TunnelKey == b.Status.TunnelKey {
		t.Fatalf("transits collide: %s %s %d vs %s %s %d", a.Status.TransitSwitch, a.Status.TransitSubnet, a.Status.TunnelKey,
			b.Status.TransitSwitch, b.Status.TransitSubnet, b.Status.TunnelKey)
	}
	for _, s := range fl.Spokes {
		eventually(t, 10*time.Second, s.Name+" holds both tenants' vpc1", func() error {
			if err := checkSpokeHas(s, b, "web"); err != nil {
				return err
			}
			return checkSpokeHas(s, a, "web", "db")
		})
	}
}

func relabel(t *testing.T, cluster string, mutate func(map[string]string)) {
	t.Helper()
	eventually(t, 10*time.Second, "relabel "+cluster, func() error {
		mc := &clusterv1.ManagedCluster{}
		if err := hc.Get(ctx, client.ObjectKey{Name: cluster}, mc); err != nil {
			return err
		}
		mutate(mc.Labels)
		return hc.Update(ctx, mc)
	})
}

func TestPlacementChangeMovesVpc(t *testing.T) {
	before := waitReady(t, "tenant-a", "vpc1", 2)
	s2 := fl.Spoke("cluster2")
	names := []string{"tenant-a.vpc1.web", "tenant-a.vpc1.db"}

	relabel(t, "cluster2", func(l map[string]string) { delete(l, labelTenantA) })
	after := waitReady(t, "tenant-a", "vpc1", 1)
	if after.Status.Clusters[0].Cluster != "cluster1" {
		t.Fatalf("clusters %+v", after.Status.Clusters)
	}
	eventually(t, 60*time.Second, "tenant-a/vpc1 gone from cluster2", func() error {
		if ws := worksOf(t, "tenant-a", "vpc1"); len(ws) != 1 || ws[0].Namespace != "cluster1" {
			return fmt.Errorf("%d works", len(ws))
		}
		if err := spokeGone(s2.Client, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a.vpc1"}}); err != nil {
			return err
		}
		for _, n := range names {
			if err := spokeGone(s2.Client, &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
				return err
			}
		}
		return s2.Absent(ovnnb.RouterName("tenant-a.vpc1"), names...)
	})
	// Only tenant-a moved: tenant-b's vpc1 is still on cluster2, and cluster1 keeps tenant-a's.
	if _, err := s2.Router(ovnnb.RouterName("tenant-b.vpc1")); err != nil {
		t.Fatal(err)
	}
	if err := checkSpokeHas(fl.Spoke("cluster1"), after, "web", "db"); err != nil {
		t.Fatal(err)
	}
	// The departed cluster's pieces are remembered, so it gets the same ones back.
	old2, _ := allocation(before, "web", "cluster2")
	if kept, ok := allocation(after, "web", "cluster2"); !ok || kept != old2 {
		t.Fatalf("cluster2's web piece %+v not kept (was %+v)", kept, old2)
	}

	relabel(t, "cluster2", func(l map[string]string) { l[labelTenantA] = "yes" })
	back := waitReady(t, "tenant-a", "vpc1", 2)
	if !slices.Equal(back.Status.Allocations, before.Status.Allocations) {
		t.Fatalf("allocations changed across the move:\nbefore %+v\nafter  %+v", before.Status.Allocations, back.Status.Allocations)
	}
	eventually(t, 10*time.Second, "cluster2 holds tenant-a/vpc1 again", func() error { return checkSpokeHas(s2, back, "web", "db") })
}

func TestBadInputsPushNothing(t *testing.T) {
	t.Run("overlapping declared subnets are refused by the schema", func(t *testing.T) {
		err := hc.Create(ctx, fvpc("tenant-c", "ovl", "10.50.0.0/16", "all",
			pinnedSubnet("a", "10.50.0.0/24", "cluster1"), pinnedSubnet("b", "10.50.0.128/25", "cluster2")))
		if err == nil || !strings.Contains(err.Error(), "overlap") {
			t.Fatalf("create: %v", err)
		}
	})
	noWorks := func(t *testing.T, name string) {
		t.Helper()
		if ws := worksOf(t, "tenant-c", name); len(ws) != 0 {
			t.Fatalf("%d works pushed for tenant-c/%s", len(ws), name)
		}
	}
	t.Run("exhausted CIDR", func(t *testing.T) {
		// Two /25 pieces per cluster, two clusters: four /25s wanted, a /24 holds two.
		if err := hc.Create(ctx, fvpc("tenant-c", "small", "10.60.0.0/24", "all", carvedSubnet("web", 25), carvedSubnet("db", 25))); err != nil {
			t.Fatal(err)
		}
		c := waitProblem(t, "tenant-c", "small", fedvpc.ReasonCIDRExhausted)
		if !strings.Contains(c.Message, "no free /25") {
			t.Fatalf("message %q", c.Message)
		}
		noWorks(t, "small")
		if fv := getFV(t, "tenant-c", "small"); len(fv.Status.Allocations) != 0 || fv.Status.TransitSwitch != "" {
			t.Fatalf("allocated despite the problem: %+v", fv.Status)
		}
	})
	t.Run("placement of another namespace", func(t *testing.T) {
		if err := hc.Create(ctx, fvpc("tenant-c", "stolen", "10.61.0.0/16", "both", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		c := waitProblem(t, "tenant-c", "stolen", fedvpc.ReasonPlacementElsewhere)
		if !strings.Contains(c.Message, "tenant-a") {
			t.Fatalf("message %q does not name the namespace that has it", c.Message)
		}
		if p, _, _ := condition("tenant-c", "stolen", fedv1.ConditionPlaced); p == nil || p.Status != metav1.ConditionFalse {
			t.Fatalf("Placed %+v", p)
		}
		noWorks(t, "stolen")
	})
	t.Run("reference with a namespace", func(t *testing.T) {
		if err := hc.Create(ctx, fvpc("tenant-c", "qualified", "10.62.0.0/16", "tenant-a/both", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		waitProblem(t, "tenant-c", "qualified", fedvpc.ReasonInvalidRef)
		noWorks(t, "qualified")
	})
	t.Run("unknown placement, then created", func(t *testing.T) {
		if err := hc.Create(ctx, fvpc("tenant-c", "lost", "10.63.0.0/16", "later", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		waitProblem(t, "tenant-c", "lost", fedvpc.ReasonPlacementNotFound)
		noWorks(t, "lost")
		// Not terminal: the Placement watch brings the object back when it appears.
		if err := hc.Create(ctx, fleet.Placement("tenant-c", "later", nil)); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "tenant-c", "lost", 2)
	})
	t.Run("work names of two tenants collide", func(t *testing.T) {
		// DESIGN.md's ycloud-vpc-<tenant>-<name> is ambiguous when names contain dashes.
		// The first object keeps the name; the second is told, and never touches it.
		if err := hc.Create(ctx, fvpc("dash-a", "vpc", "10.64.0.0/16", "all", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "dash-a", "vpc", 2)
		first := worksOf(t, "dash-a", "vpc")
		if err := hc.Create(ctx, fvpc("dash", "a-vpc", "10.65.0.0/16", "all", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		c := waitProblem(t, "dash", "a-vpc", fedvpc.ReasonClustersNotReady)
		if !strings.Contains(c.Message, `belongs to "dash-a/vpc"`) {
			t.Fatalf("message %q", c.Message)
		}
		// Deleting the loser must not take the winner's works with it.
		if err := hc.Delete(ctx, getFV(t, "dash", "a-vpc")); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "dash/a-vpc deleted", func() error {
			if err := hc.Get(ctx, client.ObjectKey{Namespace: "dash", Name: "a-vpc"}, &fedv1.FederatedVpc{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
		after := worksOf(t, "dash-a", "vpc")
		if len(after) != len(first) || len(after) != 2 {
			t.Fatalf("dash-a/vpc has %d works, had %d", len(after), len(first))
		}
		for _, w := range after {
			for _, f := range first {
				if f.Namespace == w.Namespace && (f.ResourceVersion != w.ResourceVersion || !w.DeletionTimestamp.IsZero()) {
					t.Fatalf("dash-a/vpc's work in %s was touched", w.Namespace)
				}
			}
		}
	})
	t.Run("pinned subnet over a piece in use", func(t *testing.T) {
		if err := hc.Create(ctx, fvpc("tenant-c", "grow", "10.70.0.0/16", "all", carvedSubnet("web", 24))); err != nil {
			t.Fatal(err)
		}
		waitReady(t, "tenant-c", "grow", 2)
		rvs := map[string]string{}
		for _, w := range worksOf(t, "tenant-c", "grow") {
			rvs[w.Namespace] = w.ResourceVersion
		}
		// cluster1's web piece is 10.70.0.0/24: the schema cannot know, the hub must refuse.
		edit := func(mut func(*fedv1.FederatedVpc)) {
			eventually(t, 10*time.Second, "edit tenant-c/grow", func() error {
				fv := getFV(t, "tenant-c", "grow")
				mut(fv)
				return hc.Update(ctx, fv)
			})
		}
		edit(func(fv *fedv1.FederatedVpc) {
			fv.Spec.Subnets = append(fv.Spec.Subnets, pinnedSubnet("db", "10.70.0.0/24", "cluster2"))
		})
		c := waitProblem(t, "tenant-c", "grow", fedvpc.ReasonSubnetOverlap)
		if !strings.Contains(c.Message, `subnet "db"`) || !strings.Contains(c.Message, `cluster "cluster1"`) {
			t.Fatalf("message %q", c.Message)
		}
		sameWorks := func() {
			t.Helper()
			ws := worksOf(t, "tenant-c", "grow")
			if len(ws) != 2 {
				t.Fatalf("%d works", len(ws))
			}
			for _, w := range ws {
				if w.ResourceVersion != rvs[w.Namespace] {
					t.Fatalf("work in %s was rewritten (resourceVersion %s -> %s)", w.Namespace, rvs[w.Namespace], w.ResourceVersion)
				}
			}
		}
		sameWorks()
		// Taking the subnet out again makes it Ready with the very same works: a render
		// equal to what is there writes nothing.
		edit(func(fv *fedv1.FederatedVpc) { fv.Spec.Subnets = fv.Spec.Subnets[:1] })
		waitReady(t, "tenant-c", "grow", 2)
		sameWorks()
	})
}

// snapshot is what a restart must leave alone.
type snapshot struct {
	works map[string]string // namespace/name -> resourceVersion
	fvpcs map[string]fedv1.FederatedVpc
}

func takeSnapshot(t *testing.T) snapshot {
	t.Helper()
	s := snapshot{works: map[string]string{}, fvpcs: map[string]fedv1.FederatedVpc{}}
	var works workv1.ManifestWorkList
	if err := hc.List(ctx, &works, client.HasLabels{render.LabelKind}); err != nil {
		t.Fatal(err)
	}
	for _, w := range works.Items {
		s.works[w.Namespace+"/"+w.Name] = w.ResourceVersion
	}
	var fvs fedv1.FederatedVpcList
	if err := hc.List(ctx, &fvs); err != nil {
		t.Fatal(err)
	}
	for _, fv := range fvs.Items {
		s.fvpcs[fv.Namespace+"/"+fv.Name] = fv
	}
	return s
}

// settled is nil once every work's status is for its current generation and every
// FederatedVpc's status for its own: then nobody has a reason to write.
func settled() error {
	var works workv1.ManifestWorkList
	if err := hc.List(ctx, &works, client.HasLabels{render.LabelKind}); err != nil {
		return err
	}
	for _, w := range works.Items {
		if c := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkApplied); c == nil || c.ObservedGeneration != w.Generation || !w.DeletionTimestamp.IsZero() {
			return fmt.Errorf("work %s/%s not settled", w.Namespace, w.Name)
		}
	}
	var fvs fedv1.FederatedVpcList
	if err := hc.List(ctx, &fvs); err != nil {
		return err
	}
	for _, fv := range fvs.Items {
		c := meta.FindStatusCondition(fv.Status.Conditions, fedv1.ConditionReady)
		if c == nil || c.ObservedGeneration != fv.Generation || (c.Status != metav1.ConditionTrue && c.Reason == fedvpc.ReasonClustersNotReady) {
			return fmt.Errorf("federatedvpc %s/%s not settled: %+v", fv.Namespace, fv.Name, c)
		}
	}
	return nil
}

func TestHubRestartRewritesNothing(t *testing.T) {
	eventually(t, 60*time.Second, "everything settled", settled)
	if err := hp.stop(); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t)
	if len(before.works) < 6 || len(before.fvpcs) < 6 {
		t.Fatalf("snapshot too small to mean anything: %d works, %d federatedvpcs", len(before.works), len(before.fvpcs))
	}
	// Created while the hub is down: its transit must not collide with a restored one.
	if err := hc.Create(ctx, fvpc("tenant-c", "late", "10.80.0.0/16", "all", carvedSubnet("web", 24))); err != nil {
		t.Fatal(err)
	}
	writes := func(op string) float64 {
		return metricSum(t, fedvpc.MetricWorkWrites, map[string]string{"operation": op})
	}
	creates, updates, deletes := writes("create"), writes("update"), writes("delete")
	reconciles := metricSum(t, "controller_runtime_reconcile_total", map[string]string{"controller": "federatedvpc"})

	if err := hp.start(); err != nil {
		t.Fatal(err)
	}
	late := waitReady(t, "tenant-c", "late", 2)
	// The restarted hub has reconciled every object at least once and has nothing queued.
	eventually(t, 30*time.Second, "restarted hub idle", func() error {
		n := metricSum(t, "controller_runtime_reconcile_total", map[string]string{"controller": "federatedvpc"}) - reconciles
		depth := metricSum(t, "workqueue_depth", map[string]string{"name": "federatedvpc"})
		active := metricSum(t, "controller_runtime_active_workers", map[string]string{"controller": "federatedvpc"})
		if n < float64(len(before.fvpcs)+1) || depth != 0 || active != 0 {
			return fmt.Errorf("%v reconciles, queue depth %v, %v active", n, depth, active)
		}
		return nil
	})
	after := takeSnapshot(t)
	for k, rv := range before.works {
		if after.works[k] != rv {
			t.Errorf("work %s rewritten: resourceVersion %s -> %s", k, rv, after.works[k])
		}
	}
	for k, fv := range before.fvpcs {
		got := after.fvpcs[k]
		if got.ResourceVersion != fv.ResourceVersion {
			t.Errorf("federatedvpc %s written: resourceVersion %s -> %s", k, fv.ResourceVersion, got.ResourceVersion)
		}
		if !slices.Equal(got.Status.Allocations, fv.Status.Allocations) || got.Status.TransitSubnet != fv.Status.TransitSubnet ||
			got.Status.TransitSwitch != fv.Status.TransitSwitch || got.Status.TunnelKey != fv.Status.TunnelKey {
			t.Errorf("federatedvpc %s allocations changed across the restart", k)
		}
		if fv.Status.TransitSwitch != "" && (fv.Status.TransitSubnet == late.Status.TransitSubnet || fv.Status.TunnelKey == late.Status.TunnelKey ||
			fv.Status.TransitSwitch == late.Status.TransitSwitch) {
			t.Errorf("tenant-c/late's transit %s %s %d collides with %s's", late.Status.TransitSwitch, late.Status.TransitSubnet, late.Status.TunnelKey, k)
		}
	}
	if d := writes("create") - creates; d != 2 {
		t.Errorf("%v works created after the restart, want 2 (tenant-c/late in two clusters)", d)
	}
	if d := writes("update") + writes("delete") - updates - deletes; d != 0 {
		t.Errorf("%v works updated or deleted after the restart, want 0", d)
	}
}

func TestDeleteWaitsForWorks(t *testing.T) {
	waitReady(t, "tenant-b", "vpc1", 2)
	fv := getFV(t, "tenant-b", "vpc1")
	if err := hc.Delete(ctx, fv); err != nil {
		t.Fatal(err)
	}
	// The agents must first delete the spoke objects (and the spoke controller their OVN
	// rows) before a work, and so the FederatedVpc, can go: right now it is still there.
	held := getFV(t, "tenant-b", "vpc1")
	if held.DeletionTimestamp.IsZero() || !slices.Contains(held.Finalizers, fedvpc.Finalizer) {
		t.Fatalf("federatedvpc not held by the finalizer: %+v", held.ObjectMeta)
	}
	eventually(t, 60*time.Second, "tenant-b/vpc1 deleted", func() error {
		err := hc.Get(ctx, client.ObjectKeyFromObject(fv), &fedv1.FederatedVpc{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	// Once it is gone, nothing of it is left anywhere.
	if ws := worksOf(t, "tenant-b", "vpc1"); len(ws) != 0 {
		t.Fatalf("%d works outlived their FederatedVpc", len(ws))
	}
	for _, s := range fl.Spokes {
		if err := spokeGone(s.Client, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: "tenant-b.vpc1"}}); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if err := spokeGone(s.Client, &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: "tenant-b.vpc1.web"}}); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		eventually(t, 10*time.Second, s.Name+" OVN rows of tenant-b/vpc1 gone", func() error {
			return s.Absent(ovnnb.RouterName("tenant-b.vpc1"), "tenant-b.vpc1.web")
		})
		// tenant-a's vpc1, same CIDR, is untouched.
		if _, err := s.Router(ovnnb.RouterName("tenant-a.vpc1")); err != nil {
			t.Fatal(err)
		}
	}
}
