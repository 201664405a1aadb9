package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/health"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// Run starts ycloud-controller and blocks until ctx ends. restCfg may be nil, in which
// case cfg.Kubeconfig (or the in-cluster configuration) is used.
func Run(ctx context.Context, cfg Config, restCfg *rest.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if restCfg == nil {
		var err error
		if restCfg, err = loadKubeconfig(cfg.Kubeconfig); err != nil {
			return err
		}
	}
	// The controller makes several writes per pod; client-go's default of 5 QPS (or any low
	// limit) would make the client, not the apiserver or OVN, the bottleneck.
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = float32(cfg.KubeAPIQPS), cfg.KubeAPIBurst
	lg := log.FromContext(ctx).WithName("ycloud-controller")
	ctx = log.IntoContext(ctx, lg)

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(iaasv1.AddToScheme(scheme))
	resync := cfg.ResyncPeriod
	metricsOpts := metricsserver.Options{BindAddress: cfg.MetricsAddr}
	if cfg.Pprof {
		metricsOpts.ExtraHandlers = map[string]http.Handler{
			"/debug/pprof/":        http.HandlerFunc(pprof.Index),
			"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
			"/debug/pprof/heap":    pprof.Handler("heap"),
		}
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Logger:                        lg,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        cfg.HealthAddr,
		LeaderElection:                cfg.LeaderElect,
		LeaderElectionID:              "ycloud-controller." + cfg.Cluster,
		LeaderElectionNamespace:       cfg.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Every object is reconciled again each resync period: that is the drift repair
		// for rows changed behind our back whose events we missed.
		Cache: cache.Options{SyncPeriod: &resync, DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := addIndexes(ctx, mgr, cfg); err != nil {
		return err
	}

	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		return err
	}
	var opts []ovsdb.Option
	opts = append(opts, ovsdb.WithObserver(txnObserver{}), ovsdb.WithLogger(slog.Default().With("db", "nb")))
	for _, t := range []string{nb.LogicalRouterTable, nb.LogicalSwitchTable, nb.LogicalRouterPortTable, nb.LogicalSwitchPortTable} {
		opts = append(opts, ovsdb.WithIndex(t, "name"), ovsdb.WithExternalIDIndex(t, ovnnb.KeyOwner))
	}
	nbc, err := ovsdb.Dial(ctx, dm, cfg.NBAddress, opts...)
	if err != nil {
		return fmt.Errorf("ovn northbound %s: %w", cfg.NBAddress, err)
	}
	defer nbc.Close()
	var monitors []ovsdb.TableMonitor
	for _, t := range []string{nb.LogicalRouterTable, nb.LogicalRouterPortTable, nb.LogicalRouterStaticRouteTable,
		nb.LogicalRouterPolicyTable, nb.LogicalSwitchTable, nb.LogicalSwitchPortTable} {
		monitors = append(monitors, ovsdb.TableMonitor{Table: t})
	}
	if _, err := nbc.Monitor(ctx, monitors...); err != nil {
		return fmt.Errorf("ovn northbound monitor: %w", err)
	}

	e := &env{
		cfg:      cfg,
		client:   mgr.GetClient(),
		nb:       nbc,
		events:   mgr.GetEventRecorder("ycloud-controller"),
		ready:    make(chan struct{}),
		nbEvents: map[string]chan event.GenericEvent{},
	}
	e.alloc = newAllocator(mgr.GetClient())
	e.alloc.extra = func(ctx context.Context, subnet string, p *ipam.Pool) error {
		if subnet != cfg.JoinSubnet {
			return nil
		}
		var nodes corev1.NodeList
		if err := mgr.GetClient().List(ctx, &nodes); err != nil {
			return err
		}
		for _, n := range nodes.Items {
			if a, err := iaasv1.ParseAllocation(n.Annotations[JoinAllocationAnnotation]); err == nil {
				for _, ip := range a.IPs {
					_ = p.Reserve(ip.Addr(), nodeOwner(n.Name))
				}
			}
		}
		return nil
	}
	for _, k := range []string{ovnnb.KindVpc, ovnnb.KindSubnet, ovnnb.KindVnic, ovnnb.KindNode} {
		e.nbEvents[k] = make(chan event.GenericEvent, 4096)
	}
	if err := watchNB(e); err != nil {
		return err
	}
	if err := addControllers(mgr, e); err != nil {
		return err
	}
	if err := health.Add(mgr, "synced", health.Closed(e.ready)); err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { return startup(ctx, mgr, e) })); err != nil {
		return err
	}
	lg.Info("starting", "cluster", cfg.Cluster, "nb", cfg.NBAddress, "resync", cfg.ResyncPeriod)
	return mgr.Start(ctx)
}

// startup runs on the leader: it waits for the caches, creates the default VPC objects,
// builds every subnet's pool (one replay of the VnicIps), opens the reconcilers, and then
// garbage-collects once now and once per resync period.
func startup(ctx context.Context, mgr manager.Manager, e *env) error {
	lg := log.FromContext(ctx)
	start := time.Now()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("informer caches did not sync")
	}
	if err := ensureDefaults(ctx, e); err != nil {
		return err
	}
	var subnets iaasv1.SubnetList
	if err := e.client.List(ctx, &subnets); err != nil {
		return err
	}
	for i := range subnets.Items {
		if _, err := e.alloc.pool(ctx, &subnets.Items[i]); err != nil {
			lg.Error(err, "subnet pool", "subnet", subnets.Items[i].Name)
		}
	}
	close(e.ready)
	lg.Info("caches synced and address pools rebuilt", "subnets", len(subnets.Items), "elapsed", time.Since(start).String())
	tick := time.NewTicker(e.cfg.ResyncPeriod)
	defer tick.Stop()
	for {
		if _, err := collectGarbage(ctx, e); err != nil {
			lg.Error(err, "garbage collection")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func addIndexes(ctx context.Context, mgr manager.Manager, cfg Config) error {
	idx := mgr.GetFieldIndexer()
	for _, ix := range []struct {
		obj client.Object
		key string
		fn  client.IndexerFunc
	}{
		{&iaasv1.VnicIp{}, indexVnicIPSubnet, func(o client.Object) []string { return []string{o.(*iaasv1.VnicIp).Spec.Subnet} }},
		{&iaasv1.VnicIp{}, indexVnicIPVnic, func(o client.Object) []string {
			v := o.(*iaasv1.VnicIp)
			if v.Spec.Vnic == "" {
				return nil
			}
			return []string{v.Namespace + "/" + v.Spec.Vnic}
		}},
		{&iaasv1.Subnet{}, indexSubnetVpc, func(o client.Object) []string { return []string{o.(*iaasv1.Subnet).Spec.Vpc} }},
		{&corev1.Pod{}, indexPodWaitingSubnet, func(o client.Object) []string { return waitingSubnet(o.(*corev1.Pod), cfg.DefaultSubnet) }},
		{&corev1.Pod{}, indexPodWaitingVnicIP, func(o client.Object) []string { return waitingVnicIP(o.(*corev1.Pod)) }},
	} {
		if err := idx.IndexField(ctx, ix.obj, ix.key, ix.fn); err != nil {
			return fmt.Errorf("index %s: %w", ix.key, err)
		}
	}
	return nil
}

// watchNB turns NB changes to rows we own (made by someone else, or by us) into reconciles
// of their owners, so a row deleted or edited behind our back is repaired at once.
func watchNB(e *env) error {
	send := func(ids map[string]string) {
		o, ok := ovnnb.OwnerOf(ids, e.cfg.Cluster)
		if !ok {
			return
		}
		ch := e.nbEvents[o.Kind]
		if ch == nil {
			return
		}
		var obj client.Object
		switch o.Kind {
		case ovnnb.KindVpc:
			obj = &iaasv1.Vpc{}
			obj.SetName(o.Key)
		case ovnnb.KindSubnet:
			obj = &iaasv1.Subnet{}
			obj.SetName(o.Key)
		case ovnnb.KindNode:
			obj = &corev1.Node{}
			obj.SetName(o.Key)
		case ovnnb.KindVnic:
			ns, name, _ := strings.Cut(o.Key, "/")
			obj = &iaasv1.Vnic{}
			obj.SetNamespace(ns)
			obj.SetName(name)
		}
		// Never block the OVSDB dispatcher (a non-leader replica has no reader): a dropped
		// event is repaired by the periodic resync.
		select {
		case ch <- event.GenericEvent{Object: obj}:
		default:
		}
	}
	idsOf := func(row any) map[string]string {
		switch r := row.(type) {
		case *nb.LogicalRouter:
			return r.ExternalIDs
		case *nb.LogicalSwitch:
			return r.ExternalIDs
		case *nb.LogicalRouterPort:
			return r.ExternalIDs
		case *nb.LogicalSwitchPort:
			return r.ExternalIDs
		}
		return nil
	}
	h := ovsdb.Handler{
		OnUpdate: func(old, new any) {
			if ownedColumnsChanged(old, new) {
				send(idsOf(old))
			}
		},
		OnDelete: func(row any) { send(idsOf(row)) },
	}
	for _, t := range []string{nb.LogicalRouterTable, nb.LogicalSwitchTable, nb.LogicalRouterPortTable, nb.LogicalSwitchPortTable} {
		if err := e.nb.Cache().AddHandler(t, h); err != nil {
			return err
		}
	}
	return nil
}

// ownedColumnsChanged reports whether an update touched what the row's owner manages. A
// switch's or router's port list changes with every pod and subnet; reacting to that would
// reconcile a subnet once per pod for nothing.
func ownedColumnsChanged(old, new any) bool {
	switch o := old.(type) {
	case *nb.LogicalSwitch:
		n := new.(*nb.LogicalSwitch)
		return o.Name != n.Name || !maps.Equal(o.ExternalIDs, n.ExternalIDs)
	case *nb.LogicalRouter:
		n := new.(*nb.LogicalRouter)
		return o.Name != n.Name || !maps.Equal(o.ExternalIDs, n.ExternalIDs) ||
			!slices.Equal(o.StaticRoutes, n.StaticRoutes) || !slices.Equal(o.Policies, n.Policies)
	}
	return true
}

func addControllers(mgr manager.Manager, e *env) error {
	// Names are unique within one manager; tests run several managers in one process, one
	// after another, and the global name check would refuse the second.
	skip := true
	opts := controller.Options{MaxConcurrentReconciles: e.cfg.Workers, SkipNameValidation: &skip}
	enqueue := &handler.EnqueueRequestForObject{}
	c := mgr.GetClient()

	vpcsOfSubnet := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.(*iaasv1.Subnet).Spec.Vpc}}}
	})
	if err := ctrl.NewControllerManagedBy(mgr).Named("vpc").For(&iaasv1.Vpc{}).
		Watches(&iaasv1.Subnet{}, vpcsOfSubnet, builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false }, // the list only changes on create/delete
		})).
		WatchesRawSource(source.Channel(e.nbEvents[ovnnb.KindVpc], enqueue)).
		WithOptions(opts).Complete(stopping{&vpcReconciler{e}}); err != nil {
		return err
	}

	subnetsOfVpc := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list iaasv1.SubnetList
		if err := c.List(ctx, &list, client.MatchingFields{indexSubnetVpc: o.GetName()}); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, s := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: s.Name}})
		}
		return out
	})
	if err := ctrl.NewControllerManagedBy(mgr).Named("subnet").For(&iaasv1.Subnet{}).
		Watches(&iaasv1.Vpc{}, subnetsOfVpc, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&iaasv1.VnicIp{}, subnetOfVnicIP(c)).
		WatchesRawSource(source.Channel(e.nbEvents[ovnnb.KindSubnet], enqueue)).
		WithOptions(opts).Complete(stopping{&subnetReconciler{e}}); err != nil {
		return err
	}

	// Pods: only what can change an allocation matters; kubelet status churn does not.
	podPred := predicate.Funcs{
		CreateFunc: func(ev event.CreateEvent) bool { return wantsNetwork(ev.Object.(*corev1.Pod)) },
		UpdateFunc: func(ev event.UpdateEvent) bool {
			o, n := ev.ObjectOld.(*corev1.Pod), ev.ObjectNew.(*corev1.Pod)
			if !wantsNetwork(n) {
				return false
			}
			return o.Spec.NodeName != n.Spec.NodeName || !maps.Equal(o.Annotations, n.Annotations) ||
				o.Status.Phase != n.Status.Phase || o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
		},
		DeleteFunc:  func(ev event.DeleteEvent) bool { return !ev.Object.(*corev1.Pod).Spec.HostNetwork },
		GenericFunc: func(event.GenericEvent) bool { return true },
	}
	podOfChild := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if p := o.GetLabels()[labelPod]; p != "" {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: p}}}
		}
		return nil
	})
	onlyDelete := builder.WithPredicates(predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return false },
		UpdateFunc: func(event.UpdateEvent) bool { return false },
	})
	if err := ctrl.NewControllerManagedBy(mgr).Named("pod").For(&corev1.Pod{}, builder.WithPredicates(podPred)).
		Watches(&iaasv1.Subnet{}, podsWaitingForSubnet(c), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(ev event.UpdateEvent) bool { return ev.ObjectOld.GetGeneration() != ev.ObjectNew.GetGeneration() },
			DeleteFunc: func(event.DeleteEvent) bool { return false },
		})).
		Watches(&iaasv1.VnicIp{}, podOfChild, onlyDelete).
		// A VnicIp that a pod names becomes usable when it is created or released.
		Watches(&iaasv1.VnicIp{}, podsWaitingForVnicIP(c), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(ev event.UpdateEvent) bool {
				return ev.ObjectOld.(*iaasv1.VnicIp).Spec.Vnic != "" && ev.ObjectNew.(*iaasv1.VnicIp).Spec.Vnic == ""
			},
			DeleteFunc: func(event.DeleteEvent) bool { return false },
		})).
		Watches(&iaasv1.Vnic{}, podOfChild, onlyDelete).
		Watches(&iaasv1.Nic{}, podOfChild, onlyDelete).
		WithOptions(opts).Complete(stopping{&podReconciler{env: e}}); err != nil {
		return err
	}

	vnicOf := func(ns, name string) []reconcile.Request {
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}}
	}
	if err := ctrl.NewControllerManagedBy(mgr).Named("vnic").For(&iaasv1.Vnic{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&iaasv1.VnicIp{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return vnicOf(o.GetNamespace(), o.(*iaasv1.VnicIp).Spec.Vnic)
		})).
		Watches(&iaasv1.Nic{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			return vnicOf(o.GetNamespace(), o.(*iaasv1.Nic).Spec.Vnic)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Channel(e.nbEvents[ovnnb.KindVnic], enqueue)).
		WithOptions(opts).Complete(stopping{&vnicReconciler{e}}); err != nil {
		return err
	}

	// VnicIps: deletion releases the address, from the last state the informer saw.
	release := handler.Funcs{DeleteFunc: func(_ context.Context, ev event.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		if v, ok := ev.Object.(*iaasv1.VnicIp); ok {
			e.alloc.release(v)
		}
	}}
	// A VnicIp can reach the informer before its Subnet does; the Subnet's arrival brings
	// its VnicIps back instead of leaving them waiting for the resync.
	vnicIPsOfSubnet := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var list iaasv1.VnicIpList
		if err := c.List(ctx, &list, client.MatchingFields{indexVnicIPSubnet: o.GetName()}); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, v := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: v.Namespace, Name: v.Name}})
		}
		return out
	})
	if err := ctrl.NewControllerManagedBy(mgr).Named("vnicip").For(&iaasv1.VnicIp{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&iaasv1.VnicIp{}, release).
		Watches(&iaasv1.Subnet{}, vnicIPsOfSubnet, builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false },
			DeleteFunc: func(event.DeleteEvent) bool { return false },
		})).
		WithOptions(opts).Complete(stopping{&vnicIPReconciler{e}}); err != nil {
		return err
	}

	return ctrl.NewControllerManagedBy(mgr).Named("node").For(&corev1.Node{}, builder.WithPredicates(predicate.Funcs{
		UpdateFunc: func(ev event.UpdateEvent) bool {
			return !maps.Equal(ev.ObjectOld.GetAnnotations(), ev.ObjectNew.GetAnnotations())
		},
	})).
		WatchesRawSource(source.Channel(e.nbEvents[ovnnb.KindNode], enqueue)).
		WithOptions(opts).Complete(stopping{&nodeReconciler{e}})
}

// subnetOfVnicIP brings a Subnet's status (address counts) up to date after allocations,
// at most about once per few seconds per subnet under load (the delayed queue keeps one
// entry per key), but at once when the subnet waits to be deleted.
func subnetOfVnicIP(c client.Reader) handler.EventHandler {
	enq := func(ctx context.Context, o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		v, ok := o.(*iaasv1.VnicIp)
		if !ok {
			return
		}
		req := reconcile.Request{NamespacedName: types.NamespacedName{Name: v.Spec.Subnet}}
		var s iaasv1.Subnet
		if err := c.Get(ctx, req.NamespacedName, &s); err == nil && !s.DeletionTimestamp.IsZero() {
			q.Add(req)
			return
		}
		q.AddAfter(req, 5*time.Second)
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, ev event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enq(ctx, ev.Object, q)
		},
		DeleteFunc: func(ctx context.Context, ev event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enq(ctx, ev.Object, q)
		},
	}
}

func wantsNetwork(p *corev1.Pod) bool { return !p.Spec.HostNetwork && p.Spec.NodeName != "" }

func loadKubeconfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q: %w", path, err)
	}
	return cfg, nil
}
