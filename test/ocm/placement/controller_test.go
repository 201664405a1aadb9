/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package placement_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ocm/placement"
)

var (
	hubClient  client.Client
	controller *placement.Controller
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	hub, err := framework.Start(framework.Options{Name: "hub", OCM: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer hub.Stop()
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(clusterv1.AddToScheme(s))
	utilruntime.Must(clusterv1beta1.AddToScheme(s))
	utilruntime.Must(clusterv1beta2.AddToScheme(s))
	if hubClient, err = client.New(hub.Config, client.Options{Scheme: s}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if controller, err = placement.New(placement.Options{HubConfig: hub.Config}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controller.Start(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "placement controller:", err)
		code = 1
	}
	return code
}

func eventually(t *testing.T, what string, check func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		last = check(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := hubClient.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func managedCluster(name string, labels map[string]string) *clusterv1.ManagedCluster {
	return &clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true}}
}

func binding(ns, set string) *clusterv1beta2.ManagedClusterSetBinding {
	return &clusterv1beta2.ManagedClusterSetBinding{ObjectMeta: metav1.ObjectMeta{Name: set, Namespace: ns},
		Spec: clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: set}}
}

func relabel(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	eventually(t, "relabel "+name, func(ctx context.Context) error {
		mc := &clusterv1.ManagedCluster{}
		if err := hubClient.Get(ctx, client.ObjectKey{Name: name}, mc); err != nil {
			return err
		}
		for k, v := range labels {
			mc.Labels[k] = v
		}
		return hubClient.Update(ctx, mc)
	})
}

// decided lists the clusters of all decisions of a placement (by the placement label, as
// consumers do) in page order.
func decided(ctx context.Context, ns, name string) ([]string, []clusterv1beta1.PlacementDecision, error) {
	var list clusterv1beta1.PlacementDecisionList
	if err := hubClient.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{clusterv1beta1.PlacementLabel: name}); err != nil {
		return nil, nil, err
	}
	var names []string
	for i := range list.Items {
		if want := fmt.Sprintf("%s-decision-%d", name, i+1); list.Items[i].Name != want {
			return nil, nil, fmt.Errorf("decision %d is %s, want %s", i, list.Items[i].Name, want)
		}
		for _, d := range list.Items[i].Status.Decisions {
			names = append(names, d.ClusterName)
		}
	}
	return names, list.Items, nil
}

// expect waits until the placement's decisions are exactly want and its status agrees.
func expect(t *testing.T, ns, name string, want []string, reason string) {
	t.Helper()
	eventually(t, fmt.Sprintf("placement %s decides %v", name, want), func(ctx context.Context) error {
		got, _, err := decided(ctx, ns, name)
		if err != nil {
			return err
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("decisions %v", got)
		}
		p := &clusterv1beta1.Placement{}
		if err := hubClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		if int(p.Status.NumberOfSelectedClusters) != len(want) {
			return fmt.Errorf("numberOfSelectedClusters %d", p.Status.NumberOfSelectedClusters)
		}
		c := meta.FindStatusCondition(p.Status.Conditions, clusterv1beta1.PlacementConditionSatisfied)
		if c == nil || c.Reason != reason || c.ObservedGeneration != p.Generation {
			return fmt.Errorf("PlacementSatisfied %+v, want reason %s at generation %d", c, reason, p.Generation)
		}
		return nil
	})
}

// Decisions follow cluster labels, bindings and numberOfClusters, carry the labels and owner
// consumers rely on, and go away with the placement.
func TestDecisionsFollowTheHub(t *testing.T) {
	const ns = "tenant-a"
	create(t,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "prod"}},
		managedCluster("a-c1", map[string]string{clusterv1beta2.ClusterSetLabel: "prod", "env": "prod"}),
		managedCluster("a-c2", map[string]string{clusterv1beta2.ClusterSetLabel: "prod", "env": "prod"}),
		managedCluster("a-c3", map[string]string{clusterv1beta2.ClusterSetLabel: "prod", "env": "dev"}),
		managedCluster("a-other", map[string]string{"env": "prod"}), // in no set
		binding(ns, "prod"),
	)
	p := &clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "p1", Namespace: ns},
		Spec: clusterv1beta1.PlacementSpec{Predicates: []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
			LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}}}}}
	create(t, p)
	expect(t, ns, "p1", []string{"a-c1", "a-c2"}, clusterv1beta1.ReasonAllDecisionsScheduled)

	ctx := framework.Context(t, time.Minute)
	_, decisions, err := decided(ctx, ns, "p1")
	if err != nil {
		t.Fatal(err)
	}
	d := decisions[0]
	wantLabels := map[string]string{
		clusterv1beta1.PlacementLabel: "p1", clusterv1beta1.DecisionGroupIndexLabel: "0", clusterv1beta1.DecisionGroupNameLabel: "",
	}
	if fmt.Sprint(d.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("decision labels %v, want %v", d.Labels, wantLabels)
	}
	if err := hubClient.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	if o := d.OwnerReferences; len(o) != 1 || o[0].UID != p.UID || o[0].Kind != "Placement" || !ptr.Deref(o[0].Controller, false) {
		t.Errorf("decision owners %+v, want the placement %s as controller", o, p.UID)
	}
	if g := p.Status.DecisionGroups; len(g) != 1 || g[0].DecisionGroupIndex != 0 || g[0].ClustersCount != 2 ||
		strings.Join(g[0].Decisions, ",") != "p1-decision-1" {
		t.Errorf("decision groups %+v", g)
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, clusterv1beta1.PlacementConditionMisconfigured); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("PlacementMisconfigured %+v", c)
	}

	// Labels move the decision.
	relabel(t, "a-c3", map[string]string{"env": "prod"})
	expect(t, ns, "p1", []string{"a-c1", "a-c2", "a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	relabel(t, "a-c1", map[string]string{"env": "dev"})
	expect(t, ns, "p1", []string{"a-c2", "a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	relabel(t, "a-c2", map[string]string{clusterv1beta2.ClusterSetLabel: "elsewhere"})
	expect(t, ns, "p1", []string{"a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	relabel(t, "a-c2", map[string]string{clusterv1beta2.ClusterSetLabel: "prod"})
	expect(t, ns, "p1", []string{"a-c2", "a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)

	// numberOfClusters caps the decision, and too few clusters is reported.
	setCount := func(n *int32) {
		eventually(t, "set numberOfClusters", func(ctx context.Context) error {
			if err := hubClient.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Spec.NumberOfClusters = n
			return hubClient.Update(ctx, p)
		})
	}
	setCount(ptr.To[int32](1))
	expect(t, ns, "p1", []string{"a-c2"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	setCount(ptr.To[int32](5))
	expect(t, ns, "p1", []string{"a-c2", "a-c3"}, clusterv1beta1.ReasonNotAllDecisionsScheduled)
	setCount(nil)
	expect(t, ns, "p1", []string{"a-c2", "a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)

	// Removing the binding empties the decision (the object stays, with no clusters).
	if err := hubClient.Delete(ctx, binding(ns, "prod")); err != nil {
		t.Fatal(err)
	}
	expect(t, ns, "p1", nil, clusterv1beta1.ReasonNoManagedClusterSetBindings)
	if _, decisions, err := decided(ctx, ns, "p1"); err != nil || len(decisions) != 1 {
		t.Errorf("want one empty decision object, got %d (%v)", len(decisions), err)
	}
	create(t, binding(ns, "prod"))
	expect(t, ns, "p1", []string{"a-c2", "a-c3"}, clusterv1beta1.ReasonAllDecisionsScheduled)

	// Deleting the placement deletes its decisions (no garbage collector on test hubs).
	if err := hubClient.Delete(ctx, p); err != nil {
		t.Fatal(err)
	}
	eventually(t, "decisions deleted with the placement", func(ctx context.Context) error {
		if _, decisions, err := decided(ctx, ns, "p1"); err != nil || len(decisions) != 0 {
			return fmt.Errorf("%d decisions left (%v)", len(decisions), err)
		}
		return nil
	})
}

// spec.clusterSets picks among bound sets; a label-selector set with an empty selector
// (like upstream's "global") holds every cluster; a missing set binds nothing.
func TestClusterSetSelection(t *testing.T) {
	const ns = "tenant-b"
	create(t,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "edge"}},
		&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "global"}, Spec: clusterv1beta2.ManagedClusterSetSpec{
			ClusterSelector: clusterv1beta2.ManagedClusterSelector{SelectorType: clusterv1beta2.LabelSelector, LabelSelector: &metav1.LabelSelector{}}}},
		managedCluster("b-e1", map[string]string{clusterv1beta2.ClusterSetLabel: "edge", "suite": "b"}),
		managedCluster("b-e2", map[string]string{clusterv1beta2.ClusterSetLabel: "edge", "suite": "b"}),
		managedCluster("b-x1", map[string]string{"suite": "b"}),
		binding(ns, "edge"), binding(ns, "global"), binding(ns, "not-a-set"),
	)
	suiteB := []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
		LabelSelector: metav1.LabelSelector{MatchLabels: map[string]string{"suite": "b"}}}}}
	create(t,
		&clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "edge-only", Namespace: ns},
			Spec: clusterv1beta1.PlacementSpec{ClusterSets: []string{"edge"}, Predicates: suiteB}},
		&clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "all", Namespace: ns},
			Spec: clusterv1beta1.PlacementSpec{Predicates: suiteB}},
		&clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "unbound", Namespace: ns},
			Spec: clusterv1beta1.PlacementSpec{ClusterSets: []string{"not-a-set"}}},
	)
	expect(t, ns, "edge-only", []string{"b-e1", "b-e2"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	expect(t, ns, "all", []string{"b-e1", "b-e2", "b-x1"}, clusterv1beta1.ReasonAllDecisionsScheduled)
	expect(t, ns, "unbound", nil, clusterv1beta1.ReasonNoManagedClusterSetBindings)

	// The set appears later: the binding becomes valid and the placement reacts.
	create(t, &clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "not-a-set"}},
		managedCluster("b-n1", map[string]string{clusterv1beta2.ClusterSetLabel: "not-a-set"}))
	expect(t, ns, "unbound", []string{"b-n1"}, clusterv1beta1.ReasonAllDecisionsScheduled)

	// A NoSelect taint removes a cluster until tolerated.
	eventually(t, "taint b-e1", func(ctx context.Context) error {
		mc := &clusterv1.ManagedCluster{}
		if err := hubClient.Get(ctx, client.ObjectKey{Name: "b-e1"}, mc); err != nil {
			return err
		}
		mc.Spec.Taints = []clusterv1.Taint{{Key: "maintenance", Effect: clusterv1.TaintEffectNoSelect, TimeAdded: metav1.Now()}}
		return hubClient.Update(ctx, mc)
	})
	expect(t, ns, "edge-only", []string{"b-e2"}, clusterv1beta1.ReasonAllDecisionsScheduled)
}

// More than 100 clusters are paged over several decisions, like upstream; shrinking the
// selection deletes the surplus page.
func TestDecisionPaging(t *testing.T) {
	const ns = "tenant-c"
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: "many"}}, binding(ns, "many"))
	var want []string
	for i := range 105 {
		name := fmt.Sprintf("c-%03d", i)
		want = append(want, name)
		create(t, managedCluster(name, map[string]string{clusterv1beta2.ClusterSetLabel: "many"}))
	}
	create(t, &clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: ns}})
	expect(t, ns, "big", want, clusterv1beta1.ReasonAllDecisionsScheduled)
	ctx := framework.Context(t, time.Minute)
	_, decisions, err := decided(ctx, ns, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions) != 2 || len(decisions[0].Status.Decisions) != clusterv1beta1.MaxDecisionsPerObject {
		t.Fatalf("want pages of 100 and 5, got %d pages", len(decisions))
	}

	p := &clusterv1beta1.Placement{}
	eventually(t, "cap the placement", func(ctx context.Context) error {
		if err := hubClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "big"}, p); err != nil {
			return err
		}
		p.Spec.NumberOfClusters = ptr.To[int32](3)
		return hubClient.Update(ctx, p)
	})
	expect(t, ns, "big", want[:3], clusterv1beta1.ReasonAllDecisionsScheduled)
	if err := hubClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "big-decision-2"}, &clusterv1beta1.PlacementDecision{}); !apierrors.IsNotFound(err) {
		t.Errorf("surplus page: %v", err)
	}
	if controller.Stats().HubWrites == 0 {
		t.Error("hub writes not counted")
	}
}
