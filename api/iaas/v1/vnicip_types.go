/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VnicIpSpec is the desired state of a VnicIp.
//
// The address is static when spec.ipAddress is set (by a user, or by the controller, which
// creates VnicIps with a deterministic name and the chosen address so that a second create of
// the same name fails and acts as the lock). Once set it never changes: ports, NAT rules and
// DNS records carry it. An empty spec.ipAddress asks the controller to allocate; the result is
// in status.
//
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.ipAddress) || (has(self.ipAddress) && self.ipAddress == oldSelf.ipAddress)",message="ipAddress is immutable once set: create a new VnicIp for another address",fieldPath=".ipAddress"
type VnicIpSpec struct {
	// Subnet the address belongs to. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="subnet is immutable: create a new VnicIp instead"
	Subnet string `json:"subnet"`

	// Vnic (same namespace) the address is bound to. Empty means unbound: the address is
	// held (reserved) until a pod names this VnicIp in its cni.iaas.yusur.io/vnicip
	// annotation, or until the controller binds it to a node's shared Vnic.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vnic string `json:"vnic,omitempty"`

	// IPAddress is the static address: one per family ("10.0.0.5" or "10.0.0.5,fd00::5").
	// Must lie inside the Subnet (checked by the controller). Immutable once set.
	// +optional
	IPAddress DualStackIP `json:"ipAddress,omitempty"`

	// MAC for the port carrying this address; empty means the Vnic's.
	// +optional
	MAC MACAddress `json:"mac,omitempty"`

	// Reserved keeps the VnicIp, and so its address, when the pod using it is deleted. A
	// VnicIp the controller created for a pod is otherwise deleted with the pod; one a user
	// created is never deleted by the controller.
	// +optional
	Reserved bool `json:"reserved,omitempty"`
}

// VnicIpStatus is the observed state of a VnicIp.
type VnicIpStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// V4IP is the allocated IPv4 address.
	// +optional
	V4IP string `json:"v4IP,omitempty"`

	// V6IP is the allocated IPv6 address.
	// +optional
	V6IP string `json:"v6IP,omitempty"`

	// MAC in use.
	// +optional
	MAC string `json:"mac,omitempty"`

	// Vnic is the port carrying the address, "namespace/name": spec.vnic, or a node's shared
	// Vnic (which lives in the system namespace, not the pod's).
	// +optional
	Vnic string `json:"vnic,omitempty"`

	// PodName is the pod (same namespace) using the address.
	// +optional
	PodName string `json:"podName,omitempty"`

	// IfName is the pod interface using the address.
	// +optional
	IfName string `json:"ifName,omitempty"`

	// Node of that pod.
	// +optional
	Node string `json:"node,omitempty"`
}

// VnicIp is one logical address (an address of an OVN Logical_Switch_Port). EIPs bind to
// VnicIps. A pod interface gets one, either named in its annotation or created for it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=vip,categories=ycloud
// +kubebuilder:selectablefield:JSONPath=`.spec.subnet`
// +kubebuilder:selectablefield:JSONPath=`.spec.vnic`
// +kubebuilder:printcolumn:name="Subnet",type=string,JSONPath=`.spec.subnet`
// +kubebuilder:printcolumn:name="IP",type=string,JSONPath=`.status.v4IP`
// +kubebuilder:printcolumn:name="V6IP",type=string,JSONPath=`.status.v6IP`,priority=1
// +kubebuilder:printcolumn:name="MAC",type=string,JSONPath=`.status.mac`
// +kubebuilder:printcolumn:name="Vnic",type=string,JSONPath=`.status.vnic`
// +kubebuilder:printcolumn:name="Pod",type=string,JSONPath=`.status.podName`,priority=1
// +kubebuilder:printcolumn:name="Reserved",type=boolean,JSONPath=`.spec.reserved`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VnicIp struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec VnicIpSpec `json:"spec"`
	// +optional
	Status VnicIpStatus `json:"status,omitempty"`
}

// VnicIpList is a list of VnicIps.
//
// +kubebuilder:object:root=true
type VnicIpList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VnicIp `json:"items"`
}

func init() {
	register(&VnicIp{}, &VnicIpList{})
}
