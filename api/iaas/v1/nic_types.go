/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NicType is the kind of Linux interface a pod gets. It is also the value of the pod
// annotation cni.iaas.yusur.io/nic_type (and <ifname>.iaas.yusur.io/nic_type).
// +kubebuilder:validation:Enum=veth;vf;sf;vdpa;shared
type NicType string

const (
	// NicTypeVeth is a veth pair with its host end on OVS: no offload, works everywhere.
	NicTypeVeth NicType = "veth"
	// NicTypeVF is an SR-IOV virtual function moved into the pod; its representor is on OVS.
	NicTypeVF NicType = "vf"
	// NicTypeSF is a scalable (sub-)function moved into the pod; its representor is on OVS.
	NicTypeSF NicType = "sf"
	// NicTypeVDPA is a vDPA device (virtio data path offloaded to the card).
	NicTypeVDPA NicType = "vdpa"
	// NicTypeShared is a veth into the node's shared network namespace, which reaches OVS
	// through the node's one shared VF (pf0vf0 by default). The pod has no Vnic of its own:
	// its VnicIp is bound to the node's shared Vnic. Used when a card has fewer VFs than pods.
	NicTypeShared NicType = "shared"
)

// NicSpec is the desired state of a Nic. The CNI creates Nics; users rarely write them.
//
// +kubebuilder:validation:XValidation:rule="self.type != 'shared' || !has(self.vnic)",message="a shared nic has no vnic of its own: its VnicIp is bound to the node's shared vnic",fieldPath=".vnic"
type NicSpec struct {
	// Type of the interface.
	// +optional
	// +kubebuilder:default=veth
	Type NicType `json:"type,omitempty"`

	// Node the interface lives on.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Node string `json:"node,omitempty"`

	// Device is the function backing a vf, sf or vdpa nic: a netdev name ("pf0vf3") or a PCI
	// address ("0000:03:00.4"). Empty until the device plugin or the CNI picks one.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Device string `json:"device,omitempty"`

	// PodName is the pod using the interface, in the Nic's namespace. Empty for a node's own
	// nic (the shared VF).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PodName string `json:"podName,omitempty"`

	// IfName is the interface name inside the pod ("eth0", "eth1").
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9_.-]+$`
	IfName string `json:"ifName,omitempty"`

	// Vnic is the Vnic (same namespace) this interface is bound to.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vnic string `json:"vnic,omitempty"`

	// MAC address to give the interface; empty means the Vnic's.
	// +optional
	MAC MACAddress `json:"mac,omitempty"`
}

// NicStatus is the observed state of a Nic.
type NicStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// OVSPort is the OVS port plugged for this nic: the veth's host end or the function's
	// representor.
	// +optional
	OVSPort string `json:"ovsPort,omitempty"`

	// PCIAddress of the backing function, when there is one.
	// +optional
	PCIAddress string `json:"pciAddress,omitempty"`

	// MAC in use.
	// +optional
	MAC string `json:"mac,omitempty"`
}

// Nic is one Linux interface of a pod: the device side, decoupled from the logical network
// port (Vnic) it is bound to. It maps to an OVS Interface whose external_ids:iface-id is the
// Vnic's logical switch port.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=nic,categories=ycloud
// +kubebuilder:selectablefield:JSONPath=`.spec.node`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.node`
// +kubebuilder:printcolumn:name="Pod",type=string,JSONPath=`.spec.podName`
// +kubebuilder:printcolumn:name="IfName",type=string,JSONPath=`.spec.ifName`
// +kubebuilder:printcolumn:name="Vnic",type=string,JSONPath=`.spec.vnic`
// +kubebuilder:printcolumn:name="Device",type=string,JSONPath=`.spec.device`,priority=1
// +kubebuilder:printcolumn:name="OVSPort",type=string,JSONPath=`.status.ovsPort`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Nic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec NicSpec `json:"spec,omitempty"`
	// +optional
	Status NicStatus `json:"status,omitempty"`
}

// NicList is a list of Nics.
//
// +kubebuilder:object:root=true
type NicList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Nic `json:"items"`
}

func init() {
	register(&Nic{}, &NicList{})
}
