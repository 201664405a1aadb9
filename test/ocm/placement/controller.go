/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package placement

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
)

// Options configure a Controller.
type Options struct {
	// HubConfig reaches the hub apiserver (serving the OCM cluster CRDs).
	HubConfig *rest.Config
	// Logger defaults to controller-runtime's logger named "placement".
	Logger logr.Logger
}

// Stats are counters since the controller was created.
type Stats struct {
	// HubWrites counts every create, update, patch and delete the controller sent.
	HubWrites int64
	// Reconciles counts placement passes.
	Reconciles int64
}

// Controller is the placement stand-in. Create it with New and run it with Start.
type Controller struct {
	log logr.Logger
	mgr manager.Manager
	hub client.Client

	hubWrites, reconciles atomic.Int64
}

// New builds a placement controller. It does not contact the hub until Start.
func New(opts Options) (*Controller, error) {
	if opts.HubConfig == nil {
		return nil, errors.New("placement: HubConfig is required")
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = ctrl.Log.WithName("placement")
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clusterv1.AddToScheme, clusterv1beta1.AddToScheme, clusterv1beta2.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("placement: scheme: %w", err)
		}
	}
	mgr, err := manager.New(opts.HubConfig, manager.Options{
		Scheme:                 scheme,
		Logger:                 opts.Logger,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("placement: manager: %w", err)
	}
	c := &Controller{log: opts.Logger, mgr: mgr, hub: mgr.GetClient()}

	allPlacements := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return c.placementsIn(ctx, "")
	})
	placementsInNamespace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return c.placementsIn(ctx, o.GetNamespace())
	})
	err = builder.ControllerManagedBy(mgr).
		Named("placement").
		For(&clusterv1beta1.Placement{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Someone editing or deleting our decisions gets them rewritten.
		Owns(&clusterv1beta1.PlacementDecision{}).
		Watches(&clusterv1.ManagedCluster{}, allPlacements, builder.WithPredicates(clusterChanged{})).
		Watches(&clusterv1beta2.ManagedClusterSet{}, allPlacements, builder.WithPredicates(
			predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, deletionChanged{}))).
		Watches(&clusterv1beta2.ManagedClusterSetBinding{}, placementsInNamespace, builder.WithPredicates(
			predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, deletionChanged{}))).
		Complete(c)
	if err != nil {
		return nil, fmt.Errorf("placement: controller: %w", err)
	}
	return c, nil
}

// Start runs the controller until ctx ends. It implements manager.Runnable.
func (c *Controller) Start(ctx context.Context) error {
	if err := c.mgr.Start(ctx); err != nil {
		return fmt.Errorf("placement: %w", err)
	}
	return nil
}

// Stats returns the counters so far. Safe for concurrent use.
func (c *Controller) Stats() Stats {
	return Stats{HubWrites: c.hubWrites.Load(), Reconciles: c.reconciles.Load()}
}

func (c *Controller) placementsIn(ctx context.Context, namespace string) []reconcile.Request {
	var list clusterv1beta1.PlacementList
	if err := c.hub.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		c.log.Error(err, "list placements", "namespace", namespace)
		return nil
	}
	reqs := make([]reconcile.Request, len(list.Items))
	for i := range list.Items {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])}
	}
	return reqs
}

// clusterChanged passes ManagedCluster events that can change a selection: labels, spec
// (taints), claims, deletion. Lease and condition churn from agents is ignored.
type clusterChanged struct{ predicate.Funcs }

func (clusterChanged) Create(event.CreateEvent) bool   { return true }
func (clusterChanged) Delete(event.DeleteEvent) bool   { return true }
func (clusterChanged) Generic(event.GenericEvent) bool { return true }
func (clusterChanged) Update(e event.UpdateEvent) bool {
	o, okO := e.ObjectOld.(*clusterv1.ManagedCluster)
	n, okN := e.ObjectNew.(*clusterv1.ManagedCluster)
	if !okO || !okN {
		return true
	}
	return o.Generation != n.Generation || !equality.Semantic.DeepEqual(o.Labels, n.Labels) ||
		!equality.Semantic.DeepEqual(o.Status.ClusterClaims, n.Status.ClusterClaims) ||
		!o.DeletionTimestamp.Equal(n.DeletionTimestamp)
}

type deletionChanged struct{ predicate.Funcs }

func (deletionChanged) Update(e event.UpdateEvent) bool {
	return !e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp())
}

// decisionName is the name of page i (from 0) of a placement's decisions.
func decisionName(placement string, i int) string {
	return fmt.Sprintf("%s-decision-%d", placement, i+1)
}

// Reconcile recomputes one placement and writes its decisions and status.
func (c *Controller) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c.reconciles.Add(1)
	p := &clusterv1beta1.Placement{}
	if err := c.hub.Get(ctx, req.NamespacedName, p); err != nil {
		if apierrors.IsNotFound(err) {
			// The owner references would let a garbage collector do this, but test hubs
			// run a bare apiserver without one.
			return reconcile.Result{}, c.deleteDecisions(ctx, req.Namespace, req.Name)
		}
		return reconcile.Result{}, fmt.Errorf("placement %s: get: %w", req.NamespacedName, err)
	}
	if !p.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}

	in := input{placement: p, sets: map[string]*clusterv1beta2.ManagedClusterSet{}, decided: map[string]bool{}, now: time.Now()}
	var bindings clusterv1beta2.ManagedClusterSetBindingList
	if err := c.hub.List(ctx, &bindings, client.InNamespace(p.Namespace)); err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: list bindings: %w", req.NamespacedName, err)
	}
	in.bindings = bindings.Items
	var sets clusterv1beta2.ManagedClusterSetList
	if err := c.hub.List(ctx, &sets); err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: list cluster sets: %w", req.NamespacedName, err)
	}
	for i := range sets.Items {
		in.sets[sets.Items[i].Name] = &sets.Items[i]
	}
	var clusters clusterv1.ManagedClusterList
	if err := c.hub.List(ctx, &clusters); err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: list clusters: %w", req.NamespacedName, err)
	}
	in.clusters = clusters.Items
	existing, err := c.decisions(ctx, p.Namespace, p.Name)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: %w", req.NamespacedName, err)
	}
	for _, d := range existing {
		for _, cd := range d.Status.Decisions {
			in.decided[cd.ClusterName] = true
		}
	}

	res := schedule(in)
	names, err := c.writeDecisions(ctx, p, res.clusters, existing)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: %w", req.NamespacedName, err)
	}
	if err := c.writeStatus(ctx, p, res, names); err != nil {
		return reconcile.Result{}, fmt.Errorf("placement %s: %w", req.NamespacedName, err)
	}
	return reconcile.Result{RequeueAfter: res.requeueAfter}, nil
}

func (c *Controller) decisions(ctx context.Context, namespace, placement string) (map[string]*clusterv1beta1.PlacementDecision, error) {
	var list clusterv1beta1.PlacementDecisionList
	if err := c.hub.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{clusterv1beta1.PlacementLabel: placement}); err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	out := map[string]*clusterv1beta1.PlacementDecision{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

// writeDecisions stores the selection as pages of at most MaxDecisionsPerObject clusters
// (one empty page when nothing is selected), like upstream, and deletes surplus pages.
// It returns the page names.
func (c *Controller) writeDecisions(ctx context.Context, p *clusterv1beta1.Placement, clusters []string,
	existing map[string]*clusterv1beta1.PlacementDecision) ([]string, error) {
	pages := max(1, (len(clusters)+clusterv1beta1.MaxDecisionsPerObject-1)/clusterv1beta1.MaxDecisionsPerObject)
	var names []string
	for i := range pages {
		lo := i * clusterv1beta1.MaxDecisionsPerObject
		hi := min(len(clusters), lo+clusterv1beta1.MaxDecisionsPerObject)
		decisions := make([]clusterv1beta1.ClusterDecision, 0, hi-lo) // non-nil: the schema requires the list
		for _, name := range clusters[lo:hi] {
			decisions = append(decisions, clusterv1beta1.ClusterDecision{ClusterName: name})
		}
		name := decisionName(p.Name, i)
		names = append(names, name)
		if err := c.writeDecision(ctx, p, name, decisions, existing[name]); err != nil {
			return nil, err
		}
	}
	for name := range existing {
		keep := false
		for _, n := range names {
			keep = keep || n == name
		}
		if !keep {
			if err := c.deleteDecision(ctx, existing[name]); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}

func (c *Controller) writeDecision(ctx context.Context, p *clusterv1beta1.Placement, name string,
	decisions []clusterv1beta1.ClusterDecision, cur *clusterv1beta1.PlacementDecision) error {
	labels := map[string]string{
		clusterv1beta1.PlacementLabel:          p.Name,
		clusterv1beta1.DecisionGroupIndexLabel: "0",
		clusterv1beta1.DecisionGroupNameLabel:  "",
	}
	owner := metav1.OwnerReference{
		APIVersion: clusterv1beta1.GroupVersion.String(), Kind: "Placement", Name: p.Name, UID: p.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
	if cur == nil {
		cur = &clusterv1beta1.PlacementDecision{ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: p.Namespace, Labels: labels, OwnerReferences: []metav1.OwnerReference{owner},
		}}
		if err := c.hub.Create(ctx, cur); err != nil {
			return fmt.Errorf("create decision %s: %w", name, err)
		}
		c.hubWrites.Add(1)
	} else if !equality.Semantic.DeepEqual(cur.Labels, labels) || !equality.Semantic.DeepEqual(cur.OwnerReferences, []metav1.OwnerReference{owner}) {
		// A decision left behind by an earlier placement of the same name, or edited.
		patched := cur.DeepCopy()
		patched.Labels, patched.OwnerReferences = labels, []metav1.OwnerReference{owner}
		if err := c.hub.Patch(ctx, patched, client.MergeFromWithOptions(cur, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("update decision %s: %w", name, err)
		}
		c.hubWrites.Add(1)
		cur = patched
	}
	// Status is written through the subresource; a create drops it.
	if cur.Status.Decisions != nil && equality.Semantic.DeepEqual(cur.Status.Decisions, decisions) {
		return nil
	}
	patched := cur.DeepCopy()
	patched.Status.Decisions = decisions
	if err := c.hub.Status().Update(ctx, patched); err != nil {
		return fmt.Errorf("write decision %s status: %w", name, err)
	}
	c.hubWrites.Add(1)
	return nil
}

func (c *Controller) deleteDecision(ctx context.Context, d *clusterv1beta1.PlacementDecision) error {
	err := c.hub.Delete(ctx, d)
	switch {
	case err == nil:
		c.hubWrites.Add(1)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("delete decision %s: %w", d.Name, err)
	}
	return nil
}

// deleteDecisions removes every decision of a placement that no longer exists.
func (c *Controller) deleteDecisions(ctx context.Context, namespace, placement string) error {
	existing, err := c.decisions(ctx, namespace, placement)
	if err != nil {
		return fmt.Errorf("placement %s/%s: %w", namespace, placement, err)
	}
	for _, d := range existing {
		if err := c.deleteDecision(ctx, d); err != nil {
			return fmt.Errorf("placement %s/%s: %w", namespace, placement, err)
		}
	}
	return nil
}

func (c *Controller) writeStatus(ctx context.Context, p *clusterv1beta1.Placement, res result, names []string) error {
	status := *p.Status.DeepCopy()
	status.NumberOfSelectedClusters = int32(len(res.clusters))
	status.DecisionGroups = []clusterv1beta1.DecisionGroupStatus{{
		DecisionGroupIndex: 0, DecisionGroupName: "", Decisions: names, ClustersCount: int32(len(res.clusters)),
	}}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	for _, cond := range []metav1.Condition{res.satisfied, res.misconfigured} {
		cond.ObservedGeneration, cond.LastTransitionTime = p.Generation, now
		meta.SetStatusCondition(&status.Conditions, cond)
	}
	if equality.Semantic.DeepEqual(status, p.Status) {
		return nil
	}
	patched := p.DeepCopy()
	patched.Status = status
	if err := c.hub.Status().Patch(ctx, patched, client.MergeFrom(p)); err != nil {
		return fmt.Errorf("patch status: %w", err)
	}
	c.hubWrites.Add(1)
	return nil
}
