package nic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// newNS creates a fresh network namespace that the test removes at the end.
func newNS(t *testing.T) ns.NetNS {
	t.Helper()
	n, err := testutils.NewNS()
	if err != nil {
		t.Fatalf("new netns: %v", err)
	}
	t.Cleanup(func() {
		_ = n.Close()
		_ = testutils.UnmountNS(n)
	})
	return n
}

// fixture is a "node" namespace (the host side) and a pod namespace.
type fixture struct {
	host, pod ns.NetNS
	veth      *Veth
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{host: newNS(t), pod: newNS(t)}
	var err error
	f.veth, err = NewVeth(f.host.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.veth.Close() })
	return f
}

func (f *fixture) request(alloc *iaasv1.Allocation) *Request {
	return &Request{
		ContainerID: "c0ffee",
		Netns:       f.pod.Path(),
		IfName:      "eth0",
		HostIfName:  HostIfName("c0ffee", "eth0"),
		Allocation:  alloc,
		MTU:         1400,
	}
}

func v4Alloc() *iaasv1.Allocation {
	return &iaasv1.Allocation{
		IPs:               []netip.Prefix{netip.MustParsePrefix("10.16.0.5/24")},
		Gateways:          []netip.Addr{netip.MustParseAddr("10.16.0.1")},
		MAC:               "0a:58:0a:10:00:05",
		LogicalSwitchPort: "default.pod1.eth0",
		Routes: []iaasv1.AllocationRoute{
			{Dst: netip.MustParsePrefix("172.20.0.0/16"), Via: netip.MustParseAddr("10.16.0.254")},
		},
	}
}

// links lists the device names of a namespace.
func links(t *testing.T, n ns.NetNS) []string {
	t.Helper()
	var names []string
	if err := n.Do(func(ns.NetNS) error {
		ls, err := netlink.LinkList()
		for _, l := range ls {
			names = append(names, l.Attrs().Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return names
}

func has(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func TestHostIfNameIsShortAndDeterministic(t *testing.T) {
	a := HostIfName("0123456789abcdef0123456789abcdef", "eth0")
	if len(a) > 15 || !strings.HasPrefix(a, "yc") {
		t.Fatalf("HostIfName = %q: want yc... of at most 15 characters", a)
	}
	if b := HostIfName("0123456789abcdef0123456789abcdef", "eth0"); a != b {
		t.Fatalf("not deterministic: %q != %q", a, b)
	}
	if c := HostIfName("0123456789abcdef0123456789abcdef", "eth1"); a == c {
		t.Fatalf("eth0 and eth1 share host name %q", a)
	}
}

func TestVethAddConfiguresPodAndCheckPasses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(v4Alloc())
	res, err := f.veth.Add(ctx, req)
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	if res.HostIfName != req.HostIfName || res.PodMAC != "0a:58:0a:10:00:05" || res.HostMAC == "" {
		t.Fatalf("result = %+v", res)
	}
	if !has(links(t, f.host), req.HostIfName) {
		t.Fatalf("host namespace lacks %s: %v", req.HostIfName, links(t, f.host))
	}
	// No IPv6 on the host end: it would send router solicitations into the pod.
	err = f.host.Do(func(ns.NetNS) error {
		b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + req.HostIfName + "/disable_ipv6")
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(b)) != "1" {
			t.Errorf("host end %s: disable_ipv6 = %q", req.HostIfName, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = f.pod.Do(func(ns.NetNS) error {
		link, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		if link.Attrs().MTU != 1400 || link.Attrs().HardwareAddr.String() != "0a:58:0a:10:00:05" {
			t.Errorf("eth0 mtu %d mac %s", link.Attrs().MTU, link.Attrs().HardwareAddr)
		}
		on, err := txChecksum("eth0")
		if err != nil {
			return err
		}
		if on {
			t.Errorf("tx checksum offload is still on")
		}
		routes, err := netlink.RouteList(link, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		var got []string
		for _, r := range routes {
			got = append(got, routeDst(r).String()+" via "+r.Gw.String())
		}
		for _, want := range []string{"0.0.0.0/0 via 10.16.0.1", "172.20.0.0/16 via 10.16.0.254"} {
			if !has(got, want) {
				t.Errorf("routes %v lack %q", got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.veth.Check(ctx, req); err != nil {
		t.Fatalf("Check after Add: %v", err)
	}
}

func TestVethCheckReportsDrift(t *testing.T) {
	cases := []struct {
		name  string
		drift func() error
		want  string
	}{
		{"address removed", func() error {
			l, _ := netlink.LinkByName("eth0")
			return netlink.AddrDel(l, &netlink.Addr{IPNet: prefixToIPNet(netip.MustParsePrefix("10.16.0.5/24"))})
		}, "lacks address 10.16.0.5/24"},
		{"extra route removed", func() error {
			l, _ := netlink.LinkByName("eth0")
			return netlink.RouteDel(&netlink.Route{LinkIndex: l.Attrs().Index,
				Dst: prefixToIPNet(netip.MustParsePrefix("172.20.0.0/16")), Gw: net.ParseIP("10.16.0.254")})
		}, "lacks route 172.20.0.0/16"},
		{"checksum offload back on", func() error { return SetTxChecksum("eth0", true) }, "tx checksum offload on"},
		{"link down", func() error {
			l, _ := netlink.LinkByName("eth0")
			return netlink.LinkSetDown(l)
		}, "is down"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			req := f.request(v4Alloc())
			if _, err := f.veth.Add(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if err := f.pod.Do(func(ns.NetNS) error { return tc.drift() }); err != nil {
				t.Fatalf("drift: %v", err)
			}
			err := f.veth.Check(context.Background(), req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestVethCheckMissingHostDevice(t *testing.T) {
	f := newFixture(t)
	req := f.request(v4Alloc())
	if err := f.veth.Check(context.Background(), req); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Check without Add = %v, want ErrNotFound", err)
	}
}

func TestVethDelIsIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(v4Alloc())
	if _, err := f.veth.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := f.veth.Del(ctx, req); err != nil {
		t.Fatalf("Del: %v", err)
	}
	if has(links(t, f.host), req.HostIfName) || has(links(t, f.pod), "eth0") {
		t.Fatalf("after Del: host %v pod %v", links(t, f.host), links(t, f.pod))
	}
	if err := f.veth.Del(ctx, req); err != nil {
		t.Fatalf("second Del: %v", err)
	}
	gone := *req
	gone.Netns = "/var/run/netns/does-not-exist"
	if err := f.veth.Del(ctx, &gone); err != nil {
		t.Fatalf("Del with a missing netns: %v", err)
	}
	gone.Netns = ""
	if err := f.veth.Del(ctx, &gone); err != nil {
		t.Fatalf("Del without a netns: %v", err)
	}
}

func TestVethAddFailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	// The pod already has an eth0, so the pair cannot be created there.
	if err := f.pod.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "eth0"
		return netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	}); err != nil {
		t.Fatal(err)
	}
	req := f.request(v4Alloc())
	if _, err := f.veth.Add(context.Background(), req); err == nil {
		t.Fatal("Add succeeded although eth0 exists in the pod")
	}
	if has(links(t, f.host), req.HostIfName) {
		t.Fatalf("failed Add left %s in the host namespace", req.HostIfName)
	}

	// A failure after the pair exists (an address the kernel refuses) rolls back too.
	f2 := newFixture(t)
	bad := v4Alloc()
	bad.Routes = []iaasv1.AllocationRoute{{Dst: netip.MustParsePrefix("172.20.0.0/16"), Via: netip.MustParseAddr("192.0.2.1")}}
	req2 := f2.request(bad)
	if _, err := f2.veth.Add(context.Background(), req2); err == nil {
		t.Fatal("Add succeeded with an unreachable next hop")
	}
	if has(links(t, f2.host), req2.HostIfName) || has(links(t, f2.pod), "eth0") {
		t.Fatalf("failed Add left devices: host %v pod %v", links(t, f2.host), links(t, f2.pod))
	}
}

func TestVethAddReplacesLeftoverHostDevice(t *testing.T) {
	f := newFixture(t)
	req := f.request(v4Alloc())
	if err := f.host.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = req.HostIfName
		return netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.veth.Add(context.Background(), req); err != nil {
		t.Fatalf("Add over a leftover device: %v", err)
	}
	if err := f.veth.Check(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

func TestVethDualStackAndOffLinkGateway(t *testing.T) {
	f := newFixture(t)
	alloc := &iaasv1.Allocation{
		IPs:               []netip.Prefix{netip.MustParsePrefix("10.16.0.5/32"), netip.MustParsePrefix("fd00::5/120")},
		Gateways:          []netip.Addr{netip.MustParseAddr("10.16.0.1"), netip.MustParseAddr("fd00::1")},
		MAC:               "0a:58:0a:10:00:06",
		LogicalSwitchPort: "p",
	}
	req := f.request(alloc)
	if _, err := f.veth.Add(context.Background(), req); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := f.veth.Check(context.Background(), req); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestVethEgressLimit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(v4Alloc())
	if _, err := f.veth.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	for _, mbps := range []int32{20, 20, 50, 0, 0} {
		if err := f.veth.SetEgressLimit(ctx, req, mbps); err != nil {
			t.Fatalf("SetEgressLimit(%d): %v", mbps, err)
		}
		got, err := f.veth.EgressLimit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if got != mbps {
			t.Fatalf("after SetEgressLimit(%d) the limit is %d", mbps, got)
		}
	}
}

// A neighbour holding a stale MAC for the pod's (reused) address learns the new one from
// the announcement.
func TestVethAnnounceUpdatesStaleNeighbours(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	req := f.request(v4Alloc())
	if _, err := f.veth.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	stale, _ := net.ParseMAC("02:00:00:00:00:99")
	var hostIdx int
	if err := f.host.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName(req.HostIfName)
		if err != nil {
			return err
		}
		hostIdx = l.Attrs().Index
		// Entries younger than locktime (1 s) are never overridden; this one is new.
		if err := os.WriteFile("/proc/sys/net/ipv4/neigh/"+req.HostIfName+"/locktime", []byte("0"), 0o644); err != nil {
			return err
		}
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: prefixToIPNet(netip.MustParsePrefix("10.16.0.200/24"))}); err != nil {
			return err
		}
		return netlink.NeighSet(&netlink.Neigh{LinkIndex: hostIdx, Family: netlink.FAMILY_V4, State: netlink.NUD_REACHABLE,
			IP: net.ParseIP("10.16.0.5"), HardwareAddr: stale})
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.veth.Announce(ctx, req); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	err := f.host.Do(func(ns.NetNS) error {
		neighs, err := netlink.NeighList(hostIdx, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, n := range neighs {
			if n.IP.Equal(net.ParseIP("10.16.0.5")) {
				if n.HardwareAddr.String() != "0a:58:0a:10:00:05" {
					return fmt.Errorf("neighbour 10.16.0.5 is still at %s", n.HardwareAddr)
				}
				return nil
			}
		}
		return errors.New("neighbour entry gone")
	})
	if err != nil {
		t.Fatal(err)
	}
}
