package ic

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

func TestBuildLink(t *testing.T) {
	l := BuildLink(LinkInput{
		Cluster: "c1", AZ: "az1", Vpc: "tenant-a.vpc1", Tenant: "tenant-a", FederatedVpc: "vpc1",
		TransitSwitch: "ts-tenant-a.vpc1", Address: netip.MustParsePrefix("169.254.0.5/28"),
		Gateways: []string{"n2", "n1"}, GatewayMTU: 1442,
	})
	if l.Router != "vpc-tenant-a.vpc1" || l.Transit != "ts-tenant-a.vpc1" {
		t.Fatalf("router/transit %q %q", l.Router, l.Transit)
	}
	lrp, lsp := l.RouterPort, l.SwitchPort
	if lrp.Name != "vpc-tenant-a.vpc1_ts-tenant-a.vpc1" || lsp.Name != "ts-tenant-a.vpc1_az1" {
		t.Fatalf("names %q %q", lrp.Name, lsp.Name)
	}
	if !slices.Equal(lrp.Networks, []string{"169.254.0.5/28"}) || lrp.Options[optGatewayMTU] != "1442" || lrp.MAC != ovnnb.MAC(lsp.Name) {
		t.Fatalf("router port %+v", lrp)
	}
	if lsp.Type != nb.LogicalSwitchPortTypeRouter || lsp.Options[optRouterPort] != lrp.Name || !slices.Equal(lsp.Addresses, []string{"router"}) {
		t.Fatalf("switch port %+v", lsp)
	}
	o := Owner("c1", "tenant-a.vpc1")
	for _, ids := range []map[string]string{lrp.ExternalIDs, lsp.ExternalIDs, l.Gateways[0].ExternalIDs} {
		if !o.Owns(ids) || ids[KeyTransitSwitch] != "ts-tenant-a.vpc1" || ids[ovnnb.KeyVpc] != "tenant-a.vpc1" {
			t.Fatalf("external_ids %v", ids)
		}
	}
	if len(l.Gateways) != 2 || l.Gateways[0].ChassisName != "n2" || l.Gateways[0].Priority != 2 || l.Gateways[1].Priority != 1 ||
		l.Gateways[0].Name != GatewayChassisName(lrp.Name, "n2") {
		t.Fatalf("gateways %+v", l.Gateways)
	}
	// Two AZs on one transit switch get different MACs.
	other := BuildLink(LinkInput{Cluster: "c2", AZ: "az2", Vpc: "tenant-a.vpc1", TransitSwitch: "ts-tenant-a.vpc1",
		Address: netip.MustParsePrefix("169.254.0.6/28"), Gateways: []string{"m1"}})
	if other.RouterPort.MAC == lrp.MAC {
		t.Fatal("two AZs share a transit MAC")
	}
	if _, ok := other.RouterPort.Options[optGatewayMTU]; ok {
		t.Fatal("gateway_mtu set although 0")
	}
}

func TestOrderGateways(t *testing.T) {
	for _, tc := range []struct {
		name     string
		eligible []string
		max      int
		wantLen  int
	}{
		{"none", nil, 3, 0},
		{"one", []string{"a"}, 3, 1},
		{"capped", []string{"a", "b", "c", "d"}, 3, 3},
		{"duplicates folded", []string{"b", "a", "b"}, 3, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := OrderGateways("vpc1", tc.eligible, tc.max)
			if len(got) != tc.wantLen {
				t.Fatalf("got %v", got)
			}
			if !slices.Equal(got, OrderGateways("vpc1", slices.Clone(tc.eligible), tc.max)) {
				t.Fatal("not stable")
			}
		})
	}
	// Input order does not matter; different VPCs start on different nodes.
	nodes := []string{"n1", "n2", "n3"}
	if !slices.Equal(OrderGateways("x", nodes, 3), OrderGateways("x", []string{"n3", "n1", "n2"}, 3)) {
		t.Fatal("order depends on input order")
	}
	firsts := map[string]bool{}
	for _, v := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		firsts[OrderGateways(v, nodes, 3)[0]] = true
	}
	if len(firsts) < 2 {
		t.Fatalf("every VPC starts on the same gateway: %v", firsts)
	}
}

func TestPlanAZ(t *testing.T) {
	if ops := PlanAZ(nil, "az1"); len(ops) != 2 || ops[0].Op() != "wait" || ops[1].Op() != "insert" {
		t.Fatalf("missing NB_Global: %v", ops)
	}
	done := &nb.NBGlobal{UUID: "u", Name: "az1", Options: map[string]string{optRouteAdv: "true", optRouteLearn: "true", "mac_prefix": "x"}}
	if ops := PlanAZ(done, "az1"); len(ops) != 0 {
		t.Fatalf("configured NB_Global: %v", ops)
	}
	if ops := PlanAZ(&nb.NBGlobal{UUID: "u", Options: map[string]string{"mac_prefix": "x"}}, "az1"); len(ops) != 2 {
		t.Fatalf("bare NB_Global: %v", ops)
	}
	if ops := PlanAZ(&nb.NBGlobal{UUID: "u", Name: "az1", Options: map[string]string{optRouteAdv: "false", optRouteLearn: "true"}}, "az1"); len(ops) != 1 || ops[0].Op() != "mutate" {
		t.Fatalf("adv off: %v", ops)
	}
}

func TestInterconnectPatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *iaasv1.VpcInterconnectStatus
		want string
	}{
		{"removed", nil, `{"status":{"interconnect":null}}`},
		{"cleared fields are null, counts explicit", &iaasv1.VpcInterconnectStatus{},
			`{"status":{"interconnect":{"advertisedRoutes":0,"gatewayChassis":null,"learnedRoutes":0,"transitSwitch":null}}}`},
		{"full", &iaasv1.VpcInterconnectStatus{TransitSwitch: "ts", GatewayChassis: []string{"a", "b"}, LearnedRoutes: 2, AdvertisedRoutes: 1},
			`{"status":{"interconnect":{"advertisedRoutes":1,"gatewayChassis":["a","b"],"learnedRoutes":2,"transitSwitch":"ts"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InterconnectPatch(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
			var v any
			if err := json.Unmarshal(got, &v); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMergeOptions(t *testing.T) {
	cur := map[string]string{"requested-tnl-key": "3", optRouterPort: "old"}
	got := mergeOptions(cur, map[string]string{optRouterPort: "new"}, optRouterPort)
	if got["requested-tnl-key"] != "3" || got[optRouterPort] != "new" || cur[optRouterPort] != "old" {
		t.Fatalf("merge %v (cur %v)", got, cur)
	}
	if got := mergeOptions(map[string]string{optGatewayMTU: "1442", "x": "y"}, nil, optGatewayMTU); len(got) != 1 || got["x"] != "y" {
		t.Fatalf("removal %v", got)
	}
}
