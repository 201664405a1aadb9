package cnitest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"
)

// VSwitchSchema is the installed Open_vSwitch schema.
const VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// NewNetns creates a network namespace (bind-mounted under /var/run/netns, so "ip netns
// exec" works on it too) with lo up, and deletes it when the test ends.
func NewNetns(t TB) ns.NetNS {
	t.Helper()
	n, err := NewNetnsNoCleanup()
	if err != nil {
		t.Fatalf("cnitest: %v", err)
	}
	t.Cleanup(func() { DeleteNetns(n) })
	return n
}

// NewNetnsNoCleanup is NewNetns without a TB; release it with DeleteNetns.
func NewNetnsNoCleanup() (ns.NetNS, error) {
	n, err := testutils.NewNS()
	if err != nil {
		return nil, fmt.Errorf("new netns: %w", err)
	}
	if err := n.Do(func(ns.NetNS) error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	}); err != nil {
		DeleteNetns(n)
		return nil, fmt.Errorf("set lo up in %s: %w", n.Path(), err)
	}
	return n, nil
}

// DeleteNetns releases and unmounts a namespace made by NewNetns; the kernel removes it
// (and its devices) once no process is left in it.
func DeleteNetns(n ns.NetNS) {
	_ = n.Close()
	_ = testutils.UnmountNS(n)
}

// NetnsName returns the name "ip netns" knows a namespace by.
func NetnsName(n ns.NetNS) string { return filepath.Base(n.Path()) }

// ShortDir returns a fresh directory whose paths fit in a unix socket address (108 bytes),
// removed when the test ends.
func ShortDir(t TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("cnitest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// Node is one simulated node: a network namespace running ovsdb-server with an
// Open_vSwitch database, ovs-vswitchd and (optionally) ovn-controller, each with its own
// run directory (ovn-controller finds vswitchd through <rundir>/br-int.mgmt).
type Node struct {
	Name string
	Dir  string
	NS   ns.NetNS
	// DB is the Open_vSwitch database endpoint ("unix:<dir>/db.sock").
	DB string
	// EncapIP is the node's tunnel address on the underlay ("" without one).
	EncapIP string

	t     TB
	env   []string
	procs map[string]*Process
}

// NodeOptions configures StartNode.
type NodeOptions struct {
	Name string
	// Underlay, when set, gives the node an uplink on it with address EncapIP (a
	// 172.31.255.0/24 address), carried by netdev bridge br-phy (the userspace datapath
	// sends tunnel packets through that bridge's internal port).
	Underlay *Underlay
	EncapIP  string
}

// StartNode creates the namespace, starts ovsdb-server and ovs-vswitchd and runs
// "ovs-vsctl init", as ovs-ctl does on a real host. That matters: ovn-controller 23.03
// started on a database without the Open_vSwitch row never notices the row appearing
// later (measured: it logs "'system-id' ... is missing" once and then idles forever).
func StartNode(t TB, opts NodeOptions) *Node {
	t.Helper()
	n := &Node{Name: opts.Name, t: t, procs: map[string]*Process{}}
	n.Dir = ShortDir(t, "ycn-"+opts.Name+"-")
	n.NS = NewNetns(t)
	n.DB = "unix:" + filepath.Join(n.Dir, "db.sock")
	n.env = []string{"OVS_RUNDIR=" + n.Dir, "OVS_LOGDIR=" + n.Dir, "OVS_DBDIR=" + n.Dir,
		"OVN_RUNDIR=" + n.Dir, "OVN_LOGDIR=" + n.Dir}
	MustRun(t, nil, "ovsdb-tool", "create", filepath.Join(n.Dir, "conf.db"), VSwitchSchema)
	n.procs["ovsdb-server"] = Start(t, n.NS, n.env, filepath.Join(n.Dir, "ovsdb-server.out"), "ovsdb-server",
		filepath.Join(n.Dir, "conf.db"), "--remote=punix:"+filepath.Join(n.Dir, "db.sock"),
		"--unixctl="+filepath.Join(n.Dir, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(n.Dir, "ovsdb-server.log"), "-vconsole:off", "-vfile:info")
	if err := Eventually(20*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(filepath.Join(n.Dir, "db.sock"))
		return err
	}); err != nil {
		t.Fatalf("cnitest: node %s: ovsdb-server did not start: %v", n.Name, err)
	}
	n.procs["ovs-vswitchd"] = Start(t, n.NS, n.env, filepath.Join(n.Dir, "ovs-vswitchd.out"), "ovs-vswitchd",
		n.DB, "--unixctl="+filepath.Join(n.Dir, "ovs-vswitchd.ctl"),
		"--log-file="+filepath.Join(n.Dir, "ovs-vswitchd.log"), "-vconsole:off", "-vfile:info")
	if err := Eventually(20*time.Second, 10*time.Millisecond, func() error {
		_, err := os.Stat(filepath.Join(n.Dir, "ovs-vswitchd.ctl"))
		return err
	}); err != nil {
		t.Fatalf("cnitest: node %s: ovs-vswitchd did not start: %v", n.Name, err)
	}
	n.Vsctl("--no-wait", "init")
	if opts.Underlay != nil {
		n.EncapIP = opts.EncapIP
		opts.Underlay.attach(t, n)
	}
	return n
}

// StartOVNController starts ovn-controller; it reads its chassis configuration from the
// Open_vSwitch row (the daemon writes it) and waits until it is there.
func (n *Node) StartOVNController() *Process {
	n.t.Helper()
	p := Start(n.t, n.NS, n.env, filepath.Join(n.Dir, "ovn-controller.out"), "ovn-controller",
		n.DB, "--log-file="+filepath.Join(n.Dir, "ovn-controller.log"), "-vconsole:off", "-vfile:info")
	n.procs["ovn-controller"] = p
	return p
}

// Vsctl runs ovs-vsctl against the node's database (tests cross-check with it).
func (n *Node) Vsctl(args ...string) string {
	n.t.Helper()
	return strings.TrimSpace(MustRun(n.t, nil, "ovs-vsctl", append([]string{"--db=" + n.DB, "--timeout=30"}, args...)...))
}

// Appctl runs ovs-appctl against the node's ovs-vswitchd.
func (n *Node) Appctl(args ...string) string {
	n.t.Helper()
	return MustRun(n.t, nil, "ovs-appctl", append([]string{"-t", filepath.Join(n.Dir, "ovs-vswitchd.ctl")}, args...)...)
}

// Logs returns the tails of the node's logs, for failure messages.
func (n *Node) Logs() string {
	var b strings.Builder
	for _, f := range []string{"ovs-vswitchd.log", "ovn-controller.log"} {
		fmt.Fprintf(&b, "--- %s\n%s\n", f, Tail(filepath.Join(n.Dir, f), 20))
	}
	// The tunnels' live state: a BFD session that is not up on one end decides which
	// gateway chassis this node sends to, and the userspace datapath needs a neighbour
	// entry per tunnel endpoint.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ctl := filepath.Join(n.Dir, "ovs-vswitchd.ctl")
	for _, cmd := range []string{"bfd/show", "tnl/neigh/show"} {
		out, err := Run(ctx, nil, "ovs-appctl", "-t", ctl, cmd)
		if err != nil {
			out += err.Error()
		}
		fmt.Fprintf(&b, "--- ovs-appctl %s\n%s\n", cmd, out)
	}
	return b.String()
}

// Underlay is a Linux bridge in its own namespace; nodes attach to it with a veth.
type Underlay struct {
	NS ns.NetNS
}

const underlayBridge = "br-ul"

// StartUnderlay creates the underlay namespace and bridge.
func StartUnderlay(t TB) *Underlay {
	t.Helper()
	u := &Underlay{NS: NewNetns(t)}
	if err := u.NS.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = underlayBridge
		br := &netlink.Bridge{LinkAttrs: attrs}
		if err := netlink.LinkAdd(br); err != nil {
			return err
		}
		return netlink.LinkSetUp(br)
	}); err != nil {
		t.Fatalf("cnitest: underlay bridge: %v", err)
	}
	return u
}

// attach connects node n: veth "ul-<node>" (underlay side, on br-ul) <-> "eth0" (node side,
// an uplink on netdev bridge br-phy, whose internal port holds the tunnel address).
func (u *Underlay) attach(t TB, n *Node) {
	t.Helper()
	ulName := "ul-" + n.Name
	if len(ulName) > 15 {
		ulName = ulName[:15]
	}
	err := u.NS.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = ulName
		veth := &netlink.Veth{LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(n.NS.Fd()))}
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("veth %s: %w", ulName, err)
		}
		br, err := netlink.LinkByName(underlayBridge)
		if err != nil {
			return err
		}
		l, err := netlink.LinkByName(ulName)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetMaster(l, br); err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	})
	if err != nil {
		t.Fatalf("cnitest: attach %s to the underlay: %v", n.Name, err)
	}
	if err := n.NS.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	}); err != nil {
		t.Fatalf("cnitest: %s uplink: %v", n.Name, err)
	}
	n.Vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev", "--", "add-port", "br-phy", "eth0")
	// vswitchd creates the br-phy tap device asynchronously.
	err = Eventually(20*time.Second, 10*time.Millisecond, func() error {
		return n.NS.Do(func(ns.NetNS) error {
			l, err := netlink.LinkByName("br-phy")
			if err != nil {
				return err
			}
			ip, ipnet, err := net.ParseCIDR(n.EncapIP + "/24")
			if err != nil {
				return err
			}
			ipnet.IP = ip
			if err := netlink.AddrReplace(l, &netlink.Addr{IPNet: ipnet}); err != nil {
				return err
			}
			return netlink.LinkSetUp(l)
		})
	})
	if err != nil {
		t.Fatalf("cnitest: %s br-phy address: %v", n.Name, err)
	}
}

// WaitCommand polls a command in netns until it succeeds.
func WaitCommand(t TB, netns ns.NetNS, timeout time.Duration, name string, args ...string) {
	t.Helper()
	err := Eventually(timeout, 50*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := Run(ctx, netns, name, args...)
		return err
	})
	if err != nil {
		t.Fatalf("cnitest: %v", err)
	}
}
