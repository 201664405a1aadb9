/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

func cmMeta(ordinal int32, name string) workv1.ManifestResourceMeta {
	return workv1.ManifestResourceMeta{Ordinal: ordinal, Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Name: name, Namespace: "default"}
}

func cond(t *testing.T, conds []metav1.Condition, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, conds)
	}
	return *c
}

func TestBuildStatusIsStableWhenNothingChanges(t *testing.T) {
	results := []manifestResult{
		{meta: cmMeta(0, "a"), avail: availYes},
		{meta: cmMeta(1, "b"), avail: availYes, hasFeedbackRules: true,
			feedback: []workv1.FeedbackValue{{Name: "k", Value: workv1.FieldValue{Type: workv1.String, String: ptr.To("v")}}}},
	}
	first := buildStatus(workv1.ManifestWorkStatus{}, 4, results, t0)
	second := buildStatus(first, 4, results, t1)
	// Equal status means no hub write on a periodic sync; a moving clock must not matter.
	if !equality.Semantic.DeepEqual(first, second) {
		t.Fatalf("status changed although nothing did:\nfirst  %+v\nsecond %+v", first, second)
	}
	for _, typ := range []string{workv1.WorkApplied, workv1.WorkAvailable} {
		c := cond(t, first.Conditions, typ)
		if c.Status != metav1.ConditionTrue || c.ObservedGeneration != 4 {
			t.Errorf("%s = %+v, want True at generation 4", typ, c)
		}
	}
	m1 := first.ResourceStatus.Manifests[1]
	if c := cond(t, m1.Conditions, workv1.ManifestStatusFeedbackSynced); c.Status != metav1.ConditionTrue {
		t.Errorf("feedback synced = %+v", c)
	}
	if meta.FindStatusCondition(first.ResourceStatus.Manifests[0].Conditions, workv1.ManifestStatusFeedbackSynced) != nil {
		t.Error("a manifest without feedback rules got StatusFeedbackSynced")
	}
	if len(m1.StatusFeedbacks.Values) != 1 || *m1.StatusFeedbacks.Values[0].Value.String != "v" {
		t.Errorf("feedback values %+v", m1.StatusFeedbacks.Values)
	}
}

func TestBuildStatusReportsFailures(t *testing.T) {
	ok := []manifestResult{{meta: cmMeta(0, "a"), avail: availYes}, {meta: cmMeta(1, "b"), avail: availYes}}
	before := buildStatus(workv1.ManifestWorkStatus{}, 1, ok, t0)

	bad := []manifestResult{
		{meta: cmMeta(0, "a"), avail: availNo},
		{meta: cmMeta(1, "b"), applyErr: errors.New("boom"), conflict: true, avail: availYes},
		{meta: workv1.ManifestResourceMeta{Ordinal: 2, Kind: "Widget", Version: "v1", Group: "example.com", Name: "w"},
			applyErr: errors.New("no matches for kind"), availMsg: "no matches for kind"},
		{meta: cmMeta(3, "d"), avail: availYes, hasFeedbackRules: true, problems: []string{"x: selects a list"}},
	}
	after := buildStatus(before, 2, bad, t1)

	applied := cond(t, after.Conditions, workv1.WorkApplied)
	if applied.Status != metav1.ConditionFalse || applied.Reason != workv1.ReasonAppliedManifestWorkFailed ||
		applied.ObservedGeneration != 2 || !applied.LastTransitionTime.Equal(&t1) {
		t.Errorf("work Applied = %+v", applied)
	}
	available := cond(t, after.Conditions, workv1.WorkAvailable)
	if available.Status != metav1.ConditionFalse || available.Reason != workv1.ReasonResourcesNotAvailable {
		t.Errorf("work Available = %+v (a missing object outranks an unknown one)", available)
	}

	m := after.ResourceStatus.Manifests
	if c := cond(t, m[0].Conditions, workv1.ManifestApplied); c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("manifest 0 Applied = %+v, want True with the old transition time", c)
	}
	if c := cond(t, m[0].Conditions, workv1.ManifestAvailable); c.Status != metav1.ConditionFalse || !c.LastTransitionTime.Equal(&t1) {
		t.Errorf("manifest 0 Available = %+v, want False since t1", c)
	}
	if c := cond(t, m[1].Conditions, workv1.ManifestApplied); c.Status != metav1.ConditionFalse || c.Reason != workv1.ReasonApplyConflict || c.Message != "boom" {
		t.Errorf("manifest 1 Applied = %+v", c)
	}
	if c := cond(t, m[2].Conditions, workv1.ManifestAvailable); c.Status != metav1.ConditionUnknown || c.Message != "no matches for kind" {
		t.Errorf("manifest 2 Available = %+v", c)
	}
	if c := cond(t, m[3].Conditions, workv1.ManifestStatusFeedbackSynced); c.Status != metav1.ConditionFalse || c.Message != "x: selects a list" {
		t.Errorf("manifest 3 StatusFeedbackSynced = %+v", c)
	}
	for _, mc := range m {
		if mc.Conditions == nil {
			t.Errorf("manifest %d has nil conditions (the schema requires the list)", mc.ResourceMeta.Ordinal)
		}
	}
}

func TestOrphanedAndConfigFor(t *testing.T) {
	k := resourceKey{Group: "iaas.yusur.io", Resource: "vpcs", Name: "a"}
	other := resourceKey{Resource: "configmaps", Namespace: "default", Name: "a"}
	sel := &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeSelectivelyOrphan,
		SelectivelyOrphan: &workv1.SelectivelyOrphan{OrphaningRules: []workv1.OrphaningRule{{Group: "iaas.yusur.io", Resource: "vpcs", Name: "a"}}}}
	for _, tc := range []struct {
		name string
		opt  *workv1.DeleteOption
		key  resourceKey
		want bool
	}{
		{"nil means foreground", nil, k, false},
		{"foreground", &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeForeground}, k, false},
		{"orphan", &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeOrphan}, k, true},
		{"selectively, listed", sel, k, true},
		{"selectively, not listed", sel, other, false},
	} {
		if got := orphaned(tc.opt, tc.key); got != tc.want {
			t.Errorf("%s: orphaned = %v, want %v", tc.name, got, tc.want)
		}
	}

	configs := []workv1.ManifestConfigOption{
		{ResourceIdentifier: workv1.ResourceIdentifier{Resource: "configmaps", Namespace: "default", Name: "a"}},
		{ResourceIdentifier: workv1.ResourceIdentifier{Group: "iaas.yusur.io", Resource: "vpcs", Name: "a"}},
	}
	if c := configFor(configs, k); c != &configs[1] {
		t.Errorf("configFor(vpc) = %v", c)
	}
	if c := configFor(configs, resourceKey{Resource: "configmaps", Namespace: "other", Name: "a"}); c != nil {
		t.Errorf("configFor matched another namespace: %v", c)
	}
}
