// Package ipam allocates addresses inside one subnet: its CIDRs (one per family, so a
// dual-stack subnet is one Pool), minus the gateway(s) and the excluded addresses.
//
// A Pool is in-memory bookkeeping only. The apiserver is the source of truth: the controller
// makes each allocation durable by creating one VnicIp object per address with a
// deterministic name, so `create` is the lock that keeps addresses unique across controller
// replicas and restarts. After a restart the controller lists those objects once and replays
// them with Reserve, which costs O(addresses) and needs no per-pod reconcile.
//
// Allocation scans forward from a per-family cursor and skips used and excluded addresses.
// The used set is a map, so the cost does not depend on the CIDR size (an IPv6 /64 is as
// cheap as a /28), and the cursor makes a run of allocations amortised O(1) each, as freed
// addresses are not reused until the cursor wraps — which also keeps a just-released address
// from going to a new pod while stale ARP/ND entries for it may still exist.
//
// Pool is safe for concurrent use.
package ipam
