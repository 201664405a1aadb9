/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package v1 holds wire-compatible types for work.open-cluster-management.io/v1 (ManifestWork).
// See package github.com/ycloud-sdn/ycloud/api/ocm for why these are ours.
//
// +kubebuilder:object:generate=true
// +kubebuilder:skip
// +groupName=work.open-cluster-management.io
package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the OCM work API group and version served by the upstream CRDs.
	GroupVersion = schema.GroupVersion{Group: "work.open-cluster-management.io", Version: "v1"}

	// SchemeBuilder adds this group-version's kinds to a scheme. It is apimachinery's, not
	// controller-runtime's, so importing these types costs their users no controller framework.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds every kind of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ManifestWork{}, &ManifestWorkList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
