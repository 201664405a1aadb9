// Package ic_test proves ycloud-ic end to end without kubelets: two OVN availability zones
// joined by real ovn-ic processes, real ycloud-controller and ycloud-ic per AZ, nodes with
// userspace OVS and ovn-controller, and pod namespaces plumbed from the controller's
// allocations. See package twoaz for the setup.
package ic_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/ic"
	"github.com/ycloud-sdn/ycloud/test/integration/ic/twoaz"
)

func TestMain(m *testing.M) {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	os.Exit(m.Run())
}

// Tenant A spans both AZs on its own transit switch. Tenant B uses the very same CIDRs on
// both AZs (overlapping A's), on another transit switch. B's AZ2 subnet excludes the low
// addresses so that A's AZ2 pod address does not exist in B: "unreachable from B" then
// cannot be satisfied by B reaching a pod of its own.
var (
	tenantA = twoaz.Tenant{
		Name: "tenant-a", FederatedVpc: "vpc1", TransitSwitch: "ts-tenant-a.vpc1",
		TransitSubnet: netip.MustParsePrefix("169.254.0.0/28"),
		CIDRs:         []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("10.2.0.0/24")},
	}
	tenantB = twoaz.Tenant{
		Name: "tenant-b", FederatedVpc: "vpc1", TransitSwitch: "ts-tenant-b.vpc1",
		TransitSubnet: netip.MustParsePrefix("169.254.0.16/28"),
		CIDRs:         []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24"), netip.MustParsePrefix("10.2.0.0/24")},
		ExcludeIPs:    [][]iaasv1.IPRange{nil, {"10.2.0.2..10.2.0.99"}},
	}
)

const (
	tcpPort = 7000
	udpPort = 7001
)

func TestInterconnect(t *testing.T) {
	start := time.Now()
	w := twoaz.Start(t, twoaz.Options{Nodes: []int{3, 1}, Gateways: []int{2, 1}})
	az1, az2 := w.AZs[0], w.AZs[1]
	t.Logf("world up in %s", time.Since(start).Round(time.Millisecond))
	// ovn-controller 23.03.1 has been seen to crash here when chassisredirect ports of two
	// routers come and go on one chassis in quick succession; the harness restarts it as
	// its DaemonSet would. Say so when it happens, so that it is never silent.
	t.Cleanup(func() {
		for _, az := range w.AZs {
			for _, n := range az.Nodes {
				if c, logs := n.Crashes(); c > 0 {
					t.Logf("ovn-controller on %s exited on its own %d time(s) and was restarted; its log before the last exit:\n%s", n.Name, c, logs[len(logs)-1])
				}
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Both spokes get both tenants at once, as the hub's ManifestWorks would deliver them:
	// the two ycloud-ic race to create each transit switch.
	fedStart := time.Now()
	for _, az := range w.AZs {
		az.CreateVpc(tenantA, true)
		az.CreateVpc(tenantB, true)
	}

	// Status: linked, two gateways in AZ1 (HA), one in AZ2, one route each way.
	for _, az := range w.AZs {
		for _, tn := range []twoaz.Tenant{tenantA, tenantB} {
			w.Eventually(t, time.Minute, az.Name+" "+tn.VpcName()+" status", func() error {
				st, err := az.Interconnect(ctx, tn.VpcName())
				if err != nil {
					return err
				}
				want := len(az.Gateways())
				if st == nil || st.TransitSwitch != tn.TransitSwitch || len(st.GatewayChassis) != want ||
					st.LearnedRoutes != 1 || st.AdvertisedRoutes != 1 {
					return fmt.Errorf("status.interconnect %+v", st)
				}
				return nil
			})
		}
	}
	t.Logf("both tenants linked with routes exchanged %s after the Vpcs were created", time.Since(fedStart).Round(time.Millisecond))

	// One transit switch per tenant in IC-NB, however the race went, with both AZs'
	// claims on distinct addresses.
	for _, tn := range []twoaz.Tenant{tenantA, tenantB} {
		rows := w.TransitSwitches(tn.TransitSwitch)
		if len(rows) != 1 {
			t.Fatalf("%d transit switches %s", len(rows), tn.TransitSwitch)
		}
		claims := ic.ParseClaims(rows[0].ExternalIDs)
		if len(claims) != 2 || len(claims.Held("az1")) != 1 || len(claims.Held("az2")) != 1 {
			t.Fatalf("claims on %s: %v", tn.TransitSwitch, claims)
		}
		for a := range claims {
			if !tn.TransitSubnet.Contains(a) {
				t.Fatalf("claim %v outside %v", a, tn.TransitSubnet)
			}
		}
	}

	// The NB rows: gateway_mtu, gateway chassis with descending priorities.
	lrpA1 := ic.RouterPortName(tenantA.VpcName(), tenantA.TransitSwitch)
	st1, err := az1.Interconnect(ctx, tenantA.VpcName())
	if err != nil {
		t.Fatal(err)
	}
	if lrp := az1.RouterPort(lrpA1); lrp == nil || lrp.Options["gateway_mtu"] != "1442" || len(lrp.GatewayChassis) != 2 {
		t.Fatalf("router port %s: %+v", lrpA1, lrp)
	}
	active, standby := az1.NodeByName(st1.GatewayChassis[0]), az1.NodeByName(st1.GatewayChassis[1])
	w.Eventually(t, time.Minute, "active gateway of "+lrpA1, func() error {
		if g := az1.ActiveGateway(lrpA1); g != active.Name {
			return fmt.Errorf("cr-%s is on %q, want %s", lrpA1, g, active.Name)
		}
		return nil
	})

	// Pods. AZ1's pods sit on the node that is no gateway: their traffic crosses to the
	// active gateway by geneve first, and they survive a gateway's failure. That node also
	// keeps BFD sessions with both gateways, which is what lets the standby tell "the
	// active died" from "I am cut off" (with two chassis only, OVN cannot).
	compute := az1.Nodes[2]
	a1 := az1.RunPod("a1", compute, tenantA.SubnetName(0))
	a2 := az2.RunPod("a2", az2.Nodes[0], tenantA.SubnetName(1))
	b1 := az1.RunPod("b1", compute, tenantB.SubnetName(0))
	b2 := az2.RunPod("b2", az2.Nodes[0], tenantB.SubnetName(1))
	t.Logf("pods: a1 %s b1 %s on %s (gateways: active %s, standby %s), a2 %s b2 %s on %s",
		a1.IP, b1.IP, compute.Name, active.Name, standby.Name, a2.IP, b2.IP, az2.Nodes[0].Name)
	if b2.IP == a2.IP || !tenantB.CIDRs[1].Contains(b2.IP) {
		t.Fatalf("tenant B's AZ2 pod got %s, tenant A's %s: the isolation check needs them to differ", b2.IP, a2.IP)
	}
	if !tenantB.CIDRs[0].Contains(b1.IP) || !tenantA.CIDRs[0].Contains(a1.IP) {
		t.Fatalf("overlap not as designed: a1 %s b1 %s", a1.IP, b1.IP)
	}

	t.Run("tenant A reaches across both ways", func(t *testing.T) {
		for _, p := range []*twoaz.Pod{a1, a2} {
			p.ServeTCPEcho(t, tcpPort)
		}
		w.Eventually(t, 30*time.Second, "ping a1 -> a2", func() error { return a1.Ping(a2.IP) })
		w.Eventually(t, 30*time.Second, "ping a2 -> a1", func() error { return a2.Ping(a1.IP) })
		w.Eventually(t, 30*time.Second, "tcp a1 -> a2", func() error { return a1.TCPEcho(a2.IP, tcpPort) })
		w.Eventually(t, 30*time.Second, "tcp a2 -> a1", func() error { return a2.TCPEcho(a1.IP, tcpPort) })
	})

	t.Run("tenant B is isolated from tenant A", func(t *testing.T) {
		// Positive control: B itself works across the AZs.
		w.Eventually(t, 30*time.Second, "ping b1 -> b2", func() error { return b1.Ping(b2.IP) })
		if err := b1.Unreachable(a2.IP); err != nil {
			t.Fatalf("tenant A's remote pod from tenant B: %v", err)
		}
		// (When a1 and b1 share an address, b2 reaching it reaches b1, its own tenant.)
		if a1.IP != b1.IP {
			if err := b2.Unreachable(a1.IP); err != nil {
				t.Fatalf("tenant A's AZ1 pod from tenant B's AZ2 pod: %v", err)
			}
		}
		assertLearnedOnlyFromOwnTransit(t, w)
	})

	t.Run("status is written only when it changes", func(t *testing.T) {
		// The Vpcs are converged: two seconds of reconciles (OVSDB events keep coming from
		// the probes' neighbours, ovn-controller, ...) must not touch them.
		rvs := map[string]string{}
		for _, az := range w.AZs {
			rvs[az.Name] = az.VpcResourceVersion(t, tenantA.VpcName())
		}
		w.Consistently(t, 2*time.Second, "vpc resourceVersion", func() error {
			for _, az := range w.AZs {
				if rv := az.VpcResourceVersion(t, tenantA.VpcName()); rv != rvs[az.Name] {
					return fmt.Errorf("%s: vpc %s written again (resourceVersion %s -> %s)", az.Name, tenantA.VpcName(), rvs[az.Name], rv)
				}
			}
			return nil
		})
	})

	t.Run("oversize packets get fragmentation-needed", func(t *testing.T) {
		// With gateway_mtu, a packet that would not fit the geneve-encapsulated path is
		// answered with ICMP "fragmentation needed" (mtu 1442) instead of vanishing. The
		// pod's MTU is raised above it so that the kernel sends such a packet with DF; the
		// ICMP error then shows up as a learned path MTU for the destination.
		a1.SetMTU(t, 1500)
		defer a1.SetMTU(t, 1400)
		_ = a1.PingSize(a2.IP, 1450) // the oversize echo itself is refused
		w.Eventually(t, 10*time.Second, "path MTU 1442 learned from the router", func() error {
			if mtu := a1.PathMTU(t, a2.IP); mtu != 1442 {
				_ = a1.PingSize(a2.IP, 1450)
				return fmt.Errorf("path mtu to %s is %d", a2.IP, mtu)
			}
			return nil
		})
		// TCP sends full-sized segments with DF: without the ICMP errors it would stall;
		// with them it shrinks its segments to the path MTU and the transfer completes.
		a2.ServeTCPEcho(t, tcpPort+1)
		w.Eventually(t, 30*time.Second, "tcp a1 -> a2 with a 1500-byte pod MTU", func() error { return a1.TCPEcho(a2.IP, tcpPort+1) })
	})

	t.Run("an AZ without gateways withdraws, and comes back", func(t *testing.T) {
		// AZ2's only gateway node loses its label: with no gateway chassis its routes would
		// lead into a black hole, so AZ2 leaves both transit switches.
		az2.SetGatewayLabel(t, az2.Nodes[0].Name, false)
		defer az2.SetGatewayLabel(t, az2.Nodes[0].Name, true) // also when this subtest fails
		for _, tn := range []twoaz.Tenant{tenantA, tenantB} {
			w.Eventually(t, time.Minute, "AZ2 "+tn.VpcName()+" withdrawn", func() error {
				if routes, err := az1.LearnedRoutes(tn.VpcName()); err != nil || len(routes) != 0 {
					return fmt.Errorf("az1 learned routes %v (%v)", routes, err)
				}
				st, err := az2.Interconnect(ctx, tn.VpcName())
				if err != nil || st == nil || st.TransitSwitch != "" || len(st.GatewayChassis) != 0 {
					return fmt.Errorf("az2 status %+v (%v)", st, err)
				}
				if az2.SwitchPortExists(ic.SwitchPortName(tn.TransitSwitch, az2.Name)) {
					return fmt.Errorf("az2 still has its port on %s", tn.TransitSwitch)
				}
				return nil
			})
		}
		// The data plane follows the northbound database within moments.
		w.Eventually(t, 30*time.Second, "a2 unreachable from a1", func() error { return a1.Unreachable(a2.IP) })
		az2.SetGatewayLabel(t, az2.Nodes[0].Name, true)
		w.Eventually(t, time.Minute, "ping a1 -> a2 after the label is back", func() error { return a1.Ping(a2.IP) })
		w.Eventually(t, time.Minute, "ping b1 -> b2 after the label is back", func() error { return b1.Ping(b2.IP) })
	})

	lspA1 := ic.SwitchPortName(tenantA.TransitSwitch, az1.Name)
	where := func() string {
		gw := ""
		if pb := w.ICPortBinding(lspA1); pb != nil {
			gw = pb.Gateway
		}
		return fmt.Sprintf("AZ1 SB active %q, IC-SB gateway %q", az1.ActiveGateway(lrpA1), gw)
	}

	t.Run("gateway failover", func(t *testing.T) {
		a1.ServeUDPEcho(t, udpPort)
		pr, err := a2.StartProber(a1.IP, udpPort, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Stop()
		w.Eventually(t, 30*time.Second, "probes answered", func() error {
			_, err := pr.Recovery(time.Now().Add(-time.Second), 500*time.Millisecond, 10)
			return err
		})
		t0 := time.Now()
		active.StopOVNControllerGracefully()
		stopped := time.Now()
		var back time.Time
		w.Eventually(t, time.Minute, "traffic through the standby gateway", func() error {
			back, err = pr.Recovery(t0, 500*time.Millisecond, 25)
			return err
		})
		lost := pr.Lost(t0, back)
		t.Logf("failover: ovn-controller of %s stopped (exit took %s); traffic flowing again after %.3f s (%d probes of 20 ms lost); %s; probes: %s",
			active.Name, stopped.Sub(t0).Round(time.Millisecond), back.Sub(t0).Seconds(), lost, where(), pr.Timeline(t0, back.Add(time.Second)))
		if g := az1.ActiveGateway(lrpA1); g != standby.Name {
			t.Fatalf("after failover cr-%s is on %q, want %s", lrpA1, g, standby.Name)
		}
		w.Eventually(t, 30*time.Second, "IC-SB gateway of "+lspA1, func() error {
			if pb := w.ICPortBinding(lspA1); pb == nil || pb.Gateway != standby.Name {
				return fmt.Errorf("port binding %+v", pb)
			}
			return nil
		})
		// The old active comes back and takes over again (it has the higher priority).
		t1 := time.Now()
		active.RestartOVNController()
		w.Eventually(t, time.Minute, "failback", func() error {
			if g := az1.ActiveGateway(lrpA1); g != active.Name {
				return fmt.Errorf("cr-%s on %q", lrpA1, g)
			}
			back, err = pr.Recovery(t1, 500*time.Millisecond, 25)
			return err
		})
		w.Eventually(t, 30*time.Second, "IC-SB gateway back on "+active.Name, func() error {
			if pb := w.ICPortBinding(lspA1); pb == nil || pb.Gateway != active.Name {
				return fmt.Errorf("%s", where())
			}
			return nil
		})
		t.Logf("failback to %s: traffic flowing %.3f s after its ovn-controller started (%d probes lost); %s; probes: %s",
			active.Name, back.Sub(t1).Seconds(), pr.Lost(t1, back), where(), pr.Timeline(t1, time.Now()))

		// ovn-controller killed (SIGKILL, no chance to deregister) while ovs-vswitchd runs
		// on: the chassis stays in SB and its BFD sessions - run by ovs-vswitchd - stay up,
		// so OVN keeps it active and the datapath keeps forwarding with the flows it has.
		// No failover happens, and none is needed. (Precondition: the BFD sessions with
		// the active gateway are up, as they are once the failback has settled.)
		w.Eventually(t, time.Minute, "BFD sessions with "+active.Name+" up", func() error {
			for _, n := range []*twoaz.Node{standby, compute} {
				if !n.BFDUp(active) || !active.BFDUp(n) {
					return fmt.Errorf("BFD %s <-> %s not up", n.Name, active.Name)
				}
			}
			return nil
		})
		tk := time.Now()
		active.KillOVNController()
		w.Consistently(t, 3*time.Second, "gateway stays active while only its ovn-controller is dead", func() error {
			if g := az1.ActiveGateway(lrpA1); g != active.Name {
				return fmt.Errorf("cr-%s moved to %q", lrpA1, g)
			}
			return nil
		})
		lost = pr.Lost(tk, time.Now().Add(-500*time.Millisecond))
		t.Logf("ovn-controller of %s killed (SIGKILL): it stays the active gateway, %d probes lost in 3 s; probes: %s",
			active.Name, lost, pr.Timeline(tk, time.Now()))
		if lost > 5 {
			t.Fatalf("traffic disrupted although the datapath of %s runs on", active.Name)
		}
		active.RestartOVNController()
		az1.WaitChassis(active.Name, true)

		// A harder failure: the active gateway host dies (ovn-controller killed without
		// deregistering, uplink down). Only BFD can tell the standby.
		t2 := time.Now()
		active.FailHard()
		w.Eventually(t, time.Minute, "traffic through the standby after a host failure", func() error {
			back, err = pr.Recovery(t2, 500*time.Millisecond, 25)
			return err
		})
		t.Logf("host failure of %s: traffic flowing again after %.3f s (%d probes lost); %s; probes: %s",
			active.Name, back.Sub(t2).Seconds(), pr.Lost(t2, back), where(), pr.Timeline(t2, time.Now()))
		if g := az1.ActiveGateway(lrpA1); g != standby.Name {
			t.Fatalf("after the host failure cr-%s is on %q, want %s", lrpA1, g, standby.Name)
		}
		t3 := time.Now()
		active.Recover()
		w.Eventually(t, time.Minute, "failback after recovery", func() error {
			if g := az1.ActiveGateway(lrpA1); g != active.Name {
				return fmt.Errorf("cr-%s on %q", lrpA1, g)
			}
			if pb := w.ICPortBinding(lspA1); pb == nil || pb.Gateway != active.Name {
				return fmt.Errorf("%s", where())
			}
			back, err = pr.Recovery(t3, 500*time.Millisecond, 25)
			return err
		})
		t.Logf("failback to %s after recovery: traffic flowing %.3f s after it came back (%d probes lost); %s; probes: %s",
			active.Name, back.Sub(t3).Seconds(), pr.Lost(t3, back), where(), pr.Timeline(t3, time.Now()))
	})

	t.Run("removing AZ2 withdraws its routes", func(t *testing.T) {
		az2.SetFederation(tenantA.VpcName(), nil)
		w.Eventually(t, time.Minute, "withdrawal", func() error {
			routes, err := az1.LearnedRoutes(tenantA.VpcName())
			if err != nil {
				return err
			}
			if len(routes) != 0 {
				return fmt.Errorf("az1 still has learned routes %v", routes)
			}
			st, err := az1.Interconnect(ctx, tenantA.VpcName())
			if err != nil || st == nil || st.LearnedRoutes != 0 {
				return fmt.Errorf("az1 status %+v (%v)", st, err)
			}
			st2, err := az2.Interconnect(ctx, tenantA.VpcName())
			if err != nil || st2 != nil {
				return fmt.Errorf("az2 status %+v (%v)", st2, err)
			}
			return nil
		})
		w.Eventually(t, 30*time.Second, "a2 unreachable from a1", func() error { return a1.Unreachable(a2.IP) })
		// AZ1 still holds the switch: it stays, with AZ1's claim only.
		w.Eventually(t, 30*time.Second, "AZ2's claim released", func() error {
			rows := w.TransitSwitches(tenantA.TransitSwitch)
			if len(rows) != 1 {
				return fmt.Errorf("%d transit switches %s", len(rows), tenantA.TransitSwitch)
			}
			if c := ic.ParseClaims(rows[0].ExternalIDs); len(c) != 1 || len(c.Held(az1.Name)) != 1 {
				return fmt.Errorf("claims %v", c)
			}
			return nil
		})
		// Tenant B is untouched.
		w.Eventually(t, 30*time.Second, "ping b1 -> b2", func() error { return b1.Ping(b2.IP) })
		// The last AZ out deletes the transit switch.
		az1.DeleteVpc(tenantA.VpcName())
		w.Eventually(t, time.Minute, "transit switch deleted", func() error {
			if rows := w.TransitSwitches(tenantA.TransitSwitch); len(rows) != 0 {
				return fmt.Errorf("transit switch %s still in IC-NB: %+v", tenantA.TransitSwitch, rows[0].ExternalIDs)
			}
			return nil
		})
		assertLearnedOnlyFromOwnTransit(t, w)
	})

	t.Run("a restart cleans up after a Vpc deleted meanwhile", func(t *testing.T) {
		// ycloud-ic of AZ2 is down while tenant B's Vpc is deleted there: ycloud-controller
		// removes the router (our router port goes with it), but the transit switch port,
		// the claim and - through ovn-ic - the advertised routes stay behind until ycloud-ic
		// is back.
		az2.StopIC()
		az2.DeleteVpc(tenantB.VpcName())
		w.Eventually(t, time.Minute, "router removed by ycloud-controller", func() error {
			if az2.RouterExists(tenantB.VpcName()) {
				return fmt.Errorf("router of %s still in az2", tenantB.VpcName())
			}
			return nil
		})
		az2.StartIC()
		lsp := ic.SwitchPortName(tenantB.TransitSwitch, az2.Name)
		w.Eventually(t, time.Minute, "leftovers collected", func() error {
			if az2.SwitchPortExists(lsp) {
				return fmt.Errorf("transit switch port %s still in az2", lsp)
			}
			if rows := w.TransitSwitches(tenantB.TransitSwitch); len(rows) != 1 || len(ic.ParseClaims(rows[0].ExternalIDs).Held(az2.Name)) != 0 {
				return fmt.Errorf("claims of az2 on %s: %+v", tenantB.TransitSwitch, rows)
			}
			if r := w.ICRoutesOf(az2.Name, tenantB.TransitSwitch); len(r) != 0 {
				return fmt.Errorf("az2 still advertises %d routes on %s", len(r), tenantB.TransitSwitch)
			}
			if routes, err := az1.LearnedRoutes(tenantB.VpcName()); err != nil || len(routes) != 0 {
				return fmt.Errorf("az1 tenant B learned routes %v (%v)", routes, err)
			}
			return nil
		})
		w.Eventually(t, 30*time.Second, "b2 unreachable from b1", func() error { return b1.Unreachable(b2.IP) })
	})
}

// assertLearnedOnlyFromOwnTransit checks, on every AZ, that each VPC router holds only
// routes learned on its own transit switch with next hops in its own transit subnet: the
// tenants' CIDRs overlap, so a route learned across tenants would not be visible from
// the prefix alone.
func assertLearnedOnlyFromOwnTransit(t *testing.T, w *twoaz.World) {
	t.Helper()
	for _, az := range w.AZs {
		for _, tn := range []twoaz.Tenant{tenantA, tenantB} {
			routes, err := az.LearnedRoutes(tn.VpcName())
			if err != nil {
				continue // the Vpc is gone
			}
			for _, r := range routes {
				icr, err := w.ICRoute(r.ICRoute)
				if err != nil {
					t.Fatalf("%s %s: learned route %v: IC-SB route %s: %v", az.Name, tn.VpcName(), r.Prefix, r.ICRoute, err)
				}
				if icr.TransitSwitch != tn.TransitSwitch || !tn.TransitSubnet.Contains(r.Nexthop) {
					t.Fatalf("%s %s: route %v via %v learned on transit switch %s", az.Name, tn.VpcName(), r.Prefix, r.Nexthop, icr.TransitSwitch)
				}
				if !slices.Contains(tn.CIDRs, r.Prefix) {
					t.Fatalf("%s %s: learned %v, not a CIDR of the tenant", az.Name, tn.VpcName(), r.Prefix)
				}
			}
		}
	}
}
