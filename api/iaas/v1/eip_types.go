/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IPFamily selects IPv4 or IPv6.
// +kubebuilder:validation:Enum=IPv4;IPv6
type IPFamily string

const (
	IPv4 IPFamily = "IPv4"
	IPv6 IPFamily = "IPv6"
)

// EipSpec is the desired state of an Eip.
//
// An EIP is bound in one of two ways, never both:
//   - here, with exactly one of vnicIp, vpc or yusurService: the controller realises the
//     binding itself (a dnat_and_snat rule on the VnicIp's node, an snat rule for the whole VPC
//     on its gateway, or a load-balancer VIP for the service);
//   - by a Nat, Snat or YusurService (spec.eip) naming this Eip, for the options those kinds
//     add (per-subnet SNAT, a service's ports).
//
// The first binder wins; a second one gets a False Ready condition. status.boundTo says who
// holds it.
//
// +kubebuilder:validation:XValidation:rule="[has(self.vnicIp), has(self.vpc), has(self.yusurService)].filter(b, b).size() <= 1",message="an eip binds to at most one of vnicIp, vpc and yusurService"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.address) || (has(self.address) && self.address == oldSelf.address)",message="address is immutable once set: create a new Eip for another address",fieldPath=".address"
// +kubebuilder:validation:XValidation:rule="!has(self.address) || !has(self.ipFamily) || !isIP(self.address) || (ip(self.address).family() == 4) == (self.ipFamily == 'IPv4')",message="address is not of the requested ipFamily",fieldPath=".ipFamily"
type EipSpec struct {
	// EipGateway whose external network the address comes from. Immutable.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="eipGateway is immutable: create a new Eip instead"
	EipGateway string `json:"eipGateway"`

	// Address is a static public address; it must lie in the gateway's cidrBlock (checked by
	// the controller). Empty means allocate one. Immutable once set.
	// +optional
	Address IPAddress `json:"address,omitempty"`

	// IPFamily of an allocated address; default IPv4.
	// +optional
	IPFamily IPFamily `json:"ipFamily,omitempty"`

	// VnicIp to bind to (one-to-one NAT, done on the VnicIp's node).
	// +optional
	VnicIp *NamespacedObjectReference `json:"vnicIp,omitempty"`

	// Vpc to bind to (source NAT for the whole VPC, on its gateway).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vpc string `json:"vpc,omitempty"`

	// YusurService to bind to (its load-balancer address).
	// +optional
	YusurService *NamespacedObjectReference `json:"yusurService,omitempty"`

	// QoS of the EIP in Mbit/s: ingress is from outside towards the EIP, egress the reverse.
	// +optional
	QoS *QoS `json:"qos,omitempty"`
}

// EipBinding names what an EIP is bound to.
type EipBinding struct {
	// Kind is VnicIp, Vpc or YusurService.
	Kind string `json:"kind"`
	// Namespace of a namespaced target.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the target.
	Name string `json:"name"`
	// Via is the Nat or Snat object realising the binding, "Nat/<name>" or "Snat/<name>";
	// empty when the Eip's own spec does.
	// +optional
	Via string `json:"via,omitempty"`
}

// EipStatus is the observed state of an Eip.
type EipStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Address allocated (or the static one, once checked).
	// +optional
	Address string `json:"address,omitempty"`

	// Bound is true when the address is in use by a binding.
	// +optional
	Bound bool `json:"bound,omitempty"`

	// BoundTo is the current binding.
	// +optional
	BoundTo *EipBinding `json:"boundTo,omitempty"`
}

// Eip is an elastic public address from an EipGateway's external network, bound to a VnicIp
// (NAT), a Vpc (SNAT) or a YusurService (load balancer), and movable between them.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=eip,categories=ycloud
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.status.address`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.spec.eipGateway`
// +kubebuilder:printcolumn:name="Bound",type=string,JSONPath=`.status.boundTo.kind`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.status.boundTo.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Eip struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec EipSpec `json:"spec"`
	// +optional
	Status EipStatus `json:"status,omitempty"`
}

// EipList is a list of Eips.
//
// +kubebuilder:object:root=true
type EipList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Eip `json:"items"`
}

func init() {
	register(&Eip{}, &EipList{})
}
