package ic

import (
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// KindInterconnect is the ycloud.io/owner-kind of every row ycloud-ic creates; the owner
// (ycloud.io/owner) is the Vpc name. ycloud-controller's garbage collector leaves kinds it
// does not know alone, and its reconcilers only touch rows they own, so the two never fight
// over the VPC router's transit port.
const KindInterconnect = "Interconnect"

// external_ids keys, besides the ownership keys of package ovnnb.
const (
	// KeyTransitSwitch names the transit switch a row belongs to, so a VPC whose
	// federation moved to another transit switch can find and remove its old rows.
	KeyTransitSwitch = "ycloud.io/transit-switch"
	// KeyTenant and KeyFederatedVpc copy spec.federation onto the IC-NB transit switch, for
	// operators reading the global database.
	KeyTenant        = "ycloud.io/tenant"
	KeyFederatedVpc  = "ycloud.io/federated-vpc"
	keyClaimPrefix   = "ycloud.io/transit-ip/"
	optGatewayMTU    = "gateway_mtu"
	optRouterPort    = "router-port"
	otherInterconnTS = "interconn-ts"
	// optRequestedTnlKey is where ovn-ic puts the tunnel key a transit switch (other_config)
	// or transit port (options) has in every AZ.
	optRequestedTnlKey = "requested-tnl-key"
	// extLearnedRoute marks the static routes ovn-ic learned (ovn-nb(5)).
	extLearnedRoute = "ic-learned-route"
	// optIsInterconn is the SB Chassis other_config key ovn-controller copies from the
	// node's OVS external_ids:ovn-is-interconn.
	optIsInterconn = "is-interconn"
)

// Names. Every separator below is "_", which Kubernetes names (DNS labels and subdomains)
// never contain: ycloud-controller names router ports "vpc-<vpc>-<subnet>", so a "_" in
// ours means no subnet name can ever collide with them, and "<transit switch>_<az>" cannot
// be produced by two different (switch, zone) pairs whose names contain dashes and dots.

// RouterPortName is the VPC router's port on its transit switch. It is local to this AZ's
// northbound database.
func RouterPortName(vpc, ts string) string { return ovnnb.RouterName(vpc) + "_" + ts }

// SwitchPortName is the router-type port on the transit switch. Transit switch ports are
// bound in the global IC-SB (Port_Binding.logical_port is unique across all AZs), so the
// name carries the AZ.
func SwitchPortName(ts, az string) string { return ts + "_" + az }

// GatewayChassisName is the Gateway_Chassis row of one chassis of a router port (the
// column is a unique index, hence the port name in it).
func GatewayChassisName(lrp, chassis string) string { return lrp + "_" + chassis }

// claimKey is the transit switch external_ids key that reserves addr for one AZ.
func claimKey(addr string) string { return keyClaimPrefix + addr }
