/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package workagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

// DefaultStatusSyncInterval is how often applied objects are re-read for availability and
// feedback when Options.StatusSyncInterval is zero (the upstream agent's default).
const DefaultStatusSyncInterval = 10 * time.Second

// FieldManager is the server-side apply field manager the agent applies manifests with.
const FieldManager = workv1.DefaultFieldManager

// Options configure an Agent.
type Options struct {
	// ClusterName is the ManagedCluster the agent serves; it watches ManifestWorks in the
	// hub namespace of this name.
	ClusterName string
	// HubConfig reaches the hub apiserver; SpokeConfig the managed cluster's.
	HubConfig   *rest.Config
	SpokeConfig *rest.Config
	// StatusSyncInterval is how often each work's objects are re-read; 0 means
	// DefaultStatusSyncInterval. Tests shorten it.
	StatusSyncInterval time.Duration
	// Workers is how many works are reconciled at once; 0 means 4.
	Workers int
	// Logger defaults to controller-runtime's logger named "work-agent".
	Logger logr.Logger
}

// Stats are counters since the agent was created. Hub writes are the load a benchmark
// charges to the agent; in a converged system they stay flat while Syncs keeps growing.
type Stats struct {
	// HubWrites = StatusPatches + FinalizerPatches.
	HubWrites        int64
	StatusPatches    int64
	FinalizerPatches int64
	// Syncs counts passes over live works (event-driven and periodic).
	Syncs int64
	// SpokeApplies and SpokeDeletes count writes to the managed cluster.
	SpokeApplies int64
	SpokeDeletes int64
	// CleanupWaits counts passes over deleted works that found applied objects still
	// present on the spoke and so kept the work's finalizer.
	CleanupWaits int64
}

// Agent is a work agent for one managed cluster. Create it with New and run it with Start.
type Agent struct {
	opts  Options
	log   logr.Logger
	mgr   manager.Manager
	hub   client.Client // cached reads of ManifestWorks in the cluster namespace
	spoke client.Client
	// mapper maps manifest kinds to spoke resources; it refreshes itself when a kind is
	// unknown, so CRDs installed on the spoke later are picked up.
	mapper meta.RESTMapper

	mu      sync.Mutex
	records map[string]*record // by work name

	statusPatches, finalizerPatches, syncs, spokeApplies, spokeDeletes, cleanupWaits atomic.Int64
}

// record is the agent's in-memory knowledge of one work. The durable record is the work's
// status.resourceStatus; this adds the UIDs of applied objects (so a delete never hits an
// object someone else recreated) and the generation applied in full.
type record struct {
	uid types.UID
	// generation is the work generation every manifest of which was applied; 0 = none yet.
	generation int64
	applied    map[resourceKey]appliedObject
	// readOnly are manifests with the ReadOnly strategy: observed, never deleted. (After a
	// restart the agent only learns them from the current spec.)
	readOnly map[resourceKey]bool
}

type appliedObject struct {
	gvk schema.GroupVersionKind
	uid types.UID
}

// New builds an agent. It does not contact either apiserver until Start.
func New(opts Options) (*Agent, error) {
	if opts.ClusterName == "" || opts.HubConfig == nil || opts.SpokeConfig == nil {
		return nil, errors.New("work agent: ClusterName, HubConfig and SpokeConfig are required")
	}
	if opts.StatusSyncInterval <= 0 {
		opts.StatusSyncInterval = DefaultStatusSyncInterval
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = ctrl.Log.WithName("work-agent")
	}
	a := &Agent{opts: opts, log: opts.Logger.WithValues("cluster", opts.ClusterName), records: map[string]*record{}}

	scheme := runtime.NewScheme()
	if err := workv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("work agent %q: scheme: %w", opts.ClusterName, err)
	}
	mgr, err := manager.New(opts.HubConfig, manager.Options{
		Scheme: scheme,
		Logger: a.log,
		// Only the cluster's namespace, like the real agent's hub permissions.
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{opts.ClusterName: {}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Several agents (one per spoke) share a test process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("work agent %q: hub manager: %w", opts.ClusterName, err)
	}
	a.mgr, a.hub = mgr, mgr.GetClient()

	httpClient, err := rest.HTTPClientFor(opts.SpokeConfig)
	if err != nil {
		return nil, fmt.Errorf("work agent %q: spoke http client: %w", opts.ClusterName, err)
	}
	if a.mapper, err = apiutil.NewDynamicRESTMapper(opts.SpokeConfig, httpClient); err != nil {
		return nil, fmt.Errorf("work agent %q: spoke rest mapper: %w", opts.ClusterName, err)
	}
	if a.spoke, err = client.New(opts.SpokeConfig, client.Options{HTTPClient: httpClient, Mapper: a.mapper}); err != nil {
		return nil, fmt.Errorf("work agent %q: spoke client: %w", opts.ClusterName, err)
	}

	err = builder.ControllerManagedBy(mgr).
		Named("work-agent-"+opts.ClusterName).
		For(&workv1.ManifestWork{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, lifecycleChanged{}))).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: opts.Workers,
			// Retry failed applies quickly at first, but never less often than the status
			// sync: a CRD that appears on the spoke later must be noticed promptly.
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](
				50*time.Millisecond, opts.StatusSyncInterval),
		}).
		Complete(a)
	if err != nil {
		return nil, fmt.Errorf("work agent %q: controller: %w", opts.ClusterName, err)
	}
	return a, nil
}

// Start runs the agent until ctx ends. It implements manager.Runnable, so the agent can
// also be added to another manager.
func (a *Agent) Start(ctx context.Context) error {
	if err := a.mgr.Start(ctx); err != nil {
		return fmt.Errorf("work agent %q: %w", a.opts.ClusterName, err)
	}
	return nil
}

// Stats returns the counters so far. Safe for concurrent use.
func (a *Agent) Stats() Stats {
	s := Stats{
		StatusPatches:    a.statusPatches.Load(),
		FinalizerPatches: a.finalizerPatches.Load(),
		Syncs:            a.syncs.Load(),
		SpokeApplies:     a.spokeApplies.Load(),
		SpokeDeletes:     a.spokeDeletes.Load(),
		CleanupWaits:     a.cleanupWaits.Load(),
	}
	s.HubWrites = s.StatusPatches + s.FinalizerPatches
	return s
}

// lifecycleChanged passes updates that set the deletion timestamp or change finalizers:
// neither necessarily bumps the generation, and both matter to the agent.
type lifecycleChanged struct {
	predicate.Funcs
}

func (lifecycleChanged) Update(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return true
	}
	return !e.ObjectOld.GetDeletionTimestamp().Equal(e.ObjectNew.GetDeletionTimestamp()) ||
		len(e.ObjectOld.GetFinalizers()) != len(e.ObjectNew.GetFinalizers())
}

// recordFor returns the record of a work, starting a fresh one when the work is new or was
// recreated under the same name.
func (a *Agent) recordFor(w *workv1.ManifestWork) *record {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.records[w.Name]
	if r == nil || r.uid != w.UID {
		r = &record{uid: w.UID, applied: map[resourceKey]appliedObject{}, readOnly: map[resourceKey]bool{}}
		a.records[w.Name] = r
	}
	return r
}

func (a *Agent) forget(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.records, name)
}
