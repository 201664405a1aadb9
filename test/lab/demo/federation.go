package demo

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	"github.com/ycloud-sdn/ycloud/hub/render"
	"github.com/ycloud-sdn/ycloud/test/lab"
)

// The hub-driven part of the demo. Tenant a's FederatedVpc vpc-a is the sample
// (deploy/samples/federatedvpc.yaml, Placement tenant-a: clusters labelled
// ycloud.io/tenant-a=true); the demo adds tenant b's vpc-b with the very same CIDR, placed
// on the same clusters. The platform team's part - labelling the ManagedClusters - is done
// here; everything else flows hub -> ManifestWork -> work agent -> ycloud-controller ->
// ycloud-ic -> OVN-IC.
//
//	           spoke1 (AZ spoke1)                      spoke2 (AZ spoke2)
//	tenant-a   fed-a-1 .0.10   fed-a-3 .0.11  <=ts=>   fed-a-2 .1.10
//	tenant-b   fed-b-1 .0.10                  <=ts=>   fed-b-2 .1.10   fed-b-3 .1.12
//
// (addresses inside each tenant's carved "web" subnet: 10.100.0.0/24 on spoke1,
// 10.100.1.0/24 on spoke2 for both tenants.) So .10 exists in both tenants on both
// clusters and must answer from the caller's tenant; .0.11 exists only in tenant a and
// .1.12 only in tenant b, and must not answer the other tenant.
const (
	tenantA, fvpcA = "tenant-a", "vpc-a"
	tenantB, fvpcB = "tenant-b", "vpc-b"
	fedSubnet      = "web"
	fedCIDR        = "10.100.0.0/16"
)

type fedPod struct {
	deployment     string
	tenant, fvpc   string
	spoke, node    int // 1-based
	offset         int // address = first address of the cluster's piece + offset
	onlyThisTenant bool
}

var fedPods = []fedPod{
	{"fed-a-1", tenantA, fvpcA, 1, 1, 10, false},
	{"fed-a-3", tenantA, fvpcA, 1, 2, 11, true},
	{"fed-a-2", tenantA, fvpcA, 2, 1, 10, false},
	{"fed-b-1", tenantB, fvpcB, 1, 2, 10, false},
	{"fed-b-2", tenantB, fvpcB, 2, 2, 10, false},
	{"fed-b-3", tenantB, fvpcB, 2, 1, 12, true},
}

// fedKey names one tenant VPC's piece of the web subnet in one cluster.
type fedKey struct{ tenant, cluster string }

// fedDeploymentsFor returns the federated pods' Deployments on a spoke, with static
// addresses in the pieces the hub carved (alloc). Pods whose piece is unknown are left out.
func fedDeploymentsFor(spoke string, nodes []string, alloc map[fedKey]netip.Prefix) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, p := range fedPods {
		if lab.SpokeName(p.spoke) != spoke || p.node > len(nodes) {
			continue
		}
		piece, ok := alloc[fedKey{p.tenant, spoke}]
		if !ok {
			continue
		}
		ip := piece.Masked().Addr()
		for range p.offset {
			ip = ip.Next()
		}
		out = append(out, deployment(p.deployment, nodes[p.node-1], 1, map[string]string{
			iaasv1.AnnotationSubnet: render.SubnetName(p.tenant, p.fvpc, fedSubnet),
			iaasv1.AnnotationVnicIp: ip.String(),
		}))
	}
	return out
}

// federate labels the clusters for both tenants, creates tenant b's VPC, and waits until
// the hub reports both VPCs ready on every spoke and each spoke's VPC router is linked to
// its transit switch and has learned the other cluster's routes. It records the carved
// pieces of the web subnet for the pods.
func (d *demo) federate(ctx context.Context) error {
	spokes := d.l.Spokes()
	hub := d.crc[lab.HubName]
	// Without these nothing below can happen; say so instead of timing out.
	want := []string{lab.HubName + "/" + lab.CompHub, lab.HubName + "/" + lab.CompPlacement}
	for _, s := range spokes {
		want = append(want, s+"/"+lab.CompWorkAgent, s+"/"+lab.CompIC)
	}
	running := map[string]bool{}
	for _, p := range d.l.Processes() {
		running[p.Name] = true
	}
	for _, w := range want {
		if !running[w] {
			return fmt.Errorf("%s does not run in the lab (see `ycloud-lab status`; not built? run make build)", w)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// The platform team steers placements with cluster labels.
	for _, s := range spokes {
		patch := []byte(`{"metadata":{"labels":{"ycloud.io/tenant-a":"true","ycloud.io/tenant-b":"true"}}}`)
		mc := &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: s}}
		if err := hub.Patch(ctx, mc, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("hub: label managedcluster %s: %w", s, err)
		}
	}
	// Tenant b: what a tenant applies on the hub (namespace, binding to the default set,
	// Placement, FederatedVpc).
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenantB}},
		&clusterv1beta2.ManagedClusterSetBinding{ObjectMeta: metav1.ObjectMeta{Name: lab.DefaultClusterSet, Namespace: tenantB},
			Spec: clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: lab.DefaultClusterSet}},
		&clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: tenantB, Namespace: tenantB},
			Spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{{
				RequiredClusterSelector: clusterv1beta1.ClusterSelector{LabelSelector: metav1.LabelSelector{
					MatchLabels: map[string]string{"ycloud.io/tenant-b": "true"}}}}}}},
		&fedv1.FederatedVpc{ObjectMeta: metav1.ObjectMeta{Name: fvpcB, Namespace: tenantB},
			Spec: fedv1.FederatedVpcSpec{CIDRBlock: fedCIDR, PlacementRef: fedv1.PlacementRef{Name: tenantB},
				Subnets: []fedv1.FederatedSubnet{{Name: fedSubnet, PerClusterPrefixLength: ptr.To[int32](24), Default: true}}}},
	}
	for _, o := range objs {
		if err := hub.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("hub: create %T %s: %w", o, o.GetName(), err)
		}
	}

	d.alloc = map[fedKey]netip.Prefix{}
	errs := parallel([][2]string{{tenantA, fvpcA}, {tenantB, fvpcB}}, func(t [2]string) error {
		return d.waitFederatedVpc(ctx, t[0], t[1], len(spokes))
	})
	if errs != nil {
		return errs
	}
	var targets []fedKey
	for _, s := range spokes {
		targets = append(targets, fedKey{tenantA, s}, fedKey{tenantB, s})
	}
	if err := parallel(targets, func(k fedKey) error { return d.waitLinked(ctx, k) }); err != nil {
		return err
	}
	return parallel([][2]string{{tenantA, fvpcA}, {tenantB, fvpcB}}, func(t [2]string) error {
		return d.waitRollUp(ctx, t[0], t[1], len(spokes))
	})
}

// waitRollUp waits until the hub shows every cluster's interconnect state, which comes
// back through the works' statusFeedback (Vpc status.interconnect).
func (d *demo) waitRollUp(ctx context.Context, tenant, fvpc string, n int) error {
	t := time.Now()
	var fv fedv1.FederatedVpc
	err := pollUntil(ctx, 60*time.Second, func() (bool, string) {
		if err := d.crc[lab.HubName].Get(ctx, client.ObjectKey{Namespace: tenant, Name: fvpc}, &fv); err != nil {
			return false, err.Error()
		}
		if len(fv.Status.Clusters) != n {
			return false, fmt.Sprintf("%d clusters in status", len(fv.Status.Clusters))
		}
		for _, c := range fv.Status.Clusters {
			if c.TransitSwitch != fv.Status.TransitSwitch || c.ActiveGateway == "" || c.LearnedRoutes == 0 {
				return false, fmt.Sprintf("cluster %s: transit %q (want %q), active gateway %q, %d learned routes",
					c.Cluster, c.TransitSwitch, fv.Status.TransitSwitch, c.ActiveGateway, c.LearnedRoutes)
			}
		}
		return true, ""
	})
	ch := Check{Cluster: lab.HubName, Name: fmt.Sprintf("FederatedVpc %s/%s shows each cluster's OVN-IC link (statusFeedback)", tenant, fvpc),
		Pass: err == nil, Duration: time.Since(t)}
	if err != nil {
		ch.Detail = err.Error()
	} else {
		var parts []string
		for _, c := range fv.Status.Clusters {
			parts = append(parts, fmt.Sprintf("%s: gateway %s, %d learned", c.Cluster, c.ActiveGateway, c.LearnedRoutes))
		}
		ch.Detail = strings.Join(parts, "; ")
	}
	d.addCheck(ch)
	return err
}

// waitFederatedVpc waits until a FederatedVpc is Ready on n clusters and records its web
// pieces.
func (d *demo) waitFederatedVpc(ctx context.Context, tenant, fvpc string, n int) error {
	t := time.Now()
	var fv fedv1.FederatedVpc
	err := pollUntil(ctx, 90*time.Second, func() (bool, string) {
		if err := d.crc[lab.HubName].Get(ctx, client.ObjectKey{Namespace: tenant, Name: fvpc}, &fv); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(fv.Status.Conditions, "Ready")
		switch {
		case c == nil:
			return false, "no Ready condition"
		case c.Status != metav1.ConditionTrue || c.ObservedGeneration != fv.Generation:
			return false, c.Reason + ": " + c.Message
		case int(fv.Status.ReadyClusters) != n:
			return false, fmt.Sprintf("ready on %d of %d clusters", fv.Status.ReadyClusters, n)
		}
		return true, ""
	})
	ch := Check{Cluster: lab.HubName, Name: fmt.Sprintf("FederatedVpc %s/%s Ready on %d clusters (hub -> ManifestWorks -> spokes)", tenant, fvpc, n),
		Pass: err == nil, Duration: time.Since(t)}
	if err != nil {
		ch.Detail = err.Error()
		d.addCheck(ch)
		return fmt.Errorf("federatedvpc %s/%s: %w", tenant, fvpc, err)
	}
	var pieces []string
	d.mu.Lock()
	for _, a := range fv.Status.Allocations {
		if a.Subnet != fedSubnet {
			continue
		}
		if p, perr := netip.ParsePrefix(strings.Split(a.CIDRBlock, ",")[0]); perr == nil {
			d.alloc[fedKey{tenant, a.Cluster}] = p
			pieces = append(pieces, a.Cluster+" "+p.String())
		}
	}
	d.mu.Unlock()
	sort.Strings(pieces)
	ch.Detail = fmt.Sprintf("transit %s %s; %s: %s", fv.Status.TransitSwitch, fv.Status.TransitSubnet, fedSubnet, strings.Join(pieces, ", "))
	d.addCheck(ch)
	return nil
}

// waitLinked waits until ycloud-ic has linked a tenant's Vpc in one spoke to its transit
// switch and the router learned routes from the other clusters.
func (d *demo) waitLinked(ctx context.Context, k fedKey) error {
	t := time.Now()
	name := render.VpcName(k.tenant, map[string]string{tenantA: fvpcA, tenantB: fvpcB}[k.tenant])
	var vpc iaasv1.Vpc
	err := pollUntil(ctx, 90*time.Second, func() (bool, string) {
		if err := d.crc[k.cluster].Get(ctx, client.ObjectKey{Name: name}, &vpc); err != nil {
			return false, err.Error()
		}
		ic := vpc.Status.Interconnect
		switch {
		case ic == nil || ic.TransitSwitch == "":
			return false, "status.interconnect: not linked"
		case len(ic.GatewayChassis) == 0:
			return false, "status.interconnect: no gateway chassis"
		case ic.LearnedRoutes == 0:
			return false, "status.interconnect: no route learned yet"
		}
		return true, ""
	})
	ch := Check{Cluster: k.cluster, Name: "Vpc " + name + " linked over OVN-IC, routes learned", Pass: err == nil, Duration: time.Since(t)}
	if err != nil {
		ch.Detail = err.Error()
	} else {
		ic := vpc.Status.Interconnect
		ch.Detail = fmt.Sprintf("transit %s, gateways %s, %d learned, %d advertised", ic.TransitSwitch,
			strings.Join(ic.GatewayChassis, ">"), ic.LearnedRoutes, ic.AdvertisedRoutes)
	}
	d.addCheck(ch)
	return err
}

// planFedChecks builds the cross-cluster checks from the running federated pods (a pure
// function, unit-tested). Each tenant's pods reach each other across the clusters, by TCP
// (HTTP, answered by the expected pod, source address preserved) and by ICMP; the address
// both tenants use answers from the caller's tenant; an address only the other tenant has
// never answers.
func planFedChecks(pods []Pod) []checkSpec {
	by := map[string]*Pod{}
	for i := range pods {
		if strings.HasPrefix(pods[i].Deployment, "fed-") {
			by[pods[i].Deployment] = &pods[i]
		}
	}
	a1, a2, a3 := by["fed-a-1"], by["fed-a-2"], by["fed-a-3"]
	b1, b2, b3 := by["fed-b-1"], by["fed-b-2"], by["fed-b-3"]
	if a1 == nil || a2 == nil || b1 == nil || b2 == nil {
		return nil
	}
	to := func(p *Pod) string { return p.IP + " (" + p.Name + ")" }
	cross := func(tenant string, src, dst *Pod) []checkSpec {
		dir := src.Cluster + " -> " + dst.Cluster
		return []checkSpec{
			{cluster: src.Cluster, name: tenant + ": pod -> pod across clusters " + dir + ", TCP", fromPod: src, ip: dst.IP, wantHost: dst.Name, toLabel: to(dst)},
			{cluster: src.Cluster, name: tenant + ": ping across clusters " + dir, fromPod: src, ip: dst.IP, wantHost: dst.Name, toLabel: to(dst), ping: true},
		}
	}
	var out []checkSpec
	out = append(out, cross(tenantA, a1, a2)...)
	out = append(out, cross(tenantA, a2, a1)...)
	out = append(out, cross(tenantB, b1, b2)...)
	out = append(out, cross(tenantB, b2, b1)...)
	if b3 != nil {
		out = append(out,
			checkSpec{cluster: a1.Cluster, name: "isolation: " + tenantA + " cannot reach " + b3.IP + " (only in " + tenantB + ", " + b3.Cluster + "), TCP", fromPod: a1, ip: b3.IP, toLabel: to(b3)},
			checkSpec{cluster: a1.Cluster, name: "isolation: " + tenantA + " cannot ping " + b3.IP + " (only in " + tenantB + ", " + b3.Cluster + ")", fromPod: a1, ip: b3.IP, toLabel: to(b3), ping: true},
		)
	}
	if a3 != nil {
		out = append(out,
			checkSpec{cluster: b2.Cluster, name: "isolation: " + tenantB + " cannot reach " + a3.IP + " (only in " + tenantA + ", " + a3.Cluster + "), TCP", fromPod: b2, ip: a3.IP, toLabel: to(a3)},
			checkSpec{cluster: b2.Cluster, name: "isolation: " + tenantB + " cannot ping " + a3.IP + " (only in " + tenantA + ", " + a3.Cluster + ")", fromPod: b2, ip: a3.IP, toLabel: to(a3), ping: true},
		)
	}
	return out
}
