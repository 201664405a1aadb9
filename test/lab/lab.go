package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Lab is a running (or partly running) lab. Its methods are safe for concurrent use.
type Lab struct {
	cfg Config
	mu  sync.Mutex // guards st and its file
	st  *State
}

// Node is what tests need to know about a node.
type Node struct {
	Name    string
	Cluster string
	// NetNS is the node's network namespace (ip netns exec/ip -n work with it).
	NetNS string
	// IP is the node's address: kubelet InternalIP and geneve tunnel endpoint, on br-phy.
	IP string
	// PodCIDR is the node's pod range with the reference CNI.
	PodCIDR string
	// OVSDB is the node's Open_vSwitch database endpoint ("unix:...").
	OVSDB string
	// CNISocket is where the ycloud CNI plugin reaches ycloud-cni.
	CNISocket string
	// Dir holds the node's configuration and data.
	Dir string
	// HolderPID owns the node's mount namespace: `nsenter --target HolderPID --mount --net`
	// runs a command exactly as the node's daemons see the machine.
	HolderPID int
	// ICGateway is true on OVN interconnect gateway chassis (Config.ICGateways).
	ICGateway bool
}

// OVNEndpoints are a spoke's OVN databases.
type OVNEndpoints struct {
	NB string
	SB string
}

// Open attaches to the lab whose state is in dir (ErrNoLab when there is none).
func Open(dir string) (*Lab, error) {
	if dir == "" {
		dir = DefaultDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := loadState(abs)
	if err != nil {
		return nil, err
	}
	cfg := st.Config.withDefaults()
	return &Lab{cfg: cfg, st: st}, nil
}

// Up starts a lab, or returns the one already running in cfg.Dir when it has the same
// shape (and fails when the shape differs, or a previous Up did not finish). On failure it
// takes down what it started unless cfg.KeepOnFailure is set.
func Up(ctx context.Context, cfg Config) (*Lab, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()

	if st, err := loadState(cfg.Dir); err == nil {
		return reuse(cfg, st)
	} else if !errors.Is(err, ErrNoLab) {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the lab needs root (network namespaces, mounts, cgroups)")
	}
	st, err := plan(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkUnderlayFree(st); err != nil {
		return nil, err
	}
	// A fresh lab: data of an earlier one (logs included) goes.
	for _, d := range []string{"clusters", "nodes", "ic", "logs", "cni-bin"} {
		if err := os.RemoveAll(filepath.Join(cfg.Dir, d)); err != nil {
			return nil, fmt.Errorf("clean %s: %w", d, err)
		}
	}
	st.CreatedAt = time.Now()
	l := &Lab{cfg: cfg, st: st}
	if err := st.save(); err != nil {
		return nil, err
	}
	if err := l.up(ctx); err != nil {
		if cfg.KeepOnFailure {
			return nil, fmt.Errorf("%w (left running for inspection: ycloud-lab --dir %s down)", err, cfg.Dir)
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if derr := l.down(dctx); derr != nil {
			return nil, fmt.Errorf("%w; cleaning up also failed: %v", err, derr)
		}
		return nil, err
	}
	return l, nil
}

// reuse handles Up on a directory that already holds a lab.
func reuse(cfg Config, st *State) (*Lab, error) {
	if !st.Complete {
		return nil, fmt.Errorf("lab %s: a previous up did not finish; run down first", cfg.Dir)
	}
	if !reflect.DeepEqual(st.Shape, cfg.shape()) {
		return nil, fmt.Errorf("lab %s is already up with %s; asked for %s: run down first", cfg.Dir, st.Shape, cfg.shape())
	}
	l := &Lab{cfg: st.Config.withDefaults(), st: st}
	l.cfg.Log = cfg.Log
	l.logf("lab %s is already up (%s); nothing to do", cfg.Dir, st.Shape)
	for _, p := range st.Processes {
		if !p.Alive() {
			l.warnf("process %s (pid %d) is not running; see %s", p.Name, p.PID, p.Log)
		}
	}
	return l, nil
}

// record applies a change to the state and saves it.
func (l *Lab) record(change func(*State)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	change(l.st)
	return l.st.save()
}

func (l *Lab) logf(format string, args ...any) {
	fmt.Fprintf(l.cfg.Log, format+"\n", args...)
}

func (l *Lab) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.logf("WARNING: %s", msg)
	_ = l.record(func(st *State) { st.Warnings = append(st.Warnings, msg) })
}

// Down stops every process of the lab and removes everything it created outside its
// directory: network namespaces, the root link, cgroups, the /run/netns mount when the lab
// made it. Logs stay in <dir>/logs; data and the state file go. Down on a lab that is
// already down is a no-op.
func (l *Lab) Down(ctx context.Context) error {
	lock, err := lockDir(l.cfg.Dir)
	if err != nil {
		return err
	}
	defer lock.unlock()
	return l.down(ctx)
}

// Down tears down the lab in dir (no error when there is none).
func Down(ctx context.Context, dir string) error {
	l, err := Open(dir)
	if errors.Is(err, ErrNoLab) {
		return nil
	}
	if err != nil {
		return err
	}
	return l.Down(ctx)
}

func (l *Lab) down(ctx context.Context) error {
	start := time.Now()
	l.mu.Lock()
	st := l.st
	l.mu.Unlock()
	if _, err := os.Stat(statePath(l.cfg.Dir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var errs []error
	// Nodes first (their kubelets would otherwise log errors about the vanished apiserver),
	// all at once.
	t := time.Now()
	if err := parallel(st.nodes(), func(n *NodeInfo) error { return stopNode(st, n) }); err != nil {
		errs = append(errs, err)
	}
	l.logf("  nodes stopped in %.1fs", time.Since(t).Seconds())
	// Then the control planes in three tiers, each concurrently: clients of the apiservers
	// and databases, the apiservers, the stores. An apiserver whose etcd is gone spends its
	// whole grace period retrying; stopped in this order everything exits in about a second.
	tiers := make([][]*Process, 3)
	for i := len(st.Processes) - 1; i >= 0; i-- {
		p := st.Processes[i]
		if p.Node != "" {
			continue
		}
		switch comp := p.Name[strings.LastIndex(p.Name, "/")+1:]; {
		case comp == "kube-apiserver":
			tiers[1] = append(tiers[1], p)
		case comp == "etcd" || strings.HasPrefix(comp, "ovn-nb") || strings.HasPrefix(comp, "ovn-sb") || strings.HasPrefix(comp, "ovn-ic-"):
			tiers[2] = append(tiers[2], p)
		default:
			tiers[0] = append(tiers[0], p)
		}
	}
	// An apiserver drains in-flight requests on SIGTERM and some (watches of clients that
	// died with their node's datapath) never finish; the lab's data dies with it anyway.
	grace := []time.Duration{10 * time.Second, 3 * time.Second, 10 * time.Second}
	t = time.Now()
	for i, tier := range tiers {
		if err := parallel(tier, func(p *Process) error {
			t0 := time.Now()
			err := p.stop(grace[i])
			if d := time.Since(t0); d > 3*time.Second {
				l.logf("  %s took %.1fs to stop", p.Name, d.Seconds())
			}
			return err
		}); err != nil {
			errs = append(errs, err)
		}
	}
	l.logf("  control planes stopped in %.1fs", time.Since(t).Seconds())
	for _, cg := range st.Cgroups {
		if err := removeCgroup(cg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := teardownNetwork(ctx, st); err != nil {
		errs = append(errs, err)
	}
	if err := restoreSysctls(st.Sysctls); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		// Keep the state: a second down retries what is left.
		return fmt.Errorf("lab %s down: %w", l.cfg.Dir, err)
	}
	for _, d := range []string{"clusters", "nodes", "ic", "cni-bin"} {
		if err := os.RemoveAll(filepath.Join(l.cfg.Dir, d)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(statePath(l.cfg.Dir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	l.logf("lab %s down in %.1fs (logs kept in %s)", l.cfg.Dir, time.Since(start).Seconds(), filepath.Join(l.cfg.Dir, "logs"))
	return errors.Join(errs...)
}

// restoreSysctls puts back any of the recorded host sysctls that changed while the lab ran.
// The nodes' kubelets read masked copies, so nothing should have; this is the safety net.
func restoreSysctls(orig map[string]string) error {
	cur, err := readHostSysctls()
	if err != nil {
		return err
	}
	var errs []error
	for k, v := range orig {
		if cur[k] != v {
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
				errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", k, v, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Dir returns the lab directory.
func (l *Lab) Dir() string { return l.cfg.Dir }

// RepoRoot returns the ycloud checkout the lab was started from.
func (l *Lab) RepoRoot() string { return l.cfg.RepoRoot }

// Shape returns the lab's shape.
func (l *Lab) Shape() Shape { return l.st.Shape }

// Clusters returns the cluster names, hub first.
func (l *Lab) Clusters() []string {
	var out []string
	for _, c := range l.st.Clusters {
		out = append(out, c.Name)
	}
	return out
}

// Spokes returns the spoke names.
func (l *Lab) Spokes() []string {
	var out []string
	for _, c := range l.st.Clusters {
		if c.Role == RoleSpoke {
			out = append(out, c.Name)
		}
	}
	return out
}

// Kubeconfig returns the path of a cluster's admin kubeconfig.
func (l *Lab) Kubeconfig(cluster string) (string, error) {
	ci, err := l.st.cluster(cluster)
	if err != nil {
		return "", err
	}
	return ci.Kubeconfig, nil
}

// RESTConfig returns an admin client configuration for a cluster.
func (l *Lab) RESTConfig(cluster string) (*rest.Config, error) {
	ci, err := l.st.cluster(cluster)
	if err != nil {
		return nil, err
	}
	return restConfig(ci)
}

// Client returns an admin clientset for a cluster.
func (l *Lab) Client(cluster string) (kubernetes.Interface, error) {
	cfg, err := l.RESTConfig(cluster)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// Nodes returns the nodes of a spoke (none for the hub or an unknown name).
func (l *Lab) Nodes(cluster string) []Node {
	ci, err := l.st.cluster(cluster)
	if err != nil {
		return nil
	}
	out := make([]Node, 0, len(ci.Nodes))
	for _, n := range ci.Nodes {
		out = append(out, Node{
			Name: n.Name, Cluster: n.Cluster, NetNS: n.NetNS, IP: n.IP, PodCIDR: n.PodCIDR,
			OVSDB: n.OVSDB, CNISocket: n.CNISocket, Dir: n.Dir, HolderPID: n.HolderPID, ICGateway: n.ICGateway,
		})
	}
	return out
}

// OVN returns a spoke's northbound and southbound database endpoints.
func (l *Lab) OVN(cluster string) (OVNEndpoints, error) {
	ci, err := l.st.cluster(cluster)
	if err != nil {
		return OVNEndpoints{}, err
	}
	if ci.Role != RoleSpoke {
		return OVNEndpoints{}, fmt.Errorf("cluster %q has no OVN (only spokes do)", cluster)
	}
	return OVNEndpoints{NB: ci.NB, SB: ci.SB}, nil
}

// IC returns the global interconnect databases' endpoints.
func (l *Lab) IC() ICInfo { return l.st.IC }

// Phases returns how long each phase of Up took.
func (l *Lab) Phases() []PhaseTiming {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]PhaseTiming(nil), l.st.Phases...)
}

// Processes returns a copy of the process records.
func (l *Lab) Processes() []Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Process, len(l.st.Processes))
	for i, p := range l.st.Processes {
		out[i] = *p
	}
	return out
}

// CheckProcesses returns an error naming every lab process that is no longer running.
// The lab never restarts a crashed process: a test should see the crash.
func (l *Lab) CheckProcesses() error {
	var errs []error
	for _, p := range l.Processes() {
		if !p.Alive() {
			errs = append(errs, deadErr(&p))
		}
	}
	return errors.Join(errs...)
}
