/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package workagent is a stand-in for the OCM work agent of one managed cluster, for tests
// and the lab only (DESIGN.md §6): the real klusterlet cannot run here. Product code must
// rely only on the ManifestWork API (api/ocm/work/v1), never on this package.
//
// The agent watches ManifestWorks in the hub namespace named after its cluster and, like the
// real agent:
//
//   - puts the finalizer cluster.open-cluster-management.io/manifest-work-cleanup on each work;
//   - applies every manifest to the spoke apiserver in order, with server-side apply as field
//     manager "work-agent" (forced for the default Update strategy, as configured for the
//     ServerSideApply strategy, create-if-missing for CreateOnly, nothing for ReadOnly);
//   - reports per-manifest conditions (Applied, Available = the object exists,
//     StatusFeedbackSynced when the manifest has feedback rules) and work-level Applied and
//     Available, all carrying observedGeneration = the work's generation;
//   - reports statusFeedback only for manifestConfigs[].feedbackRules of type JSONPaths,
//     matched to manifests by resourceIdentifier (group, plural resource, namespace, name):
//     each path is evaluated on the object's current state on the spoke, and only scalar
//     results (integer, string, boolean) are reported; a path that selects a list, an object
//     or several values yields no value and StatusFeedbackSynced=False;
//   - re-reads the applied objects every StatusSyncInterval (default 10s) and patches the
//     work status only when it changed;
//   - deletes objects dropped from a work's manifest list, and on work deletion honours
//     deleteOption: Foreground (default) deletes the applied objects and keeps the work until
//     they are gone from the spoke, Orphan leaves them, SelectivelyOrphan leaves the listed
//     ones. An object also listed by another live work of the cluster is never deleted.
//
// Where it knowingly differs from the real agent:
//
//   - The record of applied objects is the work's own status.resourceStatus (plus an
//     in-memory copy with UIDs), not an AppliedManifestWork on the spoke; applied objects get
//     no owner reference. After a restart the agent re-applies every work once.
//   - Spoke objects are deleted with background propagation: test spokes often run no
//     garbage collector, and foreground propagation would never finish there. Objects with
//     their own finalizers are still waited for.
//   - Drift on the spoke (someone edits an applied object) is corrected only when the work
//     changes or a manifest's object is missing, not on a periodic re-apply.
//   - Not implemented: WellKnownStatus feedback, Watch scrape type (everything is polled),
//     conditionRules, ttlSecondsAfterFinished, ignoreFields, executor permission checks,
//     the Progressing and Degraded conditions, and the hub webhook checks (empty work,
//     500 KiB limit).
//
// Stats counts hub writes (status and finalizer patches) so benchmarks can report the hub
// load a converged system causes.
package workagent
