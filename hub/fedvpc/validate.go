package fedvpc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
)

// resolvePlacement checks the placementRef and returns the placed clusters, sorted. A
// Placement is only ever looked up in the FederatedVpc's own namespace: the namespace is
// the tenant, and a tenant must not place its networks with someone else's Placement.
func (r *Reconciler) resolvePlacement(ctx context.Context, fv *fedv1.FederatedVpc) ([]string, *problem, error) {
	ref := fv.Spec.PlacementRef.Name
	if strings.Contains(ref, "/") || len(validation.IsDNS1123Subdomain(ref)) > 0 {
		return nil, &problem{reason: ReasonInvalidRef, placement: true, terminal: true,
			msg: fmt.Sprintf("placementRef %q must be the name of a Placement in namespace %q; references to other namespaces are not allowed", ref, fv.Namespace)}, nil
	}
	var pl clusterv1beta1.Placement
	if err := r.client.Get(ctx, client.ObjectKey{Namespace: fv.Namespace, Name: ref}, &pl); err != nil {
		if !apierrors.IsNotFound(err) {
			return nil, nil, fmt.Errorf("placement %s/%s: %w", fv.Namespace, ref, err)
		}
		// Say so when the name exists elsewhere: that is the mistake to point out.
		var all clusterv1beta1.PlacementList
		if err := r.client.List(ctx, &all); err != nil {
			return nil, nil, fmt.Errorf("list placements: %w", err)
		}
		var elsewhere []string
		for _, p := range all.Items {
			if p.Name == ref {
				elsewhere = append(elsewhere, p.Namespace)
			}
		}
		if len(elsewhere) > 0 {
			slices.Sort(elsewhere)
			return nil, &problem{reason: ReasonPlacementElsewhere, placement: true,
				msg: fmt.Sprintf("placement %q is not in namespace %q but in %s; a FederatedVpc may only use Placements of its own namespace", ref, fv.Namespace, strings.Join(elsewhere, ", "))}, nil
		}
		return nil, &problem{reason: ReasonPlacementNotFound, placement: true,
			msg: fmt.Sprintf("placement %q not found in namespace %q", ref, fv.Namespace)}, nil
	}
	var decisions clusterv1beta1.PlacementDecisionList
	if err := r.client.List(ctx, &decisions, client.InNamespace(fv.Namespace), client.MatchingLabels{clusterv1beta1.PlacementLabel: ref}); err != nil {
		return nil, nil, fmt.Errorf("placement %s/%s: list decisions: %w", fv.Namespace, ref, err)
	}
	var clusters []string
	for _, d := range decisions.Items {
		for _, cd := range d.Status.Decisions {
			// A cluster name is the name of its hub namespace.
			if len(validation.IsDNS1123Label(cd.ClusterName)) == 0 {
				clusters = append(clusters, cd.ClusterName)
			}
		}
	}
	slices.Sort(clusters)
	return slices.Compact(clusters), nil, nil
}

// carveInput turns the spec and the recorded status into ipam's input.
func carveInput(fv *fedv1.FederatedVpc, clusters []string, live func(string) bool) (ipam.Input, error) {
	vpc, err := ipam.ParseCIDRs(string(fv.Spec.CIDRBlock))
	if err != nil {
		return ipam.Input{}, fmt.Errorf("%w: cidrBlock %w", ipam.ErrInvalid, err)
	}
	in := ipam.Input{VPC: vpc, Clusters: clusters, Live: live}
	for _, s := range fv.Spec.Subnets {
		cidrs, err := ipam.ParseCIDRs(string(s.CIDRBlock))
		if err != nil {
			return ipam.Input{}, fmt.Errorf("%w: subnet %q: %w", ipam.ErrInvalid, s.Name, err)
		}
		gws, err := ipam.ParseAddrs(string(s.Gateway))
		if err != nil {
			return ipam.Input{}, fmt.Errorf("%w: subnet %q gateway: %w", ipam.ErrInvalid, s.Name, err)
		}
		sub := ipam.Subnet{Name: s.Name, CIDRs: cidrs, Cluster: s.Cluster, Gateways: gws}
		if s.PerClusterPrefixLength != nil {
			sub.PrefixLen = int(*s.PerClusterPrefixLength)
		}
		in.Subnets = append(in.Subnets, sub)
	}
	for _, a := range fv.Status.Allocations {
		cidrs, err := ipam.ParseCIDRs(a.CIDRBlock)
		if err != nil || len(cidrs) == 0 {
			continue // a malformed record is carved again
		}
		in.Previous = append(in.Previous, ipam.Allocation{Subnet: a.Subnet, Cluster: a.Cluster, CIDRs: cidrs})
	}
	return in, nil
}

// carveProblem maps an ipam error to the condition the user sees.
func carveProblem(err error) *problem {
	p := &problem{reason: ReasonInvalidSubnet, msg: err.Error(), terminal: true}
	switch {
	case errors.Is(err, ipam.ErrOverlap):
		p.reason = ReasonSubnetOverlap
	case errors.Is(err, ipam.ErrExhausted):
		p.reason = ReasonCIDRExhausted
	}
	return p
}

// pinnedElsewhere lists what of the spec reaches no cluster: subnets pinned to clusters the
// placement did not select, and security groups. The Placed condition says so rather than
// hiding it.
func pinnedElsewhere(fv *fedv1.FederatedVpc, clusters []string) []string {
	var notes []string
	for _, s := range fv.Spec.Subnets {
		if s.Cluster != "" && !slices.Contains(clusters, s.Cluster) {
			notes = append(notes, fmt.Sprintf("subnet %q is for cluster %q, which is not selected", s.Name, s.Cluster))
		}
	}
	if n := len(fv.Spec.SecurityGroups); n > 0 {
		// Security groups need tenant-scoped names and remote-group rewriting on the
		// spokes; until that lands, say plainly that they are not pushed.
		notes = append(notes, fmt.Sprintf("%d security group(s) are not pushed to the clusters yet", n))
	}
	return notes
}

func statusAllocations(as []ipam.Allocation) []fedv1.SubnetAllocation {
	out := make([]fedv1.SubnetAllocation, 0, len(as))
	for _, a := range as {
		out = append(out, fedv1.SubnetAllocation{Subnet: a.Subnet, Cluster: a.Cluster,
			CIDRBlock: ipam.JoinPrefixes(a.CIDRs), Gateway: ipam.JoinAddrs(a.Gateways)})
	}
	return out
}

func transitStatus(t ipam.Transit) *fedv1.FederatedVpcStatus {
	return &fedv1.FederatedVpcStatus{TransitSwitch: t.Switch, TransitSubnet: t.Subnet.String(), TunnelKey: t.TunnelKey}
}

func recordedTransit(st *fedv1.FederatedVpcStatus) (ipam.Transit, bool) {
	p, err := netip.ParsePrefix(st.TransitSubnet)
	if err != nil || st.TransitSwitch == "" || st.TunnelKey == 0 {
		return ipam.Transit{}, false
	}
	return ipam.Transit{Switch: st.TransitSwitch, Subnet: p, TunnelKey: st.TunnelKey}, true
}
