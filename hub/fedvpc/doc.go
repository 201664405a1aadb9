// Package fedvpc is the hub's FederatedVpc controller. For each FederatedVpc it writes one
// ManifestWork per cluster its Placement selects, holding the spoke Vpc and that cluster's
// Subnets, and reports the clusters' state back into the FederatedVpc status.
//
// One reconcile is a short sequence of steps (OCM's ManifestWorkReplicaSet controller is
// the model):
//
//  1. resolve the placement: the Placement must exist in the object's own namespace; the
//     clusters are the union of its PlacementDecisions;
//  2. allocate: carve per-cluster subnets (package ipam) from the recorded allocations, and
//     take the VPC's transit switch, link subnet and tunnel key from the hub-wide pool;
//  3. render every placed cluster's work (package render);
//  4. write the works that differ, delete the works of clusters that left;
//  5. aggregate the works' status and statusFeedback into the FederatedVpc status and write
//     it once, only if it changed.
//
// A failure in steps 1-3 is a problem: the Ready condition names it and nothing is pushed
// (works already out there are left as they are, so a bad edit never tears down a running
// network; only the works of clusters the placement dropped are still removed). New allocations are written to the status before any work carries them, and
// that status write ends the pass: the status is the durable record a restarted hub reads
// back, so it must never lag behind what the spokes were told.
//
// Writes are kept to what changed: works are compared with the render in canonical JSON,
// and a difference seen in the cache is confirmed against the apiserver before writing, so
// a resync or a restart writes nothing and a lagging cache does not cause double writes
// (works the hub just created are remembered until the cache has them). The clusters'
// works of one pass are written concurrently. The agents' status reports are batched
// (Options.StatusDelay), so several clusters reporting at once cost one status write.
//
// Deletion: a finalizer keeps the FederatedVpc until all its works are gone; the works'
// deleteOption is Foreground, so the work agents delete the spoke objects first.
package fedvpc
