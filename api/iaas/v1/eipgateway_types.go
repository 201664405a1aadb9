/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EipGatewayMode says where EIP traffic enters and leaves the cluster.
// +kubebuilder:validation:Enum=centralized;distributed
type EipGatewayMode string

const (
	// EipGatewayCentralized: all EIP traffic crosses the gateway chassis (nodes, by
	// priority, with failover). Simple to cable: only those nodes need the external network.
	EipGatewayCentralized EipGatewayMode = "centralized"
	// EipGatewayDistributed: a VnicIp's NAT happens on its own node, which must reach the
	// external network; SNAT for a whole VPC still goes through the gateway chassis.
	EipGatewayDistributed EipGatewayMode = "distributed"
)

// GatewayNode is one gateway chassis candidate.
type GatewayNode struct {
	// Name of the node.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Priority among the candidates; the highest available one is active (OVN
	// Gateway_Chassis / HA_Chassis priority).
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=32767
	Priority int32 `json:"priority"`
}

// ExternalNetwork is how gateway nodes reach the physical external network.
type ExternalNetwork struct {
	// ProviderInterface is the host interface cabled to the external network (bridged into
	// OVS on every gateway node).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9_.-]+$`
	ProviderInterface string `json:"providerInterface"`

	// VlanID tags external traffic; 0 (default) means untagged.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4094
	VlanID int32 `json:"vlanID,omitempty"`

	// PhysicalNetwork is the OVN localnet network_name (the key of ovn-bridge-mappings on
	// the nodes); default the EipGateway's name.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	PhysicalNetwork string `json:"physicalNetwork,omitempty"`
}

// EipGatewaySpec is the desired state of an EipGateway. The address pool (cidrBlock, gateway,
// excludeIps) follows the same rules as a Subnet's.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || self.gateway.split(',').all(g, !isIP(g) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(g)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(g))))",message="gateway must lie inside cidrBlock (one address per family of a dual-stack cidrBlock)",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="!has(self.excludeIps) || self.excludeIps.all(e, [e.split('..')[0], e.split('..')[e.split('..').size() - 1]].all(a, !isIP(a) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(a)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(a)))))",message="every excludeIps address and range bound must lie inside cidrBlock",fieldPath=".excludeIps"
// +kubebuilder:validation:XValidation:rule="(has(self.mode) && self.mode != 'centralized') || has(self.nodes) || has(self.nodeSelector)",message="centralized mode needs nodes or nodeSelector to choose the gateway chassis",fieldPath=".nodes"
type EipGatewaySpec struct {
	// Mode is centralized (default) or distributed.
	// +optional
	// +kubebuilder:default=centralized
	Mode EipGatewayMode `json:"mode,omitempty"`

	// CIDRBlock is the external (EIP) network: one CIDR or an IPv4,IPv6 pair.
	// +required
	CIDRBlock DualStackCIDR `json:"cidrBlock"`

	// Gateway is the upstream router on the external network, one per family; default the
	// first address of each CIDR.
	// +optional
	Gateway DualStackIP `json:"gateway,omitempty"`

	// ExcludeIps are never handed out as EIPs (addresses the physical network already
	// uses): single addresses or ranges "start..end".
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	ExcludeIPs []IPRange `json:"excludeIps,omitempty"`

	// Nodes are gateway chassis candidates with priorities.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=16
	Nodes []GatewayNode `json:"nodes,omitempty"`

	// NodeSelector picks gateway nodes by label (equal priority) in addition to nodes. In
	// distributed mode it says which nodes reach the external network.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`

	// External is the physical attachment.
	// +required
	External ExternalNetwork `json:"external"`
}

// EipGatewayStatus is the observed state of an EipGateway.
type EipGatewayStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LogicalSwitch is the OVN switch of the external network (with its localnet port).
	// +optional
	LogicalSwitch string `json:"logicalSwitch,omitempty"`

	// Chassis are the gateway chassis in use, highest priority first.
	// +optional
	// +listType=atomic
	Chassis []string `json:"chassis,omitempty"`

	// ActiveChassis is the chassis currently carrying centralized traffic.
	// +optional
	ActiveChassis string `json:"activeChassis,omitempty"`

	// V4UsedIPs counts IPv4 EIPs handed out.
	// +optional
	V4UsedIPs int64 `json:"v4UsedIPs,omitempty"`
	// V4AvailableIPs counts IPv4 EIPs still free.
	// +optional
	V4AvailableIPs int64 `json:"v4AvailableIPs,omitempty"`
	// V6UsedIPs counts IPv6 EIPs handed out.
	// +optional
	V6UsedIPs int64 `json:"v6UsedIPs,omitempty"`
	// V6AvailableIPs counts IPv6 EIPs still free (saturating at 2^63-1).
	// +optional
	V6AvailableIPs int64 `json:"v6AvailableIPs,omitempty"`
}

// EipGateway is where EIP traffic is routed between VPCs and the external network: the EIP
// subnet plus the gateway chassis. Administrators create it to match the physical network;
// users only allocate Eips from it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=eipgw,categories=ycloud
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidrBlock`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.spec.gateway`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeChassis`
// +kubebuilder:printcolumn:name="Used",type=integer,JSONPath=`.status.v4UsedIPs`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.v4AvailableIPs`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type EipGateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec EipGatewaySpec `json:"spec"`
	// +optional
	Status EipGatewayStatus `json:"status,omitempty"`
}

// EipGatewayList is a list of EipGateways.
//
// +kubebuilder:object:root=true
type EipGatewayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EipGateway `json:"items"`
}

func init() {
	register(&EipGateway{}, &EipGatewayList{})
}
