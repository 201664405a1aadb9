package ovnnb

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
)

// ErrParentMissing means a row cannot be placed yet because the row it hangs from (a VPC's
// router for a subnet, a subnet's switch for a port) is not in NB. The caller requeues; the
// parent's own reconcile creates it and its cache event brings the child back.
var ErrParentMissing = errors.New("parent row not in the northbound database yet")

// Reader is the part of the client cache the planners read.
type Reader = *ovsdb.Cache

// Plan is the operations of one reconcile, plus named-uuid bookkeeping.
type Plan struct {
	Ops  []ovsdb.Operation
	next int
}

// Add appends operations to the plan.
func (p *Plan) Add(ops ...ovsdb.Operation) { p.Ops = append(p.Ops, ops...) }

// Named returns a fresh uuid-name for an insert in this plan.
func (p *Plan) Named(prefix string) string {
	p.next++
	return fmt.Sprintf("%s%d", prefix, p.next)
}

// Empty reports whether nothing needs to change.
func (p *Plan) Empty() bool { return len(p.Ops) == 0 }

// findOwned returns the rows named name, split into the one we keep (owned by o, oldest
// first) and the other owned duplicates, which are ours to delete. A same-named row that is
// not ours is reported as a conflict.
func findOwned[T any](c Reader, name string, o Owner, ids func(*T) map[string]string) (keep *T, dups []*T, err error) {
	rows, err := ovsdb.Lookup[T](c, "name", name)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		if !o.Owns(ids(r)) {
			return nil, nil, fmt.Errorf("row %q exists and is not owned by %s %q", name, o.Kind, o.Key)
		}
		if keep == nil {
			keep = r
		} else {
			dups = append(dups, r)
		}
	}
	return keep, dups, nil
}

// PlanRouter makes NB match a Vpc's RouterRows.
func PlanRouter(c Reader, want RouterRows, o Owner) (*Plan, error) {
	p := &Plan{}
	cur, dups, err := findOwned(c, want.Router.Name, o, func(r *nb.LogicalRouter) map[string]string { return r.ExternalIDs })
	if err != nil {
		return nil, err
	}
	for _, d := range dups {
		p.Add(ovsdb.Delete(&nb.LogicalRouter{UUID: d.UUID}))
	}
	if cur == nil {
		lr := want.Router
		for _, r := range want.Routes {
			n := p.Named("route")
			p.Add(ovsdb.Insert(ptr(r)).WithNamedUUID(n))
			lr.StaticRoutes = append(lr.StaticRoutes, n)
		}
		for _, pol := range want.Policies {
			n := p.Named("policy")
			p.Add(ovsdb.Insert(ptr(pol)).WithNamedUUID(n))
			lr.Policies = append(lr.Policies, n)
		}
		p.Add(ovsdb.Insert(&lr))
		return p, nil
	}
	ref := &nb.LogicalRouter{UUID: cur.UUID}
	if !maps.Equal(cur.ExternalIDs, want.Router.ExternalIDs) {
		u := *ref
		u.ExternalIDs = want.Router.ExternalIDs
		p.Add(ovsdb.Update(&u, "external_ids"))
	}
	// Routes and policies are matched by value: a changed route is a new row, and rows that
	// are not ours (ovn-ic's learned routes) are left alone.
	var add, del []string
	have := map[string]bool{}
	for _, id := range cur.StaticRoutes {
		r, err := ovsdb.GetByUUID[nb.LogicalRouterStaticRoute](c, id)
		if err != nil || !o.Owns(r.ExternalIDs) {
			continue
		}
		k := routeKey(r)
		if have[k] || !slices.ContainsFunc(want.Routes, func(w nb.LogicalRouterStaticRoute) bool { return routeKey(&w) == k }) {
			del = append(del, id)
			continue
		}
		have[k] = true
	}
	for _, w := range want.Routes {
		if !have[routeKey(&w)] {
			n := p.Named("route")
			p.Add(ovsdb.Insert(ptr(w)).WithNamedUUID(n))
			add = append(add, n)
		}
	}
	if len(del) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.DeleteValues("static_routes", del)))
	}
	if len(add) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.InsertValues("static_routes", add)))
	}

	add, del = nil, nil
	have = map[string]bool{}
	for _, id := range cur.Policies {
		r, err := ovsdb.GetByUUID[nb.LogicalRouterPolicy](c, id)
		if err != nil || !o.Owns(r.ExternalIDs) {
			continue
		}
		k := policyKey(r)
		if have[k] || !slices.ContainsFunc(want.Policies, func(w nb.LogicalRouterPolicy) bool { return policyKey(&w) == k }) {
			del = append(del, id)
			continue
		}
		have[k] = true
	}
	for _, w := range want.Policies {
		if !have[policyKey(&w)] {
			n := p.Named("policy")
			p.Add(ovsdb.Insert(ptr(w)).WithNamedUUID(n))
			add = append(add, n)
		}
	}
	if len(del) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.DeleteValues("policies", del)))
	}
	if len(add) > 0 {
		p.Add(ovsdb.Mutate(ref, ovsdb.InsertValues("policies", add)))
	}
	return p, nil
}

func routeKey(r *nb.LogicalRouterStaticRoute) string {
	pol := nb.LogicalRouterStaticRoutePolicyDstIP
	if r.Policy != nil {
		pol = *r.Policy
	}
	return r.IPPrefix + "|" + r.Nexthop + "|" + pol + "|" + r.RouteTable
}

func policyKey(r *nb.LogicalRouterPolicy) string {
	return fmt.Sprintf("%d|%s|%s|%v", r.Priority, r.Match, r.Action, r.Nexthops)
}

// PlanDeleteRouter removes every router owned by o. Its routes, policies and ports are
// non-root rows and go with it.
func PlanDeleteRouter(c Reader, o Owner) (*Plan, error) {
	p := &Plan{}
	rows, err := ovsdb.LookupExternalID[nb.LogicalRouter](c, KeyOwner, o.Key)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if o.Owns(r.ExternalIDs) {
			p.Add(ovsdb.Delete(&nb.LogicalRouter{UUID: r.UUID}))
		}
	}
	return p, nil
}

// PlanSwitch makes NB match a Subnet's SwitchRows; the VPC's router must exist.
func PlanSwitch(c Reader, want SwitchRows, routerName string, o Owner) (*Plan, error) {
	p := &Plan{}
	routers, err := ovsdb.Lookup[nb.LogicalRouter](c, "name", routerName)
	if err != nil {
		return nil, err
	}
	if len(routers) == 0 {
		return nil, fmt.Errorf("router %q: %w", routerName, ErrParentMissing)
	}
	lr := routers[0]

	ls, dups, err := findOwned(c, want.Switch.Name, o, func(r *nb.LogicalSwitch) map[string]string { return r.ExternalIDs })
	if err != nil {
		return nil, err
	}
	for _, d := range dups {
		p.Add(ovsdb.Delete(&nb.LogicalSwitch{UUID: d.UUID}))
	}

	// The router-type switch port.
	lspName := ""
	lspRef := ""
	if cur, err := lookupPort(c, want.SwitchPort.Name); err != nil {
		return nil, err
	} else if cur == nil || ls == nil || !slices.Contains(ls.Ports, cur.UUID) {
		lspName = p.Named("rport")
		p.Add(ovsdb.Insert(ptr(want.SwitchPort)).WithNamedUUID(lspName))
		lspRef = lspName
		if cur != nil {
			// A port of this name on another switch (left by a crash between transactions,
			// or tampering) would make the insert violate the name index: remove it first.
			p.Add(detachPort(c, cur)...)
		}
	} else if !portEqual(cur, &want.SwitchPort) {
		u := want.SwitchPort
		u.UUID = cur.UUID
		p.Add(ovsdb.Update(&u, "type", "addresses", "options", "external_ids"))
	}

	if ls == nil {
		sw := want.Switch
		if lspRef != "" {
			sw.Ports = []string{lspRef}
		}
		p.Add(ovsdb.Insert(&sw))
	} else {
		if !maps.Equal(ls.ExternalIDs, want.Switch.ExternalIDs) {
			u := nb.LogicalSwitch{UUID: ls.UUID, ExternalIDs: want.Switch.ExternalIDs}
			p.Add(ovsdb.Update(&u, "external_ids"))
		}
		if lspRef != "" {
			p.Add(ovsdb.Mutate(&nb.LogicalSwitch{UUID: ls.UUID}, ovsdb.InsertValues("ports", []string{lspRef})))
		}
	}

	// The router port on the VPC's router.
	lrps, err := ovsdb.Lookup[nb.LogicalRouterPort](c, "name", want.RouterPort.Name)
	if err != nil {
		return nil, err
	}
	var curLRP *nb.LogicalRouterPort
	if len(lrps) > 0 {
		curLRP = lrps[0]
	}
	switch {
	case curLRP == nil || !slices.Contains(lr.Ports, curLRP.UUID):
		if curLRP != nil {
			p.Add(detachRouterPort(c, curLRP)...)
		}
		n := p.Named("lrp")
		p.Add(ovsdb.Insert(ptr(want.RouterPort)).WithNamedUUID(n))
		p.Add(ovsdb.Mutate(&nb.LogicalRouter{UUID: lr.UUID}, ovsdb.InsertValues("ports", []string{n})))
	case curLRP.MAC != want.RouterPort.MAC || !sameSet(curLRP.Networks, want.RouterPort.Networks) || !maps.Equal(curLRP.ExternalIDs, want.RouterPort.ExternalIDs):
		u := want.RouterPort
		u.UUID = curLRP.UUID
		p.Add(ovsdb.Update(&u, "mac", "networks", "external_ids"))
	}
	return p, nil
}

// PlanDeleteSwitch removes a subnet's switch (its ports go with it) and its router port.
func PlanDeleteSwitch(c Reader, o Owner) (*Plan, error) {
	p := &Plan{}
	switches, err := ovsdb.LookupExternalID[nb.LogicalSwitch](c, KeyOwner, o.Key)
	if err != nil {
		return nil, err
	}
	for _, s := range switches {
		if o.Owns(s.ExternalIDs) {
			p.Add(ovsdb.Delete(&nb.LogicalSwitch{UUID: s.UUID}))
		}
	}
	lrps, err := ovsdb.LookupExternalID[nb.LogicalRouterPort](c, KeyOwner, o.Key)
	if err != nil {
		return nil, err
	}
	for _, l := range lrps {
		if o.Owns(l.ExternalIDs) {
			p.Add(detachRouterPort(c, l)...)
		}
	}
	return p, nil
}

// PlanPort makes NB hold a VIF port on the named switch.
func PlanPort(c Reader, want *nb.LogicalSwitchPort, switchName string) (*Plan, error) {
	p := &Plan{}
	switches, err := ovsdb.Lookup[nb.LogicalSwitch](c, "name", switchName)
	if err != nil {
		return nil, err
	}
	if len(switches) == 0 {
		return nil, fmt.Errorf("switch %q: %w", switchName, ErrParentMissing)
	}
	ls := switches[0]
	cur, err := lookupPort(c, want.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case cur == nil || !slices.Contains(ls.Ports, cur.UUID):
		if cur != nil {
			p.Add(detachPort(c, cur)...)
		}
		n := p.Named("lsp")
		p.Add(ovsdb.Insert(want).WithNamedUUID(n))
		p.Add(ovsdb.Mutate(&nb.LogicalSwitch{UUID: ls.UUID}, ovsdb.InsertValues("ports", []string{n})))
	case !portEqual(cur, want):
		u := *want
		u.UUID = cur.UUID
		p.Add(ovsdb.Update(&u, "type", "addresses", "port_security", "options", "external_ids"))
	}
	return p, nil
}

// PlanDeletePort removes a port by name; a missing port is not an error.
func PlanDeletePort(c Reader, name string) (*Plan, error) {
	p := &Plan{}
	cur, err := lookupPort(c, name)
	if err != nil || cur == nil {
		return p, err
	}
	p.Add(detachPort(c, cur)...)
	return p, nil
}

func lookupPort(c Reader, name string) (*nb.LogicalSwitchPort, error) {
	rows, err := ovsdb.Lookup[nb.LogicalSwitchPort](c, "name", name)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// detachPort removes a switch port from every switch that references it; the server then
// garbage-collects the unreferenced non-root row.
func detachPort(c Reader, lsp *nb.LogicalSwitchPort) []ovsdb.Operation {
	var ops []ovsdb.Operation
	switches, _ := ovsdb.List[nb.LogicalSwitch](c, func(s *nb.LogicalSwitch) bool { return slices.Contains(s.Ports, lsp.UUID) })
	for _, s := range switches {
		ops = append(ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: s.UUID}, ovsdb.DeleteValues("ports", []string{lsp.UUID})))
	}
	return ops
}

func detachRouterPort(c Reader, lrp *nb.LogicalRouterPort) []ovsdb.Operation {
	var ops []ovsdb.Operation
	routers, _ := ovsdb.List[nb.LogicalRouter](c, func(r *nb.LogicalRouter) bool { return slices.Contains(r.Ports, lrp.UUID) })
	for _, r := range routers {
		ops = append(ops, ovsdb.Mutate(&nb.LogicalRouter{UUID: r.UUID}, ovsdb.DeleteValues("ports", []string{lrp.UUID})))
	}
	return ops
}

func portEqual(a, b *nb.LogicalSwitchPort) bool {
	return a.Type == b.Type && sameSet(a.Addresses, b.Addresses) && sameSet(a.PortSecurity, b.PortSecurity) &&
		maps.Equal(a.Options, b.Options) && maps.Equal(a.ExternalIDs, b.ExternalIDs)
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
