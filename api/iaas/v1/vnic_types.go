/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VnicSpec is the desired state of a Vnic.
//
// Addresses are not listed here: each VnicIp names its Vnic (spec.vnic), so there is one
// source of truth for a binding, and status.ips reports the result.
type VnicSpec struct {
	// Subnet the port is on. Immutable: a port cannot move between logical switches.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="subnet is immutable: create a new Vnic instead"
	Subnet string `json:"subnet"`

	// Nic (same namespace) this port is bound to; empty until a pod interface claims it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Nic string `json:"nic,omitempty"`

	// MAC of the port; empty means the controller derives one.
	// +optional
	MAC MACAddress `json:"mac,omitempty"`

	// SecurityGroups applied to the port. Without any, the port is not filtered.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	SecurityGroups []string `json:"securityGroups,omitempty"`

	// PortSecurity restricts the port to its own MAC and addresses (anti-spoofing). Default
	// true.
	// +optional
	// +kubebuilder:default=true
	PortSecurity *bool `json:"portSecurity,omitempty"`

	// QoS of the port in Mbit/s.
	// +optional
	QoS *QoS `json:"qos,omitempty"`

	// Shared marks a node's shared Vnic: the port of the shared VF that carries the VnicIps of
	// every pod using a shared nic on that node (its addresses are many and change often).
	// +optional
	Shared bool `json:"shared,omitempty"`
}

// VnicStatus is the observed state of a Vnic.
type VnicStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LogicalSwitchPort is the OVN port name (also the OVS iface-id).
	// +optional
	LogicalSwitchPort string `json:"logicalSwitchPort,omitempty"`

	// Ready is true once the port is bound on a chassis and its addresses are set; a scalar
	// copy of the Ready condition, so OCM statusFeedback can report it.
	// +optional
	Ready bool `json:"ready"`

	// Chassis the port is bound on (from the southbound Port_Binding).
	// +optional
	Chassis string `json:"chassis,omitempty"`

	// MAC in use.
	// +optional
	MAC string `json:"mac,omitempty"`

	// IPs of the VnicIps bound to the port.
	// +optional
	// +listType=atomic
	IPs []string `json:"ips,omitempty"`
}

// Vnic is a logical NIC: one OVN Logical_Switch_Port. The CNI binds it to a pod's Nic; after
// that the pod is on the Vnic's subnet. Created by users (to pin a MAC or security groups
// ahead of time) or by the controller for pods that name none.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=vnic,categories=ycloud
// +kubebuilder:selectablefield:JSONPath=`.spec.subnet`
// +kubebuilder:printcolumn:name="Subnet",type=string,JSONPath=`.spec.subnet`
// +kubebuilder:printcolumn:name="Nic",type=string,JSONPath=`.spec.nic`
// +kubebuilder:printcolumn:name="MAC",type=string,JSONPath=`.status.mac`
// +kubebuilder:printcolumn:name="IPs",type=string,JSONPath=`.status.ips`
// +kubebuilder:printcolumn:name="Chassis",type=string,JSONPath=`.status.chassis`,priority=1
// +kubebuilder:printcolumn:name="Port",type=string,JSONPath=`.status.logicalSwitchPort`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Vnic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec VnicSpec `json:"spec"`
	// +optional
	Status VnicStatus `json:"status,omitempty"`
}

// VnicList is a list of Vnics.
//
// +kubebuilder:object:root=true
type VnicList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Vnic `json:"items"`
}

func init() {
	register(&Vnic{}, &VnicList{})
}
