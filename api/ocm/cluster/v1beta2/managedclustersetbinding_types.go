/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedClusterSetBinding makes a ManagedClusterSet available to Placements in its
// namespace. A real hub's webhook requires metadata.name == spec.clusterSet (the CRD alone
// does not), so always name bindings after their set.
//
// +kubebuilder:object:root=true
type ManagedClusterSetBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ManagedClusterSetBindingSpec   `json:"spec,omitempty"`
	Status ManagedClusterSetBindingStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ManagedClusterSetBindingList is a list of ManagedClusterSetBindings.
type ManagedClusterSetBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedClusterSetBinding `json:"items"`
}

// ManagedClusterSetBindingSpec names the bound set.
type ManagedClusterSetBindingSpec struct {
	ClusterSet string `json:"clusterSet,omitempty"`
}

// ManagedClusterSetBindingStatus is written by the registration controller.
type ManagedClusterSetBindingStatus struct {
	// Conditions include Bound.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ClusterSetBindingBoundType is True when the bound set exists.
const ClusterSetBindingBoundType = "Bound"
