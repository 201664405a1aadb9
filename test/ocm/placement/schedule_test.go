/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package placement

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type clusterOpt func(*clusterv1.ManagedCluster)

func cluster(name, set string, opts ...clusterOpt) clusterv1.ManagedCluster {
	c := clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if set != "" {
		c.Labels[clusterv1beta2.ClusterSetLabel] = set
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func label(k, v string) clusterOpt { return func(c *clusterv1.ManagedCluster) { c.Labels[k] = v } }

func claim(k, v string) clusterOpt {
	return func(c *clusterv1.ManagedCluster) {
		c.Status.ClusterClaims = append(c.Status.ClusterClaims, clusterv1.ManagedClusterClaim{Name: k, Value: v})
	}
}

func taint(key, value string, effect clusterv1.TaintEffect, added time.Time) clusterOpt {
	return func(c *clusterv1.ManagedCluster) {
		c.Spec.Taints = append(c.Spec.Taints, clusterv1.Taint{Key: key, Value: value, Effect: effect, TimeAdded: metav1.NewTime(added)})
	}
}

func deleting() clusterOpt {
	return func(c *clusterv1.ManagedCluster) { t := metav1.NewTime(now); c.DeletionTimestamp = &t }
}

func exclusiveSet(name string) *clusterv1beta2.ManagedClusterSet {
	return &clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func selectorSet(name string, sel *metav1.LabelSelector) *clusterv1beta2.ManagedClusterSet {
	s := exclusiveSet(name)
	s.Spec.ClusterSelector = clusterv1beta2.ManagedClusterSelector{SelectorType: clusterv1beta2.LabelSelector, LabelSelector: sel}
	return s
}

func binding(set string) clusterv1beta2.ManagedClusterSetBinding {
	return clusterv1beta2.ManagedClusterSetBinding{
		ObjectMeta: metav1.ObjectMeta{Name: set, Namespace: "ns"},
		Spec:       clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: set},
	}
}

func labelPredicate(k, v string) clusterv1beta1.ClusterPredicate {
	return clusterv1beta1.ClusterPredicate{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
		LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{k: v}},
	}}
}

func TestSchedule(t *testing.T) {
	prodAndEdge := map[string]*clusterv1beta2.ManagedClusterSet{"prod": exclusiveSet("prod"), "edge": exclusiveSet("edge")}
	threeProd := []clusterv1.ManagedCluster{
		cluster("c3", "prod", label("env", "prod")),
		cluster("c1", "prod", label("env", "prod")),
		cluster("c2", "prod", label("env", "dev")),
		cluster("e1", "edge", label("env", "prod")),
		cluster("x1", "", label("env", "prod")),
	}
	cases := []struct {
		name      string
		spec      clusterv1beta1.PlacementSpec
		bindings  []clusterv1beta2.ManagedClusterSetBinding
		sets      map[string]*clusterv1beta2.ManagedClusterSet
		clusters  []clusterv1.ManagedCluster
		decided   []string
		want      []string
		reason    string // PlacementSatisfied reason
		misconfig string // substring of the PlacementMisconfigured message, "" = not misconfigured
		requeue   time.Duration
	}{
		{name: "no bindings", sets: prodAndEdge, clusters: threeProd,
			reason: clusterv1beta1.ReasonNoManagedClusterSetBindings},
		{name: "binding to a missing set", bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("gone")}, sets: prodAndEdge,
			clusters: threeProd, reason: clusterv1beta1.ReasonNoManagedClusterSetBindings},
		{name: "all bound sets empty", bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("edge")},
			sets: prodAndEdge, clusters: threeProd[:3], reason: clusterv1beta1.ReasonAllManagedClusterSetsEmpty},
		{name: "every member of every bound set, sorted",
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod"), binding("edge")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"c1", "c2", "c3", "e1"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "spec.clusterSets restricts the bound sets", spec: clusterv1beta1.PlacementSpec{ClusterSets: []string{"edge", "unbound"}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod"), binding("edge")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"e1"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "label predicate",
			spec:     clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{labelPredicate("env", "prod")}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"c1", "c3"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "predicates are ORed",
			spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{
				labelPredicate("env", "dev"), labelPredicate("env", "staging")}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"c2"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "no cluster matches",
			spec:     clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{labelPredicate("env", "staging")}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			reason: clusterv1beta1.ReasonNoManagedClusterMatched},
		{name: "claim selector and label selector must both match",
			spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
				LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}},
				ClaimSelector: clusterv1beta1.ClusterClaimSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
					{Key: "region", Operator: metav1.LabelSelectorOpIn, Values: []string{"east"}}}},
			}}}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge,
			clusters: []clusterv1.ManagedCluster{
				cluster("a", "prod", label("env", "prod"), claim("region", "east")),
				cluster("b", "prod", label("env", "prod"), claim("region", "west")),
				cluster("c", "prod", label("env", "dev"), claim("region", "east")),
			},
			want: []string{"a"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "label-selector set, empty selector selects all (the upstream global set)",
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("global")},
			sets:     map[string]*clusterv1beta2.ManagedClusterSet{"global": selectorSet("global", &metav1.LabelSelector{})},
			clusters: threeProd, want: []string{"c1", "c2", "c3", "e1", "x1"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "label-selector set selects by its selector",
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("devs")},
			sets: map[string]*clusterv1beta2.ManagedClusterSet{"devs": selectorSet("devs",
				&metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}})},
			clusters: threeProd, want: []string{"c2"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "numberOfClusters cuts by name", spec: clusterv1beta1.PlacementSpec{NumberOfClusters: ptr.To[int32](2)},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"c1", "c2"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "numberOfClusters keeps decided clusters (Steady)", spec: clusterv1beta1.PlacementSpec{NumberOfClusters: ptr.To[int32](2)},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			decided: []string{"c3"}, want: []string{"c1", "c3"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "Exact mode without Steady ignores earlier decisions",
			spec: clusterv1beta1.PlacementSpec{NumberOfClusters: ptr.To[int32](2),
				PrioritizerPolicy: clusterv1beta1.PrioritizerPolicy{Mode: clusterv1beta1.PrioritizerPolicyModeExact}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			decided: []string{"c3"}, want: []string{"c1", "c2"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "fewer clusters than numberOfClusters", spec: clusterv1beta1.PlacementSpec{NumberOfClusters: ptr.To[int32](5)},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			want: []string{"c1", "c2", "c3"}, reason: clusterv1beta1.ReasonNotAllDecisionsScheduled},
		{name: "terminating clusters are never selected",
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge,
			clusters: []clusterv1.ManagedCluster{cluster("a", "prod"), cluster("b", "prod", deleting())},
			want:     []string{"a"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "taints: NoSelect blocks, PreferNoSelect does not, NoSelectIfNew only blocks new clusters",
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge,
			clusters: []clusterv1.ManagedCluster{
				cluster("a", "prod", taint("maint", "", clusterv1.TaintEffectNoSelect, now)),
				cluster("b", "prod", taint("maint", "", clusterv1.TaintEffectPreferNoSelect, now)),
				cluster("c", "prod", taint("maint", "", clusterv1.TaintEffectNoSelectIfNew, now)),
				cluster("d", "prod", taint("maint", "", clusterv1.TaintEffectNoSelectIfNew, now)),
			},
			decided: []string{"d"}, want: []string{"b", "d"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "tolerations: Exists, Equal with the right value, and an expired tolerationSeconds",
			spec: clusterv1beta1.PlacementSpec{Tolerations: []clusterv1beta1.Toleration{
				{Key: "gpu", Operator: clusterv1beta1.TolerationOpExists},
				{Key: "zone", Operator: clusterv1beta1.TolerationOpEqual, Value: "a"},
				{Key: clusterv1.ManagedClusterTaintUnreachable, Operator: clusterv1beta1.TolerationOpExists, TolerationSeconds: ptr.To[int64](300)},
			}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge,
			clusters: []clusterv1.ManagedCluster{
				cluster("gpu", "prod", taint("gpu", "x", clusterv1.TaintEffectNoSelect, now)),
				cluster("zone-a", "prod", taint("zone", "a", clusterv1.TaintEffectNoSelect, now)),
				cluster("zone-b", "prod", taint("zone", "b", clusterv1.TaintEffectNoSelect, now)),
				cluster("lost-long-ago", "prod", taint(clusterv1.ManagedClusterTaintUnreachable, "", clusterv1.TaintEffectNoSelect, now.Add(-time.Hour))),
				cluster("lost-now", "prod", taint(clusterv1.ManagedClusterTaintUnreachable, "", clusterv1.TaintEffectNoSelect, now.Add(-time.Minute))),
			},
			want: []string{"gpu", "lost-now", "zone-a"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled,
			requeue: 4 * time.Minute},
		{name: "toleration with an effect only matches that effect",
			spec: clusterv1beta1.PlacementSpec{Tolerations: []clusterv1beta1.Toleration{
				{Operator: clusterv1beta1.TolerationOpExists, Effect: clusterv1.TaintEffectNoSelectIfNew}}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge,
			clusters: []clusterv1.ManagedCluster{
				cluster("a", "prod", taint("k", "", clusterv1.TaintEffectNoSelect, now)),
				cluster("b", "prod", taint("k", "", clusterv1.TaintEffectNoSelectIfNew, now)),
			},
			want: []string{"b"}, reason: clusterv1beta1.ReasonAllDecisionsScheduled},
		{name: "CEL predicates are refused loudly",
			spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
				CelSelector: clusterv1beta1.ClusterCelSelector{CelExpressions: []string{"true"}}}}}},
			bindings: []clusterv1beta2.ManagedClusterSetBinding{binding("prod")}, sets: prodAndEdge, clusters: threeProd,
			reason: clusterv1beta1.ReasonNoManagedClusterMatched, misconfig: "celSelector is not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			decided := map[string]bool{}
			for _, d := range tc.decided {
				decided[d] = true
			}
			res := schedule(input{
				placement: &clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: tc.spec},
				bindings:  tc.bindings, sets: tc.sets, clusters: tc.clusters, decided: decided, now: now,
			})
			if strings.Join(res.clusters, ",") != strings.Join(tc.want, ",") {
				t.Errorf("clusters %v, want %v", res.clusters, tc.want)
			}
			wantStatus := metav1.ConditionFalse
			if tc.reason == clusterv1beta1.ReasonAllDecisionsScheduled {
				wantStatus = metav1.ConditionTrue
			}
			if res.satisfied.Type != clusterv1beta1.PlacementConditionSatisfied || res.satisfied.Reason != tc.reason || res.satisfied.Status != wantStatus {
				t.Errorf("satisfied %+v, want %s %s", res.satisfied, wantStatus, tc.reason)
			}
			mc := res.misconfigured
			switch {
			case tc.misconfig == "" && (mc.Status != metav1.ConditionFalse || mc.Reason != clusterv1beta1.ReasonSucceedConfigured):
				t.Errorf("misconfigured %+v, want False", mc)
			case tc.misconfig != "" && (mc.Status != metav1.ConditionTrue || !strings.Contains(mc.Message, tc.misconfig)):
				t.Errorf("misconfigured %+v, want True mentioning %q", mc, tc.misconfig)
			}
			if res.requeueAfter != tc.requeue {
				t.Errorf("requeueAfter %s, want %s", res.requeueAfter, tc.requeue)
			}
		})
	}
}
