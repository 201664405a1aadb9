/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels the placement controller puts on every PlacementDecision. Consumers list decisions
// by PlacementLabel (DESIGN.md §5).
const (
	// PlacementLabel holds the name of the Placement the decision belongs to.
	PlacementLabel = "cluster.open-cluster-management.io/placement"
	// DecisionGroupIndexLabel holds the decision group index ("0" without a decision strategy).
	DecisionGroupIndexLabel = "cluster.open-cluster-management.io/decision-group-index"
	// DecisionGroupNameLabel holds the decision group name ("" without a decision strategy).
	DecisionGroupNameLabel = "cluster.open-cluster-management.io/decision-group-name"
)

// MaxDecisionsPerObject is how many clusters upstream puts in one PlacementDecision before
// starting the next page (<placement>-decision-<n>, n counting from 1).
const MaxDecisionsPerObject = 100

// PlacementDecision is one page of a Placement's result. It has no spec.
//
// +kubebuilder:object:root=true
type PlacementDecision struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is written through the status subresource only.
	Status PlacementDecisionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PlacementDecisionList is a list of PlacementDecisions.
type PlacementDecisionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PlacementDecision `json:"items"`
}

// PlacementDecisionStatus is the page of selected clusters.
type PlacementDecisionStatus struct {
	// Decisions is required by the schema: write an empty, non-nil slice for "no clusters"
	// (nil is sent as null, pruned, and the write is refused).
	Decisions []ClusterDecision `json:"decisions"`
}

// ClusterDecision is one selected cluster.
type ClusterDecision struct {
	ClusterName string `json:"clusterName"`
	// Reason is required by the schema but may be empty.
	Reason string `json:"reason"`
	// Score is the cluster's final score, when scores were computed.
	Score int64 `json:"score,omitempty"`
}
