/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// EipPool is a range of public addresses, for one cluster or shared by all. A shared pool is
// only usable where every selected cluster reaches the same external network; the hub hands
// each address to one cluster at a time.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || self.gateway.split(',').all(g, !isIP(g) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(g)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(g))))",message="gateway must lie inside cidrBlock",fieldPath=".gateway"
// +kubebuilder:validation:XValidation:rule="!has(self.excludeIps) || self.excludeIps.all(e, [e.split('..')[0], e.split('..')[e.split('..').size() - 1]].all(a, !isIP(a) || ((isCIDR(self.cidrBlock.split(',')[0]) && cidr(self.cidrBlock.split(',')[0]).containsIP(a)) || (self.cidrBlock.split(',').size() == 2 && isCIDR(self.cidrBlock.split(',')[1]) && cidr(self.cidrBlock.split(',')[1]).containsIP(a)))))",message="every excludeIps address and range bound must lie inside cidrBlock",fieldPath=".excludeIps"
type EipPool struct {
	// Name of the pool.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Cluster the pool belongs to; unset means shared by every selected cluster.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`

	// CIDRBlock of the external network.
	// +required
	CIDRBlock iaasv1.DualStackCIDR `json:"cidrBlock"`

	// Gateway is the upstream router; default the first address.
	// +optional
	Gateway iaasv1.DualStackIP `json:"gateway,omitempty"`

	// ExcludeIps are never handed out.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	ExcludeIPs []iaasv1.IPRange `json:"excludeIps,omitempty"`
}

// FederatedEipGatewaySpec is the desired state of a FederatedEipGateway.
type FederatedEipGatewaySpec struct {
	// Mode of the spoke EipGateways.
	// +optional
	// +kubebuilder:default=centralized
	Mode iaasv1.EipGatewayMode `json:"mode,omitempty"`

	// Pools of addresses.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Pools []EipPool `json:"pools"`

	// PlacementRef selects the member clusters (an OCM Placement in this namespace).
	// +required
	PlacementRef PlacementRef `json:"placementRef"`

	// NodeSelector picks the gateway nodes in every cluster.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`

	// External is the physical attachment, the same in every cluster.
	// +optional
	External *iaasv1.ExternalNetwork `json:"external,omitempty"`
}

// FederatedEipGatewayStatus is the observed state of a FederatedEipGateway.
type FederatedEipGatewayStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Placed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Clusters reports each selected cluster.
	// +optional
	// +listType=map
	// +listMapKey=cluster
	Clusters []ClusterStatus `json:"clusters,omitempty"`

	// ClusterCount is the number of selected clusters.
	// +optional
	ClusterCount int32 `json:"clusterCount,omitempty"`
}

// FederatedEipGateway gives the clusters of a Placement EipGateways from per-cluster or shared
// address pools; the hub keeps EIPs of shared pools unique across clusters.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=feipgw,categories=ycloud-federation
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Placement",type=string,JSONPath=`.spec.placementRef.name`
// +kubebuilder:printcolumn:name="Clusters",type=integer,JSONPath=`.status.clusterCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FederatedEipGateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FederatedEipGatewaySpec `json:"spec"`
	// +optional
	Status FederatedEipGatewayStatus `json:"status,omitempty"`
}

// FederatedEipGatewayList is a list of FederatedEipGateways.
//
// +kubebuilder:object:root=true
type FederatedEipGatewayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FederatedEipGateway `json:"items"`
}

func init() {
	register(&FederatedEipGateway{}, &FederatedEipGatewayList{})
}
