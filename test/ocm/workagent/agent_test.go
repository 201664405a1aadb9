/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ocm/workagent"
)

const (
	clusterName = "spoke1"
	// syncInterval is short so that periodic status syncs are observable within a test.
	syncInterval = 500 * time.Millisecond
)

var (
	hub, spoke *framework.Cluster
	hubClient  client.Client // with the OCM work types
	agent      *workagent.Agent
)

// TestMain starts one hub and one spoke for the package (each start costs seconds on two
// cores) and one agent serving cluster "spoke1".
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var hubErr, spokeErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hub, hubErr = framework.Start(framework.Options{Name: "hub", OCM: true}) }()
	go func() { defer wg.Done(); spoke, spokeErr = framework.Start(framework.Options{Name: clusterName}) }()
	wg.Wait()
	for _, c := range []*framework.Cluster{hub, spoke} {
		if c != nil {
			defer c.Stop()
		}
	}
	if err := errors.Join(hubErr, spokeErr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(workv1.AddToScheme(s))
	var err error
	if hubClient, err = client.New(hub.Config, client.Options{Scheme: s}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ns := range []string{clusterName, "restart"} {
		if err := hubClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	agent, err = workagent.New(workagent.Options{
		ClusterName: clusterName, HubConfig: hub.Config, SpokeConfig: spoke.Config, StatusSyncInterval: syncInterval,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- agent.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		code = 1
	}
	return code
}

// --- helpers ---------------------------------------------------------------------------

func manifest(t *testing.T, obj map[string]any) runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}

func configMap(ns, name string, data map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns}, "data": data}
}

func namespace(name string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}
}

func newWork(t *testing.T, ns, name string, objs ...map[string]any) *workv1.ManifestWork {
	w := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, o := range objs {
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, manifest(t, o))
	}
	return w
}

func jsonPathFeedback(group, resource, ns, name string, paths ...string) workv1.ManifestConfigOption {
	var jps []workv1.JsonPath
	for i := 0; i+1 < len(paths); i += 2 {
		jps = append(jps, workv1.JsonPath{Name: paths[i], Path: paths[i+1]})
	}
	return workv1.ManifestConfigOption{
		ResourceIdentifier: workv1.ResourceIdentifier{Group: group, Resource: resource, Namespace: ns, Name: name},
		FeedbackRules:      []workv1.FeedbackRule{{Type: workv1.JSONPathsType, JsonPaths: jps}},
	}
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, what string, check func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not reached in %s: %v", what, timeout, last)
	}
}

func getWork(ctx context.Context, ns, name string) (*workv1.ManifestWork, error) {
	w := &workv1.ManifestWork{}
	return w, hubClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, w)
}

// converged waits until the agent reports the work's current generation Applied and
// Available (or with the given statuses) and returns the work.
func converged(t *testing.T, ns, name string, applied, available metav1.ConditionStatus) *workv1.ManifestWork {
	t.Helper()
	var w *workv1.ManifestWork
	eventually(t, 30*time.Second, "work "+name+" converged", func(ctx context.Context) error {
		var err error
		if w, err = getWork(ctx, ns, name); err != nil {
			return err
		}
		for typ, want := range map[string]metav1.ConditionStatus{workv1.WorkApplied: applied, workv1.WorkAvailable: available} {
			c := meta.FindStatusCondition(w.Status.Conditions, typ)
			if c == nil || c.Status != want || c.ObservedGeneration != w.Generation {
				return fmt.Errorf("%s condition %+v, want %s at generation %d", typ, c, want, w.Generation)
			}
		}
		return nil
	})
	return w
}

func feedback(w *workv1.ManifestWork, ordinal int32) map[string]string {
	out := map[string]string{}
	for _, m := range w.Status.ResourceStatus.Manifests {
		if m.ResourceMeta.Ordinal != ordinal {
			continue
		}
		for _, v := range m.StatusFeedbacks.Values {
			switch v.Value.Type {
			case workv1.String:
				out[v.Name] = "string:" + *v.Value.String
			case workv1.Integer:
				out[v.Name] = fmt.Sprintf("integer:%d", *v.Value.Integer)
			case workv1.Boolean:
				out[v.Name] = fmt.Sprintf("boolean:%v", *v.Value.Boolean)
			default:
				out[v.Name] = "unexpected type " + string(v.Value.Type)
			}
		}
	}
	return out
}

func manifestCondition(t *testing.T, w *workv1.ManifestWork, ordinal int32, typ string) *metav1.Condition {
	t.Helper()
	for _, m := range w.Status.ResourceStatus.Manifests {
		if m.ResourceMeta.Ordinal == ordinal {
			return meta.FindStatusCondition(m.Conditions, typ)
		}
	}
	t.Fatalf("no status for manifest %d in %+v", ordinal, w.Status.ResourceStatus)
	return nil
}

func spokeConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	return cm, spoke.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm)
}

func updateWork(t *testing.T, ns, name string, mutate func(*workv1.ManifestWork)) *workv1.ManifestWork {
	t.Helper()
	var w *workv1.ManifestWork
	eventually(t, 10*time.Second, "update work "+name, func(ctx context.Context) error {
		var err error
		if w, err = getWork(ctx, ns, name); err != nil {
			return err
		}
		mutate(w)
		return hubClient.Update(ctx, w) // a conflict with the agent's writes is retried
	})
	return w
}

// --- tests -----------------------------------------------------------------------------

// A work is applied to the spoke, changes to it are applied, feedback follows the spoke
// object's current state, and a manifest dropped from the work is deleted from the spoke.
func TestApplyUpdateFeedbackAndPrune(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	const ns = "wa-basic"
	w := newWork(t, clusterName, "basic",
		namespace(ns),
		configMap(ns, "cm1", map[string]any{"color": "red", "size": "1"}),
		configMap(ns, "cm2", map[string]any{"a": "b"}),
	)
	w.Spec.ManifestConfigs = []workv1.ManifestConfigOption{
		jsonPathFeedback("", "namespaces", "", ns, "phase", ".status.phase"),
		jsonPathFeedback("", "configmaps", ns, "cm1", "color", ".data.color", "whole", ".data", "missing", ".data.nope"),
	}
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	got := converged(t, clusterName, "basic", metav1.ConditionTrue, metav1.ConditionTrue)

	if !controllerutil.ContainsFinalizer(got, workv1.ManifestWorkFinalizer) {
		t.Errorf("work finalizers %v, want %s", got.Finalizers, workv1.ManifestWorkFinalizer)
	}
	wantMeta := []workv1.ManifestResourceMeta{
		{Ordinal: 0, Version: "v1", Kind: "Namespace", Resource: "namespaces", Name: ns},
		{Ordinal: 1, Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Name: "cm1", Namespace: ns},
		{Ordinal: 2, Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Name: "cm2", Namespace: ns},
	}
	if len(got.Status.ResourceStatus.Manifests) != len(wantMeta) {
		t.Fatalf("resource status %+v", got.Status.ResourceStatus.Manifests)
	}
	for i, m := range got.Status.ResourceStatus.Manifests {
		if m.ResourceMeta != wantMeta[i] {
			t.Errorf("manifest %d meta %+v, want %+v", i, m.ResourceMeta, wantMeta[i])
		}
		for _, typ := range []string{workv1.ManifestApplied, workv1.ManifestAvailable} {
			if c := meta.FindStatusCondition(m.Conditions, typ); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != got.Generation {
				t.Errorf("manifest %d %s = %+v", i, typ, c)
			}
		}
	}
	cm, err := spokeConfigMap(ctx, ns, "cm1")
	if err != nil {
		t.Fatalf("cm1 on spoke: %v", err)
	}
	if cm.Data["color"] != "red" || cm.Data["size"] != "1" {
		t.Errorf("cm1 data %v", cm.Data)
	}
	if !managedBy(cm.ManagedFields, workagent.FieldManager, metav1.ManagedFieldsOperationApply) {
		t.Errorf("cm1 not server-side applied by %s: %+v", workagent.FieldManager, cm.ManagedFields)
	}
	// Feedback: the namespace phase (set by the apiserver) as a string; for cm1 only the
	// scalar, with the object-valued path refused and the missing one silently absent.
	eventually(t, 10*time.Second, "feedback", func(ctx context.Context) error {
		w, err := getWork(ctx, clusterName, "basic")
		if err != nil {
			return err
		}
		if f := feedback(w, 0); f["phase"] != "string:Active" || len(f) != 1 {
			return fmt.Errorf("namespace feedback %v", f)
		}
		if f := feedback(w, 1); f["color"] != "string:red" || len(f) != 1 {
			return fmt.Errorf("cm1 feedback %v", f)
		}
		return nil
	})
	got, _ = getWork(ctx, clusterName, "basic")
	if c := manifestCondition(t, got, 0, workv1.ManifestStatusFeedbackSynced); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("namespace StatusFeedbackSynced = %+v", c)
	}
	if c := manifestCondition(t, got, 1, workv1.ManifestStatusFeedbackSynced); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "whole") {
		t.Errorf("cm1 StatusFeedbackSynced = %+v, want False naming the object-valued path", c)
	}
	if c := manifestCondition(t, got, 2, workv1.ManifestStatusFeedbackSynced); c != nil {
		t.Errorf("cm2 has no feedback rules but got %+v", c)
	}

	// Change the manifest: the spoke object follows, including the removal of a key.
	updated := updateWork(t, clusterName, "basic", func(w *workv1.ManifestWork) {
		w.Spec.Workload.Manifests[1] = manifest(t, configMap(ns, "cm1", map[string]any{"color": "blue"}))
	})
	converged(t, clusterName, "basic", metav1.ConditionTrue, metav1.ConditionTrue)
	if updated.Generation < 2 {
		t.Fatalf("generation %d after an update", updated.Generation)
	}
	eventually(t, 10*time.Second, "cm1 updated on the spoke", func(ctx context.Context) error {
		cm, err := spokeConfigMap(ctx, ns, "cm1")
		if err != nil {
			return err
		}
		if len(cm.Data) != 1 || cm.Data["color"] != "blue" {
			return fmt.Errorf("cm1 data %v", cm.Data)
		}
		return nil
	})

	// Someone changes the object on the spoke: feedback reports the current state at the
	// next status sync, without any change to the work.
	cm, err = spokeConfigMap(ctx, ns, "cm1")
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["color"] = "green"
	if err := spoke.Client.Update(ctx, cm, client.FieldOwner("someone-else")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "feedback follows the spoke", func(ctx context.Context) error {
		w, err := getWork(ctx, clusterName, "basic")
		if err != nil {
			return err
		}
		if f := feedback(w, 1)["color"]; f != "string:green" {
			return fmt.Errorf("cm1 color feedback %q", f)
		}
		return nil
	})

	// Drop cm2 from the work: it is deleted from the spoke.
	updateWork(t, clusterName, "basic", func(w *workv1.ManifestWork) {
		w.Spec.Workload.Manifests = w.Spec.Workload.Manifests[:2]
	})
	eventually(t, 10*time.Second, "cm2 deleted from the spoke", func(ctx context.Context) error {
		if _, err := spokeConfigMap(ctx, ns, "cm2"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("cm2: %v", err)
		}
		return nil
	})
	got = converged(t, clusterName, "basic", metav1.ConditionTrue, metav1.ConditionTrue)
	if n := len(got.Status.ResourceStatus.Manifests); n != 2 {
		t.Errorf("%d manifest statuses after dropping one, want 2", n)
	}
	if _, err := spokeConfigMap(ctx, ns, "cm1"); err != nil {
		t.Errorf("cm1 must stay: %v", err)
	}
}

func managedBy(fields []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) bool {
	for _, f := range fields {
		if f.Manager == manager && f.Operation == op {
			return true
		}
	}
	return false
}

// Foreground deletion: the agent deletes the applied objects and keeps the work (through its
// finalizer) until they are gone from the spoke.
func TestForegroundDeleteWaitsForSpokeObjects(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	w := newWork(t, clusterName, "fg", configMap("default", "cm-fg", map[string]any{"k": "v"}), configMap("default", "cm-fg2", nil))
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	converged(t, clusterName, "fg", metav1.ConditionTrue, metav1.ConditionTrue)

	// A finalizer on the spoke object stands for a spoke controller that needs time to clean up.
	cm, err := spokeConfigMap(ctx, "default", "cm-fg")
	if err != nil {
		t.Fatal(err)
	}
	controllerutil.AddFinalizer(cm, "test.ycloud.io/hold")
	if err := spoke.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := hubClient.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "spoke objects being deleted", func(ctx context.Context) error {
		cm, err := spokeConfigMap(ctx, "default", "cm-fg")
		if err != nil {
			return err
		}
		if cm.DeletionTimestamp.IsZero() {
			return errors.New("cm-fg not marked for deletion")
		}
		if _, err := spokeConfigMap(ctx, "default", "cm-fg2"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("cm-fg2: %v", err)
		}
		return nil
	})
	// Let the agent look at the deleted work a few more times; it must keep waiting.
	waits := agent.Stats().CleanupWaits
	eventually(t, 10*time.Second, "agent re-checks the deleted work", func(context.Context) error {
		if n := agent.Stats().CleanupWaits; n < waits+3 {
			return fmt.Errorf("%d cleanup waits so far", n-waits)
		}
		return nil
	})
	got, err := getWork(ctx, clusterName, "fg")
	if err != nil {
		t.Fatalf("work went away while a spoke object still exists: %v", err)
	}
	if !controllerutil.ContainsFinalizer(got, workv1.ManifestWorkFinalizer) {
		t.Fatalf("finalizer removed early: %v", got.Finalizers)
	}

	// The spoke finishes its cleanup: the object goes, then the work.
	cm, err = spokeConfigMap(ctx, "default", "cm-fg")
	if err != nil {
		t.Fatal(err)
	}
	controllerutil.RemoveFinalizer(cm, "test.ycloud.io/hold")
	if err := spoke.Client.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "work deleted", func(ctx context.Context) error {
		if _, err := getWork(ctx, clusterName, "fg"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("work: %v", err)
		}
		return nil
	})
	if _, err := spokeConfigMap(ctx, "default", "cm-fg"); !apierrors.IsNotFound(err) {
		t.Errorf("cm-fg after the work is gone: %v", err)
	}
}

// Orphan keeps every applied object; SelectivelyOrphan keeps only the listed ones.
func TestOrphanDeleteOptions(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	orphan := newWork(t, clusterName, "orphan", configMap("default", "cm-o1", map[string]any{"k": "v"}))
	orphan.Spec.DeleteOption = &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeOrphan}
	selective := newWork(t, clusterName, "selective",
		configMap("default", "cm-s1", map[string]any{"k": "v"}), configMap("default", "cm-s2", map[string]any{"k": "v"}))
	selective.Spec.DeleteOption = &workv1.DeleteOption{
		PropagationPolicy: workv1.DeletePropagationPolicyTypeSelectivelyOrphan,
		SelectivelyOrphan: &workv1.SelectivelyOrphan{OrphaningRules: []workv1.OrphaningRule{
			{Resource: "configmaps", Namespace: "default", Name: "cm-s1"},
		}},
	}
	for _, w := range []*workv1.ManifestWork{orphan, selective} {
		if err := hubClient.Create(ctx, w); err != nil {
			t.Fatal(err)
		}
		converged(t, clusterName, w.Name, metav1.ConditionTrue, metav1.ConditionTrue)
		if err := hubClient.Delete(ctx, w); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "work "+w.Name+" deleted", func(ctx context.Context) error {
			if _, err := getWork(ctx, clusterName, w.Name); !apierrors.IsNotFound(err) {
				return fmt.Errorf("work: %v", err)
			}
			return nil
		})
	}
	// The works are gone, so the agent is done with them: what is left now stays.
	for name, wantKept := range map[string]bool{"cm-o1": true, "cm-s1": true, "cm-s2": false} {
		cm, err := spokeConfigMap(ctx, "default", name)
		switch {
		case wantKept && (err != nil || !cm.DeletionTimestamp.IsZero()):
			t.Errorf("%s should be orphaned on the spoke: err %v", name, err)
		case !wantKept && !apierrors.IsNotFound(err):
			t.Errorf("%s should be deleted: err %v", name, err)
		}
	}
}

// A manifest that cannot be applied is reported without stopping the others, and the
// failure is retried: once the kind exists the work converges.
func TestUnapplicableManifestIsReported(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	widget := map[string]any{"apiVersion": "example.ycloud.io/v1", "kind": "Widget", "metadata": map[string]any{"name": "w1"}}
	w := newWork(t, clusterName, "bad", configMap("default", "cm-bad", map[string]any{"k": "v"}), widget)
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	got := converged(t, clusterName, "bad", metav1.ConditionFalse, metav1.ConditionUnknown)
	if c := meta.FindStatusCondition(got.Status.Conditions, workv1.WorkApplied); c.Reason != workv1.ReasonAppliedManifestWorkFailed {
		t.Errorf("work Applied reason %q", c.Reason)
	}
	if c := manifestCondition(t, got, 0, workv1.ManifestApplied); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("configmap Applied = %+v", c)
	}
	if c := manifestCondition(t, got, 1, workv1.ManifestApplied); c == nil || c.Status != metav1.ConditionFalse ||
		c.Reason != workv1.ReasonAppliedManifestFailed || !strings.Contains(c.Message, "Widget") {
		t.Errorf("widget Applied = %+v", c)
	}
	if _, err := spokeConfigMap(ctx, "default", "cm-bad"); err != nil {
		t.Errorf("the good manifest was not applied: %v", err)
	}

	// Install the kind on the spoke: the agent's retries pick it up.
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.ycloud.io"},
		"spec": map[string]any{
			"group": "example.ycloud.io", "scope": "Cluster",
			"names": map[string]any{"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	if err := spoke.Client.Create(ctx, crd); err != nil {
		t.Fatal(err)
	}
	converged(t, clusterName, "bad", metav1.ConditionTrue, metav1.ConditionTrue)
}

// Once a work has converged, periodic status syncs keep reading the spoke but write nothing
// to the hub: that is what keeps the hub load of many clusters flat.
func TestNoHubWritesWhenConverged(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	w := newWork(t, clusterName, "quiet", configMap("default", "cm-quiet", map[string]any{"k": "v"}))
	w.Spec.ManifestConfigs = []workv1.ManifestConfigOption{jsonPathFeedback("", "configmaps", "default", "cm-quiet", "k", ".data.k")}
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	converged(t, clusterName, "quiet", metav1.ConditionTrue, metav1.ConditionTrue)
	eventually(t, 10*time.Second, "feedback", func(ctx context.Context) error {
		w, err := getWork(ctx, clusterName, "quiet")
		if err != nil {
			return err
		}
		if feedback(w, 0)["k"] != "string:v" {
			return fmt.Errorf("feedback %v", feedback(w, 0))
		}
		return nil
	})
	// Other tests' works may still be settling (deletions in progress): wait for a quiet
	// agent first, then watch several sync rounds.
	var before workagent.Stats
	eventually(t, 30*time.Second, "agent quiet", func(context.Context) error {
		before = agent.Stats()
		var list workv1.ManifestWorkList
		if err := hubClient.List(ctx, &list, client.InNamespace(clusterName)); err != nil {
			return err
		}
		for _, w := range list.Items {
			if !w.DeletionTimestamp.IsZero() {
				return fmt.Errorf("work %s still being deleted", w.Name)
			}
		}
		return nil
	})
	eventually(t, 30*time.Second, "several status syncs", func(context.Context) error {
		if n := agent.Stats().Syncs - before.Syncs; n < 10 {
			return fmt.Errorf("%d syncs so far", n)
		}
		return nil
	})
	after := agent.Stats()
	if after.HubWrites != before.HubWrites || after.SpokeApplies != before.SpokeApplies {
		t.Errorf("converged agent wrote: hub %d -> %d, spoke applies %d -> %d over %d syncs",
			before.HubWrites, after.HubWrites, before.SpokeApplies, after.SpokeApplies, after.Syncs-before.Syncs)
	}
	if before.HubWrites == 0 {
		t.Error("no hub writes counted at all")
	}
}

// After a restart the agent knows nothing in memory: it re-applies the works and still
// deletes an object dropped from a work while it was down, from the work's status record.
func TestRestartedAgentCleansDroppedObjects(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	start := func() context.CancelFunc {
		a, err := workagent.New(workagent.Options{ClusterName: "restart", HubConfig: hub.Config, SpokeConfig: spoke.Config, StatusSyncInterval: syncInterval})
		if err != nil {
			t.Fatal(err)
		}
		actx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Start(actx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		}
	}
	stop := start()
	w := newWork(t, "restart", "r", configMap("default", "cm-r1", map[string]any{"k": "v"}), configMap("default", "cm-r2", map[string]any{"k": "v"}))
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	converged(t, "restart", "r", metav1.ConditionTrue, metav1.ConditionTrue)
	stop()

	updated := updateWork(t, "restart", "r", func(w *workv1.ManifestWork) {
		w.Spec.Workload.Manifests = w.Spec.Workload.Manifests[:1]
	})
	if _, err := spokeConfigMap(ctx, "default", "cm-r2"); err != nil {
		t.Fatalf("cm-r2 must still exist while no agent runs: %v", err)
	}
	stop = start()
	defer stop()
	eventually(t, 20*time.Second, "restarted agent converges", func(ctx context.Context) error {
		w, err := getWork(ctx, "restart", "r")
		if err != nil {
			return err
		}
		if c := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkApplied); c == nil || c.ObservedGeneration != updated.Generation {
			return fmt.Errorf("applied %+v", c)
		}
		if _, err := spokeConfigMap(ctx, "default", "cm-r2"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("cm-r2: %v", err)
		}
		return nil
	})
}

// The product's shape (DESIGN.md §5): a spoke iaas.yusur.io object in a work, its status
// written by the spoke controller, reported to the hub only through JSONPath feedback.
func TestIaasObjectStatusFeedback(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	vpc := map[string]any{
		"apiVersion": "iaas.yusur.io/v1", "kind": "Vpc",
		"metadata": map[string]any{"name": "tenant-a-vpc1", "labels": map[string]any{"ycloud.io/tenant": "tenant-a"}},
		"spec":     map[string]any{"namespaces": []any{"tenant-a"}},
	}
	w := newWork(t, clusterName, "vpc", vpc)
	w.Spec.ManifestConfigs = []workv1.ManifestConfigOption{jsonPathFeedback("iaas.yusur.io", "vpcs", "", "tenant-a-vpc1",
		"ready", `.status.conditions[?(@.type=="Ready")].status`,
		"router", ".status.router",
		"learnedRoutes", ".status.interconnect.learnedRoutes",
		"observedGeneration", ".status.observedGeneration",
		"subnets", ".status.subnets", // a list: not reported
	)}
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	got := converged(t, clusterName, "vpc", metav1.ConditionTrue, metav1.ConditionTrue)
	want := workv1.ManifestResourceMeta{Group: "iaas.yusur.io", Version: "v1", Kind: "Vpc", Resource: "vpcs", Name: "tenant-a-vpc1"}
	if m := got.Status.ResourceStatus.Manifests; len(m) != 1 || m[0].ResourceMeta != want {
		t.Fatalf("resource status %+v, want %+v", m, want)
	}
	if f := feedback(got, 0); len(f) != 0 {
		t.Errorf("feedback before the spoke controller wrote status: %v", f)
	}

	// Play the spoke controller: write the Vpc status.
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("iaas.yusur.io/v1")
	u.SetKind("Vpc")
	if err := spoke.Client.Get(ctx, client.ObjectKey{Name: "tenant-a-vpc1"}, u); err != nil {
		t.Fatalf("vpc on spoke: %v", err)
	}
	u.Object["status"] = map[string]any{
		"observedGeneration": u.GetGeneration(),
		"router":             "vpc-tenant-a-vpc1",
		"subnets":            []any{"s1", "s2"},
		"interconnect":       map[string]any{"transitSwitch": "ts-1", "learnedRoutes": int64(3)},
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Ready", "message": "",
			"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": u.GetGeneration()}},
	}
	if err := spoke.Client.Status().Update(ctx, u); err != nil {
		t.Fatalf("write vpc status: %v", err)
	}
	eventually(t, 10*time.Second, "vpc status fed back", func(ctx context.Context) error {
		w, err := getWork(ctx, clusterName, "vpc")
		if err != nil {
			return err
		}
		f := feedback(w, 0)
		want := map[string]string{"ready": "string:True", "router": "string:vpc-tenant-a-vpc1",
			"learnedRoutes": "integer:3", "observedGeneration": "integer:1"}
		if fmt.Sprint(f) != fmt.Sprint(want) {
			return fmt.Errorf("feedback %v, want %v", f, want)
		}
		if c := manifestCondition(t, w, 0, workv1.ManifestStatusFeedbackSynced); c == nil || c.Status != metav1.ConditionFalse ||
			!strings.Contains(c.Message, "subnets") {
			return fmt.Errorf("StatusFeedbackSynced %+v, want False for the list path", c)
		}
		return nil
	})
}

// ReadOnly only observes (feedback works, nothing is written or deleted); CreateOnly creates
// a missing object and never updates it.
func TestReadOnlyAndCreateOnly(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	existing := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-ro", Namespace: "default"}, Data: map[string]string{"owner": "spoke"}}
	if err := spoke.Client.Create(ctx, existing); err != nil {
		t.Fatal(err)
	}
	w := newWork(t, clusterName, "strategies",
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cm-ro", "namespace": "default"}},
		configMap("default", "cm-co", map[string]any{"v": "1"}))
	ro := jsonPathFeedback("", "configmaps", "default", "cm-ro", "owner", ".data.owner")
	ro.UpdateStrategy = &workv1.UpdateStrategy{Type: workv1.UpdateStrategyTypeReadOnly}
	co := workv1.ManifestConfigOption{
		ResourceIdentifier: workv1.ResourceIdentifier{Resource: "configmaps", Namespace: "default", Name: "cm-co"},
		UpdateStrategy:     &workv1.UpdateStrategy{Type: workv1.UpdateStrategyTypeCreateOnly},
	}
	w.Spec.ManifestConfigs = []workv1.ManifestConfigOption{ro, co}
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	converged(t, clusterName, "strategies", metav1.ConditionTrue, metav1.ConditionTrue)
	eventually(t, 10*time.Second, "read-only feedback", func(ctx context.Context) error {
		w, err := getWork(ctx, clusterName, "strategies")
		if err != nil {
			return err
		}
		if f := feedback(w, 0)["owner"]; f != "string:spoke" {
			return fmt.Errorf("feedback %q", f)
		}
		return nil
	})
	cm, err := spokeConfigMap(ctx, "default", "cm-ro")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cm.ManagedFields {
		if strings.HasPrefix(f.Manager, workagent.FieldManager) {
			t.Errorf("read-only object written by the agent: %+v", f)
		}
	}

	updateWork(t, clusterName, "strategies", func(w *workv1.ManifestWork) {
		w.Spec.Workload.Manifests[1] = manifest(t, configMap("default", "cm-co", map[string]any{"v": "2"}))
	})
	converged(t, clusterName, "strategies", metav1.ConditionTrue, metav1.ConditionTrue)
	if cm, err := spokeConfigMap(ctx, "default", "cm-co"); err != nil || cm.Data["v"] != "1" {
		t.Errorf("create-only object changed or missing: %v %v", cm.Data, err)
	}

	if err := hubClient.Delete(ctx, w); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "work deleted", func(ctx context.Context) error {
		if _, err := getWork(ctx, clusterName, "strategies"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("work: %v", err)
		}
		return nil
	})
	if _, err := spokeConfigMap(ctx, "default", "cm-ro"); err != nil {
		t.Errorf("read-only object deleted with the work: %v", err)
	}
	if _, err := spokeConfigMap(ctx, "default", "cm-co"); !apierrors.IsNotFound(err) {
		t.Errorf("create-only object should go with the work: %v", err)
	}
}

// An applied object deleted on the spoke is put back at the next status sync, and reported
// Available again.
func TestDeletedSpokeObjectIsRecreated(t *testing.T) {
	ctx := framework.Context(t, 2*time.Minute)
	w := newWork(t, clusterName, "recreate", configMap("default", "cm-again", map[string]any{"k": "v"}))
	if err := hubClient.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	converged(t, clusterName, "recreate", metav1.ConditionTrue, metav1.ConditionTrue)
	cm, err := spokeConfigMap(ctx, "default", "cm-again")
	if err != nil {
		t.Fatal(err)
	}
	if err := spoke.Client.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "object recreated", func(ctx context.Context) error {
		again, err := spokeConfigMap(ctx, "default", "cm-again")
		if err != nil {
			return err
		}
		if again.UID == cm.UID || again.Data["k"] != "v" {
			return fmt.Errorf("uid %s data %v", again.UID, again.Data)
		}
		return nil
	})
	converged(t, clusterName, "recreate", metav1.ConditionTrue, metav1.ConditionTrue)
}
