/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// FederatedServiceEip asks the hub for an EIP of a FederatedEipGateway.
type FederatedServiceEip struct {
	// EipGateway is the FederatedEipGateway (same namespace) to take the address from.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	EipGateway string `json:"eipGateway"`

	// Address requests a specific address of its pools; empty means any.
	// +optional
	Address iaasv1.IPAddress `json:"address,omitempty"`
}

// FederatedServiceSpec is the desired state of a FederatedService.
//
// +kubebuilder:validation:XValidation:rule="!has(self.eip) || (has(self.template.type) && self.template.type == 'LoadBalancer')",message="eip is only allowed when template.type is LoadBalancer",fieldPath=".eip"
// +kubebuilder:validation:XValidation:rule="!has(self.template.eip)",message="leave template.eip empty: the hub fills it per cluster from spec.eip",fieldPath=".template.eip"
type FederatedServiceSpec struct {
	// Template of the YusurService created in every selected cluster (same name and
	// namespace as this object). Its VPC names are FederatedVpcs of this namespace; backends
	// are selected in every cluster.
	// +required
	Template iaasv1.YusurServiceSpec `json:"template"`

	// PlacementRef selects the member clusters (an OCM Placement in this namespace).
	// +required
	PlacementRef PlacementRef `json:"placementRef"`

	// Eip of a LoadBalancer service.
	// +optional
	Eip *FederatedServiceEip `json:"eip,omitempty"`
}

// FederatedServiceStatus is the observed state of a FederatedService.
type FederatedServiceStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Placed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// EipAddress allocated to the service.
	// +optional
	EipAddress string `json:"eipAddress,omitempty"`

	// Clusters reports each selected cluster.
	// +optional
	// +listType=map
	// +listMapKey=cluster
	Clusters []ClusterStatus `json:"clusters,omitempty"`

	// ClusterCount is the number of selected clusters.
	// +optional
	ClusterCount int32 `json:"clusterCount,omitempty"`
}

// FederatedService is a YusurService in every cluster of a Placement, with an optional EIP
// from a FederatedEipGateway.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=fsvc,categories=ycloud-federation
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.template.type`
// +kubebuilder:printcolumn:name="Placement",type=string,JSONPath=`.spec.placementRef.name`
// +kubebuilder:printcolumn:name="EIP",type=string,JSONPath=`.status.eipAddress`
// +kubebuilder:printcolumn:name="Clusters",type=integer,JSONPath=`.status.clusterCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FederatedService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FederatedServiceSpec `json:"spec"`
	// +optional
	Status FederatedServiceStatus `json:"status,omitempty"`
}

// FederatedServiceList is a list of FederatedServices.
//
// +kubebuilder:object:root=true
type FederatedServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FederatedService `json:"items"`
}

func init() {
	register(&FederatedService{}, &FederatedServiceList{})
}
