/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// Reconcile brings one ManifestWork's objects on the spoke in line with it and reports
// back. Live works are requeued every StatusSyncInterval: that periodic pass is the status
// sync.
func (a *Agent) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	work := &workv1.ManifestWork{}
	if err := a.hub.Get(ctx, req.NamespacedName, work); err != nil {
		if apierrors.IsNotFound(err) {
			a.forget(req.Name)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("manifestwork %s: get: %w", req.NamespacedName, err)
	}
	if !work.DeletionTimestamp.IsZero() {
		return a.cleanup(ctx, work)
	}
	if !controllerutil.ContainsFinalizer(work, workv1.ManifestWorkFinalizer) {
		// The finalizer goes on before anything is applied, so a work deleted right after
		// creation still gets its objects cleaned up.
		patched := work.DeepCopy()
		controllerutil.AddFinalizer(patched, workv1.ManifestWorkFinalizer)
		if err := a.hub.Patch(ctx, patched, client.MergeFromWithOptions(work, client.MergeFromWithOptimisticLock{})); err != nil {
			return reconcile.Result{}, fmt.Errorf("manifestwork %s: add finalizer: %w", req.NamespacedName, err)
		}
		a.finalizerPatches.Add(1)
		work = patched
	}
	if err := a.sync(ctx, work); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: a.opts.StatusSyncInterval}, nil
}

// sync applies (when needed), removes objects dropped from the work, and writes status.
func (a *Agent) sync(ctx context.Context, work *workv1.ManifestWork) error {
	a.syncs.Add(1)
	id := work.Namespace + "/" + work.Name
	rec := a.recordFor(work)
	manifests := parseManifests(work.Spec.Workload.Manifests, a.mapper)
	// Everything is applied once per generation (and once after an agent restart); in
	// between, a manifest is re-applied only if its object disappeared from the spoke.
	reapply := rec.generation != work.Generation

	results := make([]manifestResult, len(manifests))
	var errs []error
	for i, m := range manifests {
		results[i] = a.syncManifest(ctx, work, rec, m, reapply)
		if err := results[i].applyErr; err != nil {
			errs = append(errs, fmt.Errorf("manifestwork %s: manifest %d: %w", id, m.ordinal, err))
		}
	}

	if err := a.deleteDropped(ctx, work, manifests, rec); err != nil {
		errs = append(errs, err)
	}
	applyFailed := false
	for _, r := range results {
		applyFailed = applyFailed || r.applyErr != nil
	}
	if !applyFailed {
		rec.generation = work.Generation
	}

	status := buildStatus(work.Status, work.Generation, results, metav1.NewTime(time.Now().Truncate(time.Second)))
	if !equality.Semantic.DeepEqual(status, work.Status) {
		patched := work.DeepCopy()
		patched.Status = status
		if err := a.hub.Status().Patch(ctx, patched, client.MergeFrom(work)); err != nil {
			errs = append(errs, fmt.Errorf("manifestwork %s: patch status: %w", id, err))
		} else {
			a.statusPatches.Add(1)
		}
	}
	return errors.Join(errs...)
}

// syncManifest applies one manifest if needed and reads back what the status reports about
// it: existence and feedback values. It updates the work's record of applied objects.
func (a *Agent) syncManifest(ctx context.Context, work *workv1.ManifestWork, rec *record, m *manifest, reapply bool) manifestResult {
	r := manifestResult{meta: m.resourceMeta()}
	if m.err != nil {
		r.applyErr, r.availMsg = m.err, m.err.Error()
		return r
	}
	cfg := configFor(work.Spec.ManifestConfigs, m.key())
	live, err := a.applyIfNeeded(ctx, m, cfg, reapply)
	if err != nil {
		r.applyErr, r.conflict = fmt.Errorf("%s: %w", m.key(), err), errors.Is(err, errApplyConflict)
		// Availability is about existence, whatever happened to the apply.
		live, err = a.get(ctx, m.gvk, m.key())
		if err != nil && !apierrors.IsNotFound(err) {
			r.availMsg = err.Error()
		}
	}
	readOnly := cfg != nil && cfg.UpdateStrategy != nil && cfg.UpdateStrategy.Type == workv1.UpdateStrategyTypeReadOnly
	if readOnly {
		// Observed, never owned: it must not be deleted with the work.
		rec.readOnly[m.key()] = true
		delete(rec.applied, m.key())
	} else {
		delete(rec.readOnly, m.key())
	}
	switch {
	case live != nil:
		r.avail = availYes
		if !readOnly {
			rec.applied[m.key()] = appliedObject{gvk: m.gvk, uid: live.GetUID()}
		}
	case r.availMsg == "":
		r.avail = availNo
	}
	if cfg != nil && len(cfg.FeedbackRules) > 0 {
		r.hasFeedbackRules = true
		if live != nil {
			r.feedback, r.problems = feedbackValues(cfg.FeedbackRules, live, func(v string) (*unstructured.Unstructured, error) {
				return a.get(ctx, m.gvk.GroupKind().WithVersion(v), m.key())
			})
		}
	}
	return r
}

// applyIfNeeded writes one manifest to the spoke according to its update strategy and
// returns the object as the spoke now has it (nil when it does not exist).
func (a *Agent) applyIfNeeded(ctx context.Context, m *manifest, cfg *workv1.ManifestConfigOption, reapply bool) (*unstructured.Unstructured, error) {
	strategy := workv1.UpdateStrategyTypeUpdate
	if cfg != nil && cfg.UpdateStrategy != nil && cfg.UpdateStrategy.Type != "" {
		strategy = cfg.UpdateStrategy.Type
	}
	if !reapply || strategy == workv1.UpdateStrategyTypeReadOnly || strategy == workv1.UpdateStrategyTypeCreateOnly {
		live, err := a.get(ctx, m.gvk, m.key())
		switch {
		case err == nil:
			return live, nil
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("read: %w", err)
		case strategy == workv1.UpdateStrategyTypeReadOnly:
			return nil, nil // ReadOnly only observes; a missing object is Available=False
		}
	}
	obj := m.obj.DeepCopy()
	if strategy == workv1.UpdateStrategyTypeCreateOnly {
		if err := a.spoke.Create(ctx, obj, client.FieldOwner(FieldManager)); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return a.get(ctx, m.gvk, m.key())
			}
			return nil, fmt.Errorf("create: %w", err)
		}
		a.spokeApplies.Add(1)
		return obj, nil
	}
	// Update (the default) makes the object what the manifest says, so it takes every field
	// (forced apply); ServerSideApply is as configured and reports conflicts.
	manager, force := FieldManager, true
	if strategy == workv1.UpdateStrategyTypeServerSideApply {
		force = false
		if ssa := cfg.UpdateStrategy.ServerSideApply; ssa != nil {
			force = ssa.Force
			if ssa.FieldManager != "" {
				manager = ssa.FieldManager
			}
		}
	}
	opts := []client.ApplyOption{client.FieldOwner(manager)}
	if force {
		opts = append(opts, client.ForceOwnership)
	}
	if err := a.spoke.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), opts...); err != nil {
		if apierrors.IsConflict(err) {
			return nil, fmt.Errorf("%w: %w", errApplyConflict, err)
		}
		return nil, fmt.Errorf("server-side apply: %w", err)
	}
	a.spokeApplies.Add(1)
	return obj, nil
}

func (a *Agent) get(ctx context.Context, gvk schema.GroupVersionKind, k resourceKey) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := a.spoke.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, u); err != nil {
		return nil, err
	}
	return u, nil
}

// deleteDropped deletes from the spoke the objects the work applied before but no longer
// lists: the previous status entries plus the in-memory record, minus the current manifests.
func (a *Agent) deleteDropped(ctx context.Context, work *workv1.ManifestWork, manifests []*manifest, rec *record) error {
	desired := map[resourceKey]bool{}
	for _, m := range manifests {
		if m.obj != nil && m.resource == "" {
			// A manifest that did not map (discovery trouble, CRD not there yet) might be one
			// of the previous objects: never prune on incomplete knowledge.
			return nil
		}
		if m.obj != nil {
			desired[m.key()] = true
		}
	}
	var errs []error
	for k, obj := range previouslyApplied(work, rec) {
		if desired[k] {
			continue
		}
		if !orphaned(work.Spec.DeleteOption, k) {
			shared, err := a.listedByOtherWork(ctx, work, k)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !shared {
				if err := a.deleteObject(ctx, obj, k); err != nil {
					errs = append(errs, fmt.Errorf("manifestwork %s/%s: delete dropped %s: %w", work.Namespace, work.Name, k, err))
					continue
				}
			}
		}
		delete(rec.applied, k)
	}
	return errors.Join(errs...)
}

// previouslyApplied is what the work applied before this pass: its status entries and the
// agent's in-memory record (which knows UIDs).
func previouslyApplied(work *workv1.ManifestWork, rec *record) map[resourceKey]appliedObject {
	out := map[resourceKey]appliedObject{}
	for _, mc := range work.Status.ResourceStatus.Manifests {
		if k, gvk, ok := keyFromMeta(mc.ResourceMeta); ok && !rec.readOnly[k] {
			out[k] = appliedObject{gvk: gvk}
		}
	}
	for k, o := range rec.applied {
		out[k] = o
	}
	return out
}

// deleteObject deletes an applied object; already gone is success. With a known UID the
// delete is conditional, so an object someone recreated since is left alone.
func (a *Agent) deleteObject(ctx context.Context, o appliedObject, k resourceKey) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(o.gvk)
	u.SetNamespace(k.Namespace)
	u.SetName(k.Name)
	opts := []client.DeleteOption{client.PropagationPolicy(metav1.DeletePropagationBackground)}
	if o.uid != "" {
		opts = append(opts, client.Preconditions{UID: ptr.To(o.uid)})
	}
	err := a.spoke.Delete(ctx, u, opts...)
	switch {
	case err == nil:
		a.spokeDeletes.Add(1)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err), meta.IsNoMatchError(err):
		return nil // gone, a different object now, or its kind no longer exists
	}
	return err
}

// listedByOtherWork reports whether another live work of the cluster also lists the object:
// upstream leaves such an object in place, owned by the remaining work.
func (a *Agent) listedByOtherWork(ctx context.Context, work *workv1.ManifestWork, k resourceKey) (bool, error) {
	var list workv1.ManifestWorkList
	if err := a.hub.List(ctx, &list, client.InNamespace(work.Namespace)); err != nil {
		return false, fmt.Errorf("list manifestworks in %s: %w", work.Namespace, err)
	}
	for i := range list.Items {
		other := &list.Items[i]
		if other.UID == work.UID || !other.DeletionTimestamp.IsZero() {
			continue
		}
		for _, m := range parseManifests(other.Spec.Workload.Manifests, a.mapper) {
			if m.obj == nil {
				continue
			}
			mk := m.key()
			if m.resource == "" {
				mk.Resource = k.Resource // unmapped: assume the same kind rather than delete
			}
			if mk == k {
				return true, nil
			}
		}
	}
	return false, nil
}

// cleanup handles a deleted work: unless the delete option orphans them, delete the applied
// objects and keep the finalizer until the spoke no longer has them.
func (a *Agent) cleanup(ctx context.Context, work *workv1.ManifestWork) (reconcile.Result, error) {
	id := work.Namespace + "/" + work.Name
	if !controllerutil.ContainsFinalizer(work, workv1.ManifestWorkFinalizer) {
		a.forget(work.Name)
		return reconcile.Result{}, nil
	}
	rec := a.recordFor(work)
	objs := previouslyApplied(work, rec)
	for _, m := range parseManifests(work.Spec.Workload.Manifests, a.mapper) {
		if m.obj == nil || m.resource == "" || m.err != nil {
			continue
		}
		if cfg := configFor(work.Spec.ManifestConfigs, m.key()); cfg != nil && cfg.UpdateStrategy != nil &&
			cfg.UpdateStrategy.Type == workv1.UpdateStrategyTypeReadOnly {
			delete(objs, m.key())
			continue
		}
		if _, ok := objs[m.key()]; !ok {
			objs[m.key()] = appliedObject{gvk: m.gvk}
		}
	}
	keys := make([]resourceKey, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })

	var pending []string
	var errs []error
	for _, k := range keys {
		if orphaned(work.Spec.DeleteOption, k) {
			continue
		}
		shared, err := a.listedByOtherWork(ctx, work, k)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if shared {
			continue
		}
		o := objs[k]
		if err := a.deleteObject(ctx, o, k); err != nil {
			errs = append(errs, fmt.Errorf("manifestwork %s: delete %s: %w", id, k, err))
			continue
		}
		// Re-read: objects without finalizers are gone at once, so most works finish in
		// one pass; the rest are waited for.
		live, err := a.get(ctx, o.gvk, k)
		switch {
		case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("manifestwork %s: read %s: %w", id, k, err))
		case o.uid != "" && live.GetUID() != o.uid:
			// Someone else's object by now: not ours to wait for.
		default:
			pending = append(pending, k.String())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if len(pending) > 0 {
		a.cleanupWaits.Add(1)
		a.log.V(1).Info("waiting for applied objects to be deleted", "work", id, "objects", pending)
		return reconcile.Result{RequeueAfter: a.deletePoll()}, nil
	}
	patched := work.DeepCopy()
	controllerutil.RemoveFinalizer(patched, workv1.ManifestWorkFinalizer)
	if err := a.hub.Patch(ctx, patched, client.MergeFromWithOptions(work, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("manifestwork %s: remove finalizer: %w", id, err)
	}
	a.finalizerPatches.Add(1)
	a.forget(work.Name)
	return reconcile.Result{}, nil
}

// deletePoll is how soon a deleted work is looked at again while its objects are going away.
func (a *Agent) deletePoll() time.Duration {
	return min(250*time.Millisecond, a.opts.StatusSyncInterval)
}
