package ic

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// ErrRouterMissing means the VPC's logical router is not in NB yet: ycloud-controller
// creates it, and its cache event brings the VPC back.
var ErrRouterMissing = errors.New("vpc router not in the northbound database yet")

// ErrTransitNotInAZ means ovn-ic has not copied the transit switch into this AZ's NB yet.
var ErrTransitNotInAZ = errors.New("transit switch not in this availability zone's northbound database yet")

// Plan is the spoke's NB plan type: the operations of one reconcile, one transaction.
type Plan = ovnnb.Plan

// TransitCopy returns this AZ's copy of transit switch ts (made by ovn-ic), or nil.
func TransitCopy(c *ovsdb.Cache, ts string) (*nb.LogicalSwitch, error) {
	rows, err := ovsdb.Lookup[nb.LogicalSwitch](c, "name", ts)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.OtherConfig[otherInterconnTS] == ts {
			return r, nil
		}
	}
	return nil, nil
}

// PlanLink makes NB hold want and removes every other interconnect row of the same owner
// (a VPC whose federation moved to another transit switch). Columns other writers use are
// preserved: ovn-ic writes options:requested-tnl-key on transit switch ports, so options
// are merged, never replaced.
func PlanLink(c *ovsdb.Cache, want Link, o ovnnb.Owner) (*Plan, error) {
	p := &Plan{}
	routers, err := ovsdb.Lookup[nb.LogicalRouter](c, "name", want.Router)
	if err != nil {
		return nil, err
	}
	if len(routers) == 0 {
		return nil, fmt.Errorf("router %q: %w", want.Router, ErrRouterMissing)
	}
	lr := routers[0]
	ts, err := TransitCopy(c, want.Transit)
	if err != nil {
		return nil, err
	}
	if ts == nil {
		return nil, fmt.Errorf("transit switch %q: %w", want.Transit, ErrTransitNotInAZ)
	}
	if err := dropOthers(c, p, o, want.RouterPort.Name, want.SwitchPort.Name); err != nil {
		return nil, err
	}
	if withholdGateways(c, lr, ts, want) {
		want.Gateways = nil
	}
	if err := planRouterPort(c, p, lr, want); err != nil {
		return nil, err
	}
	if err := planSwitchPort(c, p, ts, want.SwitchPort); err != nil {
		return nil, err
	}
	return p, nil
}

// withholdGateways reports whether a new link must wait for its gateway chassis: until
// ovn-ic has given the transit switch and our port on it the tunnel keys all AZs share
// (other_config / options requested-tnl-key), ovn-northd runs them on keys of its own and
// then changes them. ovn-controller 23.03 does not follow a tunnel key change of a
// datapath or port it already has flows for (fixed upstream later by "northd, controller:
// Handle tunnel_key change consistently"); a gateway chassis bound meanwhile kept dropping
// the other AZ's packets until something forced a recompute. Without gateway chassis no
// chassis has the transit datapath, so nothing is installed on the interim keys; the
// LSP/LS update from ovn-ic brings the reconcile back (events.go). A port that already
// has gateways keeps them whatever happens to the keys.
func withholdGateways(c *ovsdb.Cache, lr *nb.LogicalRouter, ts *nb.LogicalSwitch, want Link) bool {
	return !keysSettled(c, ts, want.SwitchPort.Name) && !hasGateways(c, lr, want.RouterPort.Name)
}

// keysSettled reports whether ovn-ic has given transit switch ts and its port name their
// shared tunnel keys.
func keysSettled(c *ovsdb.Cache, ts *nb.LogicalSwitch, name string) bool {
	if ts.OtherConfig[optRequestedTnlKey] == "" {
		return false
	}
	lsps, err := ovsdb.Lookup[nb.LogicalSwitchPort](c, "name", name)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(lsps, func(l *nb.LogicalSwitchPort) bool {
		return slices.Contains(ts.Ports, l.UUID) && l.Options[optRequestedTnlKey] != ""
	})
}

// hasGateways reports whether router lr's port name exists with gateway chassis.
func hasGateways(c *ovsdb.Cache, lr *nb.LogicalRouter, name string) bool {
	lrps, err := ovsdb.Lookup[nb.LogicalRouterPort](c, "name", name)
	if err != nil {
		return false
	}
	for _, l := range lrps {
		if slices.Contains(lr.Ports, l.UUID) && len(l.GatewayChassis) > 0 {
			return true
		}
	}
	return false
}

// PlanUnlink removes every interconnect row owned by o: router ports (their gateway
// chassis rows go with them) and transit switch ports; and the routes ovn-ic learned into
// the VPC's router, unless the router is still on a transit switch through a port that is
// not ours. ovn-ic only maintains learned routes of routers it finds through their
// transit switch ports, so once the port is gone it never removes them (ovn-ic 23.03),
// and they would point at a next hop the router cannot reach any more. Absent rows are
// not an error.
func PlanUnlink(c *ovsdb.Cache, o ovnnb.Owner) (*Plan, error) {
	p := &Plan{}
	if err := dropOthers(c, p, o, "", ""); err != nil {
		return nil, err
	}
	lrs, err := ovsdb.Lookup[nb.LogicalRouter](c, "name", ovnnb.RouterName(o.Key))
	if err != nil {
		return nil, err
	}
	for _, lr := range lrs {
		if onTransitOtherwise(c, lr, o) {
			continue
		}
		var learned []string
		for _, id := range lr.StaticRoutes {
			if r, err := ovsdb.GetByUUID[nb.LogicalRouterStaticRoute](c, id); err == nil && r.ExternalIDs[extLearnedRoute] != "" {
				learned = append(learned, id)
			}
		}
		if len(learned) > 0 {
			p.Add(ovsdb.Mutate(&nb.LogicalRouter{UUID: lr.UUID}, ovsdb.DeleteValues("static_routes", learned)))
		}
	}
	return p, nil
}

// onTransitOtherwise reports whether router lr has a port on a transit switch copy that o
// does not own (someone attached it by hand).
func onTransitOtherwise(c *ovsdb.Cache, lr *nb.LogicalRouter, o ovnnb.Owner) bool {
	names := map[string]bool{}
	for _, id := range lr.Ports {
		if lrp, err := ovsdb.GetByUUID[nb.LogicalRouterPort](c, id); err == nil && !o.Owns(lrp.ExternalIDs) {
			names[lrp.Name] = true
		}
	}
	if len(names) == 0 {
		return false
	}
	transits, _ := ovsdb.List[nb.LogicalSwitch](c, func(s *nb.LogicalSwitch) bool { return s.OtherConfig[otherInterconnTS] != "" })
	for _, ts := range transits {
		for _, id := range ts.Ports {
			if lsp, err := ovsdb.GetByUUID[nb.LogicalSwitchPort](c, id); err == nil &&
				lsp.Type == nb.LogicalSwitchPortTypeRouter && names[lsp.Options[optRouterPort]] {
				return true
			}
		}
	}
	return false
}

// OwnedTransits returns the transit switches o's rows are attached to, with the switch
// port names (from which the held address is known to IC-NB claims).
func OwnedTransits(c *ovsdb.Cache, o ovnnb.Owner) ([]string, error) {
	lsps, err := ovsdb.LookupExternalID[nb.LogicalSwitchPort](c, ovnnb.KeyOwner, o.Key)
	if err != nil {
		return nil, err
	}
	lrps, err := ovsdb.LookupExternalID[nb.LogicalRouterPort](c, ovnnb.KeyOwner, o.Key)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range lsps {
		if o.Owns(l.ExternalIDs) && l.ExternalIDs[KeyTransitSwitch] != "" {
			out = append(out, l.ExternalIDs[KeyTransitSwitch])
		}
	}
	for _, l := range lrps {
		if o.Owns(l.ExternalIDs) && l.ExternalIDs[KeyTransitSwitch] != "" {
			out = append(out, l.ExternalIDs[KeyTransitSwitch])
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// dropOthers detaches o's router and switch ports other than the named ones.
func dropOthers(c *ovsdb.Cache, p *Plan, o ovnnb.Owner, keepLRP, keepLSP string) error {
	lrps, err := ovsdb.LookupExternalID[nb.LogicalRouterPort](c, ovnnb.KeyOwner, o.Key)
	if err != nil {
		return err
	}
	for _, l := range lrps {
		if o.Owns(l.ExternalIDs) && l.Name != keepLRP {
			p.Add(detachRouterPort(c, l.UUID)...)
		}
	}
	lsps, err := ovsdb.LookupExternalID[nb.LogicalSwitchPort](c, ovnnb.KeyOwner, o.Key)
	if err != nil {
		return err
	}
	for _, l := range lsps {
		if o.Owns(l.ExternalIDs) && l.Name != keepLSP {
			p.Add(detachSwitchPort(c, l.UUID)...)
		}
	}
	return nil
}

func planRouterPort(c *ovsdb.Cache, p *Plan, lr *nb.LogicalRouter, want Link) error {
	lrps, err := ovsdb.Lookup[nb.LogicalRouterPort](c, "name", want.RouterPort.Name)
	if err != nil {
		return err
	}
	var cur *nb.LogicalRouterPort
	for _, l := range lrps {
		if slices.Contains(lr.Ports, l.UUID) {
			cur = l
		}
	}
	if cur == nil {
		// A port of that name elsewhere (a crash between transactions, tampering) would make
		// the insert violate the name index: detach it first, the server collects it.
		for _, l := range lrps {
			p.Add(detachRouterPort(c, l.UUID)...)
		}
		lrp := want.RouterPort
		for _, gc := range want.Gateways {
			n := p.Named("gc")
			p.Add(ovsdb.Insert(&gc).WithNamedUUID(n))
			lrp.GatewayChassis = append(lrp.GatewayChassis, n)
		}
		n := p.Named("lrp")
		p.Add(ovsdb.Insert(&lrp).WithNamedUUID(n))
		p.Add(ovsdb.Mutate(&nb.LogicalRouter{UUID: lr.UUID}, ovsdb.InsertValues("ports", []string{n})))
		return nil
	}
	opts := mergeOptions(cur.Options, want.RouterPort.Options, optGatewayMTU)
	if cur.MAC != want.RouterPort.MAC || !sameSet(cur.Networks, want.RouterPort.Networks) ||
		!maps.Equal(cur.ExternalIDs, want.RouterPort.ExternalIDs) || !maps.Equal(cur.Options, opts) {
		u := want.RouterPort
		u.UUID = cur.UUID
		u.Options = opts
		p.Add(ovsdb.Update(&u, "mac", "networks", "external_ids", "options"))
	}
	return planGateways(c, p, cur, want.Gateways)
}

// planGateways matches the port's Gateway_Chassis rows to the wanted ones by chassis:
// priorities are updated in place (a row per chassis keeps its identity, so a reordering
// is one atomic change that ovn-northd sees at once), missing chassis are inserted and
// extra ones dropped.
func planGateways(c *ovsdb.Cache, p *Plan, lrp *nb.LogicalRouterPort, want []nb.GatewayChassis) error {
	have := map[string]*nb.GatewayChassis{}
	var drop []string
	for _, id := range lrp.GatewayChassis {
		gc, err := ovsdb.GetByUUID[nb.GatewayChassis](c, id)
		if err != nil {
			if errors.Is(err, ovsdb.ErrNotFound) {
				drop = append(drop, id)
				continue
			}
			return err
		}
		if have[gc.ChassisName] != nil || !slices.ContainsFunc(want, func(w nb.GatewayChassis) bool { return w.ChassisName == gc.ChassisName }) {
			drop = append(drop, id)
			continue
		}
		have[gc.ChassisName] = gc
	}
	var add []string
	for _, w := range want {
		cur := have[w.ChassisName]
		if cur == nil {
			n := p.Named("gc")
			p.Add(ovsdb.Insert(&w).WithNamedUUID(n))
			add = append(add, n)
			continue
		}
		if cur.Priority != w.Priority || cur.Name != w.Name || !maps.Equal(cur.ExternalIDs, w.ExternalIDs) {
			u := w
			u.UUID = cur.UUID
			p.Add(ovsdb.Update(&u, "name", "priority", "external_ids"))
		}
	}
	ref := &nb.LogicalRouterPort{UUID: lrp.UUID}
	if len(drop) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.DeleteValues("gateway_chassis", drop)))
	}
	if len(add) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.InsertValues("gateway_chassis", add)))
	}
	return nil
}

func planSwitchPort(c *ovsdb.Cache, p *Plan, ts *nb.LogicalSwitch, want nb.LogicalSwitchPort) error {
	lsps, err := ovsdb.Lookup[nb.LogicalSwitchPort](c, "name", want.Name)
	if err != nil {
		return err
	}
	var cur *nb.LogicalSwitchPort
	for _, l := range lsps {
		if slices.Contains(ts.Ports, l.UUID) {
			cur = l
		}
	}
	if cur == nil {
		for _, l := range lsps {
			p.Add(detachSwitchPort(c, l.UUID)...)
		}
		n := p.Named("lsp")
		p.Add(ovsdb.Insert(&want).WithNamedUUID(n))
		p.Add(ovsdb.Mutate(&nb.LogicalSwitch{UUID: ts.UUID}, ovsdb.InsertValues("ports", []string{n})))
		return nil
	}
	opts := mergeOptions(cur.Options, want.Options, optRouterPort)
	if cur.Type != want.Type || !sameSet(cur.Addresses, want.Addresses) || !maps.Equal(cur.Options, opts) ||
		!maps.Equal(cur.ExternalIDs, want.ExternalIDs) {
		u := want
		u.UUID = cur.UUID
		u.Options = opts
		p.Add(ovsdb.Update(&u, "type", "addresses", "options", "external_ids"))
	}
	return nil
}

// mergeOptions returns cur with the keys we manage set as in want (removed when want
// lacks them); other keys belong to other writers and are kept.
func mergeOptions(cur, want map[string]string, ours ...string) map[string]string {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]string{}
	}
	for _, k := range ours {
		if v, ok := want[k]; ok {
			out[k] = v
		} else {
			delete(out, k)
		}
	}
	return out
}

func detachRouterPort(c *ovsdb.Cache, id string) []ovsdb.Operation {
	var ops []ovsdb.Operation
	routers, _ := ovsdb.List[nb.LogicalRouter](c, func(r *nb.LogicalRouter) bool { return slices.Contains(r.Ports, id) })
	for _, r := range routers {
		ops = append(ops, ovsdb.Mutate(&nb.LogicalRouter{UUID: r.UUID}, ovsdb.DeleteValues("ports", []string{id})))
	}
	return ops
}

func detachSwitchPort(c *ovsdb.Cache, id string) []ovsdb.Operation {
	var ops []ovsdb.Operation
	switches, _ := ovsdb.List[nb.LogicalSwitch](c, func(s *nb.LogicalSwitch) bool { return slices.Contains(s.Ports, id) })
	for _, s := range switches {
		ops = append(ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: s.UUID}, ovsdb.DeleteValues("ports", []string{id})))
	}
	return ops
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
