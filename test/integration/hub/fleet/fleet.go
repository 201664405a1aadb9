// Package fleet starts a hub and its spokes for the hub's integration test and benchmark:
// a hub apiserver with the OCM CRDs and the stand-in placement controller, and per spoke an
// apiserver, a real OVN central, an in-process ycloud-controller and a stand-in work agent.
// Managed clusters are named cluster1..clusterN; each has its hub namespace, a
// ManagedCluster in the set "ycloud" and the labels the caller asks for.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ocm/placement"
	"github.com/ycloud-sdn/ycloud/test/ocm/workagent"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// ClusterSet is the ManagedClusterSet every cluster joins.
const ClusterSet = "ycloud"

// Options shape a fleet.
type Options struct {
	// Spokes is the number of managed clusters (default 2).
	Spokes int
	// AgentSync is the work agents' status sync interval (how often spoke status is read
	// back); default 1s.
	AgentSync time.Duration
	// ClusterLabels are put on every ManagedCluster.
	ClusterLabels map[string]string
	// ControllerWorkers is the spoke controllers' concurrency (default 8).
	ControllerWorkers int
}

// Fleet is a running hub and its spokes.
type Fleet struct {
	Hub *framework.Cluster
	// HubClient reads and writes every kind the hub serves (federation, iaas, OCM).
	HubClient client.Client
	Spokes    []*Spoke
	Placement *placement.Controller
}

// Spoke is one managed cluster.
type Spoke struct {
	Name   string
	K8s    *framework.Cluster
	Client client.Client
	OVN    *ovsdbtest.OVNCentral
	// NB is an independent reader of the spoke's northbound database (router, switch and
	// port names are indexed), to check what the spoke controller wrote.
	NB    *ovsdb.Client
	Agent *workagent.Agent
}

// Scheme holds every kind the fleet's clients use.
func Scheme() *runtime.Scheme {
	s := framework.Scheme()
	for _, add := range []func(*runtime.Scheme) error{workv1.AddToScheme, clusterv1.AddToScheme, clusterv1beta1.AddToScheme, clusterv1beta2.AddToScheme} {
		utilruntime.Must(add(s))
	}
	return s
}

// Start brings the fleet up; tb's cleanups stop everything in reverse order.
func Start(tb ovsdbtest.TB, opts Options) *Fleet {
	tb.Helper()
	if opts.Spokes == 0 {
		opts.Spokes = 2
	}
	if opts.AgentSync == 0 {
		opts.AgentSync = time.Second
	}
	if opts.ControllerWorkers == 0 {
		opts.ControllerWorkers = 8
	}
	f := &Fleet{}
	for i := range opts.Spokes {
		f.Spokes = append(f.Spokes, &Spoke{Name: fmt.Sprintf("cluster%d", i+1)})
	}

	// Apiservers start in parallel (seconds each on two cores); OVN centrals are quick and
	// start here, where a failure may end the test.
	clusters := make([]*framework.Cluster, 1+opts.Spokes)
	errs := make([]error, len(clusters))
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := framework.Options{Name: "hub", OCM: true}
			if i > 0 {
				o = framework.Options{Name: f.Spokes[i-1].Name}
			}
			clusters[i], errs[i] = framework.Start(o)
		}()
	}
	for _, s := range f.Spokes {
		s.OVN = ovsdbtest.StartOVNCentral(tb)
	}
	wg.Wait()
	for _, c := range clusters {
		if c != nil {
			tb.Cleanup(func() { _ = c.Stop() })
		}
	}
	if err := errors.Join(errs...); err != nil {
		tb.Fatalf("fleet: %v", err)
	}
	f.Hub = clusters[0]
	var err error
	if f.HubClient, err = client.New(f.Hub.Config, client.Options{Scheme: Scheme()}); err != nil {
		tb.Fatalf("fleet: hub client: %v", err)
	}

	// Everything that runs goes down before the apiservers do (cleanups run last-in first).
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	tb.Cleanup(func() { cancel(); running.Wait() })
	run := func(what string, fn func(context.Context) error) {
		running.Add(1)
		go func() {
			defer running.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				slog.Error("fleet component failed", "component", what, "err", err)
			}
		}()
	}

	if f.Placement, err = placement.New(placement.Options{HubConfig: f.Hub.Config}); err != nil {
		tb.Fatalf("fleet: %v", err)
	}
	run("placement", f.Placement.Start)

	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		tb.Fatalf("fleet: nb model: %v", err)
	}
	for i, s := range f.Spokes {
		s.K8s = clusters[i+1]
		if s.Client, err = client.New(s.K8s.Config, client.Options{Scheme: Scheme()}); err != nil {
			tb.Fatalf("fleet: %s client: %v", s.Name, err)
		}
		cfg := controller.DefaultConfig()
		cfg.NBAddress, cfg.Cluster = s.OVN.NBEndpoint(), s.Name
		cfg.MetricsAddr, cfg.HealthAddr, cfg.LeaderElect = "0", "0", false
		cfg.Workers = opts.ControllerWorkers
		restCfg := s.K8s.Config
		run("ycloud-controller "+s.Name, func(ctx context.Context) error { return controller.Run(ctx, cfg, restCfg) })

		if s.Agent, err = workagent.New(workagent.Options{ClusterName: s.Name, HubConfig: f.Hub.Config,
			SpokeConfig: s.K8s.Config, StatusSyncInterval: opts.AgentSync}); err != nil {
			tb.Fatalf("fleet: %v", err)
		}
		run("work agent "+s.Name, s.Agent.Start)

		dctx, dcancel := context.WithTimeout(ctx, time.Minute)
		s.NB, err = ovsdb.Dial(dctx, dm, s.OVN.NBEndpoint(), ovsdb.WithIndex(nb.LogicalRouterTable, "name"),
			ovsdb.WithIndex(nb.LogicalSwitchTable, "name"), ovsdb.WithIndex(nb.LogicalRouterPortTable, "name"))
		if err == nil {
			_, err = s.NB.Monitor(dctx, ovsdb.TableMonitor{Table: nb.LogicalRouterTable}, ovsdb.TableMonitor{Table: nb.LogicalSwitchTable},
				ovsdb.TableMonitor{Table: nb.LogicalRouterPortTable})
		}
		dcancel()
		if err != nil {
			tb.Fatalf("fleet: %s nb reader: %v", s.Name, err)
		}
		tb.Cleanup(s.NB.Close)
	}

	// The OCM side of the hub: cluster namespaces and ManagedClusters in one set.
	cctx, ccancel := context.WithTimeout(ctx, time.Minute)
	defer ccancel()
	if err := f.HubClient.Create(cctx, &clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: ClusterSet}}); err != nil {
		tb.Fatalf("fleet: cluster set: %v", err)
	}
	for _, s := range f.Spokes {
		labels := map[string]string{clusterv1beta2.ClusterSetLabel: ClusterSet}
		for k, v := range opts.ClusterLabels {
			labels[k] = v
		}
		for _, o := range []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.Name}},
			&clusterv1.ManagedCluster{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Labels: labels}, Spec: clusterv1.ManagedClusterSpec{HubAcceptsClient: true}},
		} {
			if err := f.HubClient.Create(cctx, o); err != nil {
				tb.Fatalf("fleet: %T %s: %v", o, o.GetName(), err)
			}
		}
	}
	return f
}

// AddTenant creates a tenant namespace on the hub with a binding to the fleet's cluster set
// and the given Placements (name -> required cluster labels; nil selects every cluster).
func (f *Fleet) AddTenant(ctx context.Context, tenant string, placements map[string]map[string]string) error {
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
		&clusterv1beta2.ManagedClusterSetBinding{ObjectMeta: metav1.ObjectMeta{Name: ClusterSet, Namespace: tenant},
			Spec: clusterv1beta2.ManagedClusterSetBindingSpec{ClusterSet: ClusterSet}},
	}
	for name, sel := range placements {
		objs = append(objs, Placement(tenant, name, sel))
	}
	for _, o := range objs {
		if err := f.HubClient.Create(ctx, o); err != nil {
			return fmt.Errorf("tenant %s: %T %s: %w", tenant, o, o.GetName(), err)
		}
	}
	return nil
}

// Placement is a Placement over the fleet's cluster set that requires the given labels.
func Placement(ns, name string, labels map[string]string) *clusterv1beta1.Placement {
	p := &clusterv1beta1.Placement{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: clusterv1beta1.PlacementSpec{ClusterSets: []string{ClusterSet}}}
	if len(labels) > 0 {
		p.Spec.Predicates = []clusterv1beta1.ClusterPredicate{{RequiredClusterSelector: clusterv1beta1.ClusterSelector{
			LabelSelector: metav1.LabelSelector{MatchLabels: labels}}}}
	}
	return p
}

// Spoke returns the spoke of a cluster name, or nil.
func (f *Fleet) Spoke(name string) *Spoke {
	for _, s := range f.Spokes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Router returns the spoke's logical router of that name, or an error naming what is off.
func (s *Spoke) Router(name string) (*nb.LogicalRouter, error) {
	rows, err := ovsdb.Lookup[nb.LogicalRouter](s.NB.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%s: %d routers named %q", s.Name, len(rows), name)
	}
	return rows[0], nil
}

// Switch returns the spoke's logical switch of that name.
func (s *Spoke) Switch(name string) (*nb.LogicalSwitch, error) {
	rows, err := ovsdb.Lookup[nb.LogicalSwitch](s.NB.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%s: %d switches named %q", s.Name, len(rows), name)
	}
	return rows[0], nil
}

// RouterPort returns the spoke's logical router port of that name.
func (s *Spoke) RouterPort(name string) (*nb.LogicalRouterPort, error) {
	rows, err := ovsdb.Lookup[nb.LogicalRouterPort](s.NB.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%s: %d router ports named %q", s.Name, len(rows), name)
	}
	return rows[0], nil
}

// Absent reports nil when the spoke has neither the router nor any of the switches.
func (s *Spoke) Absent(router string, switches ...string) error {
	if rows, _ := ovsdb.Lookup[nb.LogicalRouter](s.NB.Cache(), "name", router); len(rows) > 0 {
		return fmt.Errorf("%s: router %s still in NB", s.Name, router)
	}
	for _, sw := range switches {
		if rows, _ := ovsdb.Lookup[nb.LogicalSwitch](s.NB.Cache(), "name", sw); len(rows) > 0 {
			return fmt.Errorf("%s: switch %s still in NB", s.Name, sw)
		}
	}
	return nil
}

// Vpcs lists the spoke's Vpc objects.
func (s *Spoke) Vpcs(ctx context.Context) ([]iaasv1.Vpc, error) {
	var list iaasv1.VpcList
	err := s.Client.List(ctx, &list)
	return list.Items, err
}

// ProcessTB runs the harness outside a test (TestMain, benchmarks): cleanups run at Close,
// and Fatalf panics with a Fatal that Close's caller may recover.
type ProcessTB struct {
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// Fatal is the panic value of ProcessTB.Fatalf.
type Fatal struct{ Msg string }

func (p *ProcessTB) Helper() {}

// Cleanup registers f to run at Close.
func (p *ProcessTB) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// Logf writes to stderr.
func (p *ProcessTB) Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}

// Failed reports whether Fatalf was called.
func (p *ProcessTB) Failed() bool { return p.failed }

// Fatalf panics with a Fatal.
func (p *ProcessTB) Fatalf(format string, args ...any) {
	p.failed = true
	panic(Fatal{Msg: fmt.Sprintf(format, args...)})
}

// TempDir makes a directory removed at Close.
func (p *ProcessTB) TempDir() string {
	dir, err := os.MkdirTemp("", "ycloud-fleet-")
	if err != nil {
		p.Fatalf("temp dir: %v", err)
	}
	p.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Close runs the cleanups, last registered first.
func (p *ProcessTB) Close() {
	p.mu.Lock()
	cs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
