/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SnatSpec is the desired state of a Snat.
type SnatSpec struct {
	// Eip used as the source address. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="eip is immutable: create a new Snat instead"
	Eip string `json:"eip"`

	// Vpc whose traffic is translated. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="vpc is immutable: create a new Snat instead"
	Vpc string `json:"vpc"`

	// Subnets of the VPC to translate; empty means all of them.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	Subnets []string `json:"subnets,omitempty"`
}

// SnatStatus is the observed state of a Snat.
type SnatStatus struct {
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

	// LogicalIPs are the internal networks translated (one OVN NAT row each).
	// +optional
	// +listType=atomic
	LogicalIPs []string `json:"logicalIPs,omitempty"`

	// GatewayChassis currently doing the translation.
	// +optional
	GatewayChassis string `json:"gatewayChassis,omitempty"`
}

// Snat gives a VPC (or some of its subnets) outbound access through an Eip (OVN NAT type
// snat). It is centralized on the VPC's gateway chassis; the outside cannot open connections
// inwards through it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=snat,categories=ycloud
// +kubebuilder:printcolumn:name="EIP",type=string,JSONPath=`.spec.eip`
// +kubebuilder:printcolumn:name="ExternalIP",type=string,JSONPath=`.status.externalIP`
// +kubebuilder:printcolumn:name="VPC",type=string,JSONPath=`.spec.vpc`
// +kubebuilder:printcolumn:name="Subnets",type=string,JSONPath=`.spec.subnets`
// +kubebuilder:printcolumn:name="Chassis",type=string,JSONPath=`.status.gatewayChassis`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Snat struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SnatSpec `json:"spec"`
	// +optional
	Status SnatStatus `json:"status,omitempty"`
}

// SnatList is a list of Snats.
//
// +kubebuilder:object:root=true
type SnatList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Snat `json:"items"`
}

func init() {
	register(&Snat{}, &SnatList{})
}
