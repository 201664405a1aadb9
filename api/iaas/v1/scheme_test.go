/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// Every kind and its list must reach a scheme: a kind missing from register is invisible to
// typed clients and caches, and only shows up as a confusing "no kind registered" at runtime.
func TestAddToSchemeRegistersEveryKind(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	kinds := []string{"Vpc", "Subnet", "Nic", "Vnic", "VnicIp", "Eip", "EipGateway", "Nat", "Snat",
		"SecurityGroup", "YusurService", "NetworkProbe"}
	for _, k := range kinds {
		for _, kind := range []string{k, k + "List"} {
			if !s.Recognizes(GroupVersion.WithKind(kind)) {
				t.Errorf("%s not registered", kind)
			}
		}
	}
	if got := len(s.KnownTypes(GroupVersion)); got < 2*len(kinds) {
		t.Errorf("%d types registered, want at least %d", got, 2*len(kinds))
	}
}
