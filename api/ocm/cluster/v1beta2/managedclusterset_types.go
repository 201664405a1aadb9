/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ClusterSetLabel on a ManagedCluster names the one cluster set it belongs to, for sets with
// the ExclusiveClusterSetLabel selector (the default).
const ClusterSetLabel = "cluster.open-cluster-management.io/clusterset"

// ManagedClusterSet groups ManagedClusters. It is cluster-scoped; a ManagedClusterSetBinding
// makes its members available to Placements in one namespace.
//
// +kubebuilder:object:root=true
type ManagedClusterSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is defaulted by the server to an ExclusiveClusterSetLabel selector.
	Spec   ManagedClusterSetSpec   `json:"spec,omitempty"`
	Status ManagedClusterSetStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ManagedClusterSetList is a list of ManagedClusterSets.
type ManagedClusterSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedClusterSet `json:"items"`
}

// ManagedClusterSetSpec says which clusters are members.
type ManagedClusterSetSpec struct {
	ClusterSelector ManagedClusterSelector `json:"clusterSelector,omitempty"`
	// ManagedNamespaces are namespaces the set asks its clusters' agents to manage.
	ManagedNamespaces []ManagedNamespaceConfig `json:"managedNamespaces,omitempty"`
}

// SelectorType is clusterSelector.selectorType.
type SelectorType string

const (
	// ExclusiveClusterSetLabel: members carry ClusterSetLabel=<set name> (so a cluster is in
	// at most one such set). It is the default.
	ExclusiveClusterSetLabel SelectorType = "ExclusiveClusterSetLabel"
	// LabelSelector: members match clusterSelector.labelSelector (an empty selector matches
	// every cluster, as in the upstream "global" set).
	LabelSelector SelectorType = "LabelSelector"
)

// ManagedClusterSelector is spec.clusterSelector.
type ManagedClusterSelector struct {
	SelectorType SelectorType `json:"selectorType,omitempty"`
	// LabelSelector is used when SelectorType is LabelSelector.
	LabelSelector *metav1.LabelSelector `json:"labelSelector,omitempty"`
}

// ManagedNamespaceConfig is one managed namespace.
type ManagedNamespaceConfig struct {
	Name string `json:"name"`
}

// ManagedClusterSetStatus is written by the registration controller.
type ManagedClusterSetStatus struct {
	// Conditions include ClusterSetEmpty.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ManagedClusterSetConditionEmpty is True when the set selects no cluster.
const ManagedClusterSetConditionEmpty = "ClusterSetEmpty"
