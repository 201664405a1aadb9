// Package ic is ycloud-ic, the per-cluster OVN interconnect agent: it joins the federated
// VPCs of one spoke cluster (one OVN availability zone) to their peers in other clusters
// through OVN-IC. ovn-ic itself runs beside it, pointed at the same four databases.
//
// # What it does
//
//   - Availability zone: NB_Global.name = the AZ name, options:ic-route-adv and
//     ic-route-learn = true (PlanAZ). ovn-ic registers the AZ in IC-SB from that.
//   - Transit switches: for every Vpc with spec.federation, the transit switch the hub
//     named is created in the global IC-NB if missing and this AZ's address on the transit
//     subnet is claimed on it, in race-free transactions (transit.go). ovn-ic copies the
//     switch into every AZ's NB.
//   - Link: the VPC router vpc-<vpc> (ycloud-controller's) gets a port on the transit
//     switch copy, with the claimed address, options:gateway_mtu and gateway chassis on the
//     gateway nodes (Link, PlanLink). ovn-ic then adds the routes it learns from the
//     other AZs to that router.
//   - Gateways: nodes matching --gateway-node-selector (label GatewayNodeLabel=true) whose
//     chassis (named after the node) is not known to lack ovn-is-interconn=true; up to
//     --gateways-per-vpc of them, with descending priorities. The highest one alive is
//     active; the others take over when its chassis leaves SB (ovn-controller stopped) or
//     its BFD sessions go down (host or link failure). A SIGKILLed ovn-controller alone
//     changes nothing: ovs-vswitchd keeps forwarding and keeps BFD up. Each VPC's list
//     starts at a different node, which spreads the active gateways (OrderGateways).
//   - Status: Vpc status.interconnect (transit switch, gateway chassis highest first,
//     learned and advertised route counts), patched only when it changes, and only that
//     field (status.go).
//   - Removal: a Vpc that loses spec.federation, is deleted, or has no gateway left is
//     unlinked: its ports go, the routes ovn-ic had learned into its router go, its claim is
//     released (the last AZ out deletes the transit switch) and its advertised routes are
//     withdrawn (withdraw.go). Rows left by a crash or by changes made while ycloud-ic was
//     down are garbage-collected once the caches are synced, and every resync period.
//
// # Tenant isolation: one transit switch per federated VPC
//
// ovn-ic advertises the routes of a router that has a port on a transit switch into IC-SB
// Route rows tagged with that transit switch, and it learns into a router only the Route
// rows of the transit switches the router itself is on (ovn-ic route_run: routers are
// found through their own transit switch port bindings, routes are looked up by transit
// switch). The hub gives every FederatedVpc its own transit switch and transit subnet, and
// a VPC router is only ever attached to its own; so tenant B's routes are advertised on B's
// switch only and can only be learned by B's routers, whatever the CIDRs (tenants may
// overlap). Route tables (LRP options:route_table) are not needed for that: they would only
// matter for a router on several transit switches at once, which this design never
// builds. Turning route exchange on for the whole AZ (NB_Global) is therefore safe: a
// router without a transit switch port, like the default VPC's, takes no part. ycloud-ic
// refuses to attach a second local Vpc to a transit switch already used by another one
// (ReasonTransitConflict), as that would mix their routes.
//
// # Transit addresses
//
// Every AZ needs a distinct address on a VPC's transit subnet. The API has no per-cluster
// index (see the report to the hub engineer: a hub-assigned spec.federation address would
// make this trivial), so the address is derived from a stable hash of the AZ name, probing
// linearly past addresses claimed by other AZs (external_ids "ycloud.io/transit-ip/<addr>"
// = AZ on the IC-NB transit switch) or used by another AZ's IC-SB Port_Binding. The claim
// is an atomic map insert checked by a wait in the same transaction, so two AZs whose
// hashes collide cannot both win; the loser re-reads and takes the next address. An
// address, once held, never moves. The MAC of the port is derived from its globally unique
// name (<transit switch>_<az>).
//
// # Topology of one link (per AZ)
//
//	vpc-<vpc> --- vpc-<vpc>_<ts> ==== <ts>_<az> --- [ transit switch <ts> ] --- <ts>_<other az> (remote)
//	              169.254.x.y/28        router            (ovn-ic's copy)          tunnel to the other
//	              gateway_chassis: gw1 (2), gw2 (1)                                 AZ's active gateway
//
// Traffic from a pod on any node of the AZ is routed by the distributed VPC router, then
// redirected by geneve to the active gateway chassis, which tunnels it to the other AZ's
// active gateway (published by ovn-ic as IC-SB Port_Binding.gateway).
//
// A new link is made in two steps: the ports first, the gateway chassis once ovn-ic has
// written the tunnel keys the transit switch and our port have in every AZ
// (requested-tnl-key). ovn-controller 23.03 does not reliably follow a key that changes
// under flows it has installed, and without gateway chassis no chassis installs any (see
// withholdGateways).
//
// # Not fighting ycloud-controller
//
// Rows we create carry ycloud.io/owner-kind=Interconnect, ycloud.io/owner=<vpc>,
// ycloud.io/cluster and ycloud.io/vpc. The controller manages only the router's own columns
// and the routes, policies and ports it owns, and its garbage collector leaves owner kinds
// it does not know alone. Our names contain "_", which Kubernetes object names cannot, so
// they never collide with the controller's. Columns other writers use are merged, never
// replaced: ovn-ic writes options:requested-tnl-key on transit switch ports, ovn-northd its
// own keys in NB_Global.options.
//
// # Reconciler shape
//
// One controller-runtime reconciler per Vpc: read the informer and OVSDB caches, build the
// desired rows with pure functions, diff, and send at most one IC-NB and one NB transaction.
// OVSDB cache events (the transit switch copy appearing, learned routes, port bindings,
// chassis, our own rows edited behind our back) are mapped to Vpcs and queued; the periodic
// resync repairs anything missed.
package ic

// RBAC of ycloud-ic: hack/manifests.sh turns these into deploy/spoke/rbac/ic_role.yaml.
// +kubebuilder:rbac:groups=iaas.yusur.io,resources=vpcs,verbs=get;list;watch
// +kubebuilder:rbac:groups=iaas.yusur.io,resources=vpcs/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
