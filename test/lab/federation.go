package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1"
	clusterv1beta2 "github.com/ycloud-sdn/ycloud/api/ocm/cluster/v1beta2"
)

// The federation layer of the lab:
//
//	hub       ycloud-hub (product)              FederatedVpc -> ManifestWork per placed cluster
//	          ocm-standin placement (test/ocm)  Placement -> PlacementDecisions
//	          registration (done once by Up)    ManagedClusterSet "default"; per spoke a
//	                                            namespace and a ManagedCluster in that set
//	per spoke ocm-standin work-agent (test/ocm) ManifestWorks of its namespace -> spoke objects
//	          ycloud-ic (product)               federated Vpc -> transit switch link (OVN-IC)
//
// The real OCM hub creates the "default" ManagedClusterSet and puts every accepted cluster
// in it; the lab does the same, so a tenant only needs a ManagedClusterSetBinding to
// "default" in its namespace and a Placement, as on a real hub. Cluster labels that steer
// placements (e.g. ycloud.io/tenant-a=true) are the platform team's: the lab sets none.

// DefaultClusterSet is the ManagedClusterSet every spoke joins.
const DefaultClusterSet = "default"

// Default argument templates of the federation components (flags of cmd/ycloud-hub,
// cmd/ycloud-ic and test/ocm/ocm-standin). For the work agents, Kubeconfig is the spoke's
// and HubKubeconfig the hub's; for ycloud-hub and the placement stand-in, Kubeconfig is the
// hub's.
var (
	DefaultHubArgs = []string{
		"--kubeconfig={{.Kubeconfig}}", "--leader-elect=false",
		"--health-probe-bind-address=127.0.0.1:{{.HealthPort}}", "--metrics-bind-address=127.0.0.1:{{.MetricsPort}}",
	}
	DefaultPlacementArgs = []string{
		"placement", "--hub-kubeconfig={{.Kubeconfig}}", "--health-probe-bind-address=127.0.0.1:{{.HealthPort}}",
	}
	// The real agent re-reads applied objects every 10s; the lab's 2s makes the hub's view
	// of the spokes (readiness, interconnect status) follow within seconds.
	DefaultWorkAgentArgs = []string{
		"work-agent", "--cluster={{.Cluster}}", "--hub-kubeconfig={{.HubKubeconfig}}", "--spoke-kubeconfig={{.Kubeconfig}}",
		"--status-sync-interval=2s", "--health-probe-bind-address=127.0.0.1:{{.HealthPort}}",
	}
	DefaultICArgs = []string{
		"--kubeconfig={{.Kubeconfig}}", "--cluster={{.Cluster}}",
		"--ovn-nb={{.NB}}", "--ovn-sb={{.SB}}", "--ovn-ic-nb={{.ICNB}}", "--ovn-ic-sb={{.ICSB}}",
		"--leader-elect=false",
		"--health-probe-bind-address=127.0.0.1:{{.HealthPort}}", "--metrics-bind-address=127.0.0.1:{{.MetricsPort}}",
	}
)

// Names of the federation components (process "<cluster>/<name>", status rows, health
// ports in ClusterInfo.HealthPorts).
const (
	CompHub       = "ycloud-hub"
	CompPlacement = "ocm-placement"
	CompWorkAgent = "ocm-work-agent"
	CompIC        = "ycloud-ic"
)

// clusterComponent is one of our components (or a stand-in) the lab runs per cluster in
// the root namespace.
type clusterComponent struct {
	name     string // CompHub ...
	binary   string // default binary name in BinDir
	comp     Component
	defaults []string
	// healthPath is probed on the health port once the component runs.
	healthPath string
}

func (l *Lab) hubComponents() []clusterComponent {
	return []clusterComponent{
		{CompHub, "ycloud-hub", l.cfg.Hub, DefaultHubArgs, "/readyz"},
		{CompPlacement, "ocm-standin", l.cfg.Placement, DefaultPlacementArgs, "/healthz"},
	}
}

func (l *Lab) spokeComponents() []clusterComponent {
	return []clusterComponent{
		{CompWorkAgent, "ocm-standin", l.cfg.WorkAgent, DefaultWorkAgentArgs, "/healthz"},
		{CompIC, "ycloud-ic", l.cfg.IC, DefaultICArgs, "/readyz"},
	}
}

// federationPhase registers the spokes on the hub and starts the hub controller, the OCM
// stand-ins and ycloud-ic. Each needs CRDs the apiservers phase installed: OCM and
// federation kinds on the hub, iaas.yusur.io on the spokes.
func (l *Lab) federationPhase(ctx context.Context, _ *upRun) error {
	hub, err := l.st.cluster(HubName)
	if err != nil {
		return err
	}
	if err := l.registerSpokes(ctx, hub); err != nil {
		return err
	}
	for _, fc := range l.hubComponents() {
		if err := l.startFederationComponent(hub, hub, fc); err != nil {
			return err
		}
	}
	for _, ci := range l.st.Clusters {
		if ci.Role != RoleSpoke {
			continue
		}
		for _, fc := range l.spokeComponents() {
			if err := l.startFederationComponent(ci, hub, fc); err != nil {
				return err
			}
		}
	}
	return nil
}

// registerSpokes does on the hub what accepting a cluster does in OCM: the cluster's
// namespace (where its ManifestWorks go) and an accepted ManagedCluster in the default set.
// Existing objects are left as they are (labels someone set stay).
func (l *Lab) registerSpokes(ctx context.Context, hub *ClusterInfo) error {
	cfg, err := restConfig(hub)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(clusterv1.AddToScheme(scheme))
	utilruntime.Must(clusterv1beta2.AddToScheme(scheme))
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("hub client: %w", err)
	}
	objs := []client.Object{&clusterv1beta2.ManagedClusterSet{ObjectMeta: metav1.ObjectMeta{Name: DefaultClusterSet}}}
	for _, ci := range l.st.Clusters {
		if ci.Role != RoleSpoke {
			continue
		}
		objs = append(objs,
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ci.Name}},
			&clusterv1.ManagedCluster{
				ObjectMeta: metav1.ObjectMeta{Name: ci.Name, Labels: map[string]string{clusterv1beta2.ClusterSetLabel: DefaultClusterSet}},
				Spec:       clusterv1.ManagedClusterSpec{HubAcceptsClient: true},
			})
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ReadyTimeout)
	defer cancel()
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("hub: register %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// startFederationComponent starts one component for cluster ci (the hub or a spoke), or
// records why it was skipped.
func (l *Lab) startFederationComponent(ci, hub *ClusterInfo, fc clusterComponent) error {
	_, err := l.startClusterComponent(ci, hub, fc)
	return err
}

// startClusterComponent starts one of our components (or a stand-in) for cluster ci in the
// root namespace, with free health and metrics ports on 127.0.0.1; it records the health
// port in ci.HealthPorts when the arguments use it, and returns it (0 when the component
// was skipped or is not probed). A disabled or unbuilt component is recorded as skipped.
func (l *Lab) startClusterComponent(ci, hub *ClusterInfo, fc clusterComponent) (int, error) {
	name := ci.Name + "/" + fc.name
	if fc.comp.Disabled {
		return 0, l.skip(name, "disabled")
	}
	bin := l.componentBinary(fc.comp, fc.binary)
	if !exists(bin) {
		return 0, l.skip(name, "not built ("+bin+"): run make build")
	}
	tmpl := fc.comp.Args
	if tmpl == nil {
		tmpl = fc.defaults
	}
	runDir := filepath.Join(ci.Dir, fc.name)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return 0, err
	}
	health, err := freePort("127.0.0.1")
	if err != nil {
		return 0, err
	}
	metrics, err := freePort("127.0.0.1")
	if err != nil {
		return 0, err
	}
	cctx := ComponentContext{
		Cluster: ci.Name, Kubeconfig: filepath.Join(ci.Dir, fc.name+".kubeconfig"),
		HubKubeconfig: filepath.Join(hub.Dir, fc.name+"-"+ci.Name+".kubeconfig"),
		NB:            ci.NB, SB: ci.SB, ICNB: l.st.IC.NB, ICSB: l.st.IC.SB, RunDir: runDir,
		DefaultCIDR: ci.PodCIDR, JoinCIDR: ci.JoinCIDR,
		HealthPort: health, MetricsPort: metrics,
	}
	args, err := componentArgs(tmpl, cctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if !usesField(tmpl, "HealthPort") {
		health = 0
	} else if err := l.record(func(*State) {
		if ci.HealthPorts == nil {
			ci.HealthPorts = map[string]int{}
		}
		ci.HealthPorts[fc.name] = health
	}); err != nil {
		return 0, err
	}
	_, err = l.start(procSpec{name: name, path: bin, args: args, env: fc.comp.Env})
	return health, err
}

// componentHealthURL is where a federation component of a cluster answers its health
// check ("" when it is not probed).
func (l *Lab) componentHealthURL(ci *ClusterInfo, comp string) string {
	port := ci.HealthPorts[comp]
	if port == 0 {
		return ""
	}
	path := "/healthz"
	for _, fc := range append(l.hubComponents(), l.spokeComponents()...) {
		if fc.name == comp {
			path = fc.healthPath
		}
	}
	return "http://127.0.0.1:" + strconv.Itoa(port) + path
}

// waitFederation waits until every started federation component answers its health check.
func (l *Lab) waitFederation(ctx context.Context) error {
	var errs []error
	for _, ci := range l.st.Clusters {
		comps := l.spokeComponents()
		if ci.Role == RoleHub {
			comps = l.hubComponents()
		}
		for _, fc := range comps {
			url := l.componentHealthURL(ci, fc.name)
			if url == "" {
				continue
			}
			procs := l.processesNamed("/"+fc.name, []*NodeInfo{{Name: ci.Name}})
			var watch *Process
			if len(procs) > 0 {
				watch = procs[0]
			}
			err := poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "cluster "+ci.Name+" "+fc.name+" "+url, watch, func() (bool, string) {
				if err := httpHealth(ctx, url); err != nil {
					return false, err.Error()
				}
				return true, ""
			})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
