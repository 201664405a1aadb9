// Package ipam is the hub's global address management: it carves per-cluster subnet pieces
// out of a federated VPC's CIDR (Carve) and hands out the transit switch, link network and
// tunnel key that join a VPC's routers across clusters (TransitPool).
//
// Carving. A subnet is pinned (its CIDR, in one cluster) or carved (perClusterPrefixLength,
// one piece per placed cluster). A new piece is the lowest aligned free block of its size
// inside the subnet's bound (or the VPC), avoiding every CIDR a subnet declares and every
// piece already given out; subnets are served in spec order and clusters in name order, so
// the result depends only on the input. Recorded pieces (FederatedVpc status.allocations)
// never move while valid: a cluster that joins gets a new piece and nobody else's changes.
// A cluster that leaves keeps its piece for its return until the VPC runs out of room;
// then pieces of departed clusters that no longer hold the VPC are reclaimed. Carve
// refuses, rather than moves, a piece in use that a newly declared subnet would overlap:
// a spoke Subnet's CIDR is immutable and pods hold its addresses.
//
// Transit. Each federated VPC gets one slice of the transit pool (169.254.0.0/16 cut into
// /28 by default: 4096 VPCs of up to 14 clusters; the slice holding 169.254.169.254 is
// skipped), a tunnel key from OVN's global datapath range, and a switch name unique across
// tenants. TransitPool is an in-memory index guarded by a mutex: the statuses are the
// durable record, restored into the pool before anything is allocated.
package ipam
