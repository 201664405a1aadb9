package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ycloud-sdn/ycloud/ic"
)

// A node is a network namespace plus a private mount namespace (held by nodeinit) in which
// the lab starts, through `nsenter --target <holder> --mount --net`:
//
//	ovsdb-server -> (lab writes Open_vSwitch + br-phy) -> ovs-vswitchd -> ovn-controller
//	containerd -> (lab imports the images with ctr) -> [ycloud-cni] -> kubelet
//
// The two chains run concurrently; the kubelet waits for both (ycloud-cni needs OVS). All
// of the node's processes sit in the pids cgroup <prefix>-<node>/daemons, and its pods
// under <prefix>-<node>/kubepods, so Down finds everything the node ever ran.

// nodeInitArgs says what nodeinit mounts in every node: an empty /run (hides the host's
// /run/netns and gives containerd and the shims their own /run/containerd), private
// /var/lib and /var/log (kubelet device-plugin socket, CNI cache, /var/log/containers are
// hard-coded there), and the sysctl masks.
func nodeInitArgs(n *NodeInfo, ready, hostNS string) []string {
	args := []string{
		"-ready", ready,
		"-host-mntns", hostNS,
		"-tmpfs", "/run",
		"-bind", filepath.Join(n.Dir, "host", "var-lib") + ":/var/lib",
		"-bind", filepath.Join(n.Dir, "host", "var-log") + ":/var/log",
	}
	for k := range kubeletSysctls {
		args = append(args, "-bind-file", sysctlMask(n, k)+":"+filepath.Join("/proc/sys", k))
	}
	return args
}

// startNode brings up one node; the kubelet registers as soon as its apiserver answers.
func (l *Lab) startNode(ctx context.Context, ci *ClusterInfo, n *NodeInfo, nodeInit string, archives []string) error {
	if err := l.record(func(st *State) { st.Cgroups = append(st.Cgroups, n.Cgroup) }); err != nil {
		return err
	}
	if err := createNodeCgroup(n.Cgroup); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	cg := n.Cgroup + "/" + daemonsCgroup

	ready := filepath.Join(n.Dir, "run", "nodeinit.ready")
	_ = os.Remove(ready)
	hostNS, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	holder, err := l.start(procSpec{
		name: n.Name + "/nodeinit", path: nodeInit, args: nodeInitArgs(n, ready, hostNS),
		netns: n.NetNS, newMountNS: true, cgroup: cg, node: n.Name,
	})
	if err != nil {
		return err
	}
	if err := poll(ctx, 30*time.Second, 20*time.Millisecond, "node "+n.Name+" namespace", holder, func() (bool, string) {
		return exists(ready), ""
	}); err != nil {
		return err
	}
	if err := l.record(func(*State) { n.HolderPID = holder.PID }); err != nil {
		return err
	}
	inNode := func(name, path string, env []string, args ...string) (*Process, error) {
		return l.start(procSpec{name: n.Name + "/" + name, path: path, args: args, env: env, holder: holder.PID, cgroup: cg, node: n.Name})
	}

	errc := make(chan error, 2)
	go func() { errc <- l.startNodeOVS(ctx, ci, n, inNode) }()
	go func() { errc <- l.startContainerd(ctx, n, inNode, archives) }()
	var errs []error
	for range 2 {
		if err := <-errc; err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if err := l.startCNIDaemon(ctx, ci, n, inNode); err != nil {
		return err
	}
	args := []string{
		"--config=" + filepath.Join(n.Dir, "kubelet-config.json"),
		"--kubeconfig=" + filepath.Join(n.Dir, "kubelet.kubeconfig"),
		"--root-dir=" + filepath.Join(n.Dir, "kubelet"),
		"--cert-dir=" + filepath.Join(n.Dir, "kubelet", "pki"),
		"--hostname-override=" + n.Name,
		"--node-ip=" + n.IP,
		"--v=2",
	}
	if n.ICGateway {
		// The label ycloud-ic selects interconnect gateways by, and from which ycloud-cni
		// sets OVS ovn-is-interconn (initVswitch does with the reference CNI). A kubelet may
		// set labels outside the kubernetes.io namespaces on its own node (NodeRestriction
		// allows it).
		args = append(args, "--node-labels="+ic.GatewayNodeLabel+"=true")
	}
	_, err = inNode("kubelet", l.bin("kubelet"), nil, args...)
	return err
}

type nodeStarter func(name, path string, env []string, args ...string) (*Process, error)

// startNodeOVS starts the node's OVS and ovn-controller and puts the node IP on br-phy.
func (l *Lab) startNodeOVS(ctx context.Context, ci *ClusterInfo, n *NodeInfo, inNode nodeStarter) error {
	ovsDir, ovnDir := filepath.Join(n.Dir, "ovs"), filepath.Join(n.Dir, "ovn")
	db := filepath.Join(ovsDir, "conf.db")
	_ = os.Remove(db)
	if _, err := run(ctx, "ovsdb-tool", "create", db, "/usr/share/openvswitch/vswitch.ovsschema"); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	// Each node needs its own OVS run directory: ovn-controller finds vswitchd's
	// br-int.mgmt there (OVN-NOTES.md §1.7).
	env := []string{"OVS_RUNDIR=" + ovsDir, "OVS_LOGDIR=" + ovsDir, "OVS_DBDIR=" + ovsDir, "OVN_RUNDIR=" + ovnDir, "OVN_LOGDIR=" + ovnDir}
	sock := strings.TrimPrefix(n.OVSDB, "unix:")
	dbProc, err := inNode("ovsdb-server", "ovsdb-server", env, db, "--remote=punix:"+sock,
		"--unixctl="+filepath.Join(ovsDir, "ovsdb-server.ctl"), "--no-chdir", "-vconsole:info", "-vsyslog:off")
	if err != nil {
		return err
	}
	if err := waitSocket(ctx, sock, dbProc); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	// ycloud-cni sets ovn-is-interconn itself, from the node label; the reference CNI has
	// no daemon, so the lab writes it.
	if err := initVswitch(ctx, n, ci.SB, n.ICGateway && l.cfg.CNI != CNIYcloud); err != nil {
		return err
	}
	vs, err := inNode("ovs-vswitchd", "ovs-vswitchd", env, n.OVSDB,
		"--unixctl="+filepath.Join(ovsDir, "ovs-vswitchd.ctl"), "--no-chdir", "-vconsole:info", "-vsyslog:off")
	if err != nil {
		return err
	}
	if err := poll(ctx, 30*time.Second, 50*time.Millisecond, "node "+n.Name+" br-phy", vs, func() (bool, string) {
		return linkExistsIn(ctx, n.NetNS, "br-phy"), "ovs-vswitchd has not created br-phy"
	}); err != nil {
		return err
	}
	if err := l.configureBrPhy(ctx, n, ci.Nodes); err != nil {
		return err
	}
	_, err = inNode("ovn-controller", "ovn-controller", env, n.OVSDB, "--no-chdir", "-vconsole:info", "-vsyslog:off")
	return err
}

// startContainerd starts containerd and imports the lab's images into its k8s.io namespace
// (the one CRI uses), unpacked for overlayfs.
func (l *Lab) startContainerd(ctx context.Context, n *NodeInfo, inNode nodeStarter, archives []string) error {
	p, err := inNode("containerd", "containerd", nil, "--config", filepath.Join(n.Dir, "containerd", "config.toml"))
	if err != nil {
		return err
	}
	sock := filepath.Join(n.Dir, "run", "containerd.sock")
	if err := waitSocket(ctx, sock, p); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	for _, a := range archives {
		if _, err := run(ctx, "ctr", "--address", sock, "--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs", a); err != nil {
			return fmt.Errorf("node %s: import image: %w", n.Name, err)
		}
	}
	return nil
}

// startCNIDaemon starts ycloud-cni in the node when it is built and enabled. It runs in the
// node's namespaces like the kubelet, so its host network namespace is the node's (where
// OVS and the management port live) and it opens pod netns paths in the node's /run.
func (l *Lab) startCNIDaemon(ctx context.Context, ci *ClusterInfo, n *NodeInfo, inNode nodeStarter) error {
	c := l.cfg.CNIDaemon
	bin := l.componentBinary(c, "ycloud-cni")
	name := n.Name + "/ycloud-cni"
	if c.Disabled {
		return l.skip(name, "disabled")
	}
	if !exists(bin) {
		return l.skip(name, "not built ("+bin+")")
	}
	// The daemon creates br-int when it is missing, guarded by a wait on the name; with
	// ovn-controller creating it at the same moment one of the two loses the race, so it
	// starts only once ovn-controller's br-int is there.
	var ovnController *Process
	if p := l.processesNamed("/ovn-controller", []*NodeInfo{n}); len(p) > 0 {
		ovnController = p[0]
	}
	if err := waitBridge(ctx, n, "br-int", ovnController); err != nil {
		return err
	}
	tmpl := c.Args
	if tmpl == nil {
		tmpl = DefaultCNIDaemonArgs
	}
	args, err := componentArgs(tmpl, ComponentContext{
		Cluster: ci.Name, Kubeconfig: filepath.Join(ci.Dir, "ycloud-cni.kubeconfig"),
		NB: ci.NB, SB: ci.SB, ICNB: l.st.IC.NB, ICSB: l.st.IC.SB,
		DefaultCIDR: ci.PodCIDR, JoinCIDR: ci.JoinCIDR,
		Node: n.Name, NodeIP: n.IP, OVSDB: n.OVSDB, CNISocket: n.CNISocket, RunDir: filepath.Join(n.Dir, "run"),
		HealthPort: cniHealthPort,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if usesField(tmpl, "HealthPort") {
		if err := l.record(func(*State) { n.CNIHealthPort = cniHealthPort }); err != nil {
			return err
		}
	}
	p, err := inNode("ycloud-cni", bin, c.Env, args...)
	if err != nil {
		return err
	}
	// The CNI plugin dials this socket for every pod: wait for it so the first pods do not
	// fail on a daemon that is still starting.
	if err := waitSocket(ctx, n.CNISocket, p); err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}

// waitSocket waits until a unix socket accepts connections.
func waitSocket(ctx context.Context, path string, p *Process) error {
	return poll(ctx, 30*time.Second, 20*time.Millisecond, "socket "+path, p, func() (bool, string) {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

// skip records an optional component that is not started.
func (l *Lab) skip(name, reason string) error {
	l.logf("  skipped %-32s %s", name, reason)
	return l.record(func(st *State) { st.Skipped = append(st.Skipped, Skipped{Name: name, Reason: reason}) })
}

// stopNode stops a node: the kubelet first (so it restarts nothing), then containerd, then
// every process left in the node's cgroup tree (shims, pods, OVS, the namespace holder).
func stopNode(st *State, n *NodeInfo) error {
	var errs []error
	for _, comp := range []string{"kubelet", "ycloud-cni", "containerd"} {
		for _, p := range st.Processes {
			if p.Name == n.Name+"/"+comp {
				if err := p.stop(10 * time.Second); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := killCgroup(n.Cgroup, 5*time.Second); err != nil {
		errs = append(errs, err)
	}
	// Processes recorded but outside the cgroup (one that died before it was moved).
	for _, p := range st.Processes {
		if p.Node == n.Name {
			if err := p.stop(5 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// StopOVNController stops a node's ovn-controller the way "ovn-ctl stop_controller" does
// (ovn-appctl exit, without --restart): it deletes its chassis from the southbound
// database, which is how OVN moves the gateway ports it held to the next chassis by
// priority. It returns once the process has exited. The lab does not restart it: status
// and CheckProcesses report it as exited from then on.
func (l *Lab) StopOVNController(ctx context.Context, node string) error {
	n := l.st.node(node)
	if n == nil {
		return fmt.Errorf("node %q: not in this lab", node)
	}
	procs := l.processesNamed("/ovn-controller", []*NodeInfo{n})
	if len(procs) == 0 || !procs[0].Alive() {
		return fmt.Errorf("node %s: ovn-controller is not running", node)
	}
	p := procs[0]
	ctl := filepath.Join(n.Dir, "ovn", fmt.Sprintf("ovn-controller.%d.ctl", p.PID))
	if out, err := run(ctx, "ovn-appctl", "-t", ctl, "exit"); err != nil {
		return fmt.Errorf("node %s: ovn-appctl exit: %w: %s", node, err, out)
	}
	return poll(ctx, 30*time.Second, 20*time.Millisecond, "node "+node+" ovn-controller exit", nil, func() (bool, string) {
		return !p.Alive(), "still running"
	})
}
