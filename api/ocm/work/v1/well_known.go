/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

// Condition types of status.conditions (work level) and of
// status.resourceStatus.manifests[].conditions (manifest level). The work-level condition
// aggregates the manifest-level ones of the same type.
const (
	// WorkApplied: every manifest was applied to the managed cluster.
	WorkApplied = "Applied"
	// WorkAvailable: every applied object exists on the managed cluster.
	WorkAvailable = "Available"
	// WorkProgressing: the agent is still applying the work.
	WorkProgressing = "Progressing"
	// WorkDegraded: the objects do not match the desired state for a while.
	WorkDegraded = "Degraded"

	ManifestApplied     = "Applied"
	ManifestAvailable   = "Available"
	ManifestProgressing = "Progressing"
	ManifestDegraded    = "Degraded"
	// ManifestStatusFeedbackSynced is True when every feedback rule of the manifest produced
	// a value, False when a path selected nothing usable (missing, list or object).
	ManifestStatusFeedbackSynced = "StatusFeedbackSynced"
)

// Condition reasons the work agent reports (the values upstream agents use, so consumers
// that match on them behave the same against both).
const (
	ReasonAppliedManifestWorkComplete = "AppliedManifestWorkComplete"
	ReasonAppliedManifestWorkFailed   = "AppliedManifestWorkFailed"
	ReasonResourcesAvailable          = "ResourcesAvailable"
	ReasonResourcesNotAvailable       = "ResourcesNotAvailable"
	ReasonResourcesStatusUnknown      = "ResourcesStatusUnknown"

	ReasonAppliedManifestComplete  = "AppliedManifestComplete"
	ReasonAppliedManifestFailed    = "AppliedManifestFailed"
	ReasonApplyConflict            = "ApplyConflict"
	ReasonResourceAvailable        = "ResourceAvailable"
	ReasonResourceNotAvailable     = "ResourceNotAvailable"
	ReasonResourceStatusUnknown    = "ResourceStatusUnknown"
	ReasonStatusFeedbackSynced     = "StatusFeedbackSynced"
	ReasonStatusFeedbackSyncFailed = "StatusFeedbackSyncFailed"
	ReasonNoStatusFeedbackSynced   = "NoStatusFeedbackSynced"
)

const (
	// ManifestWorkFinalizer is put on every ManifestWork by the work agent of its cluster;
	// the agent removes it once the applied objects are cleaned up (or orphaned).
	ManifestWorkFinalizer = "cluster.open-cluster-management.io/manifest-work-cleanup"
	// AppliedManifestWorkFinalizer guards the agent's record of applied objects on the
	// managed cluster.
	AppliedManifestWorkFinalizer = "cluster.open-cluster-management.io/applied-manifest-work-cleanup"
)

// MaxManifestsSizeBytes is the limit a real hub's admission webhook puts on the total size
// of the manifests of one work.
const MaxManifestsSizeBytes = 500 * 1024
