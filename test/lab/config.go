package lab

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// CNIMode selects the CNI configuration every node's containerd gets.
type CNIMode string

const (
	// CNIReference uses the reference bridge + host-local plugins (bin/cni), so pods get an
	// address today, before our own CNI exists. Pod CIDRs are routed between the nodes of
	// a spoke through the underlay.
	CNIReference CNIMode = "reference"
	// CNIYcloud writes a conflist for our `ycloud` plugin (bin/ycloud) that talks to the
	// node's ycloud-cni daemon over a unix socket. It is the node's only CNI network.
	CNIYcloud CNIMode = "ycloud"
)

// DefaultDir is where the ycloud-lab command keeps its state: outside the repository, and
// on a disk that survives /tmp cleaners while the lab runs.
const DefaultDir = "/var/tmp/ycloud-lab"

// Component configures an optional ycloud binary the lab starts when it has been built
// (ycloud-controller per spoke, ycloud-cni per node). Args are text/template strings
// expanded with a ComponentContext, so callers can pass flags that name lab paths.
type Component struct {
	// Binary defaults to <BinDir>/<name>. A missing binary is not an error: the component is
	// reported as "not built" and skipped.
	Binary string `json:"binary,omitempty"`
	// Args replace the default arguments when non-nil.
	Args []string `json:"args,omitempty"`
	// Env is added to the process environment ("KEY=value").
	Env []string `json:"env,omitempty"`
	// Disabled skips the component even when it is built.
	Disabled bool `json:"disabled,omitempty"`
}

// ComponentContext is what Component.Args templates can refer to.
type ComponentContext struct {
	Cluster    string // cluster name ("spoke1", or "hub" for the hub's components)
	Kubeconfig string // kubeconfig of the component's own identity in its cluster
	// HubKubeconfig is the component's identity on the hub (OCM work agents only).
	HubKubeconfig string
	NB, SB        string // OVN northbound / southbound endpoints of the spoke ("unix:...")
	ICNB, ICSB    string // interconnect databases
	// DefaultCIDR is the spoke's default pod subnet (ovn-default in VPC ovn-cluster) and
	// JoinCIDR its node management subnet (join); both are the spoke's, from the plan.
	DefaultCIDR string
	JoinCIDR    string
	Node        string // node name: Kubernetes node, OVN chassis, OVS system-id (ycloud-cni only)
	NodeIP      string // node (tunnel) IP (ycloud-cni only)
	OVSDB       string // the node's Open_vSwitch database (ycloud-cni only)
	CNISocket   string // socket the ycloud CNI plugin dials (ycloud-cni only)
	RunDir      string // a private directory for the component's runtime files
	// HealthPort and MetricsPort: for ycloud-controller, free TCP ports on 127.0.0.1 picked
	// for this instance (several controllers share the root network namespace), and the
	// lab probes http://127.0.0.1:HealthPort/healthz; for ycloud-cni, a fixed port on the
	// node IP (each node has its own network namespace), probed at
	// http://NodeIP:HealthPort/healthz. Probing happens only when the arguments use
	// HealthPort.
	HealthPort  int
	MetricsPort int
}

// Default argument templates: the flags cmd/ycloud-controller (spoke/controller.Config)
// and cmd/ycloud-cni (cni/daemon.Config) define.
var (
	DefaultControllerArgs = []string{
		"--kubeconfig={{.Kubeconfig}}", "--cluster={{.Cluster}}", "--ovn-nb={{.NB}}",
		"--default-cidr={{.DefaultCIDR}}", "--join-cidr={{.JoinCIDR}}",
		// One replica per spoke: no election, so it starts reconciling at once.
		"--leader-elect=false",
		"--health-probe-bind-address=127.0.0.1:{{.HealthPort}}", "--metrics-bind-address=127.0.0.1:{{.MetricsPort}}",
	}
	// The daemon writes the chassis settings into the node's Open_vSwitch row; the lab
	// wrote the same values before ovn-controller started (initVswitch), so the two never
	// disagree: the daemon finds them in place and adds only ovn-bridge.
	DefaultCNIDaemonArgs = []string{
		"--kubeconfig={{.Kubeconfig}}", "--node-name={{.Node}}", "--ovsdb={{.OVSDB}}",
		"--ovn-remote={{.SB}}", "--encap-type=geneve", "--encap-ip={{.NodeIP}}", "--datapath-type=netdev",
		"--socket={{.CNISocket}}", "--pod-cidrs={{.DefaultCIDR}}",
		"--metrics-bind-address={{.NodeIP}}:{{.HealthPort}}",
	}
)

// cniHealthPort is where ycloud-cni serves /metrics and /healthz on its node's IP.
const cniHealthPort = 10665

// Config describes the lab to start. The zero value (plus Dir) is a hub and one spoke of
// two nodes with reference CNI.
type Config struct {
	// Dir holds the state file, logs, certificates and data. Default DefaultDir. It must
	// not be under /run, /var/lib or /var/log: nodes mount private copies over those.
	Dir string `json:"dir"`
	// Clusters is the number of spokes (default 1); the hub is always there.
	Clusters int `json:"clusters"`
	// Nodes is the number of nodes per spoke (default 2).
	Nodes int `json:"nodes"`
	// CNI selects the nodes' CNI configuration (default CNIReference).
	CNI CNIMode `json:"cni"`
	// Prefix names everything the lab creates outside Dir: network namespaces, the root
	// namespace's veth and cgroups. At most 10 characters [a-z0-9]. Default "ylab". Two labs
	// running at once need different prefixes and underlays.
	Prefix string `json:"prefix"`
	// ICGateways is how many nodes of each spoke (the first ones) are OVN interconnect
	// gateways: the node label iaas.yusur.io/ic-gateway=true, from which ycloud-cni sets
	// OVS external_ids:ovn-is-interconn=true (the lab writes it with the reference CNI),
	// which ovn-controller publishes and ovn-ic advertises (OVN-NOTES.md §1, gotcha 1).
	// Default 0.
	ICGateways int `json:"icGateways,omitempty"`
	// Underlay is the IPv4 /16 that joins the nodes (and the root namespace, for the
	// apiservers). Default 10.250.0.0/16. It must not overlap addresses of the root
	// namespace.
	Underlay string `json:"underlay"`

	// RepoRoot is the ycloud checkout (default: found from this source file).
	RepoRoot string `json:"repoRoot,omitempty"`
	// BinDir holds kube-apiserver, kubelet, etcd, ..., cni/ and our binaries (default
	// $YCLOUD_BIN or <RepoRoot>/bin).
	BinDir string `json:"binDir,omitempty"`
	// CacheDir keeps built binaries and image archives between labs (default
	// $YCLOUD_CACHE/lab, or ~/.cache/ycloud/lab).
	CacheDir string `json:"cacheDir,omitempty"`
	// HubCRDDirs default to deploy/crds/iaas and deploy/crds/federation; SpokeCRDDirs to
	// deploy/crds/iaas. OCMCRDDir (default $YCLOUD_OCM_CRDS or <RepoRoot>/../shared/ocm-crds)
	// is installed on the hub only. A default directory that does not exist is skipped
	// with a warning (CRDs are generated); a directory given explicitly must exist.
	HubCRDDirs   []string `json:"hubCRDDirs,omitempty"`
	SpokeCRDDirs []string `json:"spokeCRDDirs,omitempty"`
	OCMCRDDir    string   `json:"ocmCRDDir,omitempty"`

	// Controller is ycloud-controller, one per spoke; CNIDaemon is ycloud-cni, one per node.
	// With CNIYcloud both are required (Up fails when a binary is missing), unless
	// Disabled; with CNIReference they run when built.
	Controller Component `json:"controller"`
	CNIDaemon  Component `json:"cniDaemon"`
	// Hub is ycloud-hub on the hub; IC is ycloud-ic, one per spoke (both need the ycloud
	// CNI's data path to be useful, but start in every mode when built). Placement and
	// WorkAgent are the OCM stand-ins of test/ocm (binary <BinDir>/ocm-standin): the
	// placement controller on the hub and a work agent per spoke. A missing binary is
	// reported as "not built" and skipped.
	Hub       Component `json:"hub"`
	IC        Component `json:"ic"`
	Placement Component `json:"placement"`
	WorkAgent Component `json:"workAgent"`
	// CNIPlugin is the ycloud CNI plugin binary (CNIYcloud only; default <BinDir>/ycloud).
	CNIPlugin string `json:"cniPlugin,omitempty"`

	// ReadyTimeout bounds each wait of Up (apiservers ready, nodes Ready). Default 3m.
	ReadyTimeout time.Duration `json:"readyTimeout,omitempty"`
	// KeepOnFailure leaves a failed Up's processes running for inspection (run Down later).
	KeepOnFailure bool `json:"keepOnFailure,omitempty"`
	// Log receives progress lines, including each phase's duration. nil discards them.
	Log io.Writer `json:"-"`
}

var prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`)

// withDefaults returns cfg with every empty field filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Dir == "" {
		cfg.Dir = DefaultDir
	}
	if abs, err := filepath.Abs(cfg.Dir); err == nil {
		cfg.Dir = abs
	}
	if cfg.Clusters == 0 {
		cfg.Clusters = 1
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 2
	}
	if cfg.CNI == "" {
		cfg.CNI = CNIReference
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "ylab"
	}
	if cfg.Underlay == "" {
		cfg.Underlay = "10.250.0.0/16"
	}
	if cfg.RepoRoot == "" {
		cfg.RepoRoot = repoRoot()
	}
	if cfg.BinDir == "" {
		cfg.BinDir = os.Getenv("YCLOUD_BIN")
	}
	if cfg.BinDir == "" {
		cfg.BinDir = filepath.Join(cfg.RepoRoot, "bin")
	}
	if cfg.CacheDir == "" {
		base := os.Getenv("YCLOUD_CACHE")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				home = os.TempDir()
			}
			base = filepath.Join(home, ".cache", "ycloud")
		}
		cfg.CacheDir = filepath.Join(base, "lab")
	}
	if cfg.OCMCRDDir == "" {
		cfg.OCMCRDDir = os.Getenv("YCLOUD_OCM_CRDS")
	}
	if cfg.OCMCRDDir == "" {
		cfg.OCMCRDDir = filepath.Join(cfg.RepoRoot, "..", "shared", "ocm-crds")
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 3 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return cfg
}

// validate checks a defaulted config.
func (cfg Config) validate() error {
	var errs []error
	if cfg.Clusters < 1 || cfg.Clusters > 50 {
		errs = append(errs, fmt.Errorf("clusters %d: want 1..50", cfg.Clusters))
	}
	if cfg.Nodes < 1 || cfg.Nodes > 50 {
		errs = append(errs, fmt.Errorf("nodes %d: want 1..50", cfg.Nodes))
	}
	if cfg.ICGateways < 0 || cfg.ICGateways > cfg.Nodes {
		errs = append(errs, fmt.Errorf("ic gateways %d: want 0..%d (nodes per spoke)", cfg.ICGateways, cfg.Nodes))
	}
	if cfg.CNI != CNIReference && cfg.CNI != CNIYcloud {
		errs = append(errs, fmt.Errorf("cni %q: want %q or %q", cfg.CNI, CNIReference, CNIYcloud))
	}
	if !prefixRE.MatchString(cfg.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q: want 1-10 characters [a-z0-9], starting with a letter (interface names are at most 15)", cfg.Prefix))
	}
	if p, err := netip.ParsePrefix(cfg.Underlay); err != nil || !p.Addr().Is4() || p.Bits() != 16 || p.Masked() != p {
		errs = append(errs, fmt.Errorf("underlay %q: want an IPv4 /16 such as 10.250.0.0/16", cfg.Underlay))
	} else if p.Overlaps(podSupernet) {
		errs = append(errs, fmt.Errorf("underlay %s overlaps the pod range %s", p, podSupernet))
	}
	for _, bad := range []string{"/run", "/var/run", "/var/lib", "/var/log", "/sys", "/proc"} {
		if cfg.Dir == bad || strings.HasPrefix(cfg.Dir, bad+"/") {
			errs = append(errs, fmt.Errorf("dir %s: must not be under %s (nodes mount private copies there)", cfg.Dir, bad))
		}
	}
	// Unix socket paths are limited to 107 bytes; the deepest one the lab makes is the
	// kubelet's containerd socket of the last node.
	if n := len(cfg.Dir) + len("/nodes/spoke50-n50/run/containerd.sock.ttrpc"); n > 100 {
		errs = append(errs, fmt.Errorf("dir %s is too long for unix socket paths (keep it under ~55 characters)", cfg.Dir))
	}
	return errors.Join(errs...)
}

// Shape is the part of a config that a second Up must agree with.
type Shape struct {
	Clusters   int     `json:"clusters"`
	Nodes      int     `json:"nodes"`
	CNI        CNIMode `json:"cni"`
	ICGateways int     `json:"icGateways"`
	Prefix     string  `json:"prefix"`
	Underlay   string  `json:"underlay"`
}

func (cfg Config) shape() Shape {
	return Shape{Clusters: cfg.Clusters, Nodes: cfg.Nodes, CNI: cfg.CNI, ICGateways: cfg.ICGateways, Prefix: cfg.Prefix, Underlay: cfg.Underlay}
}

func (s Shape) String() string {
	return fmt.Sprintf("%d spoke(s) x %d node(s), cni=%s, ic-gateways=%d, prefix=%s, underlay=%s", s.Clusters, s.Nodes, s.CNI, s.ICGateways, s.Prefix, s.Underlay)
}

// DefaultRepoRoot is the checkout Up uses when Config.RepoRoot is empty.
func DefaultRepoRoot() string { return repoRoot() }

// repoRoot finds the checkout: from this file's location (test/lab/config.go) when the
// binary was built without -trimpath, else upwards from the executable and the working
// directory, looking for our go.mod.
func repoRoot() string {
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", ".."))
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		candidates = append(candidates, wd)
	}
	for _, c := range candidates {
		for d := filepath.Clean(c); ; d = filepath.Dir(d) {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/ycloud-sdn/ycloud\n") {
				return d
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return "."
}
