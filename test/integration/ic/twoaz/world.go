// Package twoaz builds two OVN availability zones joined by OVN-IC on one machine, for the
// interconnect integration test and `make bench-ic`:
//
//	global:  IC-NB + IC-SB ovsdb-servers
//	per AZ:  a test kube-apiserver, OVN NB + SB + ovn-northd, ovn-ic, the real
//	         ycloud-controller and ycloud-ic (both in-process), and nodes
//	per node: a network namespace with ovsdb-server, ovs-vswitchd (userspace datapath) and
//	         ovn-controller, attached to one underlay Linux bridge (its own namespace) that
//	         carries geneve between all nodes of both AZs
//	optional (Options.Hub, hub.go): a hub apiserver with the OCM CRDs, ycloud-hub, the
//	         stand-in placement controller and one stand-in work agent per AZ, so tenant
//	         VPCs can be applied as FederatedVpcs on the hub
//
// Pods are Pod objects (with nodeName) that ycloud-controller allocates; the harness then
// plays the CNI: a network namespace with a veth into the node's br-int, configured from
// the allocation annotation. There are no kubelets.
//
// ovn-controller runs under a small supervisor that restarts it when it exits on its own,
// as its DaemonSet would, and records each such exit (Node.Crashes): OVN 23.03.1's
// ovn-controller was seen to crash here when the chassisredirect ports of two routers are
// removed and re-created alternately on one chassis within about a second.
//
// Everything is stopped through TB.Cleanup, processes by PID and namespaces by handle;
// nothing touches the root network namespace. Tests may use *ctl tools to look; the
// product code under test never does.
package twoaz

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ycloud-sdn/ycloud/ic"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// TB is what the harness needs of a test (a *testing.T, or benchtb.TB in the benchmark).
type TB = cnitest.TB

// Options shape the world.
type Options struct {
	// Nodes per AZ; default {3, 1} with Gateways {2, 1}: AZ1 has two gateways and a node
	// that is none, which OVN needs to tell a dead gateway from an isolated one (BFD).
	Nodes []int
	// Gateways per AZ: the first Gateways[i] nodes of AZ i are IC gateways (node label
	// ic.GatewayNodeLabel=true and OVS external_ids:ovn-is-interconn=true); default all.
	Gateways []int
	// ResyncPeriod of ycloud-ic (default 5m: tests do not rely on it).
	ResyncPeriod time.Duration
	// Hub adds a hub cluster (World.Hub, see hub.go): a hub apiserver with the OCM CRDs,
	// ycloud-hub, the stand-in placement controller and one stand-in work agent per AZ,
	// every AZ a ManagedCluster named after it. Off by default.
	Hub bool
}

// World is the running two-AZ setup.
type World struct {
	t        TB
	ICNB     *ovsdbtest.Server
	ICSB     *ovsdbtest.Server
	ICNBRead *ovsdb.Client
	ICSBRead *ovsdb.Client
	Underlay *cnitest.Underlay
	AZs      []*AZ
	// Hub is nil unless Options.Hub.
	Hub *Hub
}

// AZ is one availability zone: one spoke cluster.
type AZ struct {
	Name  string
	Index int
	Kube  *framework.Cluster
	OVN   *ovsdbtest.OVNCentral
	// NBRead and SBRead are independent readers for assertions.
	NBRead, SBRead *ovsdb.Client
	Nodes          []*Node
	OVNIC          *cnitest.Process
	dir            string
	w              *World
	stopIC         func()
	icCfg          ic.Config
}

// Node is one node of an AZ.
type Node struct {
	*cnitest.Node
	AZ      *AZ
	Gateway bool

	// ovn-controller runs under a supervisor that restarts it when it dies on its own, as
	// its DaemonSet would: ovn-controller 23.03.1 was seen to crash here (see
	// Node.Crashes). A process the test stops or kills on purpose stays down until the
	// test starts it again.
	mu        sync.Mutex
	ctrl      *cnitest.Process
	intended  bool // the current process is meant to exit (a stop or kill of the test)
	done      bool // the test is over: restart nothing
	crashes   int
	crashLogs []string
}

// Start builds the world: it returns once both controllers and both ycloud-ic run and the
// nodes' chassis are registered.
func Start(t TB, opts Options) *World {
	t.Helper()
	if len(opts.Nodes) == 0 {
		opts.Nodes, opts.Gateways = []int{3, 1}, []int{2, 1}
	}
	if len(opts.Gateways) == 0 {
		opts.Gateways = opts.Nodes
	}
	w := &World{t: t}
	// The apiservers take longest: start them first, in the background.
	kubes := make([]*framework.Cluster, len(opts.Nodes))
	kerrs := make([]error, len(opts.Nodes))
	var wg sync.WaitGroup
	for i := range opts.Nodes {
		wg.Go(func() {
			kubes[i], kerrs[i] = framework.Start(framework.Options{Name: fmt.Sprintf("az%d", i+1)})
		})
	}
	var hubKube *framework.Cluster
	var hubErr error
	if opts.Hub {
		wg.Go(func() { hubKube, hubErr = framework.Start(framework.Options{Name: "hub", OCM: true}) })
	}
	t.Cleanup(func() {
		wg.Wait()
		for _, k := range append(kubes, hubKube) {
			if k != nil {
				_ = k.Stop()
			}
		}
	})

	w.ICNB = ovsdbtest.StartStandalone(t, ovsdbtest.ICNBSchema)
	w.ICSB = ovsdbtest.StartStandalone(t, ovsdbtest.ICSBSchema)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// What "ovn-ic-nbctl init" does.
	if _, err := w.ICNB.Transact(ctx,
		map[string]any{"op": "wait", "table": "IC_NB_Global", "where": []any{}, "columns": []string{}, "until": "==", "rows": []any{}, "timeout": 0},
		map[string]any{"op": "insert", "table": "IC_NB_Global", "row": map[string]any{}},
	); err != nil {
		t.Fatalf("twoaz: init IC-NB: %v", err)
	}
	w.Underlay = cnitest.StartUnderlay(t)
	for i, n := range opts.Nodes {
		az := &AZ{Name: fmt.Sprintf("az%d", i+1), Index: i, w: w}
		az.dir = cnitest.ShortDir(t, "ycic-"+az.Name+"-")
		az.OVN = ovsdbtest.StartOVNCentral(t)
		// ovn-ic starts before anyone names the AZ: ycloud-ic does that, and ovn-ic picks
		// the name up when it appears (it reads NB_Global on every run).
		az.OVNIC = cnitest.Start(t, nil, []string{"OVN_RUNDIR=" + az.dir, "OVS_RUNDIR=" + az.dir},
			filepath.Join(az.dir, "ovn-ic.out"), "ovn-ic",
			"--ovnnb-db="+az.OVN.NBEndpoint(), "--ovnsb-db="+az.OVN.SBEndpoint(),
			"--ic-nb-db="+w.ICNB.Endpoint(), "--ic-sb-db="+w.ICSB.Endpoint(),
			"--unixctl="+filepath.Join(az.dir, "ovn-ic.ctl"),
			"--log-file="+filepath.Join(az.dir, "ovn-ic.log"), "-vconsole:off", "-vfile:info")
		for j := range n {
			az.Nodes = append(az.Nodes, az.startNode(j, j < opts.Gateways[i]))
		}
		w.AZs = append(w.AZs, az)
	}
	w.ICNBRead = dialReader(t, ctx, w.ICNB.Endpoint(), icnb.Schema(), icnb.Models(),
		[]string{icnb.TransitSwitchTable}, ovsdb.WithIndex(icnb.TransitSwitchTable, "name"))
	w.ICSBRead = dialReader(t, ctx, w.ICSB.Endpoint(), icsb.Schema(), icsb.Models(),
		[]string{icsb.AvailabilityZoneTable, icsb.PortBindingTable, icsb.RouteTable, icsb.DatapathBindingTable, icsb.GatewayTable})
	for _, az := range w.AZs {
		az.NBRead = dialReader(t, ctx, az.OVN.NBEndpoint(), nb.Schema(), nb.Models(),
			[]string{nb.NBGlobalTable, nb.LogicalRouterTable, nb.LogicalRouterPortTable, nb.LogicalRouterStaticRouteTable,
				nb.LogicalSwitchTable, nb.LogicalSwitchPortTable, nb.GatewayChassisTable},
			ovsdb.WithIndex(nb.LogicalRouterTable, "name"), ovsdb.WithIndex(nb.LogicalRouterPortTable, "name"),
			ovsdb.WithIndex(nb.LogicalSwitchTable, "name"), ovsdb.WithIndex(nb.LogicalSwitchPortTable, "name"))
		az.SBRead = dialReader(t, ctx, az.OVN.SBEndpoint(), sb.Schema(), sb.Models(),
			[]string{sb.ChassisTable, sb.PortBindingTable},
			ovsdb.WithIndex(sb.ChassisTable, "name"), ovsdb.WithIndex(sb.PortBindingTable, "logical_port"))
	}

	wg.Wait()
	if err := errors.Join(append(kerrs, hubErr)...); err != nil {
		t.Fatalf("twoaz: apiservers: %v", err)
	}
	for i, az := range w.AZs {
		az.Kube = kubes[i]
		for _, n := range az.Nodes {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name}}
			if n.Gateway {
				node.Labels = map[string]string{ic.GatewayNodeLabel: "true"}
			}
			if err := az.Kube.Client.Create(ctx, node); err != nil {
				t.Fatalf("twoaz: node %s: %v", n.Name, err)
			}
		}
		az.startController()
		az.icCfg = az.icConfig(opts)
		az.StartIC()
	}
	if opts.Hub {
		w.Hub = w.startHub(hubKube)
	}
	for _, az := range w.AZs {
		for _, n := range az.Nodes {
			az.WaitChassis(n.Name, true)
		}
	}
	return w
}

// dialReader connects an independent client (not the product's) to read a database.
func dialReader(t TB, ctx context.Context, endpoint string, s *schema.Database, models []any, tables []string, opts ...ovsdb.Option) *ovsdb.Client {
	t.Helper()
	dm, err := ovsdb.NewDatabaseModel(s, models...)
	if err != nil {
		t.Fatalf("twoaz: %v", err)
	}
	c, err := ovsdb.Dial(ctx, dm, endpoint, opts...)
	if err != nil {
		t.Fatalf("twoaz: dial %s: %v", endpoint, err)
	}
	t.Cleanup(c.Close)
	var mons []ovsdb.TableMonitor
	for _, tb := range tables {
		mons = append(mons, ovsdb.TableMonitor{Table: tb})
	}
	if _, err := c.Monitor(ctx, mons...); err != nil {
		t.Fatalf("twoaz: monitor %s: %v", endpoint, err)
	}
	return c
}

// startNode starts node j of the AZ: namespace, OVS, chassis configuration, ovn-controller.
func (az *AZ) startNode(j int, gateway bool) *Node {
	t := az.w.t
	name := fmt.Sprintf("%s-n%d", az.Name, j+1)
	n := &Node{AZ: az, Gateway: gateway}
	n.Node = cnitest.StartNode(t, cnitest.NodeOptions{
		Name: name, Underlay: az.w.Underlay, EncapIP: fmt.Sprintf("172.31.255.%d", 10*(az.Index+1)+j+1),
	})
	// The chassis name is the node name: ycloud-controller pins pod ports to it
	// (requested-chassis) and ycloud-ic names gateway chassis after the nodes.
	n.Vsctl("--", "--may-exist", "add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev",
		"fail_mode=secure", "other_config:disable-in-band=true")
	n.Vsctl("set", "open_vswitch", ".",
		"external_ids:system-id="+name, "external_ids:hostname="+name,
		"external_ids:ovn-remote="+az.OVN.SBEndpoint(), "external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip="+n.EncapIP, "external_ids:ovn-bridge-datapath-type=netdev",
		fmt.Sprintf("external_ids:ovn-is-interconn=%t", gateway))
	if err := n.startOVNController(); err != nil {
		t.Fatalf("twoaz: %v", err)
	}
	t.Cleanup(func() {
		n.mu.Lock()
		n.done = true
		p := n.ctrl
		n.mu.Unlock()
		p.Stop()
	})
	return n
}

// startOVNController starts ovn-controller (as cnitest.Node.StartOVNController does, but
// stopped by the node's own cleanup, so that the supervisor knows it is meant to stop)
// and watches it.
func (n *Node) startOVNController() error {
	env := []string{"OVS_RUNDIR=" + n.Dir, "OVS_LOGDIR=" + n.Dir, "OVS_DBDIR=" + n.Dir, "OVN_RUNDIR=" + n.Dir, "OVN_LOGDIR=" + n.Dir}
	p, err := cnitest.StartProcess(n.NS, env, filepath.Join(n.Dir, "ovn-controller.out"), "ovn-controller",
		n.DB, "--log-file="+filepath.Join(n.Dir, "ovn-controller.log"), "-vconsole:off", "-vfile:info")
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	n.mu.Lock()
	n.ctrl, n.intended = p, false
	n.mu.Unlock()
	go func() {
		<-p.Done()
		n.mu.Lock()
		restart := n.ctrl == p && !n.intended && !n.done
		if restart {
			n.crashes++
			n.crashLogs = append(n.crashLogs, cnitest.Tail(filepath.Join(n.Dir, "ovn-controller.log"), 15))
		}
		n.mu.Unlock()
		if restart {
			n.AZ.w.t.Logf("twoaz: ovn-controller on %s exited on its own; restarting it", n.Name)
			if err := n.startOVNController(); err != nil {
				n.AZ.w.t.Logf("twoaz: restart ovn-controller: %v", err)
			}
		}
	}()
	return nil
}

// Crashes returns how often ovn-controller exited on its own on this node, with the end
// of its log before each exit.
func (n *Node) Crashes() (int, []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.crashes, append([]string(nil), n.crashLogs...)
}

// stopping returns the current ovn-controller process, marking it as meant to exit.
func (n *Node) stopping() *cnitest.Process {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.intended = true
	return n.ctrl
}

// KillOVNController kills ovn-controller (SIGKILL) and leaves it down.
func (n *Node) KillOVNController() { n.stopping().Kill() }

// StopOVNControllerGracefully asks ovn-controller to exit the way "ovn-ctl stop_controller"
// does ("exit" without --restart): it deletes its chassis from SB, which is how the other
// gateway chassis learn that it is gone. It returns when the process has exited.
func (n *Node) StopOVNControllerGracefully() {
	t := n.AZ.w.t
	t.Helper()
	p := n.stopping()
	ctl := filepath.Join(n.Dir, fmt.Sprintf("ovn-controller.%d.ctl", p.PID()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := cnitest.Run(ctx, nil, "ovn-appctl", "-t", ctl, "exit"); err != nil {
		t.Fatalf("twoaz: %s: ovn-appctl exit: %v: %s", n.Name, err, out)
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatalf("twoaz: %s: ovn-controller did not exit", n.Name)
	}
}

// BFDUp reports whether the node's BFD session on its tunnel to peer is up (forwarding).
func (n *Node) BFDUp(peer *Node) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := cnitest.Run(ctx, nil, "ovs-vsctl", "--db="+n.DB, "--bare", "--columns=bfd_status",
		"find", "interface", "options:remote_ip="+peer.EncapIP)
	return err == nil && strings.Contains(out, "forwarding=true") && strings.Contains(out, "state=up")
}

// FailHard makes the node fail the way a crashed host does: ovn-controller is killed
// (SIGKILL: its chassis stays registered in SB) and the node's uplink goes down, which cuts
// its datapath - tunnels and their BFD sessions included - off the underlay. The other
// gateway chassis notice through BFD. Undo it with Recover.
func (n *Node) FailHard() {
	t := n.AZ.w.t
	t.Helper()
	n.KillOVNController()
	if err := n.setUplink(false); err != nil {
		t.Fatalf("twoaz: %s: uplink down: %v", n.Name, err)
	}
}

// Recover brings the uplink back and starts ovn-controller again.
func (n *Node) Recover() {
	t := n.AZ.w.t
	t.Helper()
	if err := n.setUplink(true); err != nil {
		t.Fatalf("twoaz: %s: uplink up: %v", n.Name, err)
	}
	n.RestartOVNController()
}

func (n *Node) setUplink(up bool) error {
	return n.NS.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		if up {
			return netlink.LinkSetUp(l)
		}
		return netlink.LinkSetDown(l)
	})
}

// RestartOVNController starts a new ovn-controller on the node (after a stop or kill).
func (n *Node) RestartOVNController() {
	if err := n.startOVNController(); err != nil {
		n.AZ.w.t.Fatalf("twoaz: %v", err)
	}
}

// startController runs ycloud-controller for the AZ in-process until the test ends.
func (az *AZ) startController() {
	cfg := controller.DefaultConfig()
	cfg.NBAddress = az.OVN.NBEndpoint()
	cfg.Cluster = az.Name
	cfg.MetricsAddr, cfg.HealthAddr = "0", "0"
	cfg.LeaderElect = false
	cfg.Workers = 4
	az.w.t.Cleanup(runInBackground(az.w.t, "ycloud-controller "+az.Name, func(ctx context.Context) error {
		return controller.Run(ctx, cfg, az.Kube.Config)
	}))
}

func (az *AZ) icConfig(opts Options) ic.Config {
	cfg := ic.DefaultConfig()
	cfg.Kubeconfig = az.Kube.Kubeconfig
	cfg.Cluster = az.Name
	cfg.NBAddress, cfg.SBAddress = az.OVN.NBEndpoint(), az.OVN.SBEndpoint()
	cfg.ICNBAddress, cfg.ICSBAddress = az.w.ICNB.Endpoint(), az.w.ICSB.Endpoint()
	cfg.MetricsAddr, cfg.HealthAddr = "0", "0"
	cfg.LeaderElect = false
	if opts.ResyncPeriod > 0 {
		cfg.ResyncPeriod = opts.ResyncPeriod
	}
	return cfg
}

// StartIC runs ycloud-ic for the AZ in-process (until StopIC or the end of the test).
func (az *AZ) StartIC() {
	cfg := az.icCfg
	stop := runInBackground(az.w.t, "ycloud-ic "+az.Name, func(ctx context.Context) error { return ic.Run(ctx, cfg) })
	az.stopIC = stop
	az.w.t.Cleanup(stop)
}

// StopIC stops the AZ's ycloud-ic and waits for it.
func (az *AZ) StopIC() {
	if az.stopIC != nil {
		az.stopIC()
	}
}

// runInBackground runs fn until the returned stop function is called; an error other than
// the cancellation fails the test.
func runInBackground(t TB, what string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("twoaz: %s failed: %v", what, err)
				}
			case <-time.After(30 * time.Second):
				t.Logf("twoaz: %s did not stop within 30s", what)
			}
		})
	}
}

// WaitChassis waits until the node's chassis is (present) or is not (!present) in SB.
func (az *AZ) WaitChassis(name string, present bool) {
	t := az.w.t
	t.Helper()
	err := cnitest.Eventually(time.Minute, 20*time.Millisecond, func() error {
		rows, _ := ovsdb.Lookup[sb.Chassis](az.SBRead.Cache(), "name", name)
		if (len(rows) > 0) != present {
			return fmt.Errorf("chassis %s present=%t", name, len(rows) > 0)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("twoaz: %s: %v", az.Name, err)
	}
}

// Logs returns the tails of the AZ's OVN logs, for failure messages.
func (az *AZ) Logs() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s ovn-ic.log\n%s\n", az.Name, cnitest.Tail(filepath.Join(az.dir, "ovn-ic.log"), 30))
	for _, n := range az.Nodes {
		fmt.Fprintf(&b, "--- %s\n%s", n.Name, n.Node.Logs())
	}
	return b.String()
}

// Dir returns the AZ's scratch directory.
func (az *AZ) Dir() string { return az.dir }
