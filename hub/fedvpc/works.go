package fedvpc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/render"
)

// maxParallelWrites bounds the concurrent work writes of one pass.
const maxParallelWrites = 8

// errNameTaken marks a work name held by another object's work: nothing the hub can fix,
// so it is reported in the cluster's status and retried slowly.
var errNameTaken = errors.New("name taken")

// errWaitForDeletion marks a work that must finish deleting before the hub can go on.
var errWaitForDeletion = errors.New("waiting for the work agent to finish deleting")

// worksOf returns the object's ManifestWorks from the cache, by cluster, and separately any
// other work the hub owns for it (a leftover of an older naming scheme), to be pruned.
func (r *Reconciler) worksOf(ctx context.Context, owner string) (map[string]*workv1.ManifestWork, []*workv1.ManifestWork, error) {
	var list workv1.ManifestWorkList
	if err := r.client.List(ctx, &list, client.MatchingFields{indexOwner: owner}); err != nil {
		return nil, nil, fmt.Errorf("federatedvpc %s: list manifestworks: %w", owner, err)
	}
	tenant, name := splitOwner(owner)
	want := render.WorkName("vpc", tenant, name)
	works := make(map[string]*workv1.ManifestWork, len(list.Items))
	var strays []*workv1.ManifestWork
	for i := range list.Items {
		if w := &list.Items[i]; w.Name == want {
			works[w.Namespace] = w
		} else {
			strays = append(strays, w)
		}
	}
	return works, strays, nil
}

// liveWorksOf lists the object's works from the apiserver, not the cache.
func (r *Reconciler) liveWorksOf(ctx context.Context, fv *fedv1.FederatedVpc) ([]workv1.ManifestWork, error) {
	var list workv1.ManifestWorkList
	sel := client.MatchingLabels{render.LabelKind: render.KindFederatedVpc, render.LabelTenant: fv.Namespace, render.LabelName: render.LabelValue(fv.Name)}
	if err := r.apiReader.List(ctx, &list, sel); err != nil {
		return nil, fmt.Errorf("federatedvpc %s/%s: list manifestworks: %w", fv.Namespace, fv.Name, err)
	}
	owner := fv.Namespace + "/" + fv.Name
	return slices.DeleteFunc(list.Items, func(w workv1.ManifestWork) bool { return w.Annotations[render.AnnotationOwner] != owner }), nil
}

// applyWorks creates or updates the work of every placed cluster and prunes the works of
// clusters that left the placement. A failure in one cluster does not stop the others; it
// is recorded for that cluster's status and retried.
func (r *Reconciler) applyWorks(ctx context.Context, p *pass) {
	// The clusters' works are written concurrently: each write is a round trip, and a
	// VPC on many clusters should not cost their sum.
	results := make([]*workv1.ManifestWork, len(p.clusters))
	errs := make([]error, len(p.clusters))
	sem := make(chan struct{}, maxParallelWrites)
	var wg sync.WaitGroup
	for i, c := range p.clusters {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = r.applyWork(ctx, p, c)
		}()
	}
	wg.Wait()
	for i, c := range p.clusters {
		if errs[i] != nil {
			p.errs[c] = errs[i]
		}
		if results[i] != nil {
			p.works[c] = results[i]
		}
	}
	r.pruneWorks(ctx, p)
}

// pruneWorks deletes the works of clusters that left the placement, and strays. Deleting
// is not pushing: it also runs when a spec problem keeps the hub from writing works, as
// long as the placement itself resolved (a Placement that is gone for a moment must not
// tear the VPC down everywhere).
func (r *Reconciler) pruneWorks(ctx context.Context, p *pass) {
	for _, c := range slices.Sorted(maps.Keys(p.works)) {
		if !slices.Contains(p.clusters, c) {
			if err := r.deleteWork(ctx, p.works[c]); err != nil {
				p.errs[c] = err
			}
		}
	}
	for _, w := range p.strays {
		if err := r.deleteWork(ctx, w); err != nil {
			p.errs[w.Namespace] = err
		}
	}
}

// applyWork makes the cluster's work equal to the rendered one. A work missing from the
// cache is created outright (an AlreadyExists answer means the cache lags, and the live
// object is compared instead); an existing one is updated only when its content differs,
// confirmed against the apiserver first, so a cache that has not yet seen the hub's
// previous write never causes a second one.
//
// It returns the work as last written or read (nil when unknown) and only reads p, so the
// clusters of one pass can be applied concurrently.
func (r *Reconciler) applyWork(ctx context.Context, p *pass, cluster string) (*workv1.ManifestWork, error) {
	want := p.rendered[cluster].work
	have := p.works[cluster]
	key := client.ObjectKeyFromObject(want)
	if have == nil {
		// Created by an earlier pass, and the cache has not heard of it yet.
		have = r.recent.get(key)
	}
	if have == nil {
		created := want.DeepCopy()
		err := r.client.Create(ctx, created)
		countWrite("create", err)
		if err == nil {
			r.recent.put(created)
			return created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("manifestwork %s: create: %w", key, err)
		}
		// The cache has not seen the work yet, or another object's work has the name.
		live := &workv1.ManifestWork{}
		if err := r.apiReader.Get(ctx, key, live); err != nil {
			return nil, fmt.Errorf("manifestwork %s: get: %w", key, err)
		}
		have = live
	}
	if o := have.Annotations[render.AnnotationOwner]; o != p.owner {
		return nil, fmt.Errorf("manifestwork %s belongs to %q, not to this FederatedVpc (the names of two tenants' works collide; rename one FederatedVpc): %w", key, o, errNameTaken)
	}
	if !have.DeletionTimestamp.IsZero() {
		return have, fmt.Errorf("manifestwork %s is being deleted and is created again once the agent has cleaned up: %w", key, errWaitForDeletion)
	}
	if upToDate(have, want) {
		return have, nil
	}
	live := &workv1.ManifestWork{}
	if err := r.apiReader.Get(ctx, key, live); err != nil {
		return nil, fmt.Errorf("manifestwork %s: get: %w", key, err)
	}
	if upToDate(live, want) {
		return live, nil
	}
	live.Spec = want.Spec
	if live.Labels == nil {
		live.Labels = map[string]string{}
	}
	if live.Annotations == nil {
		live.Annotations = map[string]string{}
	}
	maps.Copy(live.Labels, want.Labels)
	maps.Copy(live.Annotations, want.Annotations)
	err := r.client.Update(ctx, live)
	countWrite("update", err)
	if err != nil {
		return nil, fmt.Errorf("manifestwork %s: update: %w", key, err)
	}
	return live, nil
}

// upToDate reports whether have carries the rendered spec and the hub's labels.
func upToDate(have, want *workv1.ManifestWork) bool {
	for k, v := range want.Labels {
		if have.Labels[k] != v {
			return false
		}
	}
	for k, v := range want.Annotations {
		if have.Annotations[k] != v {
			return false
		}
	}
	return render.SpecEqual(&have.Spec, &want.Spec)
}

// deleteWork deletes a work unless it is already being deleted. Absent is not an error.
func (r *Reconciler) deleteWork(ctx context.Context, w *workv1.ManifestWork) error {
	if !w.DeletionTimestamp.IsZero() {
		return nil
	}
	uid := w.UID
	r.recent.gone(client.ObjectKeyFromObject(w))
	err := r.client.Delete(ctx, w, &client.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	countWrite("delete", err)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("manifestwork %s/%s: delete: %w", w.Namespace, w.Name, err)
	}
	return nil
}

func splitOwner(owner string) (string, string) {
	for i := 0; i < len(owner); i++ {
		if owner[i] == '/' {
			return owner[:i], owner[i+1:]
		}
	}
	return "", owner
}

// recentCreates remembers works the hub created for a while. Without it, a pass that runs
// before the work informer has seen the create (the FederatedVpc informer is often
// quicker) would try to create the work again. An entry must outlive the informer's add
// event: a pass may list the cache just before that event and consult this map just after
// it. So entries go only when they expire, when the work is deleted, or when the hub
// deletes it itself; meanwhile the cache, once it has the work, is preferred anyway.
type recentCreates struct {
	mu sync.Mutex
	m  map[types.NamespacedName]recentCreate
}

type recentCreate struct {
	work *workv1.ManifestWork
	at   time.Time
}

// recentTTL bounds how long a create is trusted without the cache confirming it.
const recentTTL = 30 * time.Second

func (rc *recentCreates) put(w *workv1.ManifestWork) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.m == nil {
		rc.m = map[types.NamespacedName]recentCreate{}
	}
	now := time.Now()
	for k, e := range rc.m {
		if now.Sub(e.at) > recentTTL {
			delete(rc.m, k)
		}
	}
	rc.m[client.ObjectKeyFromObject(w)] = recentCreate{work: w.DeepCopy(), at: now}
}

func (rc *recentCreates) get(key types.NamespacedName) *workv1.ManifestWork {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e, ok := rc.m[key]
	if !ok || time.Since(e.at) > recentTTL {
		return nil
	}
	return e.work.DeepCopy()
}

// gone drops the entry of a work that was deleted.
func (rc *recentCreates) gone(key types.NamespacedName) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.m, key)
}
