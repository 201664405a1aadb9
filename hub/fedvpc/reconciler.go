package fedvpc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
	"github.com/ycloud-sdn/ycloud/hub/render"
)

// Finalizer keeps a FederatedVpc until every ManifestWork it owns is gone from the hub,
// which (with deleteOption Foreground) means its objects are gone from every spoke.
const Finalizer = "federation.iaas.yusur.io/manifestworks"

// Options configure the FederatedVpc reconciler.
type Options struct {
	// Transit is the hub-wide transit pool; the reconciler restores every recorded transit
	// into it before its first allocation.
	Transit *ipam.TransitPool
	// ScrapeType goes into every manifest's feedbackScrapeType.
	ScrapeType workv1.FeedbackScrapeType
	// Workers is the number of FederatedVpcs reconciled at once.
	Workers int
	// StatusDelay batches the agents' status reports: a work status update reaches the
	// reconciler after this delay, together with the other clusters' reports of the
	// same moment. Zero reacts at once.
	StatusDelay time.Duration
}

// Reconciler turns FederatedVpcs into one ManifestWork per placed cluster. Each pass runs
// small ordered steps — resolve the placement, allocate, render, write works, aggregate
// status — and writes the status at most once, only when it changed.
type Reconciler struct {
	client    client.Client // cached reads, writes to the hub
	apiReader client.Reader // live reads, to confirm a write is needed
	events    recorder.EventRecorder
	opts      Options
	now       func() time.Time

	seedMu sync.Mutex
	seeded bool

	ready  readyTracker
	recent recentCreates
}

// pass is one reconcile of one FederatedVpc.
type pass struct {
	fv    *fedv1.FederatedVpc
	owner string
	// works are this object's ManifestWorks by cluster (namespace), as last seen.
	works    map[string]*workv1.ManifestWork
	strays   []*workv1.ManifestWork
	clusters []string
	allocs   []ipam.Allocation
	transit  *ipam.Transit
	rendered map[string]renderedWork
	errs     map[string]error
	problem  *problem
}

type renderedWork struct {
	work      *workv1.ManifestWork
	manifests []render.Manifest
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	lg := log.FromContext(ctx)
	if err := r.seed(ctx); err != nil {
		return reconcile.Result{}, err
	}
	fv := &fedv1.FederatedVpc{}
	if err := r.client.Get(ctx, req.NamespacedName, fv); err != nil {
		if apierrors.IsNotFound(err) {
			r.ready.forget(req.String())
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("federatedvpc %s: get: %w", req, err)
	}
	p := &pass{fv: fv, owner: req.String(), errs: map[string]error{}}
	var err error
	if p.works, p.strays, err = r.worksOf(ctx, p.owner); err != nil {
		return reconcile.Result{}, err
	}
	if !fv.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, p)
	}
	if !controllerutil.ContainsFinalizer(fv, Finalizer) {
		// Before anything is pushed, so no work can outlive its FederatedVpc.
		patched := fv.DeepCopy()
		controllerutil.AddFinalizer(patched, Finalizer)
		if err := r.client.Patch(ctx, patched, client.MergeFromWithOptions(fv, client.MergeFromWithOptimisticLock{})); err != nil {
			return r.retry(ctx, fmt.Errorf("federatedvpc %s: add finalizer: %w", p.owner, err))
		}
		p.fv = patched
	}

	// Steps 1-3: nothing is pushed unless the placement resolves, the allocations succeed
	// and every work renders.
	persistFirst := false
	if p.clusters, p.problem, err = r.resolvePlacement(ctx, p.fv); err != nil {
		return reconcile.Result{}, err
	}
	if p.problem == nil {
		p.problem = r.allocate(p)
	}
	if p.problem == nil {
		p.problem = r.render(p)
	}
	if p.problem == nil {
		// Allocations reach the status before any work carries them: were the hub to crash
		// after pushing, a restart must find the same pieces. The status update brings
		// this object back at once for the push.
		rec, _ := recordedTransit(&p.fv.Status)
		persistFirst = rec != *p.transit ||
			!equality.Semantic.DeepEqual(statusAllocations(p.allocs), nonNil(p.fv.Status.Allocations))
	}
	// Step 4: write the works.
	switch {
	case p.problem == nil && !persistFirst:
		r.applyWorks(ctx, p)
	case p.problem != nil && !p.problem.placement:
		r.pruneWorks(ctx, p)
	}
	// Step 5: aggregate status, write it once if it changed.
	st := r.status(p)
	wrote, err := r.patchStatus(ctx, p, st)
	if err != nil {
		return r.retry(ctx, err)
	}

	switch {
	case p.problem != nil:
		lg.V(1).Info("not pushed", "federatedVpc", p.owner, "reason", p.problem.reason, "message", p.problem.msg)
		if p.problem.terminal && wrote {
			// Reported once, when the status first says so; the watches bring the object
			// back when the spec or the placement changes, and passes that find the
			// problem already reported stay quiet.
			return reconcile.Result{}, reconcile.TerminalError(fmt.Errorf("federatedvpc %s: %s", p.owner, p.problem.msg))
		}
		if p.problem.reason == ReasonTransitExhausted {
			return reconcile.Result{RequeueAfter: wait.Jitter(time.Minute, 0.5)}, nil
		}
		return reconcile.Result{}, nil
	case len(p.errs) > 0:
		// Each cluster's failure is classified on its own; the soonest retry wins.
		var res reconcile.Result
		for _, c := range slices.Sorted(maps.Keys(p.errs)) {
			rr, _ := r.retry(ctx, p.errs[c])
			if res.RequeueAfter == 0 || rr.RequeueAfter < res.RequeueAfter {
				res = rr
			}
		}
		return res, nil
	}
	return reconcile.Result{}, nil
}

// retry requeues after a transient failure. Conflicts (a stale cache, another writer) are
// normal and retried soon without noise; anything else is logged and retried with jitter,
// so a hub restart does not hit the apiserver with every failed object at one instant.
func (r *Reconciler) retry(ctx context.Context, err error) (reconcile.Result, error) {
	if apierrors.IsConflict(err) || errors.Is(err, errWaitForDeletion) {
		return reconcile.Result{RequeueAfter: wait.Jitter(500*time.Millisecond, 1)}, nil
	}
	if errors.Is(err, errNameTaken) {
		// Only a rename or a deletion elsewhere fixes it, and the other object's events
		// do not reach this one: look again now and then, quietly.
		log.FromContext(ctx).V(1).Info("work name taken", "err", err.Error())
		return reconcile.Result{RequeueAfter: wait.Jitter(30*time.Second, 0.5)}, nil
	}
	log.FromContext(ctx).Error(err, "reconcile failed, will retry")
	return reconcile.Result{RequeueAfter: wait.Jitter(5*time.Second, 1)}, nil
}

// allocate carves the per-cluster subnets and takes the VPC's transit.
func (r *Reconciler) allocate(p *pass) *problem {
	live := func(c string) bool { return p.works[c] != nil }
	in, err := carveInput(p.fv, p.clusters, live)
	if err != nil {
		return carveProblem(err)
	}
	if p.allocs, err = ipam.Carve(in); err != nil {
		return carveProblem(err)
	}
	if rec, ok := recordedTransit(&p.fv.Status); ok {
		if _, held := r.opts.Transit.Get(p.owner); !held {
			// Recorded but not restored at start (the object was created with a status,
			// say from a backup, or its record clashed then): keep it if it is still free.
			_ = r.opts.Transit.Restore(p.owner, rec)
		}
	}
	t, err := r.opts.Transit.Allocate(p.owner, render.TransitSwitchName(p.fv.Namespace, p.fv.Name))
	if err != nil {
		return &problem{reason: ReasonTransitExhausted, msg: err.Error()}
	}
	if len(p.clusters) > t.Hosts() {
		return &problem{reason: ReasonTooManyClusters, terminal: true,
			msg: fmt.Sprintf("%d clusters selected, but transit subnet %s links at most %d", len(p.clusters), t.Subnet, t.Hosts())}
	}
	p.transit = &t
	return nil
}

// render builds every placed cluster's work.
func (r *Reconciler) render(p *pass) *problem {
	p.rendered = make(map[string]renderedWork, len(p.clusters))
	specs := make(map[string]fedv1.FederatedSubnet, len(p.fv.Spec.Subnets))
	for _, s := range p.fv.Spec.Subnets {
		specs[s.Name] = s
	}
	for _, c := range p.clusters {
		in := render.VpcWork{Cluster: c, Tenant: p.fv.Namespace, Name: p.fv.Name, StaticRoutes: p.fv.Spec.StaticRoutes,
			Transit: *p.transit, ScrapeType: r.opts.ScrapeType}
		for _, a := range p.allocs {
			if a.Cluster == c {
				s := specs[a.Subnet]
				in.Subnets = append(in.Subnets, render.SubnetPiece{Name: a.Subnet, CIDRs: a.CIDRs, Gateways: a.Gateways,
					ExcludeIPs: s.ExcludeIPs, Default: s.Default})
			}
		}
		w, mans, err := in.Build()
		if err != nil {
			return &problem{reason: ReasonRenderFailed, msg: err.Error(), terminal: true}
		}
		p.rendered[c] = renderedWork{work: w, manifests: mans}
	}
	return nil
}

// status computes the new status of the pass.
func (r *Reconciler) status(p *pass) fedv1.FederatedVpcStatus {
	in := statusInput{
		old: p.fv.Status, generation: p.fv.Generation, placement: p.fv.Spec.PlacementRef.Name,
		problem: p.problem, notes: pinnedElsewhere(p.fv, p.clusters),
		now: metav1.NewTime(r.now().Truncate(time.Second)),
	}
	clusters := p.clusters
	allocs := p.allocs
	if p.problem != nil {
		allocs = nil
		// Nothing was pushed: report the clusters that still hold the VPC, with the
		// pieces recorded earlier.
		clusters = slices.Sorted(maps.Keys(p.works))
		for _, a := range p.fv.Status.Allocations {
			if cidrs, err := ipam.ParseCIDRs(a.CIDRBlock); err == nil {
				allocs = append(allocs, ipam.Allocation{Subnet: a.Subnet, Cluster: a.Cluster, CIDRs: cidrs})
			}
		}
	} else {
		in.allocations = statusAllocations(p.allocs)
		in.transit = transitStatus(*p.transit)
	}
	for _, c := range clusters {
		ci := clusterInput{name: c, workName: render.WorkName("vpc", p.fv.Namespace, p.fv.Name), work: p.works[c], err: p.errs[c],
			manifests: p.rendered[c].manifests}
		for _, a := range allocs {
			if a.Cluster == c {
				ci.subnets = append(ci.subnets, fedv1.ClusterSubnet{Name: a.Subnet, CIDRBlock: ipam.JoinPrefixes(a.CIDRs)})
			}
		}
		in.clusters = append(in.clusters, ci)
	}
	return buildStatus(in)
}

// patchStatus writes the status if it changed, with an optimistic lock: allocations are a
// durable record and must never be written from a stale read.
func (r *Reconciler) patchStatus(ctx context.Context, p *pass, st fedv1.FederatedVpcStatus) (bool, error) {
	oldReady := meta.FindStatusCondition(p.fv.Status.Conditions, fedv1.ConditionReady)
	newReady := meta.FindStatusCondition(st.Conditions, fedv1.ConditionReady)
	if equality.Semantic.DeepEqual(p.fv.Status, st) {
		r.ready.update(p.fv, oldReady, newReady, r.now())
		return false, nil
	}
	patched := p.fv.DeepCopy()
	patched.Status = st
	if err := r.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(p.fv, client.MergeFromWithOptimisticLock{})); err != nil {
		return false, fmt.Errorf("federatedvpc %s: patch status: %w", p.owner, err)
	}
	if newReady != nil && newReady.Status == metav1.ConditionFalse && (oldReady == nil || oldReady.Reason != newReady.Reason) && p.problem != nil {
		r.events.Eventf(patched, nil, "Warning", newReady.Reason, "Validate", "%s", newReady.Message)
	}
	r.ready.update(p.fv, oldReady, newReady, r.now())
	p.fv = patched
	return true, nil
}

// finalize deletes every work of a FederatedVpc that is being deleted, and lets it go once
// the hub holds none.
func (r *Reconciler) finalize(ctx context.Context, p *pass) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(p.fv, Finalizer) {
		return reconcile.Result{}, nil
	}
	var errs []error
	all := append(slices.Collect(maps.Values(p.works)), p.strays...)
	for _, w := range all {
		if err := r.deleteWork(ctx, w); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return r.retry(ctx, err)
	}
	if len(all) > 0 {
		// Work deletion events bring the object back; the agents remove their finalizers
		// once the spoke objects are gone.
		return reconcile.Result{}, nil
	}
	// The cache may not have seen a work created moments ago; ask the apiserver before
	// letting the object go for good.
	live, err := r.liveWorksOf(ctx, p.fv)
	if err != nil {
		return r.retry(ctx, err)
	}
	if len(live) > 0 {
		for i := range live {
			if err := r.deleteWork(ctx, &live[i]); err != nil {
				return r.retry(ctx, err)
			}
		}
		return r.retry(ctx, errWaitForDeletion)
	}
	patched := p.fv.DeepCopy()
	controllerutil.RemoveFinalizer(patched, Finalizer)
	if err := r.client.Patch(ctx, patched, client.MergeFromWithOptions(p.fv, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return r.retry(ctx, fmt.Errorf("federatedvpc %s: remove finalizer: %w", p.owner, err))
	}
	r.opts.Transit.Release(p.owner)
	r.ready.forget(p.owner)
	log.FromContext(ctx).Info("federated vpc removed from every cluster", "federatedVpc", p.owner)
	return reconcile.Result{}, nil
}

// seed restores every recorded transit before the first allocation, oldest object first,
// so a clash (which only a hand-edited status can cause) costs the younger one its record.
func (r *Reconciler) seed(ctx context.Context) error {
	r.seedMu.Lock()
	defer r.seedMu.Unlock()
	if r.seeded {
		return nil
	}
	var list fedv1.FederatedVpcList
	if err := r.client.List(ctx, &list); err != nil {
		return fmt.Errorf("list federatedvpcs to restore transits: %w", err)
	}
	slices.SortFunc(list.Items, func(a, b fedv1.FederatedVpc) int {
		return cmp.Or(a.CreationTimestamp.Compare(b.CreationTimestamp.Time), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	lg := log.FromContext(ctx)
	restored := 0
	for _, fv := range list.Items {
		t, ok := recordedTransit(&fv.Status)
		if !ok {
			continue
		}
		if err := r.opts.Transit.Restore(fv.Namespace+"/"+fv.Name, t); err != nil {
			lg.Error(err, "recorded transit not restored; the object gets a new one", "federatedVpc", fv.Namespace+"/"+fv.Name)
			continue
		}
		restored++
	}
	lg.Info("transits restored from status", "restored", restored, "federatedVpcs", len(list.Items))
	r.seeded = true
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
