package ic

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// LinkInput is everything that decides one VPC's link to its transit switch in this AZ.
type LinkInput struct {
	Cluster, AZ string
	Vpc         string
	// Tenant and FederatedVpc come from spec.federation (recorded in external_ids).
	Tenant, FederatedVpc string
	TransitSwitch        string
	// Address is this AZ's address on the transit subnet (with the subnet's length).
	Address netip.Prefix
	// Gateways are the chassis for the router port, highest priority first.
	Gateways []string
	// GatewayMTU is options:gateway_mtu (0: unset).
	GatewayMTU int
}

// Link is what one VPC wants in this AZ's northbound database:
//
//	Logical_Router vpc-<vpc>                       Logical_Switch <ts> (copy made by ovn-ic)
//	  port vpc-<vpc>_<ts> ---------- peer ------------ port <ts>_<az>, type router
//	    networks <transit address>/<len>                 addresses "router"
//	    gateway_chassis gw1 (prio N), gw2 (N-1)...      options:router-port=vpc-<vpc>_<ts>
//	    options:gateway_mtu                             + ports <ts>_<other az>, type remote
//	                                                      (made by ovn-ic)
//
// The gateway chassis make the router port a distributed gateway port: traffic to other
// AZs leaves through the active gateway (highest priority alive), which is the only
// chassis the other AZs tunnel to (ovn-ic publishes it as IC-SB Port_Binding.gateway).
type Link struct {
	Router     string
	Transit    string
	RouterPort nb.LogicalRouterPort
	SwitchPort nb.LogicalSwitchPort
	Gateways   []nb.GatewayChassis
}

// Owner returns the owner of a VPC's interconnect rows.
func Owner(cluster, vpc string) ovnnb.Owner {
	return ovnnb.Owner{Kind: KindInterconnect, Key: vpc, Cluster: cluster}
}

// BuildLink maps a LinkInput to its northbound rows.
func BuildLink(in LinkInput) Link {
	o := Owner(in.Cluster, in.Vpc)
	ids := func() map[string]string {
		return o.IDs(ovnnb.KeyVpc, in.Vpc, KeyTransitSwitch, in.TransitSwitch)
	}
	lrp := RouterPortName(in.Vpc, in.TransitSwitch)
	lsp := SwitchPortName(in.TransitSwitch, in.AZ)
	l := Link{
		Router:  ovnnb.RouterName(in.Vpc),
		Transit: in.TransitSwitch,
		RouterPort: nb.LogicalRouterPort{
			Name: lrp,
			// Derived from the globally unique switch port name: every AZ's port on the
			// transit switch is on one L2 segment and needs its own MAC.
			MAC:         ovnnb.MAC(lsp),
			Networks:    []string{in.Address.String()},
			ExternalIDs: ids(),
		},
		SwitchPort: nb.LogicalSwitchPort{
			Name:        lsp,
			Type:        nb.LogicalSwitchPortTypeRouter,
			Addresses:   []string{"router"},
			Options:     map[string]string{optRouterPort: lrp},
			ExternalIDs: ids(),
		},
	}
	if in.GatewayMTU > 0 {
		l.RouterPort.Options = map[string]string{optGatewayMTU: strconv.Itoa(in.GatewayMTU)}
	}
	for i, ch := range in.Gateways {
		l.Gateways = append(l.Gateways, nb.GatewayChassis{
			Name:        GatewayChassisName(lrp, ch),
			ChassisName: ch,
			Priority:    len(in.Gateways) - i,
			ExternalIDs: ids(),
		})
	}
	return l
}

// OrderGateways picks up to max gateway chassis for a VPC from the eligible ones, highest
// priority first. The order is the sorted names rotated by a hash of the VPC name: stable
// for a VPC (its active gateway does not move while the node set is unchanged), and
// different VPCs start on different nodes, which spreads the active gateways - and the
// cross-cluster traffic - over all gateway nodes.
func OrderGateways(vpc string, eligible []string, max int) []string {
	names := slices.Clone(eligible)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return nil
	}
	start := int(hash32(vpc) % uint32(len(names)))
	out := append(names[start:len(names):len(names)], names[:start]...)
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}
