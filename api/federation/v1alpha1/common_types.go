/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types of the federated kinds.
const (
	// ConditionReady rolls up the clusters: True when every selected cluster has applied the
	// object and reports it ready.
	ConditionReady = "Ready"
	// ConditionPlaced is True once the Placement has decided on at least one cluster.
	ConditionPlaced = "Placed"
)

// PlacementRef names an OCM Placement in the federated object's own namespace. There is no
// namespace field on purpose: a tenant may only place its objects with its own Placements (and
// the hub checks the namespace again, in case an older client sends one).
type PlacementRef struct {
	// Name of the Placement.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ClusterStatus is the state of a federated object in one member cluster, from its
// ManifestWork's status and statusFeedback.
type ClusterStatus struct {
	// Cluster is the ManagedCluster name.
	// +required
	Cluster string `json:"cluster"`

	// Applied is true when the cluster's work agent applied the manifests.
	// +optional
	Applied bool `json:"applied"`

	// Ready is true when the spoke objects report Ready.
	// +optional
	Ready bool `json:"ready"`

	// Message explains a cluster that is not ready.
	// +optional
	Message string `json:"message,omitempty"`

	// LastTransitionTime is when Applied or Ready last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}
