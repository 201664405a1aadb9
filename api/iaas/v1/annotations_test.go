/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// The keys are the product's contract with users (seed 000 section 2.2.6): pin them literally.
func TestAnnotationKeysMatchTheSeed(t *testing.T) {
	for got, want := range map[string]string{
		AnnotationSubnet:                                    "cni.iaas.yusur.io/subnet",
		AnnotationVnicIp:                                    "cni.iaas.yusur.io/vnicip",
		AnnotationIngressRate:                               "cni.iaas.yusur.io/ingress_rate",
		AnnotationEgressRate:                                "cni.iaas.yusur.io/egress_rate",
		AnnotationNicType:                                   "cni.iaas.yusur.io/nic_type",
		AnnotationAllocation:                                "cni.iaas.yusur.io/allocation",
		MultusNetworksAnnotation:                            "k8s.v1.cni.cncf.io/networks",
		InterfaceAnnotationKey("eth1", KeySubnet):           "eth1.iaas.yusur.io/subnet",
		InterfaceAnnotationKey("eth1", KeyVnicIp):           "eth1.iaas.yusur.io/vnicip",
		InterfaceAnnotationKey("eth1", KeyIngressRate):      "eth1.iaas.yusur.io/ingress_rate",
		InterfaceAnnotationKey("", KeySubnet):               "cni.iaas.yusur.io/subnet",
		InterfaceAnnotationKey(PrimaryInterface, KeySubnet): "cni.iaas.yusur.io/subnet",
		AllocationAnnotationKey("net1"):                     "net1.iaas.yusur.io/allocation",
		AllocationAnnotationKey("eth0"):                     "cni.iaas.yusur.io/allocation",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

func TestParseInterfaceAnnotationKey(t *testing.T) {
	for _, tc := range []struct {
		in          string
		ifName, key string
		ok          bool
	}{
		{"cni.iaas.yusur.io/subnet", "eth0", "subnet", true},
		{"eth1.iaas.yusur.io/ingress_rate", "eth1", "ingress_rate", true},
		{"eth1.100.iaas.yusur.io/subnet", "eth1.100", "subnet", true},
		{"eth0.iaas.yusur.io/vnicip", "eth0", "vnicip", true},
		{"k8s.v1.cni.cncf.io/networks", "", "", false},
		{"iaas.yusur.io/subnet", "", "", false},
		{".iaas.yusur.io/subnet", "", "", false},
		{"eth1iaas.yusur.io/subnet", "", "", false},
		{"eth1.iaas.yusur.io/", "", "", false},
		{"eth1.iaas.yusur.io/a/b", "", "", false},
		{"eth1.iaas.yusur.io", "", "", false},
		{"cni.iaas.yusur.io.iaas.yusur.io/subnet", "cni.iaas.yusur.io", "subnet", true},
		{"cni." + InterfaceAnnotationDomain + "/subnet", "eth0", "subnet", true},
	} {
		ifName, key, ok := ParseInterfaceAnnotationKey(tc.in)
		if ifName != tc.ifName || key != tc.key || ok != tc.ok {
			t.Errorf("ParseInterfaceAnnotationKey(%q) = %q, %q, %v; want %q, %q, %v", tc.in, ifName, key, ok, tc.ifName, tc.key, tc.ok)
		}
	}
	// Every key we build parses back to what built it.
	for _, ifName := range []string{"eth0", "eth1", "net3", "eth1.100"} {
		for _, key := range []string{KeySubnet, KeyVnicIp, KeyIngressRate, KeyEgressRate, KeyNicType, KeySecurityGroups, KeyAllocation} {
			gotIf, gotKey, ok := ParseInterfaceAnnotationKey(InterfaceAnnotationKey(ifName, key))
			if !ok || gotIf != ifName || gotKey != key {
				t.Errorf("round trip %s/%s: got %q %q %v", ifName, key, gotIf, gotKey, ok)
			}
		}
	}
}

func TestLookupInterfaceAnnotation(t *testing.T) {
	seed := map[string]string{
		"k8s.v1.cni.cncf.io/networks":     "yusur-vf@eth1",
		"cni.iaas.yusur.io/subnet":        "ovn-default",
		"eth1.iaas.yusur.io/subnet":       "subnet1",
		"eth1.iaas.yusur.io/vnicip":       "vnicip-1",
		"cni.iaas.yusur.io/ingress_rate":  "100",
		"cni.iaas.yusur.io/egress_rate":   "200",
		"eth1.iaas.yusur.io/ingress_rate": "500",
		// The eth0.* form is accepted for the primary interface, but the cni.* form wins.
		"eth0.iaas.yusur.io/subnet":    "ignored",
		"eth0.iaas.yusur.io/nic_type":  "vf",
		"eth2.iaas.yusur.io/nic_type":  "sf",
		"eth1.iaas.yusur.io/nic_type ": "typo with a space is not a key",
	}
	for _, tc := range []struct {
		ifName, key, want string
		ok                bool
	}{
		{"", KeySubnet, "ovn-default", true},
		{"eth0", KeySubnet, "ovn-default", true},
		{"eth0", KeyIngressRate, "100", true},
		{"eth0", KeyEgressRate, "200", true},
		{"eth0", KeyNicType, "vf", true},
		{"eth0", KeyVnicIp, "", false},
		{"eth1", KeySubnet, "subnet1", true},
		{"eth1", KeyVnicIp, "vnicip-1", true},
		{"eth1", KeyIngressRate, "500", true},
		// A secondary interface never inherits the primary's settings: eth1 has no egress
		// limit in the seed even though eth0 has one.
		{"eth1", KeyEgressRate, "", false},
		{"eth1", KeyNicType, "", false},
		{"eth2", KeyNicType, "sf", true},
	} {
		got, ok := LookupInterfaceAnnotation(seed, tc.ifName, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q, %v", tc.ifName, tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int32
		wantErr bool
	}{
		{"100", 100, false},
		{"0", 0, false},
		{" 200 ", 200, false},
		{"1000000", 1000000, false},
		{"1000001", 0, true},
		{"99999999999999999999", 0, true},
		{"-1", 0, true},
		{"+5", 0, true},
		{"1.5", 0, true},
		{"100M", 0, true},
		{"", 0, true},
		{"“100”", 0, true}, // the seed's typographic quotes are not part of the value
	} {
		got, err := ParseRate(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPodInterfaceObjectName(t *testing.T) {
	for _, tc := range []struct{ pod, ifName, want string }{
		{"pod3", "eth1", "pod3.eth1"},
		{"pod3", "eth2", "pod3.eth2"},
		{"pod3", "", "pod3.eth0"},
		{"pod3", "Net_1", "pod3.net-1"},
	} {
		if got := PodInterfaceObjectName(tc.pod, tc.ifName); got != tc.want {
			t.Errorf("PodInterfaceObjectName(%q, %q) = %q, want %q", tc.pod, tc.ifName, got, tc.want)
		}
	}
	long1 := strings.Repeat("a", 250) + "-x"
	long2 := strings.Repeat("a", 250) + "-y"
	n1, n2 := PodInterfaceObjectName(long1, "eth1"), PodInterfaceObjectName(long2, "eth1")
	if len(n1) > 253 || len(n2) > 253 {
		t.Errorf("names too long: %d, %d", len(n1), len(n2))
	}
	if n1 == n2 {
		t.Errorf("two long pod names map to the same object name %q", n1)
	}
	if !strings.HasSuffix(n1, ".eth1") {
		t.Errorf("long name %q lost its interface", n1)
	}
	if n1 != PodInterfaceObjectName(long1, "eth1") {
		t.Error("name is not deterministic")
	}
}

func validAllocation() *Allocation {
	return &Allocation{
		IPs:               []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24"), netip.MustParsePrefix("fd00::5/120")},
		Gateways:          []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")},
		MAC:               "0a:58:0a:00:00:05",
		MTU:               1400,
		Subnet:            "subnet1",
		Vpc:               "vpc1",
		LogicalSwitchPort: "default.pod1.eth1",
		VnicIp:            "vnicip-1",
		Vnic:              "pod1.eth1",
		NicType:           NicTypeVF,
		Routes: []AllocationRoute{
			{Dst: netip.MustParsePrefix("192.168.0.0/16"), Via: netip.MustParseAddr("10.0.0.254")},
			{Dst: netip.MustParsePrefix("169.254.169.254/32")},
		},
	}
}

func TestAllocationRoundTrip(t *testing.T) {
	a := validAllocation()
	s, err := FormatAllocation(a)
	if err != nil {
		t.Fatal(err)
	}
	// The wire format is read by another binary (the CNI), possibly of another version:
	// pin the field names and the prefix form of the addresses.
	for _, part := range []string{
		`"ips":["10.0.0.5/24","fd00::5/120"]`,
		`"gateways":["10.0.0.1","fd00::1"]`,
		`"mac":"0a:58:0a:00:00:05"`,
		`"mtu":1400`,
		`"subnet":"subnet1"`,
		`"vpc":"vpc1"`,
		`"logicalSwitchPort":"default.pod1.eth1"`,
		`"vnicIp":"vnicip-1"`,
		`"nicType":"vf"`,
		`{"dst":"192.168.0.0/16","via":"10.0.0.254"}`,
		`{"dst":"169.254.169.254/32"}`,
	} {
		if !strings.Contains(s, part) {
			t.Errorf("formatted allocation %s lacks %s", s, part)
		}
	}
	got, err := ParseAllocation(s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}

	// A newer controller may add fields; an older CNI must still read the rest.
	newer := strings.Replace(s, `{"ips"`, `{"future":{"x":1},"ips"`, 1)
	if _, err := ParseAllocation(newer); err != nil {
		t.Errorf("unknown field refused: %v", err)
	}

	// The minimum: one address, a MAC and a port.
	minimal := `{"ips":["10.0.0.5/24"],"mac":"0a:58:0a:00:00:05","logicalSwitchPort":"p"}`
	m, err := ParseAllocation(minimal)
	if err != nil {
		t.Fatalf("minimal allocation refused: %v", err)
	}
	if len(m.Gateways) != 0 || m.MTU != 0 || m.NicType != "" {
		t.Errorf("minimal allocation gained values: %+v", m)
	}
}

func TestAllocationRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Allocation)
		want string
	}{
		{"no ips", func(a *Allocation) { a.IPs = nil }, "one or two ips"},
		{"three ips", func(a *Allocation) { a.IPs = append(a.IPs, netip.MustParsePrefix("10.0.1.5/24")) }, "one or two ips"},
		{"two ipv4", func(a *Allocation) { a.IPs[1] = netip.MustParsePrefix("10.0.1.5/24") }, "same family"},
		{"ipv4-mapped ipv6", func(a *Allocation) { a.IPs[1] = netip.MustParsePrefix("::ffff:10.0.0.9/120") }, "want an IPv4 or IPv6 prefix"},
		{"gateway of a missing family", func(a *Allocation) { a.IPs = a.IPs[:1]; a.Gateways = a.Gateways[1:] }, "no address of its family"},
		{"two ipv4 gateways", func(a *Allocation) { a.Gateways[1] = netip.MustParseAddr("10.0.0.2") }, "two of the same family"},
		{"route of a missing family", func(a *Allocation) {
			a.IPs, a.Gateways = a.IPs[:1], a.Gateways[:1]
			a.Routes = []AllocationRoute{{Dst: netip.MustParsePrefix("fd01::/64")}}
		}, "no address of its family"},
		{"route via other family", func(a *Allocation) { a.Routes[0].Via = netip.MustParseAddr("fd00::fe") }, "mixed families"},
		{"bad mac", func(a *Allocation) { a.MAC = "0a:58:0a:00:05" }, "want an Ethernet address"},
		{"long mac", func(a *Allocation) { a.MAC = "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01" }, "want an Ethernet address"},
		{"multicast mac", func(a *Allocation) { a.MAC = "01:00:5e:00:00:01" }, "multicast"},
		{"no port", func(a *Allocation) { a.LogicalSwitchPort = "" }, "no logicalSwitchPort"},
		{"tiny mtu", func(a *Allocation) { a.MTU = 100 }, "576..9000"},
		{"negative mtu", func(a *Allocation) { a.MTU = -1 }, "576..9000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validAllocation()
			tc.mut(a)
			_, err := FormatAllocation(a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FormatAllocation: got %v, want an error with %q", err, tc.want)
			}
		})
	}

	for _, in := range []string{
		``,
		`not json`,
		`{"ips":["10.0.0.5"],"mac":"0a:58:0a:00:00:05","logicalSwitchPort":"p"}`,    // no prefix length
		`{"ips":["10.0.0.5/33"],"mac":"0a:58:0a:00:00:05","logicalSwitchPort":"p"}`, // bad prefix
		`{"ips":["10.0.0.5/24"],"gateways":["10.0.0"],"mac":"0a:58:0a:00:00:05","logicalSwitchPort":"p"}`,
		`{"ips":["10.0.0.5/24"],"logicalSwitchPort":"p"}`, // no mac
	} {
		if _, err := ParseAllocation(in); err == nil {
			t.Errorf("ParseAllocation(%q) accepted", in)
		}
	}
}
