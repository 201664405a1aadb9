// Package controller is ycloud-controller: it reconciles the iaas.yusur.io resources of one
// spoke cluster, and its pods and nodes, into the cluster's OVN northbound database.
//
// One controller per kind, each level-driven: read the informer and OVSDB caches, build the
// desired rows with the pure builders of package ovnnb, diff, and send at most one NB
// transaction per reconcile. Drift is repaired two ways: NB cache events for rows we own
// enqueue their owner at once, and every object is reconciled again each resync period.
// Garbage collection deletes owned rows whose owner object no longer exists; it runs only
// once both caches are synced, so a restart never prunes rows before it knows the world.
//
// IPAM: the apiserver is the source of truth. Each allocation is a VnicIp object created
// before anything else refers to the address; its name is derived from the subnet and the
// address, so a create is a lock. On start the allocator lists VnicIps once per subnet and
// replays them (O(addresses)); no pod needs to be reconciled to rebuild it.
//
// API writes per pod are kept to what the API needs: VnicIp, Vnic and Nic creates, one pod
// annotation patch carrying the allocation the CNI reads, and the Vnic status once its port
// is in NB. Status is written only when it changes.
package controller
