/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NatSpec is the desired state of a Nat.
type NatSpec struct {
	// Eip to bind. Immutable: moving an EIP is deleting this Nat and creating another.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="eip is immutable: create a new Nat instead"
	Eip string `json:"eip"`

	// VnicIp the EIP maps to. Immutable.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="vnicIp is immutable: create a new Nat instead"
	VnicIp NamespacedObjectReference `json:"vnicIp"`
}

// NatStatus is the observed state of a Nat.
type NatStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ExternalIP is the EIP address.
	// +optional
	ExternalIP string `json:"externalIP,omitempty"`

	// InternalIP is the VnicIp address it maps to.
	// +optional
	InternalIP string `json:"internalIP,omitempty"`

	// LogicalPort is the VnicIp's port; with ExternalMAC it makes the rule distributed (NAT
	// done on the port's own chassis).
	// +optional
	LogicalPort string `json:"logicalPort,omitempty"`

	// ExternalMAC answers ARP for the EIP on the external network from that chassis.
	// +optional
	ExternalMAC string `json:"externalMAC,omitempty"`

	// Router is the VPC router holding the rule.
	// +optional
	Router string `json:"router,omitempty"`
}

// Nat binds an Eip to a VnicIp one-to-one (OVN NAT type dnat_and_snat). It is distributed:
// translation happens on the node hosting the VnicIp, whatever the EipGateway's mode, so no
// single node carries every server's NAT.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=nat,categories=ycloud
// +kubebuilder:printcolumn:name="EIP",type=string,JSONPath=`.spec.eip`
// +kubebuilder:printcolumn:name="ExternalIP",type=string,JSONPath=`.status.externalIP`
// +kubebuilder:printcolumn:name="VnicIp",type=string,JSONPath=`.spec.vnicIp.name`
// +kubebuilder:printcolumn:name="Namespace",type=string,JSONPath=`.spec.vnicIp.namespace`,priority=1
// +kubebuilder:printcolumn:name="InternalIP",type=string,JSONPath=`.status.internalIP`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Nat struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec NatSpec `json:"spec"`
	// +optional
	Status NatStatus `json:"status,omitempty"`
}

// NatList is a list of Nats.
//
// +kubebuilder:object:root=true
type NatList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Nat `json:"items"`
}

func init() {
	register(&Nat{}, &NatList{})
}
