/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// While a manifest cannot be mapped (its kind unknown to discovery for now), nothing is
// pruned: it may be one of the objects applied before. The agent here has no clients, so any
// attempt to delete would panic.
func TestNoPruningWhileAManifestIsUnmapped(t *testing.T) {
	vpc := resourceKey{Group: "iaas.yusur.io", Resource: "vpcs", Name: "a"}
	rec := &record{applied: map[resourceKey]appliedObject{
		vpc: {gvk: schema.GroupVersionKind{Group: "iaas.yusur.io", Version: "v1", Kind: "Vpc"}, uid: "u1"},
	}, readOnly: map[resourceKey]bool{}}
	unmapped := &manifest{obj: &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "iaas.yusur.io/v1", "kind": "Vpc", "metadata": map[string]any{"name": "a"}}}}
	unmapped.gvk = unmapped.obj.GroupVersionKind()

	a := &Agent{}
	if err := a.deleteDropped(context.Background(), &workv1.ManifestWork{}, []*manifest{unmapped}, rec); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.applied[vpc]; !ok {
		t.Fatal("the applied vpc was forgotten while its manifest could not be mapped")
	}
}
