// Package render turns a federated object into the ManifestWorks the hub writes: pure
// functions from (object, cluster, allocations) to a work, with deterministic names and
// canonical JSON, so rendering twice gives byte-identical manifests and a resync writes
// nothing. It also holds the naming scheme of spoke objects (see names.go).
package render
