package ic

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// These tests run the planners' operations against a real ovsdb-server.

func dial(t *testing.T, ctx context.Context, endpoint string, dm *ovsdb.DatabaseModel, tables []string, opts ...ovsdb.Option) *ovsdb.Client {
	t.Helper()
	c, err := ovsdb.Dial(ctx, dm, endpoint, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var mons []ovsdb.TableMonitor
	for _, tb := range tables {
		mons = append(mons, ovsdb.TableMonitor{Table: tb})
	}
	if _, err := c.Monitor(ctx, mons...); err != nil {
		t.Fatal(err)
	}
	return c
}

func icnbClient(t *testing.T, ctx context.Context, endpoint string) *ovsdb.Client {
	dm, err := ovsdb.NewDatabaseModel(icnb.Schema(), icnb.Models()...)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, ctx, endpoint, dm, []string{icnb.TransitSwitchTable}, ovsdb.WithIndex(icnb.TransitSwitchTable, "name"))
}

func transitRow(t *testing.T, c *ovsdb.Client, name string) *icnb.TransitSwitch {
	t.Helper()
	rows, err := ovsdb.Lookup[icnb.TransitSwitch](c.Cache(), "name", name)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > 1 {
		t.Fatalf("%d transit switches named %s", len(rows), name)
	}
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two AZs race to create the same transit switch, both with an address that collides: one
// transaction commits, the other aborts, and the loser joins with the next address after
// re-reading. Releasing leaves the switch to the last AZ, which deletes it.
func TestTransitClaimRaceAndRelease(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.ICNBSchema)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := icnbClient(t, ctx, srv.Endpoint()), icnbClient(t, ctx, srv.Endpoint())
	sub := netip.MustParsePrefix("169.254.0.16/28")
	ids := map[string]string{"ycloud.io/owner-kind": KindInterconnect, "ycloud.io/owner": "t/v"}
	same := netip.MustParseAddr("169.254.0.17")
	clients := map[string]*ovsdb.Client{"az1": a, "az2": b}

	// Both start from an empty view and want the same address.
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	for az, c := range clients {
		ops := PlanClaim(nil, TransitSpec{Name: "ts1", AZ: az, Addr: same, IDs: ids})
		wg.Go(func() {
			_, err := c.Transact(ctx, ops...)
			mu.Lock()
			errs[az] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	var winner, loser string
	for az, err := range errs {
		switch {
		case err == nil:
			winner = az
		case isRaceLost(err):
			loser = az
		default:
			t.Fatalf("%s: unexpected error %v", az, err)
		}
	}
	if winner == "" || loser == "" {
		t.Fatalf("want one winner and one loser, got %v", errs)
	}
	lc := clients[loser]
	waitFor(t, "the loser's cache to see the switch", func() bool { return transitRow(t, lc, "ts1") != nil })

	// Claiming the winner's address on the existing row aborts too, and changes nothing.
	cur := transitRow(t, lc, "ts1")
	if _, err := lc.Transact(ctx, PlanClaim(cur, TransitSpec{Name: "ts1", AZ: loser, Addr: same})...); !isRaceLost(err) {
		t.Fatalf("claim of a held address: %v", err)
	}
	if got := ParseClaims(transitRow(t, lc, "ts1").ExternalIDs); len(got) != 1 || got[same] != winner {
		t.Fatalf("claims after a refused claim: %v", got)
	}
	// The loser probes on.
	addr, err := PickTransitAddress(sub, loser, ParseClaims(cur.ExternalIDs), nil)
	if err != nil || addr == same {
		t.Fatalf("loser picked %v, %v", addr, err)
	}
	if _, err := lc.Transact(ctx, PlanClaim(cur, TransitSpec{Name: "ts1", AZ: loser, Addr: addr})...); err != nil {
		t.Fatal(err)
	}
	// Idempotent: nothing to do once held.
	if ops := PlanClaim(transitRow(t, lc, "ts1"), TransitSpec{Name: "ts1", AZ: loser, Addr: addr}); len(ops) != 0 {
		t.Fatalf("claim again: %v", ops)
	}
	// Moving the claim drops the old one in the same transaction.
	moved := netip.MustParseAddr("169.254.0.30")
	if _, err := lc.Transact(ctx, PlanClaim(transitRow(t, lc, "ts1"), TransitSpec{Name: "ts1", AZ: loser, Addr: moved})...); err != nil {
		t.Fatal(err)
	}
	if got := ParseClaims(transitRow(t, lc, "ts1").ExternalIDs).Held(loser); !slices.Equal(got, []netip.Addr{moved}) {
		t.Fatalf("claims after a move: %v", got)
	}

	owned := func(ids map[string]string) bool { return ids["ycloud.io/owner-kind"] == KindInterconnect }
	// A stale view ("only my claim is left") must not delete the switch after someone joined.
	wc := clients[winner]
	waitFor(t, "the winner's cache to see both claims", func() bool {
		return len(ParseClaims(transitRow(t, wc, "ts1").ExternalIDs)) == 2
	})
	stale := transitRow(t, wc, "ts1")
	if _, err := lc.Transact(ctx, PlanRelease(transitRow(t, lc, "ts1"), loser, owned)...); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Transact(ctx, PlanClaim(transitRow(t, lc, "ts1"), TransitSpec{Name: "ts1", AZ: "az3", Addr: netip.MustParseAddr("169.254.0.20")})...); err != nil {
		t.Fatal(err)
	}
	staleView := *stale
	staleView.ExternalIDs = map[string]string{}
	for k, v := range stale.ExternalIDs {
		if v != loser {
			staleView.ExternalIDs[k] = v
		}
	}
	if _, err := wc.Transact(ctx, PlanRelease(&staleView, winner, owned)...); !isRaceLost(err) {
		t.Fatalf("delete on a stale view: %v", err)
	}
	waitFor(t, "the winner's cache to see az3", func() bool {
		return ParseClaims(transitRow(t, wc, "ts1").ExternalIDs)[netip.MustParseAddr("169.254.0.20")] == "az3"
	})
	// Winner leaves: az3 remains, the switch stays.
	if _, err := wc.Transact(ctx, PlanRelease(transitRow(t, wc, "ts1"), winner, owned)...); err != nil {
		t.Fatal(err)
	}
	if transitRow(t, wc, "ts1") == nil {
		t.Fatal("switch deleted while az3 holds a claim")
	}
	// Last one out deletes it.
	if _, err := wc.Transact(ctx, PlanRelease(transitRow(t, wc, "ts1"), "az3", owned)...); err != nil {
		t.Fatal(err)
	}
	if transitRow(t, wc, "ts1") != nil {
		t.Fatal("switch left behind by the last AZ")
	}
	if ops := PlanRelease(nil, "az3", owned); len(ops) != 0 {
		t.Fatalf("release of nothing: %v", ops)
	}

	// Two AZs leaving at once from the same view each drop only their own claim and leave
	// an abandoned switch behind, which PlanReap removes (once).
	for az, addr := range map[string]string{"az1": "169.254.0.17", "az2": "169.254.0.18"} {
		cur := transitRow(t, a, "ts2")
		if _, err := a.Transact(ctx, PlanClaim(cur, TransitSpec{Name: "ts2", AZ: az, Addr: netip.MustParseAddr(addr), IDs: ids})...); err != nil {
			t.Fatal(err)
		}
	}
	both := transitRow(t, a, "ts2")
	for _, az := range []string{"az1", "az2"} {
		if _, err := a.Transact(ctx, PlanRelease(both, az, owned)...); err != nil {
			t.Fatal(err)
		}
	}
	left := transitRow(t, a, "ts2")
	if left == nil || len(ParseClaims(left.ExternalIDs)) != 0 {
		t.Fatalf("after a simultaneous leave: %+v", left)
	}
	if ops := PlanReap(left, func(map[string]string) bool { return false }); len(ops) != 0 {
		t.Fatal("reaped a switch that is not ours")
	}
	reap := PlanReap(left, owned)
	if _, err := a.Transact(ctx, reap...); err != nil {
		t.Fatal(err)
	}
	if transitRow(t, a, "ts2") != nil {
		t.Fatal("abandoned switch not reaped")
	}
	if _, err := a.Transact(ctx, reap...); !isRaceLost(err) {
		t.Fatalf("second reap: %v", err)
	}
}

func nbClient(t *testing.T, ctx context.Context, endpoint string) *ovsdb.Client {
	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		t.Fatal(err)
	}
	return dial(t, ctx, endpoint, dm,
		[]string{nb.NBGlobalTable, nb.LogicalRouterTable, nb.LogicalRouterPortTable, nb.GatewayChassisTable, nb.LogicalSwitchTable,
			nb.LogicalSwitchPortTable, nb.LogicalRouterStaticRouteTable},
		ovsdb.WithIndex(nb.LogicalRouterTable, "name"), ovsdb.WithIndex(nb.LogicalRouterPortTable, "name"),
		ovsdb.WithIndex(nb.LogicalSwitchTable, "name"), ovsdb.WithIndex(nb.LogicalSwitchPortTable, "name"),
		ovsdb.WithExternalIDIndex(nb.LogicalRouterPortTable, "ycloud.io/owner"),
		ovsdb.WithExternalIDIndex(nb.LogicalSwitchPortTable, "ycloud.io/owner"),
		ovsdb.WithExternalIDIndex(nb.GatewayChassisTable, "ycloud.io/owner"))
}

func apply(t *testing.T, ctx context.Context, c *ovsdb.Client, p *Plan, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Transact(ctx, p.Ops...); err != nil {
		t.Fatal(err)
	}
}

// PlanLink against a real NB: link, no-op when converged (also after ovn-ic adds its own
// option), gateway changes in place, transit switch move, unlink.
func TestPlanLinkAgainstNB(t *testing.T) {
	srv := ovsdbtest.StartStandalone(t, ovsdbtest.NBSchema)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := nbClient(t, ctx, srv.Endpoint())
	cache := c.Cache()
	in := LinkInput{Cluster: "c1", AZ: "az1", Vpc: "v1", TransitSwitch: "ts1",
		Address: netip.MustParsePrefix("169.254.0.17/28"), Gateways: []string{"n1", "n2"}, GatewayMTU: 1442}
	o := Owner("c1", "v1")

	if _, err := PlanLink(cache, BuildLink(in), o); err == nil {
		t.Fatal("planned without a router")
	}
	if _, err := c.Transact(ctx, ovsdb.Insert(&nb.LogicalRouter{Name: "vpc-v1"})); err != nil {
		t.Fatal(err)
	}
	if _, err := PlanLink(cache, BuildLink(in), o); err == nil {
		t.Fatal("planned without the transit switch copy")
	}
	// What ovn-ic makes: the transit switch copy.
	for _, ts := range []string{"ts1", "ts2"} {
		if _, err := c.Transact(ctx, ovsdb.Insert(&nb.LogicalSwitch{Name: ts, OtherConfig: map[string]string{otherInterconnTS: ts}})); err != nil {
			t.Fatal(err)
		}
	}
	// Before ovn-ic has given the switch and the port their shared tunnel keys, the port
	// is made without gateway chassis.
	p, err := PlanLink(cache, BuildLink(in), o)
	apply(t, ctx, c, p, err)
	if p, err := PlanLink(cache, BuildLink(in), o); err != nil || !p.Empty() {
		t.Fatalf("second plan: %v %v", p.Ops, err)
	}
	lsp := lookupOne[nb.LogicalSwitchPort](t, c, "ts1_az1")
	lrp := lookupOne[nb.LogicalRouterPort](t, c, "vpc-v1_ts1")
	if lsp.Options[optRouterPort] != lrp.Name || len(lrp.GatewayChassis) != 0 || lrp.Options[optGatewayMTU] != "1442" {
		t.Fatalf("rows before the tunnel keys %+v %+v", lsp, lrp)
	}
	// ovn-ic writes requested-tnl-key on the transit switch, then on its ports: only with
	// both the gateways come.
	ts1 := lookupOne[nb.LogicalSwitch](t, c, "ts1")
	if _, err := c.Transact(ctx, ovsdb.Update(&nb.LogicalSwitch{UUID: ts1.UUID,
		OtherConfig: map[string]string{otherInterconnTS: "ts1", optRequestedTnlKey: "16711681"}}, "other_config")); err != nil {
		t.Fatal(err)
	}
	if p, err := PlanLink(cache, BuildLink(in), o); err != nil || !p.Empty() {
		t.Fatalf("plan with the switch's key only: %v %v", p.Ops, err)
	}
	// That option is not ours, and not a change.
	u := nb.LogicalSwitchPort{UUID: lsp.UUID, Options: map[string]string{optRouterPort: lrp.Name, optRequestedTnlKey: "2"}}
	if _, err := c.Transact(ctx, ovsdb.Update(&u, "options")); err != nil {
		t.Fatal(err)
	}
	p, err = PlanLink(cache, BuildLink(in), o)
	apply(t, ctx, c, p, err)
	if p, err := PlanLink(cache, BuildLink(in), o); err != nil || !p.Empty() {
		t.Fatalf("plan after ovn-ic's keys: %v %v", p.Ops, err)
	}
	lsp = lookupOne[nb.LogicalSwitchPort](t, c, "ts1_az1")
	if lrp = lookupOne[nb.LogicalRouterPort](t, c, "vpc-v1_ts1"); len(lrp.GatewayChassis) != 2 || lsp.Options[optRequestedTnlKey] != "2" {
		t.Fatalf("rows after the tunnel keys %+v %+v", lsp, lrp)
	}
	// Gateways reordered and one replaced: n1 keeps its row, n2 goes, n3 comes.
	gcBefore := gatewayRows(t, c, "vpc-v1_ts1")
	in.Gateways = []string{"n3", "n1"}
	p, err = PlanLink(cache, BuildLink(in), o)
	apply(t, ctx, c, p, err)
	gcAfter := gatewayRows(t, c, "vpc-v1_ts1")
	if len(gcAfter) != 2 || gcAfter["n3"].Priority != 2 || gcAfter["n1"].Priority != 1 || gcAfter["n1"].UUID != gcBefore["n1"].UUID {
		t.Fatalf("gateways before %v after %v", gcBefore, gcAfter)
	}
	if n := cache.Len(nb.GatewayChassisTable); n != 2 {
		t.Fatalf("%d Gateway_Chassis rows, want 2 (the dropped one is collected)", n)
	}
	// The federation moves to ts2: the ts1 port goes, the router port moves over.
	in.TransitSwitch = "ts2"
	p, err = PlanLink(cache, BuildLink(in), o)
	apply(t, ctx, c, p, err)
	if rows, _ := ovsdb.Lookup[nb.LogicalSwitchPort](cache, "name", "ts1_az1"); len(rows) != 0 {
		t.Fatal("old transit port left behind")
	}
	if held, _ := OwnedTransits(cache, o); !slices.Equal(held, []string{"ts2"}) {
		t.Fatalf("owned transits %v", held)
	}
	// What ovn-ic learned, beside a route of the VPC's own.
	lr := lookupOne[nb.LogicalRouter](t, c, "vpc-v1")
	if _, err := c.Transact(ctx,
		ovsdb.Insert(&nb.LogicalRouterStaticRoute{IPPrefix: "10.2.0.1/24", Nexthop: "169.254.0.18", ExternalIDs: map[string]string{extLearnedRoute: "x"}}).WithNamedUUID("learned"),
		ovsdb.Insert(&nb.LogicalRouterStaticRoute{IPPrefix: "0.0.0.0/0", Nexthop: "10.0.0.1"}).WithNamedUUID("own"),
		ovsdb.Mutate(&nb.LogicalRouter{UUID: lr.UUID}, ovsdb.InsertValues("static_routes", []string{"learned", "own"})),
	); err != nil {
		t.Fatal(err)
	}
	// Unlink removes every row, gateway chassis and learned routes included, and keeps the
	// VPC's own route; a second unlink is a no-op.
	p, err = PlanUnlink(cache, o)
	apply(t, ctx, c, p, err)
	if n := cache.Len(nb.LogicalRouterStaticRouteTable); n != 1 {
		t.Fatalf("%d static routes left, want the VPC's own one", n)
	}
	for _, tb := range []string{nb.LogicalRouterPortTable, nb.LogicalSwitchPortTable, nb.GatewayChassisTable} {
		if n := cache.Len(tb); n != 0 {
			t.Fatalf("%d rows left in %s", n, tb)
		}
	}
	if p, err := PlanUnlink(cache, o); err != nil || !p.Empty() {
		t.Fatalf("second unlink: %v %v", p.Ops, err)
	}
}

func lookupOne[T any](t *testing.T, c *ovsdb.Client, name string) *T {
	t.Helper()
	rows, err := ovsdb.Lookup[T](c.Cache(), "name", name)
	if err != nil || len(rows) != 1 {
		t.Fatalf("lookup %s: %d rows, %v", name, len(rows), err)
	}
	return rows[0]
}

func gatewayRows(t *testing.T, c *ovsdb.Client, lrp string) map[string]*nb.GatewayChassis {
	t.Helper()
	out := map[string]*nb.GatewayChassis{}
	for _, id := range lookupOne[nb.LogicalRouterPort](t, c, lrp).GatewayChassis {
		gc, err := ovsdb.GetByUUID[nb.GatewayChassis](c.Cache(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[gc.ChassisName] = gc
	}
	return out
}
