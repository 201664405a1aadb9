/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package ocm_test

import (
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// The fixtures set every field of our types to a non-zero value the real schema accepts, so a
// field with a wrong JSON name or type is either pruned or refused by the apiserver and the
// round trip notices. Times are whole seconds: metav1.Time travels as RFC 3339 seconds.

var fixtureTime = metav1.NewTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))

func condition(typ, reason string) metav1.Condition {
	return metav1.Condition{
		Type: typ, Status: metav1.ConditionTrue, ObservedGeneration: 3,
		LastTransitionTime: fixtureTime, Reason: reason, Message: "message of " + typ,
	}
}

func rawManifest(obj map[string]any) runtime.RawExtension {
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return runtime.RawExtension{Raw: b}
}

func configMapManifest(name string, data map[string]any) runtime.RawExtension {
	return rawManifest(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "default", "labels": map[string]any{"app": "x"}},
		"data":     data,
	})
}

func fullManifestWork(ns string) *workv1.ManifestWork {
	return &workv1.ManifestWork{
		ObjectMeta: metav1.ObjectMeta{Name: "work-full", Namespace: ns, Labels: map[string]string{"ycloud.io/kind": "vpc"}},
		Spec: workv1.ManifestWorkSpec{
			Workload: workv1.ManifestsTemplate{Manifests: []runtime.RawExtension{
				configMapManifest("cm-a", map[string]any{"k": "v"}),
				configMapManifest("cm-b", map[string]any{"k2": "v2"}),
			}},
			DeleteOption: &workv1.DeleteOption{
				PropagationPolicy: workv1.DeletePropagationPolicyTypeSelectivelyOrphan,
				SelectivelyOrphan: &workv1.SelectivelyOrphan{OrphaningRules: []workv1.OrphaningRule{
					{Group: "iaas.yusur.io", Resource: "vpcs", Namespace: "ns1", Name: "vpc-a"},
				}},
				TTLSecondsAfterFinished: ptr.To[int64](300),
			},
			ManifestConfigs: []workv1.ManifestConfigOption{{
				ResourceIdentifier: workv1.ResourceIdentifier{Group: "iaas.yusur.io", Resource: "vpcs", Name: "vpc-a", Namespace: "ns1"},
				FeedbackRules: []workv1.FeedbackRule{
					{Type: workv1.JSONPathsType, JsonPaths: []workv1.JsonPath{{Name: "ready", Version: "v1", Path: ".status.ready"}}},
					{Type: workv1.WellKnownStatusType},
				},
				FeedbackScrapeType: workv1.FeedbackWatchScrapeType,
				UpdateStrategy: &workv1.UpdateStrategy{
					Type: workv1.UpdateStrategyTypeServerSideApply,
					ServerSideApply: &workv1.ServerSideApplyConfig{
						Force: true, FieldManager: "work-agent-ycloud",
						IgnoreFields: []workv1.IgnoreField{{
							Condition:         workv1.IgnoreFieldsConditionOnSpokeChange,
							JSONPaths:         []string{".spec.replicas"},
							JSONPointers:      []string{"/spec/replicas"},
							JQPathExpressions: []string{".spec.replicas"},
						}},
					},
				},
				ConditionRules: []workv1.ConditionRule{{
					Condition: "Complete", Type: workv1.CelConditionExpressionsType,
					CelExpressions: []string{"object.status.ready == true"},
					Message:        "ready", MessageExpression: `result ? "ready" : "not ready"`,
				}},
			}},
			Executor: &workv1.ManifestWorkExecutor{Subject: workv1.ManifestWorkExecutorSubject{
				Type:           workv1.ExecutorSubjectTypeServiceAccount,
				ServiceAccount: &workv1.ManifestWorkSubjectServiceAccount{Namespace: "ycloud-system", Name: "applier"},
			}},
		},
	}
}

func fullManifestWorkStatus() workv1.ManifestWorkStatus {
	return workv1.ManifestWorkStatus{
		Conditions: []metav1.Condition{
			condition(workv1.WorkApplied, workv1.ReasonAppliedManifestWorkComplete),
			condition(workv1.WorkAvailable, workv1.ReasonResourcesAvailable),
		},
		ResourceStatus: workv1.ManifestResourceStatus{Manifests: []workv1.ManifestCondition{{
			ResourceMeta: workv1.ManifestResourceMeta{
				Ordinal: 1, Group: "iaas.yusur.io", Version: "v1", Kind: "Vpc", Resource: "vpcs", Name: "vpc-a", Namespace: "ns1",
			},
			StatusFeedbacks: workv1.StatusFeedbackResult{Values: []workv1.FeedbackValue{
				{Name: "int", Value: workv1.FieldValue{Type: workv1.Integer, Integer: ptr.To[int64](7)}},
				{Name: "str", Value: workv1.FieldValue{Type: workv1.String, String: ptr.To("Active")}},
				{Name: "bool", Value: workv1.FieldValue{Type: workv1.Boolean, Boolean: ptr.To(true)}},
				{Name: "raw", Value: workv1.FieldValue{Type: workv1.JsonRaw, JsonRaw: ptr.To(`{"a":1}`)}},
			}},
			Conditions: []metav1.Condition{
				condition(workv1.ManifestApplied, workv1.ReasonAppliedManifestComplete),
				condition(workv1.ManifestStatusFeedbackSynced, workv1.ReasonStatusFeedbackSynced),
			},
		}}},
	}
}

func fullManagedCluster(name string) *clusterv1.ManagedCluster {
	return &clusterv1.ManagedCluster{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{clusterv1beta2.ClusterSetLabel: "prod"}},
		Spec: clusterv1.ManagedClusterSpec{
			ManagedClusterClientConfigs: []clusterv1.ClientConfig{{URL: "https://10.0.0.1:6443", CABundle: []byte("-----BEGIN CERTIFICATE-----")}},
			HubAcceptsClient:            true,
			LeaseDurationSeconds:        30,
			Taints: []clusterv1.Taint{{
				Key: "ycloud.io/maintenance", Value: "yes", Effect: clusterv1.TaintEffectNoSelect, TimeAdded: fixtureTime,
			}},
		},
	}
}

func fullManagedClusterStatus() clusterv1.ManagedClusterStatus {
	return clusterv1.ManagedClusterStatus{
		Conditions: []metav1.Condition{condition(clusterv1.ManagedClusterConditionAvailable, "ManagedClusterAvailable")},
		Capacity: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"),
		},
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("7500m"), corev1.ResourceMemory: resource.MustParse("15Gi"),
		},
		Version:       clusterv1.ManagedClusterVersion{Kubernetes: "v1.37.1"},
		ClusterClaims: []clusterv1.ManagedClusterClaim{{Name: "region.open-cluster-management.io", Value: "east"}},
		ManagedNamespaces: []clusterv1.ClusterSetManagedNamespaceConfig{{
			Name: "tenant-a", ClusterSet: "prod",
			Conditions: []metav1.Condition{condition("NamespaceAvailable", "NamespaceApplied")},
		}},
	}
}

func fullPlacement(ns string) *clusterv1beta1.Placement {
	selector := metav1.LabelSelector{
		MatchLabels:      map[string]string{"env": "prod"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "zone", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
	}
	claims := clusterv1beta1.ClusterClaimSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "platform.open-cluster-management.io", Operator: metav1.LabelSelectorOpExists},
	}}
	return &clusterv1beta1.Placement{
		ObjectMeta: metav1.ObjectMeta{Name: "placement-full", Namespace: ns},
		Spec: clusterv1beta1.PlacementSpec{
			ClusterSets:      []string{"prod", "edge"},
			NumberOfClusters: ptr.To[int32](3),
			Predicates: []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
				LabelSelector: selector,
				ClaimSelector: claims,
				CelSelector:   clusterv1beta1.ClusterCelSelector{CelExpressions: []string{`managedCluster.metadata.labels["env"] == "prod"`}},
			}}},
			PrioritizerPolicy: clusterv1beta1.PrioritizerPolicy{
				Mode: clusterv1beta1.PrioritizerPolicyModeExact,
				Configurations: []clusterv1beta1.PrioritizerConfig{
					{ScoreCoordinate: &clusterv1beta1.ScoreCoordinate{Type: clusterv1beta1.ScoreCoordinateTypeBuiltIn, BuiltIn: "Steady"}, Weight: 3},
					{ScoreCoordinate: &clusterv1beta1.ScoreCoordinate{
						Type:  clusterv1beta1.ScoreCoordinateTypeAddOn,
						AddOn: &clusterv1beta1.AddOnScore{ResourceName: "default", ScoreName: "cpuratio"},
					}, Weight: -2},
				},
			},
			SpreadPolicy: clusterv1beta1.SpreadPolicy{SpreadConstraints: []clusterv1beta1.SpreadConstraintsTerm{{
				TopologyKey: "zone", TopologyKeyType: clusterv1beta1.TopologyKeyTypeLabel,
				MaxSkew: 2, WhenUnsatisfiable: clusterv1beta1.DoNotSchedule,
			}}},
			Tolerations: []clusterv1beta1.Toleration{{
				Key: clusterv1.ManagedClusterTaintUnreachable, Operator: clusterv1beta1.TolerationOpExists,
				Value: "", Effect: clusterv1.TaintEffectNoSelect, TolerationSeconds: ptr.To[int64](300),
			}, {
				Key: "gpu", Operator: clusterv1beta1.TolerationOpEqual, Value: "true", Effect: clusterv1.TaintEffectPreferNoSelect,
			}},
			DecisionStrategy: clusterv1beta1.DecisionStrategy{GroupStrategy: clusterv1beta1.GroupStrategy{
				DecisionGroups: []clusterv1beta1.DecisionGroup{{
					GroupName:       "canary",
					ClusterSelector: clusterv1beta1.GroupClusterSelector{LabelSelector: selector, ClaimSelector: claims},
				}},
				ClustersPerDecisionGroup: intstr.FromString("25%"),
			}},
			SortBy:         clusterv1beta1.SortByScore,
			ScoreRateLimit: "30s",
		},
	}
}

func fullPlacementStatus() clusterv1beta1.PlacementStatus {
	return clusterv1beta1.PlacementStatus{
		NumberOfSelectedClusters: 3,
		DecisionGroups: []clusterv1beta1.DecisionGroupStatus{{
			DecisionGroupIndex: 1, DecisionGroupName: "canary", Decisions: []string{"placement-full-decision-1"}, ClustersCount: 3,
		}},
		Conditions: []metav1.Condition{
			condition(clusterv1beta1.PlacementConditionSatisfied, clusterv1beta1.ReasonAllDecisionsScheduled),
			condition(clusterv1beta1.PlacementConditionMisconfigured, clusterv1beta1.ReasonSucceedConfigured),
		},
		LastScoreUpdateTime: &fixtureTime,
	}
}

func fullPlacementDecision(ns string) *clusterv1beta1.PlacementDecision {
	return &clusterv1beta1.PlacementDecision{ObjectMeta: metav1.ObjectMeta{
		Name: "placement-full-decision-1", Namespace: ns,
		Labels: map[string]string{
			clusterv1beta1.PlacementLabel:          "placement-full",
			clusterv1beta1.DecisionGroupIndexLabel: "0",
			clusterv1beta1.DecisionGroupNameLabel:  "",
		},
	}}
}

func fullPlacementDecisionStatus() clusterv1beta1.PlacementDecisionStatus {
	return clusterv1beta1.PlacementDecisionStatus{Decisions: []clusterv1beta1.ClusterDecision{
		{ClusterName: "spoke1", Reason: "", Score: 200},
		{ClusterName: "spoke2", Reason: "selected", Score: -5},
	}}
}

func fullManagedClusterSet(name string) *clusterv1beta2.ManagedClusterSet {
	return &clusterv1beta2.ManagedClusterSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: clusterv1beta2.ManagedClusterSetSpec{
			ClusterSelector: clusterv1beta2.ManagedClusterSelector{
				SelectorType:  clusterv1beta2.LabelSelector,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"vendor": "ycloud"}},
			},
			ManagedNamespaces: []clusterv1beta2.ManagedNamespaceConfig{{Name: "tenant-a"}},
		},
	}
}

func fullManagedClusterSetStatus() clusterv1beta2.ManagedClusterSetStatus {
	c := condition(clusterv1beta2.ManagedClusterSetConditionEmpty, "ClustersSelected")
	c.Status = metav1.ConditionFalse
	return clusterv1beta2.ManagedClusterSetStatus{Conditions: []metav1.Condition{c}}
}

func fullManagedClusterSetBinding(ns, set string) *clusterv1beta2.ManagedClusterSetBinding {
	return &clusterv1beta2.ManagedClusterSetBinding{
		ObjectMeta: metav1.ObjectMeta{Name: set, Namespace: ns},
		Spec:       clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: set},
	}
}

func fullManagedClusterSetBindingStatus() clusterv1beta2.ManagedClusterSetBindingStatus {
	return clusterv1beta2.ManagedClusterSetBindingStatus{Conditions: []metav1.Condition{
		condition(clusterv1beta2.ClusterSetBindingBoundType, "ClusterSetBound"),
	}}
}
