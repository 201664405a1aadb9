package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	federationv1alpha1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// Options selects what a test cluster serves.
type Options struct {
	// Name labels the cluster in logs and kubeconfigs ("hub", "spoke1").
	Name string
	// CRDDirs are installed before StartCluster returns. Empty means deploy/crds/iaas and deploy/crds/federation.
	CRDDirs []string
	// OCM also installs the upstream OCM CRDs (OCMCRDDir).
	OCM bool
	// StartTimeout bounds each control-plane process start. Two cores shared by several
	// apiservers are slow, so the default is generous.
	StartTimeout time.Duration
}

// Cluster is a running etcd + kube-apiserver pair.
type Cluster struct {
	Name string
	// Config authenticates as a cluster admin.
	Config *rest.Config
	// Client uses Scheme(): client-go kinds plus every ycloud API group.
	Client client.Client
	// Kubeconfig is a file holding Config, for tools and processes a test starts.
	Kubeconfig string

	env *envtest.Environment
}

// Scheme returns a new scheme with the client-go kinds, CRDs and every ycloud API group.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(iaasv1.AddToScheme(s))
	utilruntime.Must(federationv1alpha1.AddToScheme(s))
	return s
}

// StartCluster starts etcd and kube-apiserver, installs the CRDs, and registers a cleanup
// that stops both. It fails the test if anything does not come up.
func StartCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	c, err := Start(opts)
	if err != nil {
		t.Fatalf("start cluster %q: %v", opts.Name, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster %q: %v", c.Name, err)
		}
	})
	return c
}

// Start is StartCluster for callers without a testing.TB (benchmarks, the demo). The caller
// must call Stop.
func Start(opts Options) (*Cluster, error) {
	if opts.Name == "" {
		opts.Name = "test"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if err := requireBinaries("kube-apiserver", "etcd"); err != nil {
		return nil, err
	}
	dirs := opts.CRDDirs
	if len(dirs) == 0 {
		dirs = []string{filepath.Join(RepoRoot(), "deploy", "crds", "iaas"), filepath.Join(RepoRoot(), "deploy", "crds", "federation")}
	}
	if opts.OCM {
		if _, err := os.Stat(OCMCRDDir()); err != nil {
			return nil, fmt.Errorf("ocm crds: %w (set YCLOUD_OCM_CRDS or keep shared/ beside the checkout)", err)
		}
		dirs = append(dirs, OCMCRDDir())
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    BinDir(),
		CRDDirectoryPaths:        dirs,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: opts.StartTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
		Scheme:                   Scheme(),
	}
	// envtest reads KUBEBUILDER_ASSETS before BinaryAssetsDirectory; a stale value in the
	// environment must not send us to binaries of another version.
	os.Unsetenv("KUBEBUILDER_ASSETS")
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("control plane %q: %w", opts.Name, err)
	}
	// Rate limits sized for a test talking to its own apiserver, not a shared one.
	cfg.QPS, cfg.Burst = 500, 1000
	cl, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("client for %q: %w", opts.Name, err)
	}
	c := &Cluster{Name: opts.Name, Config: cfg, Client: cl, env: env}
	if c.Kubeconfig, err = writeKubeconfig(opts.Name, cfg); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return c, nil
}

// Stop stops the apiserver and etcd and removes their data. Stopping twice is harmless.
func (c *Cluster) Stop() error {
	if c.env == nil {
		return nil
	}
	err := c.env.Stop()
	c.env = nil
	if c.Kubeconfig != "" {
		os.RemoveAll(filepath.Dir(c.Kubeconfig))
	}
	return err
}

// Context returns a context bounded by d, for one test step.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func writeKubeconfig(name string, cfg *rest.Config) (string, error) {
	dir, err := os.MkdirTemp("", "ycloud-kubeconfig-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("kubeconfig for %q: %w", name, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	kc.CurrentContext = name
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("write kubeconfig for %q: %w", name, err)
	}
	return path, nil
}
