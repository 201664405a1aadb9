/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
)

// Placement selects ManagedClusters, from the cluster sets bound into its namespace, for a
// workload. The placement controller writes the result into PlacementDecisions labelled
// PlacementLabel=<placement name>; consumers read those, never the Placement status, to learn
// the selected clusters.
//
// +kubebuilder:object:root=true
type Placement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is required by the schema (an empty object is fine).
	Spec PlacementSpec `json:"spec"`
	// Status is written by the placement controller, through the status subresource only.
	Status PlacementStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// PlacementList is a list of Placements.
type PlacementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Placement `json:"items"`
}

// PlacementSpec is the selection policy.
type PlacementSpec struct {
	// ClusterSets limits selection to these bound sets; empty means every set bound into the
	// namespace.
	ClusterSets []string `json:"clusterSets,omitempty"`
	// NumberOfClusters caps the selection; nil selects every matching cluster.
	NumberOfClusters *int32 `json:"numberOfClusters,omitempty"`
	// Predicates are ORed: a cluster matching any of them is a candidate.
	Predicates []ClusterPredicate `json:"predicates,omitempty"`
	// PrioritizerPolicy ranks candidates when NumberOfClusters cuts the list.
	PrioritizerPolicy PrioritizerPolicy `json:"prioritizerPolicy,omitempty"`
	// SpreadPolicy spreads the selection over label or claim values.
	SpreadPolicy SpreadPolicy `json:"spreadPolicy,omitempty"`
	// Tolerations let the placement select tainted clusters.
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// DecisionStrategy splits decisions into groups.
	DecisionStrategy DecisionStrategy `json:"decisionStrategy,omitempty"`
	// SortBy orders candidates before the cut: ClusterName (default) or Score.
	SortBy SortByType `json:"sortBy,omitempty"`
	// ScoreRateLimit is how often score changes may reschedule (for example "1m").
	ScoreRateLimit string `json:"scoreRateLimit,omitempty"`
}

// SortByType is spec.sortBy.
type SortByType string

const (
	SortByClusterName SortByType = "ClusterName"
	SortByScore       SortByType = "Score"
)

// ClusterPredicate is one hard requirement.
type ClusterPredicate struct {
	RequiredClusterSelector ClusterSelector `json:"requiredClusterSelector,omitempty"`
}

// ClusterSelector matches clusters by labels, claims and CEL; all given parts must match.
type ClusterSelector struct {
	LabelSelector metav1.LabelSelector `json:"labelSelector,omitempty"`
	ClaimSelector ClusterClaimSelector `json:"claimSelector,omitempty"`
	CelSelector   ClusterCelSelector   `json:"celSelector,omitempty"`
}

// ClusterClaimSelector matches status.clusterClaims of a ManagedCluster like a label
// selector's matchExpressions match labels.
type ClusterClaimSelector struct {
	MatchExpressions []metav1.LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// ClusterCelSelector holds CEL expressions over the ManagedCluster; all must be true.
type ClusterCelSelector struct {
	CelExpressions []string `json:"celExpressions,omitempty"`
}

// PrioritizerPolicyModeType is prioritizerPolicy.mode.
type PrioritizerPolicyModeType string

const (
	// PrioritizerPolicyModeAdditive adds the default prioritizers (Steady, Balance) to the
	// configured ones. It is the default.
	PrioritizerPolicyModeAdditive PrioritizerPolicyModeType = "Additive"
	// PrioritizerPolicyModeExact uses only the configured prioritizers.
	PrioritizerPolicyModeExact PrioritizerPolicyModeType = "Exact"
)

// PrioritizerPolicy is spec.prioritizerPolicy.
type PrioritizerPolicy struct {
	Mode           PrioritizerPolicyModeType `json:"mode,omitempty"`
	Configurations []PrioritizerConfig       `json:"configurations,omitempty"`
}

// PrioritizerConfig weights one score source.
type PrioritizerConfig struct {
	// ScoreCoordinate is required: a nil one is sent as null and refused.
	ScoreCoordinate *ScoreCoordinate `json:"scoreCoordinate"`
	// Weight is in [-10, 10] (server default 1).
	Weight int32 `json:"weight,omitempty"`
}

// ScoreCoordinateType is scoreCoordinate.type.
type ScoreCoordinateType string

const (
	ScoreCoordinateTypeBuiltIn ScoreCoordinateType = "BuiltIn"
	ScoreCoordinateTypeAddOn   ScoreCoordinateType = "AddOn"
)

// ScoreCoordinate names a built-in prioritizer (Balance, Steady, ResourceAllocatableCPU,
// ResourceAllocatableMemory) or an add-on score.
type ScoreCoordinate struct {
	// Type is required by the schema, which defaults it to BuiltIn when omitted.
	Type    ScoreCoordinateType `json:"type,omitempty"`
	BuiltIn string              `json:"builtIn,omitempty"`
	AddOn   *AddOnScore         `json:"addOn,omitempty"`
}

// AddOnScore points at a score in an AddOnPlacementScore.
type AddOnScore struct {
	ResourceName string `json:"resourceName"`
	ScoreName    string `json:"scoreName"`
}

// SpreadPolicy is spec.spreadPolicy.
type SpreadPolicy struct {
	SpreadConstraints []SpreadConstraintsTerm `json:"spreadConstraints,omitempty"`
}

// TopologyKeyType says whether a spread topology key is a label or a claim.
type TopologyKeyType string

const (
	TopologyKeyTypeLabel TopologyKeyType = "Label"
	TopologyKeyTypeClaim TopologyKeyType = "Claim"
)

// UnsatisfiableMaxSkewAction is spreadConstraints[].whenUnsatisfiable.
type UnsatisfiableMaxSkewAction string

const (
	DoNotSchedule  UnsatisfiableMaxSkewAction = "DoNotSchedule"
	ScheduleAnyway UnsatisfiableMaxSkewAction = "ScheduleAnyway"
)

// SpreadConstraintsTerm is one spread constraint.
type SpreadConstraintsTerm struct {
	TopologyKey       string                     `json:"topologyKey"`
	TopologyKeyType   TopologyKeyType            `json:"topologyKeyType"`
	MaxSkew           int32                      `json:"maxSkew,omitempty"`
	WhenUnsatisfiable UnsatisfiableMaxSkewAction `json:"whenUnsatisfiable,omitempty"`
}

// TolerationOperator is tolerations[].operator.
type TolerationOperator string

const (
	// TolerationOpEqual matches a taint with the same key and value (the default).
	TolerationOpEqual TolerationOperator = "Equal"
	// TolerationOpExists matches any value; with an empty key it matches every taint.
	TolerationOpExists TolerationOperator = "Exists"
)

// Toleration lets a Placement select clusters with a matching taint.
type Toleration struct {
	Key      string             `json:"key,omitempty"`
	Operator TolerationOperator `json:"operator,omitempty"`
	Value    string             `json:"value,omitempty"`
	// Effect empty matches every effect.
	Effect clusterv1.TaintEffect `json:"effect,omitempty"`
	// TolerationSeconds bounds the toleration, counted from the taint's timeAdded; nil is forever.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// DecisionStrategy is spec.decisionStrategy.
type DecisionStrategy struct {
	GroupStrategy GroupStrategy `json:"groupStrategy,omitempty"`
}

// GroupStrategy splits the decisions into groups.
type GroupStrategy struct {
	// DecisionGroups are filled first, in order, by their selectors.
	DecisionGroups []DecisionGroup `json:"decisionGroups,omitempty"`
	// ClustersPerDecisionGroup is a count or a percentage (server default "100%").
	ClustersPerDecisionGroup intstr.IntOrString `json:"clustersPerDecisionGroup,omitempty"`
}

// DecisionGroup is a named group of decisions.
type DecisionGroup struct {
	GroupName       string               `json:"groupName"`
	ClusterSelector GroupClusterSelector `json:"groupClusterSelector"`
}

// GroupClusterSelector selects the members of a decision group.
type GroupClusterSelector struct {
	LabelSelector metav1.LabelSelector `json:"labelSelector,omitempty"`
	ClaimSelector ClusterClaimSelector `json:"claimSelector,omitempty"`
}

// PlacementStatus is written by the placement controller.
type PlacementStatus struct {
	NumberOfSelectedClusters int32                 `json:"numberOfSelectedClusters,omitempty"`
	DecisionGroups           []DecisionGroupStatus `json:"decisionGroups,omitempty"`
	// Conditions are PlacementSatisfied and PlacementMisconfigured.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// LastScoreUpdateTime is when the scores were last recomputed.
	LastScoreUpdateTime *metav1.Time `json:"lastScoreUpdateTime,omitempty"`
}

// DecisionGroupStatus describes one decision group.
type DecisionGroupStatus struct {
	DecisionGroupIndex int32  `json:"decisionGroupIndex,omitempty"`
	DecisionGroupName  string `json:"decisionGroupName,omitempty"`
	// Decisions are the names of the PlacementDecisions of the group.
	Decisions     []string `json:"decisions,omitempty"`
	ClustersCount int32    `json:"clusterCount,omitempty"`
}

// Condition types and reasons of Placement status.
const (
	PlacementConditionSatisfied     = "PlacementSatisfied"
	PlacementConditionMisconfigured = "PlacementMisconfigured"

	ReasonAllDecisionsScheduled       = "AllDecisionsScheduled"
	ReasonNotAllDecisionsScheduled    = "NotAllDecisionsScheduled"
	ReasonNoManagedClusterSetBindings = "NoManagedClusterSetBindings"
	ReasonAllManagedClusterSetsEmpty  = "AllManagedClusterSetsEmpty"
	ReasonNoManagedClusterMatched     = "NoManagedClusterMatched"
	ReasonSucceedConfigured           = "Succeedconfigured"
	ReasonMisconfigured               = "Misconfigured"
)
