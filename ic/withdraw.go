package ic

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
)

// Route withdrawal.
//
// ovn-ic (23.03) advertises a router's routes for each transit switch port the router has,
// and it finds those routers through this AZ's IC-SB Port_Binding rows. When a VPC leaves a
// transit switch that other AZs still use, ovn-ic deletes the port binding first and then
// never visits the router again, so the Route rows it advertised stay in IC-SB and every
// other AZ keeps the learned routes - pointing into a port that no longer exists (measured
// here: the learned route survived indefinitely). It only cleans routes up when the whole
// transit switch is deleted.
//
// So ycloud-ic finishes the withdrawal itself: once IC-SB holds no port binding of this AZ
// on a transit switch, the Route rows of this AZ on that switch are stale by definition and
// are deleted, in one transaction guarded by a wait that the port binding is still absent
// (a VPC re-joining in the meantime makes ovn-ic create it first, and then the routes are
// ovn-ic's again). The other AZs' ovn-ic then drop the learned routes on their own.

// PlanWithdraw returns the IC-SB operations that delete this AZ's routes on transit switch
// ts when this AZ has no port binding there; none when there is nothing stale.
func PlanWithdraw(c *ovsdb.Cache, ts, azUUID string) ([]ovsdb.Operation, error) {
	if azUUID == "" {
		return nil, nil
	}
	pbs, err := ovsdb.Lookup[icsb.PortBinding](c, "transit_switch", ts)
	if err != nil {
		return nil, err
	}
	for _, pb := range pbs {
		if pb.AvailabilityZone == azUUID {
			return nil, nil
		}
	}
	routes, err := ovsdb.Lookup[icsb.Route](c, "transit_switch", ts)
	if err != nil {
		return nil, err
	}
	var ops []ovsdb.Operation
	for _, r := range routes {
		if r.AvailabilityZone == azUUID {
			ops = append(ops, ovsdb.Delete(&icsb.Route{UUID: r.UUID}))
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	guard := ovsdb.Wait(&icsb.PortBinding{}, ovsdb.FuncEqual).
		Where(ovsdb.Equal("transit_switch", ts), ovsdb.Equal("availability_zone", azUUID))
	return append([]ovsdb.Operation{guard}, ops...), nil
}

// withdrawStale deletes this AZ's stale routes on ts (see PlanWithdraw).
func (r *reconciler) withdrawStale(ctx context.Context, ts string) error {
	ops, err := PlanWithdraw(r.dbs.icsb.Cache(), ts, r.azUUID())
	if err != nil || len(ops) == 0 {
		return err
	}
	if err := r.transact(ctx, r.dbs.icsb, ops); err != nil {
		if isRaceLost(err) {
			return nil // the port binding is back: the routes are ovn-ic's again
		}
		return fmt.Errorf("withdraw routes of %s on transit switch %q: %w", r.az, ts, err)
	}
	log.FromContext(ctx).Info("withdrew stale advertised routes", "transitSwitch", ts, "routes", len(ops)-1)
	return nil
}

// withdrawAll runs withdrawStale for every transit switch this AZ has routes on.
func (r *reconciler) withdrawAll(ctx context.Context) error {
	az := r.azUUID()
	if az == "" {
		return nil
	}
	routes, err := ovsdb.List[icsb.Route](r.dbs.icsb.Cache(), func(rt *icsb.Route) bool { return rt.AvailabilityZone == az })
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		if seen[rt.TransitSwitch] {
			continue
		}
		seen[rt.TransitSwitch] = true
		if err := r.withdrawStale(ctx, rt.TransitSwitch); err != nil {
			return err
		}
	}
	return nil
}

// janitorLoop handles the transit switches the IC-NB and IC-SB handlers point at: this
// AZ's port binding left one or this AZ has routes on one (stale routes are withdrawn),
// or its claims changed (an abandoned switch is deleted). It runs on the leader only.
func (r *reconciler) janitorLoop(ctx context.Context) error {
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ts := <-r.janitor:
			if err := r.withdrawStale(ctx, ts); err != nil {
				log.FromContext(ctx).Error(err, "route withdrawal")
			}
			if err := r.reapAbandoned(ctx, ts); err != nil {
				log.FromContext(ctx).Error(err, "abandoned transit switch")
			}
		}
	}
}
