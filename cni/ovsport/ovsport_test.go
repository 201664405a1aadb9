package ovsport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/qos"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, endpoint string) *Switch {
	t.Helper()
	s, err := Dial(ctxFor(t, 20*time.Second), endpoint, "br-int", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func vsctl(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	return strings.TrimSpace(cnitest.MustRun(t, nil, "ovs-vsctl", append([]string{"--db=" + endpoint, "--no-wait"}, args...)...))
}

// On a database nobody initialized, ConfigureNode creates the Open_vSwitch row and br-int;
// a second call changes nothing; a changed setting is rewritten.
func TestConfigureNodeOnEmptyDatabase(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.VSwitchSchema)
	s := dial(t, srv.Endpoint())
	cfg := NodeConfig{SystemID: "node1", OVNRemote: "unix:/x/sb.sock", EncapType: "geneve", EncapIP: "172.31.255.11", DatapathType: "netdev"}
	ctx := ctxFor(t, 20*time.Second)
	if err := s.ConfigureNode(ctx, cfg); err != nil {
		t.Fatalf("ConfigureNode: %v", err)
	}
	ep := srv.Endpoint()
	for key, want := range map[string]string{
		"system-id": "node1", "hostname": "node1", "ovn-remote": "unix:/x/sb.sock", "ovn-encap-type": "geneve",
		"ovn-encap-ip": "172.31.255.11", "ovn-bridge-datapath-type": "netdev", "ovn-bridge": "br-int",
	} {
		if got := vsctl(t, ep, "get", "Open_vSwitch", ".", "external_ids:"+key); got != `"`+want+`"` && got != want {
			t.Errorf("external_ids:%s = %s, want %s", key, got, want)
		}
	}
	if got := vsctl(t, ep, "get", "Bridge", "br-int", "datapath_type", "fail_mode", "other_config:disable-in-band"); got != "netdev\nsecure\n\"true\"" {
		t.Errorf("br-int = %q", got)
	}
	if got := vsctl(t, ep, "list-ports", "br-int"); got != "" {
		t.Errorf("br-int ports = %q, want none but its own", got)
	}
	version := func() string {
		res, err := srv.Transact(ctx, map[string]any{"op": "select", "table": "Open_vSwitch", "where": []any{}, "columns": []string{"_version"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(res[0])
	}
	ver := version()
	if err := s.ConfigureNode(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if again := version(); again != ver {
		t.Errorf("a repeated ConfigureNode rewrote the Open_vSwitch row")
	}
	cfg.EncapIP = "172.31.255.12"
	if err := s.ConfigureNode(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if got := vsctl(t, ep, "get", "Open_vSwitch", ".", "external_ids:ovn-encap-ip"); got != `"172.31.255.12"` {
		t.Errorf("after a change ovn-encap-ip = %s", got)
	}
}

// Two daemons (or a daemon and ovn-controller) configuring one empty database at once:
// both see no Open_vSwitch row and no br-int, one wins each guarded insert, and the other
// must rebuild its transaction from what it then sees instead of failing. Several rounds,
// since the loser is whoever the scheduler makes it.
func TestConfigureNodeRace(t *testing.T) {
	for round := range 5 {
		srv := ovsdbtest.StartStandalone(t, ovsdbtest.VSwitchSchema)
		a, b := dial(t, srv.Endpoint()), dial(t, srv.Endpoint())
		cfg := NodeConfig{SystemID: "node1", OVNRemote: "unix:/x/sb.sock", EncapType: "geneve", EncapIP: "172.31.255.11", DatapathType: "netdev"}
		ctx := ctxFor(t, 20*time.Second)
		errs := make(chan error, 2)
		for _, s := range []*Switch{a, b} {
			go func() { errs <- s.ConfigureNode(ctx, cfg) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: ConfigureNode: %v", round, err)
			}
		}
		if got := vsctl(t, srv.Endpoint(), "--bare", "--columns=name", "list", "Bridge"); got != "br-int" {
			t.Fatalf("round %d: bridges %q, want one br-int", round, got)
		}
		if got := vsctl(t, srv.Endpoint(), "--bare", "--columns=_uuid", "list", "Open_vSwitch"); strings.Count(got, "-") != 4 {
			t.Fatalf("round %d: Open_vSwitch rows %q, want one", round, got)
		}
	}
}

// A QoS life cycle on a bare database: add with limits, change, remove, delete.
func TestPortQoSLifeCycle(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.VSwitchSchema)
	ep := srv.Endpoint()
	s := dial(t, ep)
	ctx := ctxFor(t, 30*time.Second)
	if err := s.ConfigureNode(ctx, NodeConfig{SystemID: "n", DatapathType: "netdev"}); err != nil {
		t.Fatal(err)
	}
	spec := PortSpec{Name: "yc1", IfaceID: "ns.p1.eth0", MAC: "0a:58:0a:00:00:05",
		ExternalIDs: map[string]string{KeyOwnerKind: OwnerKindPod, KeyOwner: "ns/p1", KeySandbox: "abc"},
		QoS:         qos.Limits{Ingress: 4, Egress: 10}.ToOVS()}
	if err := s.AddPort(ctx, spec); err != nil {
		t.Fatalf("AddPort: %v", err)
	}
	// The specification's exact model, cross-checked with ovs-vsctl.
	if got := vsctl(t, ep, "get", "Interface", "yc1", "ingress_policing_rate", "ingress_policing_burst", "external_ids:iface-id"); strings.ReplaceAll(got, `"`, "") != "10000\n10000\nns.p1.eth0" {
		t.Errorf("interface = %q", got)
	}
	if got := vsctl(t, ep, "--columns=type", "list", "QoS"); !strings.Contains(got, "linux-htb") {
		t.Errorf("qos = %q", got)
	}
	if got := vsctl(t, ep, "--columns=other_config", "list", "Queue"); !strings.Contains(got, `max-rate="4000000"`) {
		t.Errorf("queue = %q", got)
	}
	pi, err := s.Port("yc1")
	if err != nil || pi.QoS != spec.QoS || pi.IfaceID != "ns.p1.eth0" {
		t.Fatalf("Port = %+v, %v", pi, err)
	}
	for _, step := range []qos.Limits{{Ingress: 50, Egress: 20}, {Egress: 20}, {Ingress: 7}, {}} {
		if err := s.SetQoS(ctx, "yc1", step.ToOVS()); err != nil {
			t.Fatalf("SetQoS(%+v): %v", step, err)
		}
		pi, _ := s.Port("yc1")
		if qos.FromOVS(pi.QoS) != step {
			t.Fatalf("after SetQoS(%+v) the port has %+v", step, qos.FromOVS(pi.QoS))
		}
		nQoS := strings.Count(vsctl(t, ep, "--columns=_uuid", "list", "QoS"), "_uuid")
		if want := map[bool]int{true: 1, false: 0}[step.Ingress > 0]; nQoS != want {
			t.Fatalf("after SetQoS(%+v): %d QoS rows, want %d", step, nQoS, want)
		}
	}
	if err := s.SetQoS(ctx, "yc1", spec.QoS); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPort(ctx, spec); err != nil {
		t.Fatalf("AddPort again (replace): %v", err)
	}
	if n := strings.Count(vsctl(t, ep, "--columns=_uuid", "list", "Queue"), "_uuid"); n != 1 {
		t.Fatalf("replacing the port left %d queues, want 1", n)
	}
	if err := s.DelPort(ctx, "yc1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DelPort(ctx, "yc1"); err != nil {
		t.Fatalf("DelPort of a missing port: %v", err)
	}
	if got := vsctl(t, ep, "list", "QoS") + vsctl(t, ep, "list", "Queue") + vsctl(t, ep, "list-ports", "br-int"); got != "" {
		t.Fatalf("DelPort left rows: %q", got)
	}
	if err := s.SetQoS(ctx, "yc1", spec.QoS); !errors.Is(err, ErrPortNotFound) {
		t.Fatalf("SetQoS on a missing port = %v", err)
	}

	// Rows orphaned by someone else's del-port are collected.
	if err := s.AddPort(ctx, spec); err != nil {
		t.Fatal(err)
	}
	vsctl(t, ep, "del-port", "br-int", "yc1")
	if err := cnitest.Eventually(10*time.Second, 10*time.Millisecond, func() error {
		if _, err := s.Port("yc1"); err == nil {
			return fmt.Errorf("cache still has yc1")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CollectQoS(ctx); err != nil || n != 2 {
		t.Fatalf("CollectQoS = %d, %v; want 2 rows (QoS and queue)", n, err)
	}
}

// One real node: ovsdb-server, ovs-vswitchd (netdev) and ovn-controller against an OVN
// central. A veth attached with the LSP's iface-id gets ovn-installed, two such pods on
// one logical switch ping each other, and an interface whose device does not exist fails
// fast.
func TestAttachAndWaitInstalled(t *testing.T) {
	central := ovsdbtest.StartOVNCentral(t)
	node := cnitest.StartNode(t, cnitest.NodeOptions{Name: "n1"})
	node.StartOVNController()
	s := dial(t, node.DB)
	ctx := ctxFor(t, 90*time.Second)
	if err := s.ConfigureNode(ctx, NodeConfig{SystemID: "n1", OVNRemote: central.SBEndpoint(),
		EncapType: "geneve", EncapIP: "192.0.2.11", DatapathType: "netdev"}); err != nil {
		t.Fatal(err)
	}
	nbctl := func(args ...string) string {
		return cnitest.MustRun(t, nil, "ovn-nbctl", append([]string{"--db=" + central.NBEndpoint()}, args...)...)
	}
	nbctl("ls-add", "ls1")
	veth, err := nic.NewVeth(node.NS.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = veth.Close() })
	pods := map[string]*nic.Request{}
	for i, name := range []string{"p1", "p2"} {
		mac := fmt.Sprintf("0a:58:0a:00:00:%02x", i+5)
		ip := fmt.Sprintf("10.0.0.%d", i+5)
		nbctl("lsp-add", "ls1", name, "--", "lsp-set-addresses", name, mac+" "+ip,
			"--", "lsp-set-options", name, "requested-chassis=n1")
		podNS := cnitest.NewNetns(t)
		req := &nic.Request{ContainerID: "sandbox-" + name, Netns: podNS.Path(), IfName: "eth0",
			HostIfName: nic.HostIfName("sandbox-"+name, "eth0"), MTU: 1400,
			Allocation: &iaasv1.Allocation{IPs: []netip.Prefix{netip.MustParsePrefix(ip + "/24")}, MAC: mac, LogicalSwitchPort: name}}
		if _, err := veth.Add(ctx, req); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.AddPort(ctx, PortSpec{Name: req.HostIfName, IfaceID: name, MAC: mac,
			ExternalIDs: map[string]string{KeyOwnerKind: OwnerKindPod, KeyOwner: "default/" + name, KeySandbox: req.ContainerID}}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitInstalled(ctx, req.HostIfName); err != nil {
			t.Fatalf("%v\n%s", err, node.Logs())
		}
		t.Logf("%s installed %v after AddPort", name, time.Since(start))
		if got := node.Vsctl("get", "Interface", req.HostIfName, "external_ids:ovn-installed"); got != `"true"` {
			t.Fatalf("ovs-vsctl sees ovn-installed=%s", got)
		}
		pods[name] = req
	}
	p1NS := pods["p1"].Netns
	cnitest.WaitCommand(t, nil, 20*time.Second, "ip", "netns", "exec", p1NS[strings.LastIndex(p1NS, "/")+1:], "busybox", "ping", "-c1", "-W1", "10.0.0.6")

	list, err := s.PortsOfSandbox("sandbox-p2")
	if err != nil || len(list) != 1 || list[0].IfaceID != "p2" || !list[0].Installed {
		t.Fatalf("PortsOfSandbox = %+v, %v", list, err)
	}
	owned, err := s.PortsOwnedBy(OwnerKindPod)
	if err != nil || len(owned) != 2 {
		t.Fatalf("PortsOwnedBy = %d ports, %v", len(owned), err)
	}

	if err := s.AddPort(ctx, PortSpec{Name: "ycnodevice", IfaceID: "nothing"}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.WaitInstalled(wctx, "ycnodevice"); err == nil || !strings.Contains(err.Error(), "vswitchd") {
		t.Fatalf("WaitInstalled on a missing device = %v, want vswitchd's error", err)
	}
}
