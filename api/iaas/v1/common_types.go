/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

// Types shared by several kinds. The named string types carry their validation in the schema
// (type-level markers), so every field of that type gets the same rule and the same message
// without repeating it per field.
//
// Limits (MaxLength, MaxItems) are not decoration: the apiserver estimates the worst-case cost
// of every CEL rule from them when the CRD is installed, and refuses the CRD when a rule could
// run unbounded. 64 characters hold the longest dual-stack value (an IPv4 /32, a comma and
// a full IPv6 /128) and keep split() cheap.
//
// Rules that test containment in a DualStackCIDR (a gateway, excludeIps) index its at most two
// parts, split(',')[0] and, when size() == 2, [1], instead of iterating split(): the estimator
// assumes a split may yield one part per character, and iterating that for each of 64
// excludeIps is priced far over the budget.

// Condition types and reasons shared by every kind.
const (
	// ConditionReady is True when the object is fully realised in the data plane (OVN rows
	// written, ports bound, addresses allocated). Every kind reports it.
	ConditionReady = "Ready"

	// ReasonReconciled is the Ready=True reason.
	ReasonReconciled = "Reconciled"
	// ReasonInvalid marks input the schema cannot catch: a reference to an object that does
	// not exist, an address outside the referenced Subnet, a conflicting binding.
	ReasonInvalid = "Invalid"
	// ReasonPending means the controller is waiting for something (a node, another object).
	ReasonPending = "Pending"
	// ReasonError means a transient failure (OVSDB unreachable); the controller retries.
	ReasonError = "Error"
)

// DefaultVpcName is the VPC the controller creates for the Kubernetes default network. Pods
// without a subnet annotation join its default subnet.
const DefaultVpcName = "ovn-cluster"

// IPAddress is one IPv4 or IPv6 address, without a prefix length.
//
// +kubebuilder:validation:MaxLength=39
// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be a valid IPv4 or IPv6 address, e.g. 10.0.0.1 or fd00::1"
type IPAddress string

// CIDR is one IPv4 or IPv6 network in CIDR notation, written as its network address.
//
// +kubebuilder:validation:MaxLength=43
// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 10.0.0.0/24 or fd00::/64"
// +kubebuilder:validation:XValidation:rule="!isCIDR(self) || cidr(self) == cidr(self).masked()",message="must be a network address: the bits after the prefix length must be zero (10.0.0.0/24, not 10.0.0.1/24)"
type CIDR string

// IPOrCIDR is an address or a network, as a security-group rule's remote side.
//
// +kubebuilder:validation:MaxLength=43
// +kubebuilder:validation:XValidation:rule="isIP(self) || isCIDR(self)",message="must be an IP address or a CIDR such as 10.0.0.0/24"
// +kubebuilder:validation:XValidation:rule="!isCIDR(self) || cidr(self) == cidr(self).masked()",message="a CIDR must be a network address: the bits after the prefix length must be zero"
type IPOrCIDR string

// DualStackCIDR is one CIDR, or an IPv4 and an IPv6 CIDR separated by a comma
// ("10.0.0.0/24,fd00::/120"). The string form is the one Kube-OVN users know and prints as
// one column in kubectl get.
//
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:XValidation:rule="self.split(',').size() <= 2 && self.split(',').all(c, isCIDR(c))",message="must be one CIDR, or an IPv4 and an IPv6 CIDR separated by a comma without spaces (10.0.0.0/24 or 10.0.0.0/24,fd00::/120)"
// +kubebuilder:validation:XValidation:rule="self.split(',').all(c, !isCIDR(c) || cidr(c) == cidr(c).masked())",message="must be a network address: the bits after the prefix length must be zero (10.0.0.0/24, not 10.0.0.1/24)"
// +kubebuilder:validation:XValidation:rule="self.split(',').size() != 2 || !self.split(',').all(c, isCIDR(c)) || cidr(self.split(',')[0]).ip().family() != cidr(self.split(',')[1]).ip().family()",message="a dual-stack value needs one IPv4 and one IPv6 CIDR, not two of the same family"
type DualStackCIDR string

// DualStackIP is one IP address, or an IPv4 and an IPv6 address separated by a comma
// ("10.0.0.1,fd00::1"): one per family of a DualStackCIDR.
//
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:XValidation:rule="self.split(',').size() <= 2 && self.split(',').all(a, isIP(a))",message="must be one IP address, or an IPv4 and an IPv6 address separated by a comma without spaces"
// +kubebuilder:validation:XValidation:rule="self.split(',').size() != 2 || !self.split(',').all(a, isIP(a)) || ip(self.split(',')[0]).family() != ip(self.split(',')[1]).family()",message="a dual-stack value needs one IPv4 and one IPv6 address, not two of the same family"
type DualStackIP string

// IPRange is one address ("10.0.0.5") or an inclusive range of two addresses of the same
// family ("10.0.0.10..10.0.0.20"), as used in excludeIps.
//
// The order check is IPv4 only: CEL has no ordering on IP addresses, and an IPv4 address can be
// turned into a number from its decimal octets while an IPv6 one (hex groups, "::") cannot. The
// controller refuses an IPv6 range whose start is after its end.
//
// +kubebuilder:validation:MaxLength=80
// +kubebuilder:validation:XValidation:rule="isIP(self) || (self.split('..').size() == 2 && isIP(self.split('..')[0]) && isIP(self.split('..')[1]) && ip(self.split('..')[0]).family() == ip(self.split('..')[1]).family())",message="must be an IP address or a range start..end of two addresses of the same family"
// +kubebuilder:validation:XValidation:rule="!(self.split('..').size() == 2 && isIP(self.split('..')[0]) && isIP(self.split('..')[1]) && ip(self.split('..')[0]).family() == 4 && ip(self.split('..')[1]).family() == 4) || int(self.split('..')[0].split('.')[0]) * 16777216 + int(self.split('..')[0].split('.')[1]) * 65536 + int(self.split('..')[0].split('.')[2]) * 256 + int(self.split('..')[0].split('.')[3]) <= int(self.split('..')[1].split('.')[0]) * 16777216 + int(self.split('..')[1].split('.')[1]) * 65536 + int(self.split('..')[1].split('.')[2]) * 256 + int(self.split('..')[1].split('.')[3])",message="the start of a range must not be after its end"
type IPRange string

// MACAddress is an Ethernet address written as six colon-separated hex octets.
//
// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`
type MACAddress string

// NamespacedObjectReference names a namespaced object from a cluster-scoped one (an Eip naming
// the VnicIp it is bound to).
type NamespacedObjectReference struct {
	// Namespace of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`

	// Name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// QoS limits the bandwidth of a workload interface or an EIP, in Mbit/s (the unit of the pod
// annotations cni.iaas.yusur.io/ingress_rate and egress_rate). Unset or 0 means no limit.
// Ingress is traffic towards the workload (or, for an EIP, from outside towards the EIP);
// egress is traffic it sends.
type QoS struct {
	// IngressRate limits traffic towards the workload, in Mbit/s. 0 means no limit.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	IngressRate *int32 `json:"ingressRate,omitempty"`

	// EgressRate limits traffic the workload sends, in Mbit/s. 0 means no limit.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	EgressRate *int32 `json:"egressRate,omitempty"`
}

// RoutePolicy says which address of a packet a static route matches.
// +kubebuilder:validation:Enum=dst;src
type RoutePolicy string

const (
	// RoutePolicyDestination matches the destination address (the usual routing table).
	RoutePolicyDestination RoutePolicy = "dst"
	// RoutePolicySource matches the source address (OVN "src-ip" policy).
	RoutePolicySource RoutePolicy = "src"
)

// StaticRoute is one route of a VPC router (an OVN Logical_Router_Static_Route). Several
// routes with the same cidr and different next hops form an ECMP group.
//
// +kubebuilder:validation:XValidation:rule="!isCIDR(self.cidr) || !isIP(self.nextHop) || cidr(self.cidr).ip().family() == ip(self.nextHop).family()",message="nextHop must be of the same IP family as cidr",fieldPath=".nextHop"
type StaticRoute struct {
	// CIDR is the destination (or, with policy src, source) network.
	// +required
	CIDR CIDR `json:"cidr"`

	// NextHop is the gateway address.
	// +required
	NextHop IPAddress `json:"nextHop"`

	// Policy selects the address the route matches: dst (default) or src.
	// +optional
	// +kubebuilder:default=dst
	Policy RoutePolicy `json:"policy,omitempty"`

	// RouteTable names an OVN route table; empty is the main table. Ports of the router
	// select a table with their options:route_table.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	RouteTable string `json:"routeTable,omitempty"`
}

// PolicyRouteAction is what a policy route does with matching packets.
// +kubebuilder:validation:Enum=allow;drop;reroute
type PolicyRouteAction string

const (
	PolicyRouteAllow   PolicyRouteAction = "allow"
	PolicyRouteDrop    PolicyRouteAction = "drop"
	PolicyRouteReroute PolicyRouteAction = "reroute"
)

// PolicyRoute is one OVN Logical_Router_Policy of a VPC router: evaluated before the routing
// table, highest priority first.
//
// +kubebuilder:validation:XValidation:rule="self.action != 'reroute' || has(self.nextHopIP)",message="action reroute needs nextHopIP",fieldPath=".nextHopIP"
// +kubebuilder:validation:XValidation:rule="!has(self.nextHopIP) || self.action == 'reroute'",message="nextHopIP is only used with action reroute",fieldPath=".nextHopIP"
type PolicyRoute struct {
	// Priority orders policies; higher wins (OVN range 0..32767).
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=32767
	Priority int32 `json:"priority"`

	// Match is an OVN match expression, e.g. "ip4.src == 10.0.1.0/24".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Match string `json:"match"`

	// Action is allow, drop or reroute.
	// +required
	Action PolicyRouteAction `json:"action"`

	// NextHopIP is where reroute sends the packet.
	// +optional
	NextHopIP IPAddress `json:"nextHopIP,omitempty"`
}
