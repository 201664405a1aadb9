/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package ocm holds our own Go types for the Open Cluster Management (OCM) kinds ycloud uses.
//
// Why they are ours: the hub pushes tenant networks to spoke clusters through OCM ManifestWorks
// chosen by OCM Placements (DESIGN.md §5), but the module proxy we build from refuses
// open-cluster-management.io/* (DESIGN.md §6). So we keep wire-compatible types here, written
// from the upstream CRD schemas in ../shared/ocm-crds and OCM's public documentation. "Wire
// compatible" means: every JSON field name, optionality and enum value matches the CRD schema,
// so an object we marshal is accepted unchanged by a real OCM hub, and an object a real hub
// returns unmarshals into our types without losing fields. wire_test.go proves both: it walks
// each CRD's openAPIV3Schema against our types, and round-trips fully populated objects through
// a kube-apiserver serving the real CRDs (a misspelt field is pruned there and the test fails).
//
// Layout, one package per OCM group/version, each with groupversion_info.go:
//
//	work/v1          ManifestWork             (work.open-cluster-management.io/v1)
//	cluster/v1       ManagedCluster           (cluster.open-cluster-management.io/v1)
//	cluster/v1beta1  Placement, PlacementDecision
//	cluster/v1beta2  ManagedClusterSet, ManagedClusterSetBinding
//
// The packages carry +kubebuilder:skip so controller-gen never emits CRDs for them: the CRDs
// belong to OCM (the hub installs upstream's), never to our deploy/ bundles. Deepcopy code is
// generated as usual (make generate).
//
// What is deliberately not here: validating webhooks. A real OCM hub rejects, for example, a
// ManifestWork with no manifests or over 500 KiB, a manifest without metadata.name, and a
// ManagedClusterSetBinding whose name differs from spec.clusterSet. A test apiserver that only
// has the CRDs accepts those, so producers must keep to the rules themselves (see the
// constants and helpers next to each type).
package ocm
