package twoaz

// The optional hub (Options.Hub): the federation side of DESIGN.md sections 4 and 5 on top of
// the two AZs, so a tenant VPC can be applied where users apply it:
//
//	hub:     a test kube-apiserver with the real OCM CRDs and ours, ycloud-hub (in process),
//	         the stand-in placement controller
//	per AZ:  a stand-in work agent (cluster name = AZ name) applying the hub's ManifestWorks
//	         to the AZ's apiserver, where ycloud-controller and ycloud-ic pick them up
//
// The OCM bootstrap follows test/integration/hub/fleet: one ManagedClusterSet, and per AZ a
// hub namespace and a ManagedCluster in the set. A tenant is a hub namespace with a binding
// to the set and one Placement selecting every AZ.

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	"github.com/ycloud-sdn/ycloud/hub"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/integration/hub/fleet"
	"github.com/ycloud-sdn/ycloud/test/ocm/placement"
	"github.com/ycloud-sdn/ycloud/test/ocm/workagent"
)

// PlacementName is the Placement every tenant gets: it selects every AZ.
const PlacementName = "twoaz"

// hubAgentSync is the work agents' status sync interval (how often they read spoke status
// back for the hub). Applying a new or changed work is event-driven and does not wait for it.
const hubAgentSync = time.Second

// Hub is the hub cluster of a World started with Options.Hub.
type Hub struct {
	Kube *framework.Cluster
	// Client reads and writes every kind the hub serves (federation, iaas, OCM).
	Client    client.Client
	Placement *placement.Controller
	// Agents are the work agents, by AZ index.
	Agents []*workagent.Agent
	w      *World
}

// startHub runs the hub's components against its apiserver (already started) and makes
// every AZ a managed cluster. Their cleanups run before the apiservers stop.
func (w *World) startHub(kube *framework.Cluster) *Hub {
	t := w.t
	t.Helper()
	h := &Hub{Kube: kube, w: w}
	var err error
	if h.Client, err = client.New(kube.Config, client.Options{Scheme: fleet.Scheme()}); err != nil {
		t.Fatalf("twoaz: hub client: %v", err)
	}

	cfg := hub.DefaultConfig()
	cfg.REST = kube.Config
	cfg.MetricsAddr, cfg.HealthAddr, cfg.LeaderElect = "0", "0", false
	t.Cleanup(runInBackground(t, "ycloud-hub", func(ctx context.Context) error { return hub.Run(ctx, cfg) }))

	if h.Placement, err = placement.New(placement.Options{HubConfig: kube.Config}); err != nil {
		t.Fatalf("twoaz: %v", err)
	}
	t.Cleanup(runInBackground(t, "placement", h.Placement.Start))

	for _, az := range w.AZs {
		a, err := workagent.New(workagent.Options{ClusterName: az.Name, HubConfig: kube.Config,
			SpokeConfig: az.Kube.Config, StatusSyncInterval: hubAgentSync})
		if err != nil {
			t.Fatalf("twoaz: work agent %s: %v", az.Name, err)
		}
		h.Agents = append(h.Agents, a)
		t.Cleanup(runInBackground(t, "work agent "+az.Name, a.Start))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs := []client.Object{&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: fleet.ClusterSet}}}
	for _, az := range w.AZs {
		objs = append(objs,
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: az.Name}},
			&clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: az.Name,
				Labels: map[string]string{clusterv1beta2.ClusterSetLabel: fleet.ClusterSet}},
				Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true}})
	}
	for _, o := range objs {
		if err := h.Client.Create(ctx, o); err != nil {
			t.Fatalf("twoaz: hub: create %T %s: %v", o, o.GetName(), err)
		}
	}
	return h
}

// AddTenant creates a tenant on the hub: its namespace, a binding to the cluster set and
// the Placement PlacementName over every AZ. It returns once the placement's decision lists
// every AZ, so what follows is measured without the scheduling of the placement.
func (h *Hub) AddTenant(t TB, tenant string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
		&clusterv1beta2.ManagedClusterSetBinding{ObjectMeta: metav1.ObjectMeta{Name: fleet.ClusterSet, Namespace: tenant},
			Spec: clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: fleet.ClusterSet}},
		fleet.Placement(tenant, PlacementName, nil),
	} {
		if err := h.Client.Create(ctx, o); err != nil {
			t.Fatalf("twoaz: tenant %s: create %T %s: %v", tenant, o, o.GetName(), err)
		}
	}
	var want []string
	for _, az := range h.w.AZs {
		want = append(want, az.Name)
	}
	err := cnitest.Eventually(time.Minute, 20*time.Millisecond, func() error {
		var list clusterv1beta1.PlacementDecisionList
		if err := h.Client.List(ctx, &list, client.InNamespace(tenant),
			client.MatchingLabels{clusterv1beta1.PlacementLabel: PlacementName}); err != nil {
			return err
		}
		var got []string
		for _, d := range list.Items {
			for _, c := range d.Status.Decisions {
				got = append(got, c.ClusterName)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("placement %s/%s decided %v, want %v", tenant, PlacementName, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("twoaz: %v", err)
	}
}

// FederatedVpcObject is tn as the hub object: FederatedVpc tn.FederatedVpc in namespace tn.Name
// (a tenant AddTenant made), placed by PlacementName, with subnet "sub<i+1>" pinned to AZ i
// with tn.CIDRs[i] (and tn.ExcludeIPs[i]). The hub names them on the spokes exactly as
// tn.VpcName and tn.SubnetName do. The VPC's cidrBlock is the smallest prefix holding every
// subnet. tn.TransitSwitch and tn.TransitSubnet are not used: the hub allocates both (see
// Transit).
func (tn Tenant) FederatedVpcObject() *fedv1.FederatedVpc {
	fv := &fedv1.FederatedVpc{
		ObjectMeta: metav1.ObjectMeta{Namespace: tn.Name, Name: tn.FederatedVpc},
		Spec: fedv1.FederatedVpcSpec{
			CIDRBlock:    iaasv1.DualStackCIDR(covering(tn.CIDRs).String()),
			PlacementRef: fedv1.PlacementRef{Name: PlacementName},
		},
	}
	for i, c := range tn.CIDRs {
		s := fedv1.FederatedSubnet{Name: fmt.Sprintf("sub%d", i+1), CIDRBlock: iaasv1.DualStackCIDR(c.String()), Cluster: fmt.Sprintf("az%d", i+1)}
		if i < len(tn.ExcludeIPs) {
			s.ExcludeIPs = tn.ExcludeIPs[i]
		}
		fv.Spec.Subnets = append(fv.Spec.Subnets, s)
	}
	return fv
}

// covering returns the smallest prefix that holds every prefix of ps (one family).
func covering(ps []netip.Prefix) netip.Prefix {
	c := ps[0].Masked()
	for _, p := range ps[1:] {
		for c.Bits() > p.Bits() || !c.Contains(p.Addr()) {
			c = netip.PrefixFrom(c.Addr(), c.Bits()-1).Masked()
		}
	}
	return c
}

// CreateFederatedVpc creates tn's FederatedVpc on the hub.
func (h *Hub) CreateFederatedVpc(t TB, tn Tenant) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Client.Create(ctx, tn.FederatedVpcObject()); err != nil {
		t.Fatalf("twoaz: hub: create federatedvpc %s/%s: %v", tn.Name, tn.FederatedVpc, err)
	}
}

// DeleteFederatedVpc deletes tn's FederatedVpc on the hub and waits, up to timeout, until it
// is gone: the hub's finalizer holds it until its ManifestWorks are gone, and the work agents
// hold those until the spoke Vpc and Subnets are gone (Foreground deletion), so the spoke
// objects are gone too. Pods in its subnets must be deleted first (a Subnet waits for its
// addresses to be released).
func (h *Hub) DeleteFederatedVpc(t TB, tn Tenant, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := h.Client.Delete(ctx, tn.FederatedVpcObject()); err != nil {
		t.Fatalf("twoaz: hub: delete federatedvpc %s/%s: %v", tn.Name, tn.FederatedVpc, err)
	}
	h.w.Eventually(t, timeout, fmt.Sprintf("federatedvpc %s/%s gone", tn.Name, tn.FederatedVpc), func() error {
		err := h.Client.Get(ctx, client.ObjectKey{Namespace: tn.Name, Name: tn.FederatedVpc}, &fedv1.FederatedVpc{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("federatedvpc %s/%s still exists", tn.Name, tn.FederatedVpc)
	})
}

// Transit returns the transit switch and subnet the hub allocated to tn's FederatedVpc, or
// an error while it has not.
func (h *Hub) Transit(ctx context.Context, tn Tenant) (string, netip.Prefix, error) {
	var fv fedv1.FederatedVpc
	if err := h.Client.Get(ctx, client.ObjectKey{Namespace: tn.Name, Name: tn.FederatedVpc}, &fv); err != nil {
		return "", netip.Prefix{}, err
	}
	if fv.Status.TransitSwitch == "" || fv.Status.TransitSubnet == "" {
		return "", netip.Prefix{}, fmt.Errorf("federatedvpc %s/%s: no transit allocated yet", tn.Name, tn.FederatedVpc)
	}
	p, err := netip.ParsePrefix(fv.Status.TransitSubnet)
	if err != nil {
		return "", netip.Prefix{}, fmt.Errorf("federatedvpc %s/%s: transit subnet: %w", tn.Name, tn.FederatedVpc, err)
	}
	return fv.Status.TransitSwitch, p, nil
}

// WithHubTransit returns tn with the transit switch and subnet the hub allocated, waiting
// up to timeout for the allocation.
func (h *Hub) WithHubTransit(t TB, tn Tenant, timeout time.Duration) Tenant {
	t.Helper()
	h.w.Eventually(t, timeout, fmt.Sprintf("federatedvpc %s/%s transit", tn.Name, tn.FederatedVpc), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		tn.TransitSwitch, tn.TransitSubnet, err = h.Transit(ctx, tn)
		return err
	})
	return tn
}
