// Package framework starts real Kubernetes control planes for integration tests.
//
// A Cluster is one etcd plus one kube-apiserver, built from k8s.io/kubernetes by
// hack/install-deps.sh into bin/ (setup-envtest downloads are not reachable here, so the
// binaries are ours). Several clusters may run at once in one test (a hub and two spokes):
// each gets its own ports, data directory and certificates. Every cluster installs our CRDs
// from deploy/crds and, when asked, the real OCM CRDs from ../shared/ocm-crds, so the
// apiserver validates objects against the same schemas users get.
//
// Processes are stopped through t.Cleanup; a test that fails half-way still stops them.
package framework
