/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ManagedCluster is a cluster registered with the hub. It is cluster-scoped; its name is also
// the name of the hub namespace that holds the cluster's ManifestWorks.
//
// +kubebuilder:object:root=true
type ManagedCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ManagedClusterSpec `json:"spec,omitempty"`
	// Status is written by the registration agents, through the status subresource only.
	Status ManagedClusterStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ManagedClusterList is a list of ManagedClusters.
type ManagedClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManagedCluster `json:"items"`
}

// ManagedClusterSpec is the hub's view of how to reach and treat the cluster.
type ManagedClusterSpec struct {
	// ManagedClusterClientConfigs are the cluster's apiserver endpoints.
	ManagedClusterClientConfigs []ClientConfig `json:"managedClusterClientConfigs,omitempty"`
	// HubAcceptsClient is set by a hub admin to let the cluster join.
	HubAcceptsClient bool `json:"hubAcceptsClient,omitempty"`
	// LeaseDurationSeconds is how often the agent renews its lease (server default 60).
	LeaseDurationSeconds int32 `json:"leaseDurationSeconds,omitempty"`
	// Taints repel Placements that do not tolerate them.
	Taints []Taint `json:"taints,omitempty"`
}

// ClientConfig is one apiserver endpoint of the managed cluster.
type ClientConfig struct {
	URL string `json:"url"`
	// CABundle is PEM; base64 on the wire.
	CABundle []byte `json:"caBundle,omitempty"`
}

// TaintEffect is taints[].effect.
type TaintEffect string

const (
	// TaintEffectNoSelect: Placements that do not tolerate the taint never select the cluster.
	TaintEffectNoSelect TaintEffect = "NoSelect"
	// TaintEffectPreferNoSelect: Placements avoid the cluster if they can.
	TaintEffectPreferNoSelect TaintEffect = "PreferNoSelect"
	// TaintEffectNoSelectIfNew: Placements keep the cluster if already selected, never add it.
	TaintEffectNoSelectIfNew TaintEffect = "NoSelectIfNew"
)

// Taint keys the registration controller manages.
const (
	ManagedClusterTaintUnavailable = "cluster.open-cluster-management.io/unavailable"
	ManagedClusterTaintUnreachable = "cluster.open-cluster-management.io/unreachable"
)

// Taint marks a cluster so that Placements without a matching toleration skip it.
type Taint struct {
	Key    string      `json:"key"`
	Value  string      `json:"value,omitempty"`
	Effect TaintEffect `json:"effect"`
	// TimeAdded is when the taint was added; TolerationSeconds count from it. Upstream sends
	// it even when unset (as null, which the apiserver drops), so it is not omitempty here.
	TimeAdded metav1.Time `json:"timeAdded"`
}

// ManagedClusterStatus is reported by the registration agent and hub controllers.
type ManagedClusterStatus struct {
	// Conditions include ManagedClusterJoined, ManagedClusterConditionAvailable and
	// HubAcceptedManagedCluster.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Capacity and Allocatable sum the cluster's nodes (cpu, memory, ...).
	Capacity    corev1.ResourceList `json:"capacity,omitempty"`
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`
	// Version is the cluster's Kubernetes version.
	Version ManagedClusterVersion `json:"version,omitempty"`
	// ClusterClaims are facts the cluster reports about itself (claim selectors match them).
	ClusterClaims []ManagedClusterClaim `json:"clusterClaims,omitempty"`
	// ManagedNamespaces are the namespaces cluster sets ask the agent to manage.
	ManagedNamespaces []ClusterSetManagedNamespaceConfig `json:"managedNamespaces,omitempty"`
}

// ManagedClusterVersion is status.version.
type ManagedClusterVersion struct {
	Kubernetes string `json:"kubernetes,omitempty"`
}

// ManagedClusterClaim is one status.clusterClaims entry.
type ManagedClusterClaim struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// ClusterSetManagedNamespaceConfig is a namespace a cluster set manages on this cluster.
type ClusterSetManagedNamespaceConfig struct {
	Name       string             `json:"name"`
	ClusterSet string             `json:"clusterSet"`
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Condition types of ManagedCluster status.
const (
	ManagedClusterConditionJoined      = "ManagedClusterJoined"
	ManagedClusterConditionAvailable   = "ManagedClusterConditionAvailable"
	ManagedClusterConditionHubAccepted = "HubAcceptedManagedCluster"
	ManagedClusterConditionHubDenied   = "HubDeniedManagedCluster"
	ManagedClusterConditionClockSynced = "ManagedClusterConditionClockSynced"
)
