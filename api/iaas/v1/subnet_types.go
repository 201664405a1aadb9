/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SubnetGatewayType says where traffic leaving a subnet for outside the VPC is routed.
// +kubebuilder:validation:Enum=distributed;centralized
type SubnetGatewayType string

const (
	// SubnetGatewayDistributed routes on every node (the default: shortest path, no hairpin).
	SubnetGatewayDistributed SubnetGatewayType = "distributed"
	// SubnetGatewayCentralized sends traffic through spec.gatewayNodes.
	SubnetGatewayCentralized SubnetGatewayType = "centralized"
)

// SubnetSpec is the desired state of a Subnet.
//
// The address rules that need only this object are in the schema: the gateway and every
// excludeIps entry must lie inside cidrBlock, and vpc and cidrBlock never change (the logical
// switch, its router port and every allocated address depend on them).
//
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || self.gateway.split(',').all(g, !isIP(g) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(g)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(g))))",message="gateway must lie inside cidrBlock (one address per family of a dual-stack cidrBlock)",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="!has(self.excludeIps) || self.excludeIps.all(e, [e.split('..')[0], e.split('..')[e.split('..').size() - 1]].all(a, !isIP(a) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(a)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(a)))))",message="every excludeIps address and range bound must lie inside cidrBlock",fieldPath=".excludeIps"
// +kubebuilder:validation:XValidation:rule="!has(self.mtu) || self.mtu >= 1280 || !self.cidrBlock.contains(':')",message="an IPv6 subnet needs an mtu of at least 1280",fieldPath=".mtu"
// +kubebuilder:validation:XValidation:rule="!has(self.allowSubnets) || (has(self.private) && self.private)",message="allowSubnets is only used when private is true",fieldPath=".allowSubnets"
// +kubebuilder:validation:XValidation:rule="!has(self.gatewayNodes) || (has(self.gatewayType) && self.gatewayType == 'centralized')",message="gatewayNodes is only used with gatewayType centralized",fieldPath=".gatewayNodes"
type SubnetSpec struct {
	// Vpc is the VPC the subnet belongs to. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="vpc is immutable: a subnet cannot move to another VPC; create a new Subnet instead"
	Vpc string `json:"vpc"`

	// CIDRBlock is the subnet's network: one CIDR, or an IPv4 and an IPv6 CIDR separated by a
	// comma for dual stack ("10.0.0.0/24,fd00::/120"). Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cidrBlock is immutable: addresses are allocated from it; create a new Subnet instead"
	CIDRBlock DualStackCIDR `json:"cidrBlock"`

	// Gateway is the router port address, one per family ("10.0.0.1,fd00::1"). A family left
	// out gets the first address of its CIDR.
	// +optional
	Gateway DualStackIP `json:"gateway,omitempty"`

	// ExcludeIps are never allocated: single addresses or ranges "start..end".
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	ExcludeIPs []IPRange `json:"excludeIps,omitempty"`

	// Default makes this the subnet of pods in the VPC that name no subnet. At most one
	// subnet per VPC should set it; the controller reports a conflict on the later one.
	// +optional
	Default bool `json:"default,omitempty"`

	// Namespaces whose pods use this subnet when they name none (before the VPC's default).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces,omitempty"`

	// NodeSelector limits the subnet to matching nodes; unset means every node. Pods on
	// other nodes are refused an address from it.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`

	// Cluster is the member cluster this subnet belongs to when it is part of a federated
	// VPC (set by the hub); informational on a single cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`

	// GatewayType is distributed (default) or centralized.
	// +optional
	// +kubebuilder:default=distributed
	GatewayType SubnetGatewayType `json:"gatewayType,omitempty"`

	// GatewayNodes carry a centralized subnet's outbound traffic, first one preferred.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	GatewayNodes []string `json:"gatewayNodes,omitempty"`

	// MTU of pod interfaces in this subnet. Default 1400: a 1500-byte underlay minus the
	// geneve overhead.
	// +optional
	// +kubebuilder:validation:Minimum=576
	// +kubebuilder:validation:Maximum=9000
	MTU *int32 `json:"mtu,omitempty"`

	// Private refuses traffic from other subnets of the VPC, except from allowSubnets.
	// +optional
	Private *bool `json:"private,omitempty"`

	// AllowSubnets may reach a private subnet.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	AllowSubnets []CIDR `json:"allowSubnets,omitempty"`
}

// SubnetStatus is the observed state of a Subnet. Counts of IPv6 addresses saturate at
// 2^63-1: a /64 has more addresses than an int64 holds, and no one allocates that many.
type SubnetStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LogicalSwitch is the OVN Logical_Switch of the subnet.
	// +optional
	LogicalSwitch string `json:"logicalSwitch,omitempty"`

	// Gateway is the gateway in use, one per family (spec.gateway or the defaults).
	// +optional
	Gateway string `json:"gateway,omitempty"`

	// V4UsedIPs counts allocated IPv4 addresses.
	// +optional
	V4UsedIPs int64 `json:"v4UsedIPs,omitempty"`
	// V4AvailableIPs counts IPv4 addresses still free (excluding gateway and excludeIps).
	// +optional
	V4AvailableIPs int64 `json:"v4AvailableIPs,omitempty"`
	// V6UsedIPs counts allocated IPv6 addresses.
	// +optional
	V6UsedIPs int64 `json:"v6UsedIPs,omitempty"`
	// V6AvailableIPs counts IPv6 addresses still free.
	// +optional
	V6AvailableIPs int64 `json:"v6AvailableIPs,omitempty"`

	// AllocatedIPs counts VnicIps referencing this subnet. The deletion finalizer keeps the
	// Subnet until it is zero, so no pod is left with an address of a vanished switch.
	// +optional
	AllocatedIPs int64 `json:"allocatedIPs,omitempty"`
}

// Subnet is a network inside a VPC: one OVN Logical_Switch attached to the VPC router, with
// IPAM for the VnicIps that reference it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=subnet,categories=ycloud
// +kubebuilder:printcolumn:name="VPC",type=string,JSONPath=`.spec.vpc`
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidrBlock`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.status.gateway`
// +kubebuilder:printcolumn:name="Used",type=integer,JSONPath=`.status.v4UsedIPs`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.v4AvailableIPs`
// +kubebuilder:printcolumn:name="V6Used",type=integer,JSONPath=`.status.v6UsedIPs`,priority=1
// +kubebuilder:printcolumn:name="V6Available",type=integer,JSONPath=`.status.v6AvailableIPs`,priority=1
// +kubebuilder:printcolumn:name="Default",type=boolean,JSONPath=`.spec.default`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Subnet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SubnetSpec `json:"spec"`
	// +optional
	Status SubnetStatus `json:"status,omitempty"`
}

// SubnetList is a list of Subnets.
//
// +kubebuilder:object:root=true
type SubnetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Subnet `json:"items"`
}

func init() {
	register(&Subnet{}, &SubnetList{})
}
