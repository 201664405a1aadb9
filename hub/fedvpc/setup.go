package fedvpc

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/render"
)

// Cache indexes.
const (
	// indexOwner maps a ManifestWork to "<tenant>/<name>" of its FederatedVpc.
	indexOwner = "federation.iaas.yusur.io/owner"
	// indexPlacement maps a FederatedVpc to "<namespace>/<placement>".
	indexPlacement = "federation.iaas.yusur.io/placement"
)

// Setup creates the reconciler and registers it, its indexes and its watches with mgr:
// FederatedVpcs; PlacementDecisions and Placements, mapped to the FederatedVpcs that
// reference the placement; and ManifestWorks, mapped back through their owner annotation.
func Setup(ctx context.Context, mgr manager.Manager, opts Options) (*Reconciler, error) {
	if opts.Transit == nil {
		return nil, fmt.Errorf("federatedvpc controller: a transit pool is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.StatusDelay < 0 {
		opts.StatusDelay = 0
	}
	if opts.ScrapeType == "" {
		opts.ScrapeType = workv1.FeedbackPollScrapeType
	}
	r := &Reconciler{
		client: mgr.GetClient(), apiReader: mgr.GetAPIReader(),
		events: mgr.GetEventRecorder("ycloud-hub"), opts: opts, now: time.Now,
	}
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &fedv1.FederatedVpc{}, indexPlacement, func(o client.Object) []string {
		fv := o.(*fedv1.FederatedVpc)
		return []string{fv.Namespace + "/" + fv.Spec.PlacementRef.Name}
	}); err != nil {
		return nil, fmt.Errorf("index %s: %w", indexPlacement, err)
	}
	if err := idx.IndexField(ctx, &workv1.ManifestWork{}, indexOwner, func(o client.Object) []string {
		if o.GetLabels()[render.LabelKind] != render.KindFederatedVpc {
			return nil
		}
		if owner := o.GetAnnotations()[render.AnnotationOwner]; owner != "" {
			return []string{owner}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("index %s: %w", indexOwner, err)
	}

	byPlacement := func(ctx context.Context, namespace, placement string) []reconcile.Request {
		if placement == "" {
			return nil
		}
		var list fedv1.FederatedVpcList
		if err := r.client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{indexPlacement: namespace + "/" + placement}); err != nil {
			log.FromContext(ctx).Error(err, "map placement to federatedvpcs", "placement", namespace+"/"+placement)
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, fv := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: fv.Namespace, Name: fv.Name}})
		}
		return out
	}
	decisions := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return byPlacement(ctx, o.GetNamespace(), o.GetLabels()[clusterv1beta1.PlacementLabel])
	})
	placements := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return byPlacement(ctx, o.GetNamespace(), o.GetName())
	})
	works := worksHandler(opts.StatusDelay, &r.recent)
	// A Placement matters when it appears or goes away; what it selects arrives through
	// its PlacementDecisions.
	existence := predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("federatedvpc").
		For(&fedv1.FederatedVpc{}).
		Watches(&clusterv1beta1.PlacementDecision{}, decisions).
		Watches(&clusterv1beta1.Placement{}, placements, builder.WithPredicates(existence)).
		Watches(&workv1.ManifestWork{}, works).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: opts.Workers,
			// Tests run several hubs, one after another, in one process.
			SkipNameValidation: ptr.To(true),
		}).
		Complete(r)
	if err != nil {
		return nil, fmt.Errorf("federatedvpc controller: %w", err)
	}
	return r, nil
}

// worksHandler maps a ManifestWork event to its FederatedVpc. Creation, deletion and spec
// changes are handled at once; status-only updates (the agents reporting) are delayed by
// statusDelay, so that one reconcile aggregates every cluster that reported within the
// window and the FederatedVpc status is written once instead of once per cluster.
func worksHandler(statusDelay time.Duration, recent *recentCreates) handler.EventHandler {
	owner := func(o client.Object) (reconcile.Request, bool) {
		if o.GetLabels()[render.LabelKind] != render.KindFederatedVpc {
			return reconcile.Request{}, false
		}
		ns, name := splitOwner(o.GetAnnotations()[render.AnnotationOwner])
		if ns == "" || name == "" {
			return reconcile.Request{}, false
		}
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}, true
	}
	now := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if r, ok := owner(o); ok {
			q.Add(r)
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			now(e.Object, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			recent.gone(client.ObjectKeyFromObject(e.Object))
			now(e.Object, q)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			now(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			r, ok := owner(e.ObjectNew)
			if !ok {
				return
			}
			statusOnly := e.ObjectOld.GetGeneration() == e.ObjectNew.GetGeneration() &&
				e.ObjectOld.GetDeletionTimestamp().IsZero() == e.ObjectNew.GetDeletionTimestamp().IsZero()
			if statusOnly && statusDelay > 0 {
				q.AddAfter(r, statusDelay)
				return
			}
			q.Add(r)
		},
	}
}
