// Package hub is the hub control plane (ycloud-hub): it turns federation.iaas.yusur.io
// objects into OCM ManifestWorks for the clusters a Placement picks, allocates what must be
// globally unique, and aggregates status back from the spokes.
//
// Run wires one controller-runtime manager (leader-elected: only the leader allocates):
//
//	hub/fedvpc   the FederatedVpc controller (resolve placement, allocate, render, write
//	             works, roll status up)
//	hub/ipam     per-cluster subnet carving and the hub-wide transit pool
//	hub/render   ManifestWork rendering and the naming scheme of spoke objects
//
// The hub relies on the OCM API contract only (api/ocm): PlacementDecisions in, ManifestWorks
// with statusFeedback out. It caches only the ManifestWorks it labels as its own.
//
// The RBAC markers below are the permissions the hub needs; hack/manifests.sh turns them
// into deploy/hub/rbac/role.yaml.
package hub

// +kubebuilder:rbac:groups=federation.iaas.yusur.io,resources=*,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=federation.iaas.yusur.io,resources=*/status;*/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=work.open-cluster-management.io,resources=manifestworks,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cluster.open-cluster-management.io,resources=placements;placementdecisions;managedclusters;managedclustersetbindings,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
