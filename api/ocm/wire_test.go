/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package ocm_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

// kindCase ties one of our Go types to the upstream CRD file that defines it, and lists the
// enum-typed constants we declare for it (schema path -> our values).
type kindCase struct {
	kind  string
	file  string
	obj   runtime.Object
	enums map[string][]string
}

var kindCases = []kindCase{
	{
		kind: "ManifestWork", file: "0000_00_work.open-cluster-management.io_manifestworks.crd.yaml", obj: &workv1.ManifestWork{},
		enums: map[string][]string{
			"spec.deleteOption.propagationPolicy": strs(workv1.DeletePropagationPolicyTypeForeground,
				workv1.DeletePropagationPolicyTypeOrphan, workv1.DeletePropagationPolicyTypeSelectivelyOrphan),
			"spec.manifestConfigs[].feedbackRules[].type":                                    strs(workv1.WellKnownStatusType, workv1.JSONPathsType),
			"spec.manifestConfigs[].feedbackScrapeType":                                      strs(workv1.FeedbackPollScrapeType, workv1.FeedbackWatchScrapeType),
			"spec.manifestConfigs[].conditionRules[].type":                                   strs(workv1.WellKnownConditionsType, workv1.CelConditionExpressionsType),
			"spec.manifestConfigs[].updateStrategy.serverSideApply.ignoreFields[].condition": strs(workv1.IgnoreFieldsConditionOnSpokePresent, workv1.IgnoreFieldsConditionOnSpokeChange),
			"spec.manifestConfigs[].updateStrategy.type": strs(workv1.UpdateStrategyTypeUpdate, workv1.UpdateStrategyTypeCreateOnly,
				workv1.UpdateStrategyTypeServerSideApply, workv1.UpdateStrategyTypeReadOnly),
			"spec.executor.subject.type": strs(workv1.ExecutorSubjectTypeServiceAccount),
			"status.resourceStatus.manifests[].statusFeedback.values[].fieldValue.type": strs(workv1.Integer, workv1.String,
				workv1.Boolean, workv1.JsonRaw),
		},
	},
	{
		kind: "ManagedCluster", file: "0000_00_clusters.open-cluster-management.io_managedclusters.crd.yaml", obj: &clusterv1.ManagedCluster{},
		enums: map[string][]string{
			"spec.taints[].effect": strs(clusterv1.TaintEffectNoSelect, clusterv1.TaintEffectPreferNoSelect, clusterv1.TaintEffectNoSelectIfNew),
		},
	},
	{
		kind: "Placement", file: "0000_02_clusters.open-cluster-management.io_placements.crd.yaml", obj: &clusterv1beta1.Placement{},
		enums: map[string][]string{
			"spec.sortBy": strs(clusterv1beta1.SortByClusterName, clusterv1beta1.SortByScore),
			"spec.prioritizerPolicy.configurations[].scoreCoordinate.type": strs(clusterv1beta1.ScoreCoordinateTypeBuiltIn,
				clusterv1beta1.ScoreCoordinateTypeAddOn),
			"spec.spreadPolicy.spreadConstraints[].topologyKeyType":   strs(clusterv1beta1.TopologyKeyTypeLabel, clusterv1beta1.TopologyKeyTypeClaim),
			"spec.spreadPolicy.spreadConstraints[].whenUnsatisfiable": strs(clusterv1beta1.DoNotSchedule, clusterv1beta1.ScheduleAnyway),
			"spec.tolerations[].effect": strs(clusterv1.TaintEffectNoSelect, clusterv1.TaintEffectPreferNoSelect,
				clusterv1.TaintEffectNoSelectIfNew),
		},
	},
	{kind: "PlacementDecision", file: "0000_03_clusters.open-cluster-management.io_placementdecisions.crd.yaml", obj: &clusterv1beta1.PlacementDecision{}},
	{
		kind: "ManagedClusterSet", file: "0000_00_clusters.open-cluster-management.io_managedclustersets.crd.yaml", obj: &clusterv1beta2.ManagedClusterSet{},
		enums: map[string][]string{
			"spec.clusterSelector.selectorType": strs(clusterv1beta2.ExclusiveClusterSetLabel, clusterv1beta2.LabelSelector),
		},
	},
	{kind: "ManagedClusterSetBinding", file: "0000_01_clusters.open-cluster-management.io_managedclustersetbindings.crd.yaml", obj: &clusterv1beta2.ManagedClusterSetBinding{}},
}

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// loadSchema reads the one served version of an upstream CRD and checks that it is the
// group/version our scheme registers for the kind.
func loadSchema(t *testing.T, kc kindCase) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(framework.OCMCRDDir(), kc.file))
	if err != nil {
		t.Fatalf("read crd: %v", err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatalf("decode crd %s: %v", kc.file, err)
	}
	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("crd %s serves %d versions, this test expects one", crd.Name, len(crd.Spec.Versions))
	}
	gvks, _, err := scheme().ObjectKinds(kc.obj)
	if err != nil {
		t.Fatalf("%s not in our scheme: %v", kc.kind, err)
	}
	gvk := gvks[0]
	if gvk.Group != crd.Spec.Group || gvk.Version != crd.Spec.Versions[0].Name || gvk.Kind != crd.Spec.Names.Kind {
		t.Fatalf("our %v does not match crd %s/%s %s", gvk, crd.Spec.Group, crd.Spec.Versions[0].Name, crd.Spec.Names.Kind)
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(workv1.AddToScheme(s))
	utilruntime.Must(clusterv1.AddToScheme(s))
	utilruntime.Must(clusterv1beta1.AddToScheme(s))
	utilruntime.Must(clusterv1beta2.AddToScheme(s))
	utilruntime.Must(corev1.AddToScheme(s))
	return s
}

// TestTypesMatchSchema walks each Go type alongside its CRD's openAPIV3Schema: every JSON field
// of ours must exist in the schema with a compatible type, every schema field must exist in
// ours (so nothing a real hub sends is lost), fields the schema requires must not be omitempty
// (an omitted required field is refused), and our enum constants must be exactly the schema's.
func TestTypesMatchSchema(t *testing.T) {
	for _, kc := range kindCases {
		t.Run(kc.kind, func(t *testing.T) {
			root := loadSchema(t, kc)
			w := &schemaWalker{t: t}
			w.walk(kc.kind, reflect.TypeOf(kc.obj).Elem(), root)
			for path, ours := range kc.enums {
				s := lookup(root, path)
				if s == nil {
					t.Errorf("%s: enum path %s not in schema", kc.kind, path)
					continue
				}
				var theirs []string
				for _, e := range s.Enum {
					var v string
					if err := json.Unmarshal(e.Raw, &v); err != nil {
						t.Fatalf("%s: enum value %s: %v", path, e.Raw, err)
					}
					theirs = append(theirs, v)
				}
				sort.Strings(theirs)
				ours = slices.Clone(ours)
				sort.Strings(ours)
				if !slices.Equal(ours, theirs) {
					t.Errorf("%s %s: our constants %v, schema enum %v", kc.kind, path, ours, theirs)
				}
			}
		})
	}
}

var (
	timeType        = reflect.TypeOf(metav1.Time{})
	intOrStringType = reflect.TypeOf(intstr.IntOrString{})
	quantityType    = reflect.TypeOf(resource.Quantity{})
	rawType         = reflect.TypeOf(runtime.RawExtension{})
	objectMetaType  = reflect.TypeOf(metav1.ObjectMeta{})
)

type schemaWalker struct{ t *testing.T }

type jsonField struct {
	name      string
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields lists the JSON members of a struct the way encoding/json sees them, flattening
// anonymous embedded structs without a name (",inline").
func jsonFields(typ reflect.Type) []jsonField {
	var out []jsonField
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" && f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type, omitEmpty: slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return out
}

func (w *schemaWalker) walk(path string, typ reflect.Type, s *apiextensionsv1.JSONSchemaProps) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	expectType := func(want string) bool {
		if s.Type != want {
			w.t.Errorf("%s: Go %s needs schema type %q, schema has %q", path, typ, want, s.Type)
			return false
		}
		return true
	}
	switch {
	case typ == timeType:
		if expectType("string") && s.Format != "date-time" {
			w.t.Errorf("%s: metav1.Time needs format date-time, schema has %q", path, s.Format)
		}
		return
	case typ == intOrStringType, typ == quantityType:
		if !s.XIntOrString {
			w.t.Errorf("%s: %s needs x-kubernetes-int-or-string", path, typ)
		}
		return
	case typ == rawType:
		if expectType("object") && !(s.XEmbeddedResource || (s.XPreserveUnknownFields != nil && *s.XPreserveUnknownFields)) {
			w.t.Errorf("%s: RawExtension needs an embedded resource or preserved unknown fields", path)
		}
		return
	case typ == objectMetaType:
		expectType("object") // the apiserver owns metadata's schema
		return
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Uint8:
		if expectType("string") && s.Format != "byte" {
			w.t.Errorf("%s: []byte needs format byte, schema has %q", path, s.Format)
		}
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		if !expectType("object") {
			return
		}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		ours := map[string]bool{}
		for _, f := range jsonFields(typ) {
			ours[f.name] = true
			prop, ok := s.Properties[f.name]
			if !ok {
				w.t.Errorf("%s.%s: field of %s is not in the schema (it would be pruned)", path, f.name, typ)
				continue
			}
			// A required field may be omitted only when the server defaults it; and a zero
			// string sent for a defaulted enum is refused where omitting it would default it.
			if required[f.name] && f.omitEmpty && prop.Default == nil {
				w.t.Errorf("%s.%s: required by the schema (no default) but omitempty in Go", path, f.name)
			}
			if prop.Default != nil && !f.omitEmpty && f.typ.Kind() == reflect.String && len(prop.Enum) > 0 {
				w.t.Errorf("%s.%s: defaulted enum should be omitempty, or a zero value is refused instead of defaulted", path, f.name)
			}
			w.walk(path+"."+f.name, f.typ, &prop)
		}
		for name := range s.Properties {
			if !ours[name] {
				w.t.Errorf("%s.%s: schema field has no Go field in %s (it would be lost on read)", path, name, typ)
			}
		}
	case reflect.Slice:
		if expectType("array") {
			if s.Items == nil || s.Items.Schema == nil {
				w.t.Errorf("%s: array without an item schema", path)
				return
			}
			w.walk(path+"[]", typ.Elem(), s.Items.Schema)
		}
	case reflect.Map:
		if expectType("object") {
			if s.AdditionalProperties == nil || s.AdditionalProperties.Schema == nil {
				w.t.Errorf("%s: map without additionalProperties", path)
				return
			}
			w.walk(path+"{}", typ.Elem(), s.AdditionalProperties.Schema)
		}
	case reflect.String:
		expectType("string")
	case reflect.Bool:
		expectType("boolean")
	case reflect.Int32, reflect.Int64:
		if expectType("integer") {
			want := "int32"
			if typ.Kind() == reflect.Int64 {
				want = "int64"
			}
			if s.Format != "" && s.Format != want {
				w.t.Errorf("%s: Go %s but schema format %s", path, typ, s.Format)
			}
		}
	default:
		w.t.Errorf("%s: Go kind %s not handled by this test", path, typ.Kind())
	}
}

// lookup follows a dotted path ("[]" steps into array items) through a schema.
func lookup(s *apiextensionsv1.JSONSchemaProps, path string) *apiextensionsv1.JSONSchemaProps {
	for _, part := range strings.Split(path, ".") {
		name, items := strings.CutSuffix(part, "[]")
		p, ok := s.Properties[name]
		if !ok {
			return nil
		}
		s = &p
		if items {
			if s.Items == nil || s.Items.Schema == nil {
				return nil
			}
			s = s.Items.Schema
		}
	}
	return s
}

// TestSchemaSampleDecodesStrictly builds, from each CRD schema, an object that sets every
// field the schema knows, decodes it into our type case-sensitively with unknown fields
// reported, and encodes it again: the result must equal the sample. This checks the JSON
// behaviour of our types (custom marshallers, pointer and omitempty choices) rather than only
// their declared tags.
func TestSchemaSampleDecodesStrictly(t *testing.T) {
	for _, kc := range kindCases {
		t.Run(kc.kind, func(t *testing.T) {
			root := loadSchema(t, kc)
			sample := sampleFor(root, true).(map[string]any)
			sample["apiVersion"], sample["kind"] = apiVersionKind(t, kc.obj)
			data, err := json.Marshal(sample)
			if err != nil {
				t.Fatal(err)
			}
			obj := kc.obj.DeepCopyObject()
			strict, err := kjson.UnmarshalStrict(data, obj)
			if err != nil {
				t.Fatalf("decode sample: %v", err)
			}
			for _, e := range strict {
				t.Errorf("sample field unknown to our type: %v", e)
			}
			back, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			if diffs := diffJSON(data, back); len(diffs) > 0 {
				t.Errorf("sample changed by a decode/encode through our type:\n  %s", strings.Join(diffs, "\n  "))
			}
		})
	}
}

func apiVersionKind(t *testing.T, obj runtime.Object) (string, string) {
	gvks, _, err := scheme().ObjectKinds(obj)
	if err != nil {
		t.Fatal(err)
	}
	return gvks[0].GroupVersion().String(), gvks[0].Kind
}

// sampleFor returns a non-zero value for every property of s (zero values would vanish
// behind omitempty and hide a lost field).
func sampleFor(s *apiextensionsv1.JSONSchemaProps, resourceRoot bool) any {
	if len(s.Enum) > 0 {
		var v any
		_ = json.Unmarshal(s.Enum[len(s.Enum)-1].Raw, &v)
		return v
	}
	if s.XIntOrString {
		return "1"
	}
	switch s.Type {
	case "string":
		switch s.Format {
		case "date-time":
			return "2026-01-02T03:04:05Z"
		case "byte":
			return base64.StdEncoding.EncodeToString([]byte("pem"))
		}
		return "x"
	case "integer":
		return 7
	case "number":
		return 1.5
	case "boolean":
		return true
	case "array":
		return []any{sampleFor(s.Items.Schema, false)}
	}
	// object
	if s.XEmbeddedResource {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x", "namespace": "y"}}
	}
	out := map[string]any{}
	for name, p := range s.Properties {
		if resourceRoot && name == "metadata" {
			out[name] = map[string]any{"name": "x", "namespace": "y", "labels": map[string]any{"a": "b"}}
			continue
		}
		out[name] = sampleFor(&p, false)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		out["key"] = sampleFor(s.AdditionalProperties.Schema, false)
	}
	return out
}

// diffJSON compares two JSON documents semantically, ignoring null members (Go encodes unset
// metav1.Time as null; the apiserver drops nulls), and returns the differing paths.
func diffJSON(a, b []byte) []string {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return []string{"left: " + err.Error()}
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return []string{"right: " + err.Error()}
	}
	var out []string
	diffValue("", dropNulls(va), dropNulls(vb), &out)
	return out
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

func diffValue(path string, a, b any, out *[]string) {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			diffValue(path+"."+k, ma[k], mb[k], out)
		}
		return
	}
	la, aok := a.([]any)
	lb, bok := b.([]any)
	if aok && bok && len(la) == len(lb) {
		for i := range la {
			diffValue(fmt.Sprintf("%s[%d]", path, i), la[i], lb[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: %v != %v", path, jsonString(a), jsonString(b)))
	}
}

func jsonString(v any) string {
	if v == nil {
		return "<absent>"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRoundTripThroughAPIServer writes a fully populated object of every kind to a
// kube-apiserver serving the upstream CRDs: create, update, then status through the status
// subresource, reading back after each step. The apiserver prunes fields the schema does not
// know and refuses values it does not allow, so any wire mismatch shows up as a difference.
func TestRoundTripThroughAPIServer(t *testing.T) {
	hub := framework.StartCluster(t, framework.Options{Name: "hub", OCM: true})
	c, err := client.New(hub.Config, client.Options{Scheme: scheme()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := framework.Context(t, 2*time.Minute)
	const ns = "cluster1"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}

	type step struct {
		name   string
		obj    client.Object
		mutate func(client.Object)
		status func(client.Object)
	}
	steps := []step{
		{
			name: "ManifestWork", obj: fullManifestWork(ns),
			mutate: func(o client.Object) {
				w := o.(*workv1.ManifestWork)
				w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, configMapManifest("cm-c", map[string]any{"k3": "v3"}))
				w.Spec.DeleteOption = &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeOrphan}
			},
			status: func(o client.Object) { o.(*workv1.ManifestWork).Status = fullManifestWorkStatus() },
		},
		{
			name: "ManagedCluster", obj: fullManagedCluster("cluster1"),
			mutate: func(o client.Object) {
				m := o.(*clusterv1.ManagedCluster)
				m.Spec.Taints = append(m.Spec.Taints, clusterv1.Taint{Key: "k", Effect: clusterv1.TaintEffectNoSelectIfNew, TimeAdded: fixtureTime})
			},
			status: func(o client.Object) { o.(*clusterv1.ManagedCluster).Status = fullManagedClusterStatus() },
		},
		{
			name: "Placement", obj: fullPlacement(ns),
			mutate: func(o client.Object) {
				p := o.(*clusterv1beta1.Placement)
				p.Spec.NumberOfClusters = nil
				p.Spec.ClusterSets = []string{"prod"}
			},
			status: func(o client.Object) { o.(*clusterv1beta1.Placement).Status = fullPlacementStatus() },
		},
		{
			name: "PlacementDecision", obj: fullPlacementDecision(ns),
			mutate: func(o client.Object) { o.SetLabels(map[string]string{clusterv1beta1.PlacementLabel: "other"}) },
			status: func(o client.Object) { o.(*clusterv1beta1.PlacementDecision).Status = fullPlacementDecisionStatus() },
		},
		{
			name: "ManagedClusterSet", obj: fullManagedClusterSet("prod"),
			mutate: func(o client.Object) {
				s := o.(*clusterv1beta2.ManagedClusterSet)
				s.Spec.ClusterSelector.LabelSelector.MatchLabels["tier"] = "gold"
			},
			status: func(o client.Object) { o.(*clusterv1beta2.ManagedClusterSet).Status = fullManagedClusterSetStatus() },
		},
		{
			name: "ManagedClusterSetBinding", obj: fullManagedClusterSetBinding(ns, "prod"),
			mutate: func(o client.Object) {
				o.(*clusterv1beta2.ManagedClusterSetBinding).Spec.ClusterSet = "prod2"
			},
			status: func(o client.Object) {
				o.(*clusterv1beta2.ManagedClusterSetBinding).Status = fullManagedClusterSetBindingStatus()
			},
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			want := st.obj.DeepCopyObject().(client.Object)
			if err := c.Create(ctx, st.obj); err != nil {
				t.Fatalf("create: %v", err)
			}
			got := readBack(t, c, want)
			assertSame(t, "after create", want, got)

			st.mutate(want)
			upd := got.DeepCopyObject().(client.Object)
			st.mutate(upd)
			if err := c.Update(ctx, upd); err != nil {
				t.Fatalf("update: %v", err)
			}
			got = readBack(t, c, want)
			assertSame(t, "after update", want, got)

			st.status(want)
			st.status(got)
			if err := c.Status().Update(ctx, got); err != nil {
				t.Fatalf("status update: %v", err)
			}
			got = readBack(t, c, want)
			assertSame(t, "after status update", want, got)
		})
	}
}

func readBack(t *testing.T, c client.Client, like client.Object) client.Object {
	t.Helper()
	got := like.DeepCopyObject().(client.Object)
	if err := c.Get(framework.Context(t, 30*time.Second), client.ObjectKeyFromObject(like), got); err != nil {
		t.Fatalf("get: %v", err)
	}
	return got
}

// assertSame compares two objects as JSON, leaving out the metadata the server owns.
func assertSame(t *testing.T, when string, want, got client.Object) {
	t.Helper()
	a, b := withoutServerFields(t, want), withoutServerFields(t, got)
	if diffs := diffJSON(a, b); len(diffs) > 0 {
		t.Errorf("%s: read back differs from what was written (left = written):\n  %s", when, strings.Join(diffs, "\n  "))
	}
}

func withoutServerFields(t *testing.T, obj client.Object) []byte {
	t.Helper()
	o := obj.DeepCopyObject().(client.Object)
	meta := metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(), Labels: o.GetLabels(), Annotations: o.GetAnnotations()}
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	mb, _ := json.Marshal(meta)
	var mm map[string]any
	_ = json.Unmarshal(mb, &mm)
	m["metadata"] = mm
	data, _ = json.Marshal(m)
	return data
}
