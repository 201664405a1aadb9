package controller

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// env is what every reconciler shares.
type env struct {
	cfg    Config
	client client.Client // reads from the informer cache, writes to the apiserver
	nb     *ovsdb.Client
	alloc  *allocator
	events recorder.EventRecorder
	// ready is closed once the caches are synced and the default objects exist.
	ready chan struct{}
	// nbEvents carries owners of NB rows changed behind our back to their reconcilers.
	nbEvents map[string]chan event.GenericEvent
}

// transact sends a plan as one transaction. An empty plan sends nothing.
func (e *env) transact(ctx context.Context, plan *ovnnb.Plan) error {
	if plan == nil || plan.Empty() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.OVSDBTimeout)
	defer cancel()
	_, err := e.nb.Transact(ctx, plan.Ops...)
	return err
}

// waitReady blocks reconciles until the allocator can trust its view of the world.
func (e *env) waitReady(ctx context.Context) error {
	select {
	case <-e.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *env) owner(kind, key string) ovnnb.Owner {
	return ovnnb.Owner{Kind: kind, Key: key, Cluster: e.cfg.Cluster}
}

// userRetry is how soon an object refused for a reason the user or another object must
// fix (an address in use, a full subnet) is tried again.
const userRetry = 30 * time.Second

// requeueFor maps well-known transient errors to a delayed retry instead of the error
// backoff: a missing parent row is normal ordering, not a failure worth logging.
func requeueFor(err error) (reconcile.Result, error) {
	if errors.Is(err, ovnnb.ErrParentMissing) {
		return reconcile.Result{RequeueAfter: 2 * time.Second}, nil
	}
	return reconcile.Result{}, err
}

// stopping hides errors a reconcile returns because the manager is shutting down: a status
// write cut short by the cancelled context is not a failure, and controller-runtime would
// log every such one as "Reconciler error" on each stop.
type stopping struct{ reconcile.Reconciler }

func (s stopping) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	res, err := s.Reconciler.Reconcile(ctx, req)
	if err != nil && ctx.Err() != nil {
		return reconcile.Result{}, nil
	}
	return res, err
}

// setReady sets the Ready condition and reports whether anything changed.
func setReady(conds *[]metav1.Condition, gen int64, ok bool, reason, msg string) bool {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return meta.SetStatusCondition(conds, metav1.Condition{
		Type: iaasv1.ConditionReady, Status: st, Reason: reason, Message: msg, ObservedGeneration: gen,
	})
}

// patchStatus writes obj's status if it differs from old's (no write that changes nothing).
// An object deleted since the cache showed it is not an error: there is nobody left to
// report to, and its deletion event brings the key back to the reconciler, whose next run
// takes the deletion path. Returning the NotFound would only log a "Reconciler error" and
// retry for nothing.
func patchStatus(ctx context.Context, c client.Client, old, obj client.Object, oldStatus, newStatus any) error {
	if equality.Semantic.DeepEqual(oldStatus, newStatus) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(old)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: status: %w", objectName(obj), err)
	}
	return nil
}

// objectName names an object the way errors here do: `vpc "a"`, `vnic "ns/b"`. (Typed
// objects read through the client carry no kind, so it comes from the Go type.)
func objectName(o client.Object) string {
	kind := strings.ToLower(reflect.TypeOf(o).Elem().Name())
	if o.GetNamespace() == "" {
		return fmt.Sprintf("%s %q", kind, o.GetName())
	}
	return fmt.Sprintf("%s %q", kind, o.GetNamespace()+"/"+o.GetName())
}
