/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// FederatedSubnet is one subnet of a federated VPC. OVN interconnect joins VPC routers, not
// switches, so a subnet never spans clusters: each cluster gets its own piece. A subnet is
// either
//   - pinned: cidrBlock and cluster set, exactly that network in exactly that cluster; or
//   - carved: perClusterPrefixLength set, and the hub cuts one piece of that size per selected
//     cluster (only in cluster, when set) out of cidrBlock, or out of the VPC's cidrBlock when
//     cidrBlock is unset.
//
// perClusterPrefixLength is in the family of the first CIDR it carves from; for a dual-stack
// VPC the other family's piece holds the same number of addresses (a /24 pairs with a /120).
//
// +kubebuilder:validation:XValidation:rule="(has(self.cidrBlock) && has(self.cluster)) || has(self.perClusterPrefixLength)",message="a subnet is either pinned (cidrBlock and cluster) or carved per cluster (perClusterPrefixLength)",fieldPath=".perClusterPrefixLength"
// +kubebuilder:validation:XValidation:rule="!has(self.perClusterPrefixLength) || !has(self.cidrBlock) || !isCIDR(self.cidrBlock.split(',')[0]) || (self.perClusterPrefixLength > cidr(self.cidrBlock.split(',')[0]).prefixLength() && self.perClusterPrefixLength <= (cidr(self.cidrBlock.split(',')[0]).ip().family() == 4 ? 32 : 128))",message="perClusterPrefixLength must be longer than the prefix of cidrBlock and fit its family (at most 32 for IPv4, 128 for IPv6)",fieldPath=".perClusterPrefixLength"
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || (has(self.cidrBlock) && has(self.cluster) && !has(self.perClusterPrefixLength))",message="gateway is only set on a pinned subnet (cidrBlock and cluster); carved pieces use their first address",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || !has(self.cidrBlock) || self.gateway.split(',').all(g, !isIP(g) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(g)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(g))))",message="gateway must lie inside cidrBlock",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="!has(self.excludeIps) || !has(self.cidrBlock) || self.excludeIps.all(e, [e.split('..')[0], e.split('..')[e.split('..').size() - 1]].all(a, !isIP(a) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(a)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(a)))))",message="every excludeIps address and range bound must lie inside cidrBlock",fieldPath=".excludeIps"
type FederatedSubnet struct {
	// Name of the subnet; spoke Subnets are named after it.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// CIDRBlock pins the network (with cluster) or bounds the carving (without). Must lie
	// inside the VPC's cidrBlock.
	// +optional
	CIDRBlock iaasv1.DualStackCIDR `json:"cidrBlock,omitempty"`

	// Cluster pins the subnet to one member cluster; unset means every selected cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`

	// PerClusterPrefixLength is the size of each cluster's piece, carved by the hub.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	PerClusterPrefixLength *int32 `json:"perClusterPrefixLength,omitempty"`

	// Gateway of a pinned subnet; default its first address.
	// +optional
	Gateway iaasv1.DualStackIP `json:"gateway,omitempty"`

	// ExcludeIps are never allocated, in any cluster's piece.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	ExcludeIPs []iaasv1.IPRange `json:"excludeIps,omitempty"`

	// Default makes this the default subnet of the VPC in every cluster that has a piece.
	// +optional
	Default bool `json:"default,omitempty"`
}

// FederatedSecurityGroup is a security group defined with the VPC and created in every
// selected cluster under the same name, so rules may name it as a remote group everywhere.
type FederatedSecurityGroup struct {
	// Name of the SecurityGroup in each cluster.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	iaasv1.SecurityGroupSpec `json:",inline"`
}

// FederatedVpcSpec is the desired state of a FederatedVpc.
//
// +kubebuilder:validation:XValidation:rule="!has(self.subnets) || self.subnets.all(s, !has(s.cidrBlock) || [s.cidrBlock.split(',')[0], s.cidrBlock.split(',')[s.cidrBlock.split(',').size() - 1]].all(c, !isCIDR(c) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsCIDR(c)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsCIDR(c)))))",message="every subnet cidrBlock must lie inside the VPC cidrBlock",fieldPath=".subnets"
// +kubebuilder:validation:XValidation:rule="!has(self.subnets) || self.subnets.all(a, !has(a.cidrBlock) || self.subnets.all(b, a.name == b.name || !has(b.cidrBlock) || [a.cidrBlock.split(',')[0], a.cidrBlock.split(',')[a.cidrBlock.split(',').size() - 1]].all(x, [b.cidrBlock.split(',')[0], b.cidrBlock.split(',')[b.cidrBlock.split(',').size() - 1]].all(y, !isCIDR(x) || !isCIDR(y) || (!cidr(x).containsIP(cidr(y).ip()) && !cidr(y).containsIP(cidr(x).ip()))))))",message="subnet cidrBlocks must not overlap inside one VPC",fieldPath=".subnets"
// +kubebuilder:validation:XValidation:rule="!has(self.subnets) || self.subnets.all(s, has(s.cidrBlock) || !has(s.perClusterPrefixLength) || !isCIDR(self.cidrBlock.split(',')[0]) || (s.perClusterPrefixLength > cidr(self.cidrBlock.split(',')[0]).prefixLength() && s.perClusterPrefixLength <= (cidr(self.cidrBlock.split(',')[0]).ip().family() == 4 ? 32 : 128)))",message="perClusterPrefixLength must be longer than the prefix of the VPC cidrBlock and fit its family",fieldPath=".subnets"
type FederatedVpcSpec struct {
	// CIDRBlock is the VPC's address space (one CIDR or an IPv4,IPv6 pair). Every subnet
	// lies inside it; it may overlap other tenants' VPCs. Immutable: allocations are carved
	// from it.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cidrBlock is immutable: per-cluster subnets are carved from it; create a new FederatedVpc instead"
	CIDRBlock iaasv1.DualStackCIDR `json:"cidrBlock"`

	// Subnets of the VPC.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	Subnets []FederatedSubnet `json:"subnets,omitempty"`

	// PlacementRef selects the member clusters (an OCM Placement in this namespace).
	// +required
	PlacementRef PlacementRef `json:"placementRef"`

	// SecurityGroups created with the VPC in every selected cluster.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	SecurityGroups []FederatedSecurityGroup `json:"securityGroups,omitempty"`

	// StaticRoutes of the VPC router, in every cluster.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	StaticRoutes []iaasv1.StaticRoute `json:"staticRoutes,omitempty"`
}

// SubnetAllocation records one carved (or pinned) piece. The hub keeps them in status so a
// restart, or a cluster that leaves and comes back, gets the same CIDR.
type SubnetAllocation struct {
	// Subnet is the FederatedSubnet name.
	// +required
	Subnet string `json:"subnet"`
	// Cluster holding the piece.
	// +required
	Cluster string `json:"cluster"`
	// CIDRBlock of the piece (one per family).
	// +required
	CIDRBlock string `json:"cidrBlock"`
	// Gateway of the piece.
	// +optional
	Gateway string `json:"gateway,omitempty"`
}

// ClusterSubnet is a subnet as applied in one cluster.
type ClusterSubnet struct {
	// Name of the subnet.
	Name string `json:"name"`
	// CIDRBlock of the subnet in that cluster.
	CIDRBlock string `json:"cidrBlock"`
}

// FederatedVpcClusterStatus is the VPC's state in one cluster.
type FederatedVpcClusterStatus struct {
	ClusterStatus `json:",inline"`

	// Subnets as applied there.
	// +optional
	// +listType=atomic
	Subnets []ClusterSubnet `json:"subnets,omitempty"`

	// The interconnect fields below mirror the spoke Vpc's status.interconnect (written by
	// ycloud-ic) as the cluster's work agent last reported it. They are informational and
	// take no part in Applied or Ready: a VPC that needs no link (placed in one cluster),
	// or a cluster without ycloud-ic or gateway nodes, is Ready all the same. They are
	// empty while the VPC is not linked there, or nothing was reported yet.

	// TransitSwitch is the OVN-IC transit switch the cluster's VPC router is attached to;
	// empty while the router is not linked. It should equal the VPC's status.transitSwitch.
	// +optional
	TransitSwitch string `json:"transitSwitch,omitempty"`

	// ActiveGateway is the highest-priority gateway chassis of the router's port on the
	// transit switch: the node that carries the cluster's cross-cluster traffic for this
	// VPC while it is up. When it fails OVN moves the port to the next chassis by itself
	// (BFD), which this field does not show; it changes when ycloud-ic reorders the list.
	// +optional
	ActiveGateway string `json:"activeGateway,omitempty"`

	// LearnedRoutes is the number of routes the cluster learned over the transit switch.
	// +optional
	LearnedRoutes int32 `json:"learnedRoutes,omitempty"`

	// AdvertisedRoutes is the number of routes the cluster advertises over the transit
	// switch for this VPC.
	// +optional
	AdvertisedRoutes int32 `json:"advertisedRoutes,omitempty"`
}

// FederatedVpcStatus is the observed state of a FederatedVpc.
type FederatedVpcStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (roll-up of every cluster), Placed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// TransitSwitch joining the VPC routers across clusters (unique across tenants).
	// +optional
	TransitSwitch string `json:"transitSwitch,omitempty"`

	// TransitSubnet is the link network on the transit switch, from 169.254.0.0/16.
	// +optional
	TransitSubnet string `json:"transitSubnet,omitempty"`

	// TunnelKey of the transit switch.
	// +optional
	TunnelKey int32 `json:"tunnelKey,omitempty"`

	// Allocations are the per-cluster subnet pieces.
	// +optional
	// +listType=map
	// +listMapKey=subnet
	// +listMapKey=cluster
	Allocations []SubnetAllocation `json:"allocations,omitempty"`

	// Clusters reports each selected cluster.
	// +optional
	// +listType=map
	// +listMapKey=cluster
	Clusters []FederatedVpcClusterStatus `json:"clusters,omitempty"`

	// ClusterCount is the number of selected clusters.
	// +optional
	ClusterCount int32 `json:"clusterCount,omitempty"`

	// ReadyClusters is the number of those reporting ready.
	// +optional
	ReadyClusters int32 `json:"readyClusters,omitempty"`
}

// FederatedVpc is a tenant VPC spanning the member clusters its Placement selects: the hub
// creates a Vpc, its Subnets and SecurityGroups in each cluster (through ManifestWorks) and
// joins the VPC routers with an OVN-IC transit switch.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=fvpc,categories=ycloud-federation
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidrBlock`
// +kubebuilder:printcolumn:name="Placement",type=string,JSONPath=`.spec.placementRef.name`
// +kubebuilder:printcolumn:name="Clusters",type=integer,JSONPath=`.status.clusterCount`
// +kubebuilder:printcolumn:name="ReadyClusters",type=integer,JSONPath=`.status.readyClusters`,priority=1
// +kubebuilder:printcolumn:name="Transit",type=string,JSONPath=`.status.transitSwitch`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FederatedVpc struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FederatedVpcSpec `json:"spec"`
	// +optional
	Status FederatedVpcStatus `json:"status,omitempty"`
}

// FederatedVpcList is a list of FederatedVpcs.
//
// +kubebuilder:object:root=true
type FederatedVpcList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FederatedVpc `json:"items"`
}

func init() {
	register(&FederatedVpc{}, &FederatedVpcList{})
}
