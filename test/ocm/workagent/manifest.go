/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"encoding/json"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// resourceKey names an object on the spoke independently of the API version it was applied
// at; it is also how resourceIdentifier and orphaning rules address manifests.
type resourceKey struct {
	Group, Resource, Namespace, Name string
}

func (k resourceKey) String() string {
	gr := schema.GroupResource{Group: k.Group, Resource: k.Resource}.String()
	if k.Namespace == "" {
		return gr + " " + k.Name
	}
	return gr + " " + k.Namespace + "/" + k.Name
}

// manifest is one parsed entry of spec.workload.manifests.
type manifest struct {
	ordinal int32
	// obj is the manifest as sent by the hub, ready to apply; nil if it does not decode.
	obj        *unstructured.Unstructured
	gvk        schema.GroupVersionKind
	resource   string // plural resource name, empty until mapped
	namespaced bool
	// err is why the manifest cannot be applied (decode, mapping or shape).
	err error
}

func (m *manifest) key() resourceKey {
	return resourceKey{Group: m.gvk.Group, Resource: m.resource, Namespace: m.obj.GetNamespace(), Name: m.obj.GetName()}
}

// resourceMeta is the status entry that identifies the manifest. Fields that could not be
// worked out stay empty.
func (m *manifest) resourceMeta() workv1.ManifestResourceMeta {
	rm := workv1.ManifestResourceMeta{Ordinal: m.ordinal, Group: m.gvk.Group, Version: m.gvk.Version, Kind: m.gvk.Kind, Resource: m.resource}
	if m.obj != nil {
		rm.Name, rm.Namespace = m.obj.GetName(), m.obj.GetNamespace()
	}
	return rm
}

// parseManifests decodes the manifests and maps each to its resource on the spoke. A bad
// manifest does not stop the others: it carries its error and is reported Applied=False.
func parseManifests(raws []runtime.RawExtension, mapper meta.RESTMapper) []*manifest {
	out := make([]*manifest, 0, len(raws))
	for i, raw := range raws {
		m := &manifest{ordinal: int32(i)}
		out = append(out, m)
		obj := &unstructured.Unstructured{}
		if err := json.Unmarshal(raw.Raw, &obj.Object); err != nil {
			m.err = fmt.Errorf("manifest %d: decode: %w", i, err)
			continue
		}
		m.obj, m.gvk = obj, obj.GroupVersionKind()
		if m.gvk.Kind == "" || m.gvk.Version == "" {
			m.err = fmt.Errorf("manifest %d: apiVersion and kind are required", i)
			continue
		}
		if obj.GetName() == "" {
			// A real hub's webhook refuses this (generateName is not allowed either).
			m.err = fmt.Errorf("manifest %d (%s): metadata.name is required", i, m.gvk.Kind)
			continue
		}
		mapping, err := mapper.RESTMapping(m.gvk.GroupKind(), m.gvk.Version)
		if err != nil {
			m.err = fmt.Errorf("manifest %d (%s %s): map to a resource: %w", i, m.gvk, obj.GetName(), err)
			continue
		}
		m.resource = mapping.Resource.Resource
		m.namespaced = mapping.Scope.Name() == meta.RESTScopeNameNamespace
		if m.namespaced && obj.GetNamespace() == "" {
			m.err = fmt.Errorf("manifest %d (%s %s): namespaced kind without metadata.namespace", i, m.gvk.Kind, obj.GetName())
			continue
		}
		if !m.namespaced && obj.GetNamespace() != "" {
			obj.SetNamespace("") // the apiserver ignores it too; keep keys consistent
		}
		stripServerFields(obj)
	}
	return out
}

// stripServerFields removes metadata a server-side apply request must not carry (an applied
// configuration with managedFields is refused; a stale resourceVersion would conflict).
func stripServerFields(obj *unstructured.Unstructured) {
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
}

// configFor returns the manifestConfigs entry whose resourceIdentifier names the object, or
// nil. Matching is exact on group, plural resource, namespace and name, like upstream.
func configFor(configs []workv1.ManifestConfigOption, k resourceKey) *workv1.ManifestConfigOption {
	for i := range configs {
		id := configs[i].ResourceIdentifier
		if id.Group == k.Group && id.Resource == k.Resource && id.Namespace == k.Namespace && id.Name == k.Name {
			return &configs[i]
		}
	}
	return nil
}

// orphaned reports whether deleteOption keeps the object on the spoke when it leaves the
// work (the work is deleted or the manifest is dropped).
func orphaned(opt *workv1.DeleteOption, k resourceKey) bool {
	if opt == nil {
		return false
	}
	switch opt.PropagationPolicy {
	case workv1.DeletePropagationPolicyTypeOrphan:
		return true
	case workv1.DeletePropagationPolicyTypeSelectivelyOrphan:
		if opt.SelectivelyOrphan == nil {
			return false
		}
		for _, r := range opt.SelectivelyOrphan.OrphaningRules {
			if r.Group == k.Group && r.Resource == k.Resource && r.Namespace == k.Namespace && r.Name == k.Name {
				return true
			}
		}
	}
	return false
}

// keyFromMeta turns a status entry back into a key; ok is false when the entry never got as
// far as a resource (a manifest that did not map), so there is nothing on the spoke to clean.
func keyFromMeta(rm workv1.ManifestResourceMeta) (resourceKey, schema.GroupVersionKind, bool) {
	if rm.Resource == "" || rm.Name == "" || rm.Kind == "" || rm.Version == "" {
		return resourceKey{}, schema.GroupVersionKind{}, false
	}
	return resourceKey{Group: rm.Group, Resource: rm.Resource, Namespace: rm.Namespace, Name: rm.Name},
		schema.GroupVersionKind{Group: rm.Group, Version: rm.Version, Kind: rm.Kind}, true
}

// errApplyConflict marks a server-side apply refused for field ownership.
var errApplyConflict = errors.New("apply conflict")
