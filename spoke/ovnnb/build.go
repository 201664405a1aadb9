package ovnnb

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
)

// SubnetInfo is a Subnet's spec parsed into addresses. The apiserver has already validated
// the syntax; parsing again here guards against objects written before a schema change.
type SubnetInfo struct {
	CIDRs    []netip.Prefix // IPv4 first when dual-stack
	Gateways []netip.Addr   // one per CIDR, same order
	Excludes []ipam.Range
}

// ParseSubnet parses cidrBlock, gateway (defaulting to the first host of each CIDR) and
// excludeIps.
func ParseSubnet(s *iaasv1.Subnet) (SubnetInfo, error) {
	var info SubnetInfo
	for _, c := range splitList(string(s.Spec.CIDRBlock)) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return info, fmt.Errorf("subnet %q: cidrBlock: %w", s.Name, err)
		}
		info.CIDRs = append(info.CIDRs, p.Masked())
	}
	if len(info.CIDRs) == 0 || len(info.CIDRs) > 2 {
		return info, fmt.Errorf("subnet %q: cidrBlock %q: want one CIDR or one per family", s.Name, s.Spec.CIDRBlock)
	}
	sort.SliceStable(info.CIDRs, func(i, j int) bool { return info.CIDRs[i].Addr().Is4() && !info.CIDRs[j].Addr().Is4() })
	gws := map[bool]netip.Addr{}
	for _, g := range splitList(string(s.Spec.Gateway)) {
		a, err := netip.ParseAddr(g)
		if err != nil {
			return info, fmt.Errorf("subnet %q: gateway: %w", s.Name, err)
		}
		gws[a.Is4()] = a
	}
	for _, c := range info.CIDRs {
		g, ok := gws[c.Addr().Is4()]
		if !ok {
			g = c.Addr().Next()
		}
		if !c.Contains(g) {
			return info, fmt.Errorf("subnet %q: gateway %s outside %s", s.Name, g, c)
		}
		info.Gateways = append(info.Gateways, g)
	}
	for _, e := range s.Spec.ExcludeIPs {
		r, err := ipam.ParseRange(string(e))
		if err != nil {
			return info, fmt.Errorf("subnet %q: excludeIps: %w", s.Name, err)
		}
		info.Excludes = append(info.Excludes, r)
	}
	return info, nil
}

// GatewayNetworks returns "gateway/len" per CIDR, the LRP's networks.
func (si SubnetInfo) GatewayNetworks() []string {
	out := make([]string, len(si.CIDRs))
	for i, c := range si.CIDRs {
		out[i] = netip.PrefixFrom(si.Gateways[i], c.Bits()).String()
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RouterRows is what a Vpc wants in NB.
type RouterRows struct {
	Router   nb.LogicalRouter
	Routes   []nb.LogicalRouterStaticRoute
	Policies []nb.LogicalRouterPolicy
}

// BuildRouter maps a Vpc to its logical router, static routes and policies.
func BuildRouter(vpc *iaasv1.Vpc, cluster string) (RouterRows, error) {
	owner := Owner{Kind: KindVpc, Key: vpc.Name, Cluster: cluster}
	rows := RouterRows{Router: nb.LogicalRouter{
		Name:        RouterName(vpc.Name),
		ExternalIDs: owner.IDs(KeyVpc, vpc.Name),
	}}
	for i, r := range vpc.Spec.StaticRoutes {
		p, err := netip.ParsePrefix(string(r.CIDR))
		if err != nil {
			return rows, fmt.Errorf("vpc %q: staticRoutes[%d].cidr: %w", vpc.Name, i, err)
		}
		nh, err := netip.ParseAddr(string(r.NextHop))
		if err != nil {
			return rows, fmt.Errorf("vpc %q: staticRoutes[%d].nextHop: %w", vpc.Name, i, err)
		}
		route := nb.LogicalRouterStaticRoute{
			IPPrefix:    p.Masked().String(),
			Nexthop:     nh.String(),
			RouteTable:  r.RouteTable,
			ExternalIDs: owner.IDs(KeyVpc, vpc.Name),
		}
		if r.Policy == iaasv1.RoutePolicySource {
			route.Policy = ptr(nb.LogicalRouterStaticRoutePolicySrcIP)
		} else {
			route.Policy = ptr(nb.LogicalRouterStaticRoutePolicyDstIP)
		}
		rows.Routes = append(rows.Routes, route)
	}
	for i, p := range vpc.Spec.PolicyRoutes {
		pol := nb.LogicalRouterPolicy{
			Priority:    int(p.Priority),
			Match:       p.Match,
			Action:      string(p.Action),
			ExternalIDs: owner.IDs(KeyVpc, vpc.Name),
		}
		if p.Action == iaasv1.PolicyRouteReroute {
			nh, err := netip.ParseAddr(string(p.NextHopIP))
			if err != nil {
				return rows, fmt.Errorf("vpc %q: policyRoutes[%d].nextHopIP: %w", vpc.Name, i, err)
			}
			pol.Nexthops = []string{nh.String()}
		}
		rows.Policies = append(rows.Policies, pol)
	}
	return rows, nil
}

// SwitchRows is what a Subnet wants in NB: its switch, and the router port pair that joins
// it to its VPC's router.
type SwitchRows struct {
	Switch     nb.LogicalSwitch
	RouterPort nb.LogicalRouterPort
	SwitchPort nb.LogicalSwitchPort // type router, peer of RouterPort
}

// BuildSwitch maps a Subnet to its logical switch and router ports.
func BuildSwitch(s *iaasv1.Subnet, info SubnetInfo, cluster string) SwitchRows {
	owner := Owner{Kind: KindSubnet, Key: s.Name, Cluster: cluster}
	ids := func() map[string]string { return owner.IDs(KeyVpc, s.Spec.Vpc, KeySubnet, s.Name) }
	lrp := RouterPortName(s.Spec.Vpc, s.Name)
	cidrs := make([]string, len(info.CIDRs))
	for i, c := range info.CIDRs {
		cidrs[i] = c.String()
	}
	sw := nb.LogicalSwitch{
		Name:        SwitchName(s.Name),
		ExternalIDs: ids(),
	}
	sw.ExternalIDs["ycloud.io/cidr"] = strings.Join(cidrs, ",")
	if s.Spec.MTU != nil {
		sw.ExternalIDs["ycloud.io/mtu"] = strconv.Itoa(int(*s.Spec.MTU))
	}
	return SwitchRows{
		Switch: sw,
		RouterPort: nb.LogicalRouterPort{
			Name:        lrp,
			MAC:         MAC(lrp),
			Networks:    info.GatewayNetworks(),
			ExternalIDs: ids(),
		},
		SwitchPort: nb.LogicalSwitchPort{
			Name:        SwitchRouterPortName(s.Spec.Vpc, s.Name),
			Type:        nb.LogicalSwitchPortTypeRouter,
			Addresses:   []string{"router"},
			Options:     map[string]string{"router-port": lrp},
			ExternalIDs: ids(),
		},
	}
}

// PortSpec is everything a VIF port needs; it is gathered from a Vnic, its VnicIps and Nic.
type PortSpec struct {
	Owner        Owner
	Name         string
	MAC          string
	IPs          []netip.Addr
	Vpc, Subnet  string
	Pod          string // namespace/name, when the port belongs to a pod
	Chassis      string // requested chassis (node name), when known
	PortSecurity bool
}

// BuildPort maps a PortSpec to a VIF logical switch port. Addresses are "MAC IP..." and port
// security pins the same pair, so a pod cannot spoof another's address.
func BuildPort(p PortSpec) nb.LogicalSwitchPort {
	addr := p.MAC
	for _, ip := range p.IPs {
		addr += " " + ip.String()
	}
	lsp := nb.LogicalSwitchPort{
		Name:        p.Name,
		Addresses:   []string{addr},
		ExternalIDs: p.Owner.IDs(KeyVpc, p.Vpc, KeySubnet, p.Subnet, KeyPod, p.Pod),
	}
	if p.PortSecurity {
		lsp.PortSecurity = []string{addr}
	}
	if p.Chassis != "" {
		lsp.Options = map[string]string{"requested-chassis": p.Chassis}
	}
	return lsp
}
