package ovnnb

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
)

func subnet(name, vpc, cidr, gw string, excl ...string) *iaasv1.Subnet {
	s := &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iaasv1.SubnetSpec{Vpc: vpc, CIDRBlock: iaasv1.DualStackCIDR(cidr), Gateway: iaasv1.DualStackIP(gw)}}
	for _, e := range excl {
		s.Spec.ExcludeIPs = append(s.Spec.ExcludeIPs, iaasv1.IPRange(e))
	}
	return s
}

func TestParseSubnet(t *testing.T) {
	cases := []struct {
		name     string
		s        *iaasv1.Subnet
		cidrs    []string
		gateways []string
		excludes int
		wantErr  string
	}{
		{name: "ipv4 default gateway", s: subnet("a", "v", "10.0.0.0/24", ""), cidrs: []string{"10.0.0.0/24"}, gateways: []string{"10.0.0.1"}},
		{name: "explicit gateway", s: subnet("a", "v", "10.0.0.0/24", "10.0.0.254"), cidrs: []string{"10.0.0.0/24"}, gateways: []string{"10.0.0.254"}},
		{name: "dual-stack v6 first is reordered", s: subnet("a", "v", "fd00::/120, 10.0.0.0/24", "fd00::1"),
			cidrs: []string{"10.0.0.0/24", "fd00::/120"}, gateways: []string{"10.0.0.1", "fd00::1"}},
		{name: "ipv6 only", s: subnet("a", "v", "fd00:10::/64", ""), cidrs: []string{"fd00:10::/64"}, gateways: []string{"fd00:10::1"}},
		{name: "excludes", s: subnet("a", "v", "10.0.0.0/24", "", "10.0.0.2..10.0.0.9", "10.0.0.20"), cidrs: []string{"10.0.0.0/24"}, gateways: []string{"10.0.0.1"}, excludes: 2},
		{name: "bad cidr", s: subnet("a", "v", "10.0.0.0/33", ""), wantErr: "cidrBlock"},
		{name: "gateway outside", s: subnet("a", "v", "10.0.0.0/24", "10.0.1.1"), wantErr: "outside"},
		{name: "three cidrs", s: subnet("a", "v", "10.0.0.0/24,10.1.0.0/24,fd00::/64", ""), wantErr: "one per family"},
		{name: "bad exclude", s: subnet("a", "v", "10.0.0.0/24", "", "10.0.0.9..10.0.0.2"), wantErr: "excludeIps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := ParseSubnet(c.s)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cidrs, gws []string
			for i := range info.CIDRs {
				cidrs = append(cidrs, info.CIDRs[i].String())
				gws = append(gws, info.Gateways[i].String())
			}
			if !slices.Equal(cidrs, c.cidrs) || !slices.Equal(gws, c.gateways) || len(info.Excludes) != c.excludes {
				t.Fatalf("got cidrs %v gateways %v excludes %d", cidrs, gws, len(info.Excludes))
			}
		})
	}
}

func TestBuildSwitch(t *testing.T) {
	s := subnet("sub1", "vpc1", "10.0.0.0/24,fd00::/120", "")
	mtu := int32(1400)
	s.Spec.MTU = &mtu
	info, err := ParseSubnet(s)
	if err != nil {
		t.Fatal(err)
	}
	rows := BuildSwitch(s, info, "c1")
	if rows.Switch.Name != "sub1" || rows.Switch.ExternalIDs[KeyOwnerKind] != KindSubnet || rows.Switch.ExternalIDs[KeyOwner] != "sub1" ||
		rows.Switch.ExternalIDs[KeyCluster] != "c1" || rows.Switch.ExternalIDs[KeyVpc] != "vpc1" || rows.Switch.ExternalIDs["ycloud.io/mtu"] != "1400" {
		t.Fatalf("switch %+v", rows.Switch)
	}
	if rows.RouterPort.Name != "vpc-vpc1-sub1" || !slices.Equal(rows.RouterPort.Networks, []string{"10.0.0.1/24", "fd00::1/120"}) {
		t.Fatalf("router port %+v", rows.RouterPort)
	}
	if rows.RouterPort.MAC != MAC("vpc-vpc1-sub1") {
		t.Fatalf("router port MAC %s is not the derived one", rows.RouterPort.MAC)
	}
	sp := rows.SwitchPort
	if sp.Name != "sub1-vpc-vpc1" || sp.Type != nb.LogicalSwitchPortTypeRouter || !slices.Equal(sp.Addresses, []string{"router"}) || sp.Options["router-port"] != "vpc-vpc1-sub1" {
		t.Fatalf("switch port %+v", sp)
	}
	// Maps are per row: changing one must not change another.
	rows.Switch.ExternalIDs["x"] = "y"
	if rows.RouterPort.ExternalIDs["x"] != "" {
		t.Fatal("rows share one external_ids map")
	}
}

func TestBuildRouter(t *testing.T) {
	vpc := &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: "v"}, Spec: iaasv1.VpcSpec{
		StaticRoutes: []iaasv1.StaticRoute{
			{CIDR: "192.168.0.0/16", NextHop: "10.0.0.254"},
			{CIDR: "10.9.0.0/16", NextHop: "10.0.0.253", Policy: iaasv1.RoutePolicySource, RouteTable: "rtb1"},
		},
		PolicyRoutes: []iaasv1.PolicyRoute{
			{Priority: 100, Match: "ip4.src == 10.0.0.0/24", Action: iaasv1.PolicyRouteReroute, NextHopIP: "10.0.0.252"},
			{Priority: 50, Match: "ip4.dst == 8.8.8.8", Action: iaasv1.PolicyRouteDrop},
		},
	}}
	rows, err := BuildRouter(vpc, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Router.Name != "vpc-v" || !(Owner{Kind: KindVpc, Key: "v", Cluster: "c1"}).Owns(rows.Router.ExternalIDs) {
		t.Fatalf("router %+v", rows.Router)
	}
	if len(rows.Routes) != 2 || *rows.Routes[0].Policy != "dst-ip" || *rows.Routes[1].Policy != "src-ip" || rows.Routes[1].RouteTable != "rtb1" {
		t.Fatalf("routes %+v", rows.Routes)
	}
	if len(rows.Policies) != 2 || !slices.Equal(rows.Policies[0].Nexthops, []string{"10.0.0.252"}) || rows.Policies[1].Nexthops != nil || rows.Policies[1].Action != "drop" {
		t.Fatalf("policies %+v", rows.Policies)
	}
	bad := vpc.DeepCopy()
	bad.Spec.StaticRoutes[0].NextHop = "not-an-ip"
	if _, err := BuildRouter(bad, "c1"); err == nil || !strings.Contains(err.Error(), "staticRoutes[0].nextHop") {
		t.Fatalf("err = %v, want one naming staticRoutes[0].nextHop", err)
	}
}

func TestBuildPort(t *testing.T) {
	o := Owner{Kind: KindVnic, Key: "ns/p.eth0", Cluster: "c1"}
	cases := []struct {
		name string
		spec PortSpec
		addr string
		ps   bool
	}{
		{"dual-stack with port security", PortSpec{Owner: o, Name: "p.eth0.ns", MAC: "0a:58:00:00:00:01",
			IPs: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")}, PortSecurity: true, Chassis: "n1", Pod: "ns/p"},
			"0a:58:00:00:00:01 10.0.0.5 fd00::5", true},
		{"no port security, no chassis", PortSpec{Owner: o, Name: "x", MAC: "0a:58:00:00:00:02",
			IPs: []netip.Addr{netip.MustParseAddr("10.0.0.6")}}, "0a:58:00:00:00:02 10.0.0.6", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lsp := BuildPort(c.spec)
			if !slices.Equal(lsp.Addresses, []string{c.addr}) {
				t.Fatalf("addresses %v, want %q", lsp.Addresses, c.addr)
			}
			if c.ps != (len(lsp.PortSecurity) == 1 && lsp.PortSecurity[0] == c.addr) {
				t.Fatalf("port security %v", lsp.PortSecurity)
			}
			if (c.spec.Chassis != "") != (lsp.Options["requested-chassis"] == c.spec.Chassis && lsp.Options != nil) {
				t.Fatalf("options %v", lsp.Options)
			}
			if lsp.ExternalIDs[KeyPod] != c.spec.Pod || !o.Owns(lsp.ExternalIDs) {
				t.Fatalf("external ids %v", lsp.ExternalIDs)
			}
			if _, ok := lsp.ExternalIDs[KeyPod]; ok && c.spec.Pod == "" {
				t.Fatal("empty pod key written")
			}
		})
	}
}

func TestOwnershipAndNames(t *testing.T) {
	o := Owner{Kind: KindSubnet, Key: "s", Cluster: "c1"}
	ids := o.IDs(KeyVpc, "v")
	if got, ok := OwnerOf(ids, "c1"); !ok || got != o {
		t.Fatalf("OwnerOf = %v %v", got, ok)
	}
	if _, ok := OwnerOf(ids, "c2"); ok {
		t.Fatal("a row of cluster c1 is claimed by c2")
	}
	if _, ok := OwnerOf(map[string]string{"foo": "bar"}, "c1"); ok {
		t.Fatal("a foreign row is claimed")
	}
	if (Owner{Kind: KindVpc, Key: "s", Cluster: "c1"}).Owns(ids) {
		t.Fatal("kind is not part of ownership")
	}
	m1, m2 := MAC("a"), MAC("b")
	if m1 == m2 || m1 != MAC("a") || !strings.HasPrefix(m1, "0a:") {
		t.Fatalf("MAC not stable/distinct/local: %s %s", m1, m2)
	}
	if VnicPortName("ns", "p.eth0") != "p.eth0.ns" || NodePortName("n1") != "node-n1" || RouterName("v") != "vpc-v" {
		t.Fatal("names changed: they are part of the NB contract (ovn-ic, CNI) and must stay stable")
	}
}
