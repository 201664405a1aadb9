package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

const stateVersion = 1

// ErrNoLab is returned by Open when the directory holds no lab.
var ErrNoLab = errors.New("no lab state")

// Cluster roles.
const (
	RoleHub   = "hub"
	RoleSpoke = "spoke"
)

// State is everything a later process needs to report on or tear down a lab. It is written
// to <dir>/state.json after every change Up makes, so that Down can undo a failed Up.
type State struct {
	Version int `json:"version"`
	// Config is the defaulted configuration Up ran with.
	Config Config `json:"config"`
	Shape  Shape  `json:"shape"`
	// Complete is set when Up finished; a state without it belongs to an Up that failed or
	// is still running.
	Complete  bool      `json:"complete"`
	CreatedAt time.Time `json:"createdAt"`

	Underlay   string `json:"underlay"`
	RootIP     string `json:"rootIP"`
	UnderlayNS string `json:"underlayNetns"`
	RootLink   string `json:"rootLink"`

	Clusters []*ClusterInfo `json:"clusters"`
	IC       ICInfo         `json:"ic"`

	// Processes lists every process the lab started, in start order.
	Processes []*Process `json:"processes"`
	// Skipped lists optional components that were not started, with the reason.
	Skipped []Skipped `json:"skipped,omitempty"`
	// Warnings are things Up noticed but did not fail on (e.g. missing CRD directories).
	Warnings []string `json:"warnings,omitempty"`
	// Phases are Up's phases with their durations, in order.
	Phases []PhaseTiming `json:"phases,omitempty"`

	// Host changes, each recorded before it is made so that Down undoes exactly these.
	Netns     []string `json:"netns,omitempty"`
	RootLinks []string `json:"rootLinks,omitempty"`
	// Cgroups are cgroup names created in every v1 hierarchy (and the node daemons' child).
	Cgroups []string `json:"cgroups,omitempty"`
	// RunNetnsMount is true when the first `ip netns add` of this lab turned /run/netns into
	// a mount point; Down unmounts it again when no namespace is left in it.
	RunNetnsMount bool `json:"runNetnsMount,omitempty"`
	// RunNetnsDir is true when /run/netns did not exist before.
	RunNetnsDir bool `json:"runNetnsDir,omitempty"`
	// Ynettest is the static network test tool (the one in the test image), for commands
	// run in a node's namespaces (NodeExec).
	Ynettest string `json:"ynettest,omitempty"`
	// Sysctls holds the host's values of the sysctls the kubelet wants to change, read
	// before any kubelet ran; Down verifies (and if needed restores) them.
	Sysctls map[string]string `json:"sysctls,omitempty"`
}

// ClusterInfo describes one cluster (the hub or a spoke).
type ClusterInfo struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Index int    `json:"index,omitempty"`
	Dir   string `json:"dir"`
	// BindIP is the address the apiserver listens on (127.0.0.1 for the hub; the root
	// veth's address for spokes, which nodes reach through the underlay).
	BindIP        string `json:"bindIP"`
	APIServer     string `json:"apiServer,omitempty"`
	EtcdClient    string `json:"etcdClient,omitempty"`
	EtcdPeerPort  int    `json:"etcdPeerPort,omitempty"`
	KCMPort       int    `json:"kcmPort,omitempty"`
	SchedulerPort int    `json:"schedulerPort,omitempty"`
	// Kubeconfig authenticates as a cluster admin (group system:masters).
	Kubeconfig string `json:"kubeconfig"`
	// ControllerHealthPort serves ycloud-controller's /healthz on 127.0.0.1 (0: unknown).
	ControllerHealthPort int `json:"controllerHealthPort,omitempty"`
	// HealthPorts are the health ports (127.0.0.1) of the federation components of this
	// cluster, by component name (CompHub, CompIC, ...).
	HealthPorts map[string]int `json:"healthPorts,omitempty"`
	// CRDs lists the CustomResourceDefinitions installed by Up.
	CRDs []string `json:"crds,omitempty"`

	// Spokes only. PodCIDR is the spoke's pod range (the reference CNI splits it per node;
	// with the ycloud CNI it is the default subnet); JoinCIDR holds the nodes' management
	// ports (ycloud CNI).
	PodCIDR  string      `json:"podCIDR,omitempty"`
	JoinCIDR string      `json:"joinCIDR,omitempty"`
	NB       string      `json:"nb,omitempty"`
	SB       string      `json:"sb,omitempty"`
	Nodes    []*NodeInfo `json:"nodes,omitempty"`
}

// NodeInfo describes one node of a spoke.
type NodeInfo struct {
	Name    string `json:"name"`
	Cluster string `json:"cluster"`
	Index   int    `json:"index"`
	// NetNS is the node's network namespace (`ip netns exec <NetNS> ...` works for network
	// commands; processes that need the node's cgroup view must use the node's mount
	// namespace, see Node.Holder).
	NetNS string `json:"netns"`
	// IP is the node's address on br-phy: kubelet node IP and geneve tunnel endpoint.
	IP string `json:"ip"`
	// PodCIDR is used by the reference CNI only.
	PodCIDR      string `json:"podCIDR"`
	Dir          string `json:"dir"`
	Cgroup       string `json:"cgroup"`
	OVSDB        string `json:"ovsdb"`
	CNISocket    string `json:"cniSocket"`
	UnderlayLink string `json:"underlayLink"`
	// ICGateway marks an OVN interconnect gateway chassis.
	ICGateway bool `json:"icGateway,omitempty"`
	// HolderPID is the process that owns the node's private mount namespace.
	HolderPID int `json:"holderPID,omitempty"`
	// CNIHealthPort serves ycloud-cni's /healthz on the node IP (0: not probed).
	CNIHealthPort int `json:"cniHealthPort,omitempty"`
}

// ICInfo holds the global interconnect database endpoints.
type ICInfo struct {
	NB string `json:"nb"`
	SB string `json:"sb"`
}

// PhaseTiming is how long one phase of Up took.
type PhaseTiming struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
}

// Skipped is an optional component that was not started.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// save writes the state atomically.
func (st *State) save() error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	p := statePath(st.Config.Dir)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

func loadState(dir string) (*State, error) {
	b, err := os.ReadFile(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoLab)
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	st := &State{}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("decode lab state %s: %w", statePath(dir), err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("lab state %s has version %d, this ycloud-lab understands %d: run down with the matching binary", statePath(dir), st.Version, stateVersion)
	}
	return st, nil
}

func (st *State) cluster(name string) (*ClusterInfo, error) {
	for _, c := range st.Clusters {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("cluster %q: not in this lab", name)
}

func (st *State) node(name string) *NodeInfo {
	for _, n := range st.nodes() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (st *State) nodes() []*NodeInfo {
	var out []*NodeInfo
	for _, c := range st.Clusters {
		out = append(out, c.Nodes...)
	}
	return out
}

// dirLock serialises Up and Down on one lab directory across processes.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lab dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lab lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab %s is busy (another ycloud-lab up/down holds its lock): %w", dir, err)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) unlock() {
	if l != nil && l.f != nil {
		_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
	}
}
