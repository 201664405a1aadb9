// Package spoke is the per-cluster control plane (ycloud-controller): it translates the
// iaas.yusur.io resources into the OVN northbound database, owns IPAM, and later services.
//
// The RBAC markers below are the permissions the controller needs; hack/manifests.sh turns
// them into deploy/spoke/rbac/role.yaml.
package spoke

// +kubebuilder:rbac:groups=iaas.yusur.io,resources=*,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=iaas.yusur.io,resources=*/status;*/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups="",resources=nodes;namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=services;endpoints,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
