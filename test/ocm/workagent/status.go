/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// availability is what the agent knows about an applied object's existence on the spoke.
type availability int

const (
	availUnknown availability = iota
	availYes
	availNo
)

// manifestResult is what one pass learned about one manifest.
type manifestResult struct {
	meta workv1.ManifestResourceMeta
	// applyErr is nil when the manifest is applied (this pass or an earlier one of the same
	// generation); conflict marks a server-side apply ownership conflict.
	applyErr error
	conflict bool
	avail    availability
	availMsg string
	// hasFeedbackRules adds StatusFeedbackSynced; problems make it False.
	hasFeedbackRules bool
	feedback         []workv1.FeedbackValue
	problems         []string
}

// maxMessage keeps condition messages well under the schema's 32768 limit.
const maxMessage = 2048

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage-3] + "..."
}

// buildStatus computes the work status from the previous one and this pass's results. It is
// pure: transition times are kept for conditions whose status did not change, so an
// unchanged world yields a status equal to old and no hub write.
func buildStatus(old workv1.ManifestWorkStatus, generation int64, results []manifestResult, now metav1.Time) workv1.ManifestWorkStatus {
	var out workv1.ManifestWorkStatus
	failed, missing, unknown := 0, 0, 0
	for _, r := range results {
		var prev []metav1.Condition
		for _, pm := range old.ResourceStatus.Manifests {
			if pm.ResourceMeta == r.meta {
				prev = pm.Conditions
				break
			}
		}
		want := []metav1.Condition{appliedCondition(r), availableCondition(r)}
		if r.hasFeedbackRules {
			c := metav1.Condition{Type: workv1.ManifestStatusFeedbackSynced, Status: metav1.ConditionTrue, Reason: workv1.ReasonStatusFeedbackSynced}
			if len(r.problems) > 0 {
				c.Status, c.Reason = metav1.ConditionFalse, workv1.ReasonStatusFeedbackSyncFailed
				c.Message = truncate(strings.Join(r.problems, "; "))
			}
			want = append(want, c)
		}
		mc := workv1.ManifestCondition{
			ResourceMeta:    r.meta,
			StatusFeedbacks: workv1.StatusFeedbackResult{Values: r.feedback},
			Conditions:      mergeConditions(prev, want, generation, now),
		}
		out.ResourceStatus.Manifests = append(out.ResourceStatus.Manifests, mc)
		if r.applyErr != nil {
			failed++
		}
		switch r.avail {
		case availNo:
			missing++
		case availUnknown:
			unknown++
		}
	}

	applied := metav1.Condition{Type: workv1.WorkApplied, Status: metav1.ConditionTrue,
		Reason: workv1.ReasonAppliedManifestWorkComplete, Message: "Apply manifest work complete"}
	if failed > 0 {
		applied.Status, applied.Reason = metav1.ConditionFalse, workv1.ReasonAppliedManifestWorkFailed
		applied.Message = fmt.Sprintf("Failed to apply manifest work: %d of %d manifests not applied", failed, len(results))
	}
	available := metav1.Condition{Type: workv1.WorkAvailable, Status: metav1.ConditionTrue,
		Reason: workv1.ReasonResourcesAvailable, Message: "All resources are available"}
	switch {
	case missing > 0:
		available.Status, available.Reason = metav1.ConditionFalse, workv1.ReasonResourcesNotAvailable
		available.Message = fmt.Sprintf("%d of %d resources are not available", missing, len(results))
	case unknown > 0:
		available.Status, available.Reason = metav1.ConditionUnknown, workv1.ReasonResourcesStatusUnknown
		available.Message = fmt.Sprintf("%d of %d resources have an unknown status", unknown, len(results))
	}
	// Work-level conditions of other types (none today) are kept as they are.
	out.Conditions = append([]metav1.Condition(nil), old.Conditions...)
	for _, c := range []metav1.Condition{applied, available} {
		c.ObservedGeneration = generation
		c.LastTransitionTime = now
		meta.SetStatusCondition(&out.Conditions, c)
	}
	return out
}

func appliedCondition(r manifestResult) metav1.Condition {
	c := metav1.Condition{Type: workv1.ManifestApplied, Status: metav1.ConditionTrue,
		Reason: workv1.ReasonAppliedManifestComplete, Message: "Apply manifest complete"}
	if r.applyErr != nil {
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, workv1.ReasonAppliedManifestFailed, truncate(r.applyErr.Error())
		if r.conflict {
			c.Reason = workv1.ReasonApplyConflict
		}
	}
	return c
}

func availableCondition(r manifestResult) metav1.Condition {
	switch r.avail {
	case availYes:
		return metav1.Condition{Type: workv1.ManifestAvailable, Status: metav1.ConditionTrue,
			Reason: workv1.ReasonResourceAvailable, Message: "Resource is available"}
	case availNo:
		return metav1.Condition{Type: workv1.ManifestAvailable, Status: metav1.ConditionFalse,
			Reason: workv1.ReasonResourceNotAvailable, Message: "Resource is not available"}
	}
	msg := r.availMsg
	if msg == "" {
		msg = "Resource status is unknown"
	}
	return metav1.Condition{Type: workv1.ManifestAvailable, Status: metav1.ConditionUnknown,
		Reason: workv1.ReasonResourceStatusUnknown, Message: truncate(msg)}
}

// mergeConditions returns exactly the wanted conditions, keeping the previous transition
// time of each whose status did not change.
func mergeConditions(prev, want []metav1.Condition, generation int64, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, w := range want {
		w.ObservedGeneration = generation
		w.LastTransitionTime = now
		if p := meta.FindStatusCondition(prev, w.Type); p != nil && p.Status == w.Status {
			w.LastTransitionTime = p.LastTransitionTime
		}
		out = append(out, w)
	}
	return out
}
