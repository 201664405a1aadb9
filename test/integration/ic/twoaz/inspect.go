package twoaz

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/ic"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
)

// Tenant is one tenant's VPC as it appears on every AZ.
type Tenant struct {
	Name, FederatedVpc string
	TransitSwitch      string
	TransitSubnet      netip.Prefix
	// CIDRs per AZ (index = AZ index), one subnet each.
	CIDRs []netip.Prefix
	// ExcludeIPs per AZ (optional).
	ExcludeIPs [][]iaasv1.IPRange
}

// VpcName is the spoke Vpc name (the hub's "<tenant>.<fvpc>").
func (tn Tenant) VpcName() string { return tn.Name + "." + tn.FederatedVpc }

// SubnetName is the tenant's subnet in AZ i.
func (tn Tenant) SubnetName(i int) string { return fmt.Sprintf("%s.sub%d", tn.VpcName(), i+1) }

// Federation is spec.federation as the hub writes it.
func (tn Tenant) Federation() *iaasv1.VpcFederation {
	return &iaasv1.VpcFederation{Tenant: tn.Name, FederatedVpc: tn.FederatedVpc, TransitSwitch: tn.TransitSwitch,
		TransitSubnet: iaasv1.CIDR(tn.TransitSubnet.String())}
}

// CreateVpc creates the tenant's Vpc (federated or not) and its subnet in the AZ.
func (az *AZ) CreateVpc(tn Tenant, federated bool) {
	t := az.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vpc := &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: tn.VpcName()}}
	if federated {
		vpc.Spec.Federation = tn.Federation()
	}
	sub := &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: tn.SubnetName(az.Index)},
		Spec: iaasv1.SubnetSpec{Vpc: tn.VpcName(), CIDRBlock: iaasv1.DualStackCIDR(tn.CIDRs[az.Index].String())}}
	if az.Index < len(tn.ExcludeIPs) {
		sub.Spec.ExcludeIPs = tn.ExcludeIPs[az.Index]
	}
	for _, o := range []client.Object{vpc, sub} {
		if err := az.Kube.Client.Create(ctx, o); err != nil {
			t.Fatalf("twoaz: %s: create %T %s: %v", az.Name, o, o.GetName(), err)
		}
	}
}

// SetFederation sets (fed non-nil) or removes the Vpc's spec.federation, as the hub's
// ManifestWork would.
func (az *AZ) SetFederation(vpc string, fed *iaasv1.VpcFederation) {
	t := az.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body, _ := json.Marshal(map[string]any{"spec": map[string]any{"federation": fed}})
	obj := &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: vpc}}
	if err := az.Kube.Client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, body)); err != nil {
		t.Fatalf("twoaz: %s: vpc %s federation: %v", az.Name, vpc, err)
	}
}

// DeleteVpc deletes a Vpc object.
func (az *AZ) DeleteVpc(vpc string) {
	t := az.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := az.Kube.Client.Delete(ctx, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: vpc}}); err != nil {
		t.Fatalf("twoaz: %s: delete vpc %s: %v", az.Name, vpc, err)
	}
}

// Interconnect returns the Vpc's status.interconnect (nil when absent).
func (az *AZ) Interconnect(ctx context.Context, vpc string) (*iaasv1.VpcInterconnectStatus, error) {
	var v iaasv1.Vpc
	if err := az.Kube.Client.Get(ctx, client.ObjectKey{Name: vpc}, &v); err != nil {
		return nil, err
	}
	return v.Status.Interconnect, nil
}

// SubnetReady reports nil once the Subnet exists and ycloud-controller reports it Ready for
// its current generation (its switch is in NB and its address pool is loaded: a pod
// created now is allocated at once).
func (az *AZ) SubnetReady(ctx context.Context, name string) error {
	var s iaasv1.Subnet
	if err := az.Kube.Client.Get(ctx, client.ObjectKey{Name: name}, &s); err != nil {
		return fmt.Errorf("%s: subnet %s: %w", az.Name, name, err)
	}
	c := meta.FindStatusCondition(s.Status.Conditions, iaasv1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != s.Generation {
		return fmt.Errorf("%s: subnet %s not ready: %+v", az.Name, name, c)
	}
	return nil
}

// LearnedRoute is a static route ovn-ic learned into a router.
type LearnedRoute struct {
	Prefix  netip.Prefix
	Nexthop netip.Addr
	// ICRoute is the IC-SB Route row it was learned from (external_ids:ic-learned-route).
	ICRoute string
}

// LearnedRoutes lists the routes ovn-ic learned into a VPC's router. The prefix is
// normalized: ovn-ic copies it as advertised, e.g. "10.2.1.1/24" (OVN-NOTES.md §1).
func (az *AZ) LearnedRoutes(vpc string) ([]LearnedRoute, error) {
	c := az.NBRead.Cache()
	lrs, err := ovsdb.Lookup[nb.LogicalRouter](c, "name", ovnnb.RouterName(vpc))
	if err != nil || len(lrs) == 0 {
		return nil, fmt.Errorf("router of vpc %s not found (%v)", vpc, err)
	}
	var out []LearnedRoute
	for _, id := range lrs[0].StaticRoutes {
		r, err := ovsdb.GetByUUID[nb.LogicalRouterStaticRoute](c, id)
		if err != nil || r.ExternalIDs["ic-learned-route"] == "" {
			continue
		}
		p, err := netip.ParsePrefix(r.IPPrefix)
		if err != nil {
			return nil, fmt.Errorf("learned route %q: %w", r.IPPrefix, err)
		}
		nh, _ := netip.ParseAddr(r.Nexthop)
		out = append(out, LearnedRoute{Prefix: p.Masked(), Nexthop: nh, ICRoute: r.ExternalIDs["ic-learned-route"]})
	}
	slices.SortFunc(out, func(a, b LearnedRoute) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return out, nil
}

// ICRoute returns an IC-SB Route row.
func (w *World) ICRoute(uuid string) (*icsb.Route, error) {
	return ovsdb.GetByUUID[icsb.Route](w.ICSBRead.Cache(), uuid)
}

// TransitSwitches returns the IC-NB transit switches named name.
func (w *World) TransitSwitches(name string) []*icnb.TransitSwitch {
	rows, _ := ovsdb.Lookup[icnb.TransitSwitch](w.ICNBRead.Cache(), "name", name)
	return rows
}

// ICPortBinding returns the IC-SB Port_Binding of a transit switch port.
func (w *World) ICPortBinding(lsp string) *icsb.PortBinding {
	rows, _ := ovsdb.List[icsb.PortBinding](w.ICSBRead.Cache(), func(p *icsb.PortBinding) bool { return p.LogicalPort == lsp })
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// ActiveGateway returns the chassis that holds a distributed gateway port: the one
// ovn-controller claimed its chassisredirect port "cr-<lrp>" on ("" when none).
func (az *AZ) ActiveGateway(lrp string) string {
	c := az.SBRead.Cache()
	rows, _ := ovsdb.Lookup[sb.PortBinding](c, "logical_port", "cr-"+lrp)
	if len(rows) == 0 || rows[0].Chassis == nil {
		return ""
	}
	ch, err := ovsdb.GetByUUID[sb.Chassis](c, *rows[0].Chassis)
	if err != nil {
		return ""
	}
	return ch.Name
}

// RouterPort returns the NB router port of that name.
func (az *AZ) RouterPort(name string) *nb.LogicalRouterPort {
	rows, _ := ovsdb.Lookup[nb.LogicalRouterPort](az.NBRead.Cache(), "name", name)
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// VpcResourceVersion returns the Vpc's resourceVersion.
func (az *AZ) VpcResourceVersion(t TB, vpc string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v iaasv1.Vpc
	if err := az.Kube.Client.Get(ctx, client.ObjectKey{Name: vpc}, &v); err != nil {
		t.Fatalf("twoaz: %s: vpc %s: %v", az.Name, vpc, err)
	}
	return v.ResourceVersion
}

// SetGatewayLabel puts the gateway label on a node object (or takes it off), as an
// operator would.
func (az *AZ) SetGatewayLabel(t TB, node string, on bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var v any
	if on {
		v = "true"
	}
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{ic.GatewayNodeLabel: v}}})
	if err := az.Kube.Client.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, client.RawPatch(types.MergePatchType, body)); err != nil {
		t.Fatalf("twoaz: %s: label node %s: %v", az.Name, node, err)
	}
}

// RouterExists reports whether the VPC's logical router is in the AZ's NB.
func (az *AZ) RouterExists(vpc string) bool {
	rows, _ := ovsdb.Lookup[nb.LogicalRouter](az.NBRead.Cache(), "name", ovnnb.RouterName(vpc))
	return len(rows) > 0
}

// SwitchPortExists reports whether a logical switch port of that name is in the AZ's NB.
func (az *AZ) SwitchPortExists(name string) bool {
	rows, _ := ovsdb.Lookup[nb.LogicalSwitchPort](az.NBRead.Cache(), "name", name)
	return len(rows) > 0
}

// ICRoutesOf returns the IC-SB routes an AZ advertises on a transit switch.
func (w *World) ICRoutesOf(az, ts string) []*icsb.Route {
	zones, _ := ovsdb.List[icsb.AvailabilityZone](w.ICSBRead.Cache(), func(z *icsb.AvailabilityZone) bool { return z.Name == az })
	if len(zones) == 0 {
		return nil
	}
	rows, _ := ovsdb.List[icsb.Route](w.ICSBRead.Cache(), func(r *icsb.Route) bool {
		return r.TransitSwitch == ts && r.AvailabilityZone == zones[0].UUID
	})
	return rows
}

// Gateways returns the AZ's gateway nodes.
func (az *AZ) Gateways() []*Node {
	var out []*Node
	for _, n := range az.Nodes {
		if n.Gateway {
			out = append(out, n)
		}
	}
	return out
}

// NodeByName returns the AZ's node of that name.
func (az *AZ) NodeByName(name string) *Node {
	for _, n := range az.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Consistently checks cond every 20 ms for d and fails t as soon as it returns an error.
func (w *World) Consistently(t TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := cond(); err != nil {
			t.Fatalf("twoaz: %s: %v", what, err)
		}
	}
}

// Eventually polls cond every 20 ms until it returns nil, failing t (the test or subtest
// running the check) after timeout, with the OVN logs.
func (w *World) Eventually(t TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			var logs string
			for _, az := range w.AZs {
				logs += az.Logs()
			}
			t.Fatalf("twoaz: %s: after %s: %v\n%s\n%s", what, timeout, err, logs, w.Dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Dump returns the interconnect state as the ctl tools show it, for failure messages:
// IC-NB and IC-SB, and per AZ the northbound topology, the VPC routers' routes and the
// southbound chassis and port bindings.
func (w *World) Dump() string {
	var b strings.Builder
	run := func(name string, args ...string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := cnitest.Run(ctx, nil, name, args...)
		fmt.Fprintf(&b, "--- %s %s\n%s", name, strings.Join(args, " "), out)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	run("ovn-ic-nbctl", "--db="+w.ICNB.Endpoint(), "list", "Transit_Switch")
	run("ovn-ic-sbctl", "--db="+w.ICSB.Endpoint(), "show")
	// A transit switch must have the same datapath tunnel key in every AZ.
	run("ovn-ic-sbctl", "--db="+w.ICSB.Endpoint(), "--columns=transit_switch,tunnel_key", "list", "Datapath_Binding")
	run("ovn-ic-sbctl", "--db="+w.ICSB.Endpoint(), "--columns=transit_switch,availability_zone,ip_prefix,nexthop", "list", "Route")
	for _, az := range w.AZs {
		run("ovn-nbctl", "--db="+az.OVN.NBEndpoint(), "show")
		lrs, _ := ovsdb.List[nb.LogicalRouter](az.NBRead.Cache(), nil)
		for _, lr := range lrs {
			run("ovn-nbctl", "--db="+az.OVN.NBEndpoint(), "lr-route-list", lr.Name)
		}
		run("ovn-sbctl", "--db="+az.OVN.SBEndpoint(), "show")
		run("ovn-nbctl", "--db="+az.OVN.NBEndpoint(), "--columns=name,other_config", "list", "Logical_Switch")
		run("ovn-sbctl", "--db="+az.OVN.SBEndpoint(), "--columns=tunnel_key,external_ids", "list", "Datapath_Binding")
		run("ovn-nbctl", "--db="+az.OVN.NBEndpoint(), "--columns=name,type,options", "find", "Logical_Switch_Port", "type!=\"\"")
		run("ovn-sbctl", "--db="+az.OVN.SBEndpoint(), "--columns=logical_port,type,tunnel_key,chassis,options", "find", "Port_Binding", "type!=\"\"")
		run("ovn-sbctl", "--db="+az.OVN.SBEndpoint(), "list", "HA_Chassis_Group")
		run("ovn-sbctl", "--db="+az.OVN.SBEndpoint(), "list", "HA_Chassis")
		fmt.Fprintf(&b, "--- %s ovn-ic.log\n%s\n", az.Name, cnitest.Tail(filepath.Join(az.dir, "ovn-ic.log"), 60))
		for _, n := range az.Gateways() {
			fmt.Fprintf(&b, "--- %s ovn-controller.log\n%s\n", n.Name, cnitest.Tail(filepath.Join(n.Dir, "ovn-controller.log"), 60))
		}
		fmt.Fprintf(&b, "--- %s northd.log\n%s\n", az.Name, cnitest.Tail(filepath.Join(az.OVN.NB.Dir, "northd", "northd.log"), 40))
	}
	return b.String()
}
