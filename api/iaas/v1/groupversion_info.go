/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

// Package v1 is the spoke API of ycloud, group iaas.yusur.io: the per-cluster network
// resources a user or the hub (through OCM ManifestWorks) declares, and that ycloud-controller
// translates into OVN northbound rows.
//
// Validation that needs only the object itself lives in the schema (OpenAPI markers and CEL
// rules), so the apiserver refuses bad input with a message naming the field. Checks that need
// other objects (a gateway inside its Subnet, an EIP inside its gateway's pool) are the
// controllers' job and show up as a False Ready condition.
//
// +kubebuilder:object:generate=true
// +groupName=iaas.yusur.io
package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "iaas.yusur.io", Version: "v1"}

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
