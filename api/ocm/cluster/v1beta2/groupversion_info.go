/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package v1beta2 holds wire-compatible types for cluster.open-cluster-management.io/v1beta2
// (ManagedClusterSet, ManagedClusterSetBinding). See package
// github.com/ycloud-sdn/ycloud/api/ocm for why these are ours.
//
// +kubebuilder:object:generate=true
// +kubebuilder:skip
// +groupName=cluster.open-cluster-management.io
package v1beta2

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the OCM cluster API group at v1beta2.
	GroupVersion = schema.GroupVersion{Group: "cluster.open-cluster-management.io", Version: "v1beta2"}

	// SchemeBuilder adds this group-version's kinds to a scheme. It is apimachinery's, not
	// controller-runtime's, so importing these types costs their users no controller framework.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds every kind of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ManagedClusterSet{}, &ManagedClusterSetList{},
		&ManagedClusterSetBinding{}, &ManagedClusterSetBindingList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
