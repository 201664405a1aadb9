/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package placement is a stand-in for the OCM placement controller, for tests and the lab
// only (DESIGN.md §6): the real hub controllers cannot run here. Product code must rely only
// on the Placement and PlacementDecision API (api/ocm/cluster/v1beta1), never on this package.
//
// For every Placement on the hub it selects ManagedClusters and writes the result the way
// upstream does:
//
//   - candidates are the members of the ManagedClusterSets bound into the placement's
//     namespace by a ManagedClusterSetBinding whose set exists, restricted to
//     spec.clusterSets when that is not empty. Membership follows the set's selector:
//     ExclusiveClusterSetLabel (the default) means the cluster label
//     cluster.open-cluster-management.io/clusterset=<set>; LabelSelector means the set's
//     label selector. Clusters being deleted are never selected;
//   - spec.predicates are ORed; within one, requiredClusterSelector.labelSelector and
//     claimSelector (against status.clusterClaims) must both match;
//   - taints with effect NoSelect (and NoSelectIfNew, for clusters not already selected)
//     exclude a cluster unless tolerated; tolerationSeconds count from the taint's timeAdded;
//   - already selected clusters are kept first (the Steady prioritizer), then clusters are
//     taken by name, up to spec.numberOfClusters;
//   - the result goes into PlacementDecisions named <placement>-decision-<n> (100 clusters
//     per object), labelled cluster.open-cluster-management.io/placement=<placement>,
//     decision-group-index=0 and decision-group-name="", owned by the Placement, with
//     status.decisions sorted by cluster name; the Placement status gets
//     numberOfSelectedClusters, one decision group and the PlacementSatisfied and
//     PlacementMisconfigured conditions (upstream reasons and messages).
//
// It reacts to Placements, ManagedCluster labels, taints, claims and deletion, cluster sets
// and bindings. Because test hubs run no garbage collector, it also deletes the decisions
// of a deleted Placement itself.
//
// Where it knowingly differs from upstream:
//
//   - Prioritizers other than Steady (Balance, resource and add-on scores), spread
//     policies, sortBy=Score and decision strategies (groups) are not implemented: there is
//     always one decision group, index 0, and selection beyond Steady is by name.
//   - celSelector predicates are not evaluated: such a predicate selects nothing and the
//     placement reports PlacementMisconfigured=True.
//   - PreferNoSelect taints never block (upstream does not implement them either).
//   - It does not write ManagedClusterSetBinding or ManagedClusterSet status (the upstream
//     registration controller does: Bound, ClusterSetEmpty), and it does not check the
//     webhook rule that a binding is named after its set.
package placement
