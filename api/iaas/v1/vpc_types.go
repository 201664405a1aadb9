/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VpcSpec is the desired state of a Vpc.
type VpcSpec struct {
	// Namespaces whose pods join this VPC by default: a pod without a subnet annotation in one
	// of these namespaces gets an address from the VPC's default subnet.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces,omitempty"`

	// StaticRoutes of the VPC router, beside the connected routes of its subnets.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	StaticRoutes []StaticRoute `json:"staticRoutes,omitempty"`

	// PolicyRoutes of the VPC router, evaluated before the routing table.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	PolicyRoutes []PolicyRoute `json:"policyRoutes,omitempty"`

	// Federation is set by the hub when this VPC is the local part of a FederatedVpc; users
	// leave it empty. It tells the controller and ycloud-ic which transit switch joins the VPC
	// router to its peers in other clusters.
	// +optional
	Federation *VpcFederation `json:"federation,omitempty"`
}

// VpcFederation links a spoke Vpc to the hub object it was rendered from.
type VpcFederation struct {
	// Tenant is the hub namespace of the FederatedVpc.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Tenant string `json:"tenant"`

	// FederatedVpc is the name of the FederatedVpc in the tenant namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	FederatedVpc string `json:"federatedVpc"`

	// TransitSwitch is the OVN-IC transit switch of this VPC (allocated by the hub, unique
	// across all tenants).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	TransitSwitch string `json:"transitSwitch,omitempty"`

	// TransitSubnet is the link network on the transit switch, from 169.254.0.0/16.
	// +optional
	TransitSubnet CIDR `json:"transitSubnet,omitempty"`
}

// VpcStatus is the observed state of a Vpc.
type VpcStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Router is the OVN Logical_Router of the VPC ("vpc-<name>").
	// +optional
	Router string `json:"router,omitempty"`

	// Subnets lists the Subnets attached to the VPC router.
	// +optional
	// +listType=set
	Subnets []string `json:"subnets,omitempty"`

	// Interconnect reports the OVN-IC side of a federated VPC.
	// +optional
	Interconnect *VpcInterconnectStatus `json:"interconnect,omitempty"`
}

// VpcInterconnectStatus is the state of a VPC's link to its transit switch.
type VpcInterconnectStatus struct {
	// TransitSwitch the VPC router is attached to.
	// +optional
	TransitSwitch string `json:"transitSwitch,omitempty"`

	// GatewayChassis are the chassis hosting the router port on the transit switch, highest
	// priority first. Without one, routes would be advertised into a black hole.
	// +optional
	// +listType=atomic
	GatewayChassis []string `json:"gatewayChassis,omitempty"`

	// LearnedRoutes is the number of routes learned from other clusters.
	// +optional
	LearnedRoutes int32 `json:"learnedRoutes,omitempty"`

	// AdvertisedRoutes is the number of routes this cluster advertises for the VPC.
	// +optional
	AdvertisedRoutes int32 `json:"advertisedRoutes,omitempty"`
}

// Vpc is an isolated layer-3 domain: one OVN Logical_Router ("vpc-<name>") with its Subnets.
// Tenant VPCs are fully isolated from each other; the default VPC "ovn-cluster" is created by
// the controller and carries the Kubernetes default network.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=vpc,categories=ycloud
// +kubebuilder:printcolumn:name="Router",type=string,JSONPath=`.status.router`
// +kubebuilder:printcolumn:name="Subnets",type=string,JSONPath=`.status.subnets`
// +kubebuilder:printcolumn:name="Federated",type=string,JSONPath=`.spec.federation.federatedVpc`,priority=1
// +kubebuilder:printcolumn:name="Transit",type=string,JSONPath=`.status.interconnect.transitSwitch`,priority=1
// +kubebuilder:printcolumn:name="Learned",type=integer,JSONPath=`.status.interconnect.learnedRoutes`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Vpc struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec VpcSpec `json:"spec,omitempty"`
	// +optional
	Status VpcStatus `json:"status,omitempty"`
}

// VpcList is a list of Vpcs.
//
// +kubebuilder:object:root=true
type VpcList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Vpc `json:"items"`
}

func init() {
	register(&Vpc{}, &VpcList{})
}
