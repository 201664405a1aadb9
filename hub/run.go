package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	clusterv1beta1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/fedvpc"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
	"github.com/ycloud-sdn/ycloud/hub/render"
	"github.com/ycloud-sdn/ycloud/internal/health"
)

// Scheme returns the kinds the hub reads and writes.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(fedv1.AddToScheme(s))
	utilruntime.Must(workv1.AddToScheme(s))
	utilruntime.Must(clusterv1beta1.AddToScheme(s))
	return s
}

// Run starts ycloud-hub and blocks until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	restCfg := cfg.REST
	if restCfg == nil {
		var err error
		if restCfg, err = loadKubeconfig(cfg.Kubeconfig); err != nil {
			return err
		}
	}
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = float32(cfg.QPS), cfg.Burst
	pool, err := ipam.NewTransitPool(netip.MustParsePrefix(cfg.TransitCIDR), cfg.TransitPrefixLength)
	if err != nil {
		return fmt.Errorf("--transit-cidr/--transit-prefix-length: %w", err)
	}
	lg := log.FromContext(ctx).WithName("ycloud-hub")
	ctx = log.IntoContext(ctx, lg)

	// The hub caches only its own ManifestWorks: a hub serving other OCM users holds many
	// works it must not pay memory for.
	ours, err := labels.NewRequirement(render.LabelKind, selection.Exists, nil)
	if err != nil {
		return err
	}
	resync := cfg.ResyncPeriod
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        Scheme(),
		Logger:                        lg,
		Metrics:                       metricsserver.Options{BindAddress: cfg.MetricsAddr},
		HealthProbeBindAddress:        cfg.HealthAddr,
		LeaderElection:                cfg.LeaderElect,
		LeaderElectionID:              "ycloud-hub",
		LeaderElectionNamespace:       cfg.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache: cache.Options{
			SyncPeriod:       &resync,
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&workv1.ManifestWork{}: {Label: labels.NewSelector().Add(*ours)},
			},
		},
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if _, err := fedvpc.Setup(ctx, mgr, fedvpc.Options{
		Transit: pool, ScrapeType: workv1.FeedbackScrapeType(cfg.FeedbackScrapeType), Workers: cfg.Workers,
		StatusDelay: cfg.StatusBatchDelay,
	}); err != nil {
		return err
	}
	if err := health.Add(mgr, "informers", func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return fmt.Errorf("informer caches not synced yet")
		}
		return nil
	}); err != nil {
		return err
	}
	lg.Info("starting", "transitPool", cfg.TransitCIDR, "transitPrefixLength", cfg.TransitPrefixLength,
		"workers", cfg.Workers, "resync", cfg.ResyncPeriod.String(), "leaderElection", cfg.LeaderElect)
	return mgr.Start(ctx)
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
