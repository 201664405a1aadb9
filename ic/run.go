package ic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/health"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// Run starts ycloud-ic and blocks until ctx ends: it connects to the four OVN databases,
// configures this availability zone, and reconciles every federated Vpc's link to its
// transit switch.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	restCfg, err := loadKubeconfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	selector, _ := labels.Parse(cfg.GatewayNodeSelector) // validated above
	lg := log.FromContext(ctx).WithName("ycloud-ic")
	ctx = log.IntoContext(ctx, lg)

	dbs, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer dbs.close()

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(iaasv1.AddToScheme(scheme))
	resync := cfg.ResyncPeriod
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Logger:                        lg,
		Metrics:                       metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:        cfg.HealthAddr,
		LeaderElection:                cfg.LeaderElect,
		LeaderElectionID:              "ycloud-ic." + cfg.Cluster,
		LeaderElectionNamespace:       cfg.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			SyncPeriod:       &resync,
			DefaultTransform: cache.TransformStripManagedFields(),
			// Only gateway candidates are cached: a node losing the label is a delete event,
			// and the heartbeats of all other nodes never reach us.
			ByObject: map[client.Object]cache.ByObject{&corev1.Node{}: {Label: selector}},
		},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &iaasv1.Vpc{}, indexTransitSwitch, func(o client.Object) []string {
		if f := o.(*iaasv1.Vpc).Spec.Federation; f != nil && f.TransitSwitch != "" {
			return []string{f.TransitSwitch}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index %s: %w", indexTransitSwitch, err)
	}

	r := &reconciler{
		cfg:      cfg,
		az:       cfg.AZ(),
		client:   mgr.GetClient(),
		dbs:      dbs,
		selector: selector,
		events:   mgr.GetEventRecorder("ycloud-ic"),
		keys:     make(chan event.TypedGenericEvent[keyEvent], 4096),
		azPoke:   make(chan struct{}, 1),
		janitor:  make(chan string, 1024),
		ready:    make(chan struct{}),
	}
	if err := r.watchOVSDB(); err != nil {
		return err
	}
	if err := r.setup(mgr); err != nil {
		return err
	}
	if err := health.Add(mgr, "synced", health.Closed(r.ready)); err != nil {
		return err
	}
	if err := mgr.Add(syncedRunnable{mgr: mgr, ready: r.ready}); err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(r.housekeeping)); err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(r.janitorLoop)); err != nil {
		return err
	}
	lg.Info("starting", "cluster", cfg.Cluster, "az", r.az, "nb", cfg.NBAddress, "ic-nb", cfg.ICNBAddress,
		"gatewaySelector", cfg.GatewayNodeSelector)
	return mgr.Start(ctx)
}

// databases are the four OVSDB clients, each with a cache of what ycloud-ic reads.
type databases struct {
	nb, sb, icnb, icsb *ovsdb.Client
}

func (d *databases) close() {
	for _, c := range []*ovsdb.Client{d.nb, d.sb, d.icnb, d.icsb} {
		if c != nil {
			c.Close()
		}
	}
}

// dbSpec is one database to connect to: model, indexes and monitored tables and columns.
type dbSpec struct {
	label    string
	endpoint string
	dm       func() (*ovsdb.DatabaseModel, error)
	opts     []ovsdb.Option
	monitors []ovsdb.TableMonitor
	out      **ovsdb.Client
}

// connect dials the four databases in parallel (each waits, with backoff, for its server)
// and starts their monitors. Columns are restricted to what the reconciler reads: the
// northbound Logical_Switch_Port table holds every pod of the cluster.
func connect(ctx context.Context, cfg Config) (*databases, error) {
	d := &databases{}
	obs := func(db string) ovsdb.Option { return ovsdb.WithObserver(txnObserver{db: db}) }
	logger := func(db string) ovsdb.Option {
		return ovsdb.WithLogger(slog.Default().With("component", "ycloud-ic", "db", db))
	}
	specs := []dbSpec{
		{
			label: "nb", endpoint: cfg.NBAddress, out: &d.nb,
			dm: func() (*ovsdb.DatabaseModel, error) { return ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...) },
			opts: []ovsdb.Option{obs("nb"), logger("nb"),
				ovsdb.WithIndex(nb.LogicalRouterTable, "name"), ovsdb.WithIndex(nb.LogicalRouterPortTable, "name"),
				ovsdb.WithIndex(nb.LogicalSwitchTable, "name"), ovsdb.WithIndex(nb.LogicalSwitchPortTable, "name"),
				ovsdb.WithExternalIDIndex(nb.LogicalRouterPortTable, ovnnb.KeyOwner),
				ovsdb.WithExternalIDIndex(nb.LogicalSwitchPortTable, ovnnb.KeyOwner),
				ovsdb.WithExternalIDIndex(nb.GatewayChassisTable, ovnnb.KeyOwner)},
			monitors: []ovsdb.TableMonitor{
				{Table: nb.NBGlobalTable, Columns: []string{"name", "options"}},
				{Table: nb.LogicalRouterTable, Columns: []string{"name", "ports", "static_routes", "external_ids"}},
				{Table: nb.LogicalRouterPortTable, Columns: []string{"name", "mac", "networks", "options", "gateway_chassis", "external_ids"}},
				{Table: nb.GatewayChassisTable},
				{Table: nb.LogicalRouterStaticRouteTable, Columns: []string{"ip_prefix", "nexthop", "external_ids"}},
				{Table: nb.LogicalSwitchTable, Columns: []string{"name", "ports", "other_config", "external_ids"}},
				{Table: nb.LogicalSwitchPortTable, Columns: []string{"name", "type", "addresses", "options", "external_ids"}},
			},
		},
		{
			label: "sb", endpoint: cfg.SBAddress, out: &d.sb,
			dm:       func() (*ovsdb.DatabaseModel, error) { return ovsdb.NewDatabaseModel(sb.Schema(), sb.Models()...) },
			opts:     []ovsdb.Option{logger("sb"), ovsdb.WithIndex(sb.ChassisTable, "name")},
			monitors: []ovsdb.TableMonitor{{Table: sb.ChassisTable, Columns: []string{"name", "hostname", "other_config"}}},
		},
		{
			label: "ic-nb", endpoint: cfg.ICNBAddress, out: &d.icnb,
			dm:       func() (*ovsdb.DatabaseModel, error) { return ovsdb.NewDatabaseModel(icnb.Schema(), icnb.Models()...) },
			opts:     []ovsdb.Option{obs("ic-nb"), logger("ic-nb"), ovsdb.WithIndex(icnb.TransitSwitchTable, "name")},
			monitors: []ovsdb.TableMonitor{{Table: icnb.TransitSwitchTable}},
		},
		{
			label: "ic-sb", endpoint: cfg.ICSBAddress, out: &d.icsb,
			dm: func() (*ovsdb.DatabaseModel, error) { return ovsdb.NewDatabaseModel(icsb.Schema(), icsb.Models()...) },
			opts: []ovsdb.Option{obs("ic-sb"), logger("ic-sb"), ovsdb.WithIndex(icsb.AvailabilityZoneTable, "name"),
				ovsdb.WithIndex(icsb.PortBindingTable, "transit_switch"), ovsdb.WithIndex(icsb.RouteTable, "transit_switch")},
			monitors: []ovsdb.TableMonitor{
				{Table: icsb.AvailabilityZoneTable},
				{Table: icsb.PortBindingTable, Columns: []string{"logical_port", "transit_switch", "availability_zone", "address", "gateway"}},
				{Table: icsb.RouteTable, Columns: []string{"transit_switch", "availability_zone", "ip_prefix", "nexthop"}},
			},
		},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(specs))
	for i := range specs {
		wg.Go(func() {
			s := &specs[i]
			dm, err := s.dm()
			if err != nil {
				errs[i] = err
				return
			}
			c, err := ovsdb.Dial(ctx, dm, s.endpoint, s.opts...)
			if err != nil {
				errs[i] = fmt.Errorf("%s %s: %w", s.label, s.endpoint, err)
				return
			}
			*s.out = c
			if _, err := c.Monitor(ctx, s.monitors...); err != nil {
				errs[i] = fmt.Errorf("%s %s: monitor: %w", s.label, s.endpoint, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// syncedRunnable closes ready once the informer caches are synced (the OVSDB caches are
// loaded before the manager starts). It runs on every replica, leader or not, so that
// /readyz says "synced" on standbys too.
type syncedRunnable struct {
	mgr   manager.Manager
	ready chan struct{}
}

func (s syncedRunnable) Start(ctx context.Context) error {
	if !s.mgr.GetCache().WaitForCacheSync(ctx) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("informer caches did not sync")
	}
	close(s.ready)
	return nil
}

func (syncedRunnable) NeedLeaderElection() bool { return false }

// housekeeping runs on the leader: it configures the availability zone at once and again
// whenever NB_Global changes, and once the informers are synced it garbage-collects rows
// and transit claims left behind, at start and every resync period.
func (r *reconciler) housekeeping(ctx context.Context) error {
	lg := log.FromContext(ctx)
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil
	}
	tick := time.NewTicker(r.cfg.ResyncPeriod)
	defer tick.Stop()
	gcDue := true
	for {
		if err := r.ensureAZ(ctx); err != nil {
			lg.Error(err, "availability zone configuration")
		}
		if gcDue {
			if err := r.collectGarbage(ctx); err != nil {
				lg.Error(err, "garbage collection")
			}
			gcDue = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.azPoke:
		case <-tick.C:
			gcDue = true
		}
	}
}

// ensureAZ writes NB_Global.name and the route exchange options when they differ.
func (r *reconciler) ensureAZ(ctx context.Context) error {
	rows, err := ovsdb.List[nb.NBGlobal](r.dbs.nb.Cache(), nil)
	if err != nil {
		return err
	}
	var cur *nb.NBGlobal
	if len(rows) > 0 {
		cur = rows[0]
	}
	ops := PlanAZ(cur, r.az)
	if len(ops) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.OVSDBTimeout)
	defer cancel()
	if _, err := r.dbs.nb.Transact(ctx, ops...); err != nil {
		return fmt.Errorf("nb_global name %q: %w", r.az, err)
	}
	log.FromContext(ctx).Info("availability zone configured", "name", r.az, "options", "ic-route-adv=true ic-route-learn=true")
	return nil
}

func loadKubeconfig(path string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q: %w", path, err)
	}
	return cfg, nil
}
