/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package v1alpha1 is the hub API of ycloud, group federation.iaas.yusur.io. Every kind is
// namespaced and the namespace is the tenant: a FederatedVpc in namespace tenant-a belongs to
// tenant a, may only use Placements of that namespace, and its CIDRs may overlap those of other
// tenants. The hub renders these objects into iaas.yusur.io/v1 objects inside OCM
// ManifestWorks for the clusters its Placement selects.
//
// +kubebuilder:object:generate=true
// +groupName=federation.iaas.yusur.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "federation.iaas.yusur.io", Version: "v1alpha1"}

	// SchemeBuilder adds this group-version's kinds to a scheme. It is apimachinery's, not
	// controller-runtime's, so importing the API costs its users no controller framework.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds every kind of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes is filled by the init functions of the <kind>_types.go files, which run
	// before anyone can call AddToScheme.
	knownTypes []runtime.Object
)

// register records a kind and its list; each <kind>_types.go calls it from init.
func register(objs ...runtime.Object) {
	knownTypes = append(knownTypes, objs...)
}

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Resource turns an unqualified resource name into a group-qualified one, for errors built
// with k8s.io/apimachinery/pkg/api/errors.
func Resource(resource string) schema.GroupResource {
	return GroupVersion.WithResource(resource).GroupResource()
}
