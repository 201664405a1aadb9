package ic

import (
	"maps"
	"net/netip"
	"strings"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
)

// Transit switches live in the global IC-NB, which every spoke's ycloud-ic writes. There is
// no lock and no leader across clusters, so every write is one transaction whose outcome
// does not depend on who else writes at the same time:
//
//   - creating a switch is "wait until no row has this name, insert": the first spoke wins,
//     the others' transactions abort and they join the winner's row (the name column is
//     also a unique index, which would refuse a duplicate anyway);
//   - joining is "insert my claim pair into external_ids, then wait until the row includes
//     my pair": a map insert never replaces an existing key, so when another AZ holds that
//     address the wait fails and the whole transaction is void; the AZ then probes on;
//   - leaving deletes only our own pair (a map delete of key and value), and the last AZ
//     out deletes the switch under a wait that external_ids are still exactly what it saw
//     empty of claims, so a spoke joining meanwhile keeps the switch alive;
//   - two AZs leaving at once both see the other's claim and leave the switch behind
//     with none: any AZ that does not use it deletes such an abandoned switch (PlanReap),
//     under the same kind of wait.
//
// ovn-ic copies each transit switch into every AZ's northbound database (as a
// Logical_Switch with other_config:interconn-ts) and removes the copies when the row goes.

// TransitSpec is what one AZ wants on one transit switch.
type TransitSpec struct {
	Name string
	AZ   string
	Addr netip.Addr
	// IDs are the ownership external_ids a switch is created with.
	IDs map[string]string
}

// PlanClaim returns the IC-NB operations that make cur (nil: no switch of that name
// exists) hold spec's claim, dropping any other claim of spec.AZ on it; none when it
// already does. The operations abort the transaction when another AZ created the switch
// or took the address first: re-read and choose again.
func PlanClaim(cur *icnb.TransitSwitch, spec TransitSpec) []ovsdb.Operation {
	key, az := claimKey(spec.Addr.String()), spec.AZ
	if cur == nil {
		ids := maps.Clone(spec.IDs)
		if ids == nil {
			ids = map[string]string{}
		}
		ids[key] = az
		return []ovsdb.Operation{
			ovsdb.Wait(&icnb.TransitSwitch{}, ovsdb.FuncEqual).Where(ovsdb.Equal("name", spec.Name)),
			ovsdb.Insert(&icnb.TransitSwitch{Name: spec.Name, ExternalIDs: ids}),
		}
	}
	var stale []string
	for k, v := range cur.ExternalIDs {
		if v == az && k != key && strings.HasPrefix(k, keyClaimPrefix) {
			stale = append(stale, k)
		}
	}
	if cur.ExternalIDs[key] == az && len(stale) == 0 {
		return nil
	}
	ref := &icnb.TransitSwitch{UUID: cur.UUID}
	var ops []ovsdb.Operation
	if len(stale) > 0 {
		del := map[string]string{}
		for _, k := range stale {
			del[k] = az
		}
		ops = append(ops, ovsdb.Mutate(ref, ovsdb.DeleteValues("external_ids", del)))
	}
	return append(ops,
		ovsdb.Mutate(ref, ovsdb.InsertValues("external_ids", map[string]string{key: az})),
		// Abort unless the pair is ours now: a concurrent claim of the same address by
		// another AZ made the insert a no-op, and a concurrent delete of the switch made
		// the mutate match nothing.
		ovsdb.Wait(&icnb.TransitSwitch{}, ovsdb.FuncEqual, &icnb.TransitSwitch{Name: spec.Name}).
			Where(ovsdb.Equal("_uuid", cur.UUID), ovsdb.Includes("external_ids", map[string]string{key: az})).
			WithColumns("name"),
	)
}

// PlanRelease returns the IC-NB operations that drop az's claims on cur and, when no claim
// of any AZ is left and the switch is ours (deleteOwned returns true for its ids), delete
// the switch; none when az holds nothing there.
func PlanRelease(cur *icnb.TransitSwitch, az string, deleteOwned func(map[string]string) bool) []ovsdb.Operation {
	if cur == nil {
		return nil
	}
	mine := map[string]string{}
	after := maps.Clone(cur.ExternalIDs)
	others := 0
	for k, v := range cur.ExternalIDs {
		if !strings.HasPrefix(k, keyClaimPrefix) {
			continue
		}
		if v == az {
			mine[k] = v
			delete(after, k)
		} else {
			others++
		}
	}
	if len(mine) == 0 {
		return nil
	}
	ref := &icnb.TransitSwitch{UUID: cur.UUID}
	if others > 0 || deleteOwned == nil || !deleteOwned(cur.ExternalIDs) {
		return []ovsdb.Operation{ovsdb.Mutate(ref, ovsdb.DeleteValues("external_ids", mine))}
	}
	// The last one out: delete the switch, unless someone joined since our cache saw it.
	return []ovsdb.Operation{
		ovsdb.Wait(&icnb.TransitSwitch{}, ovsdb.FuncEqual, &icnb.TransitSwitch{ExternalIDs: cur.ExternalIDs}).
			Where(ovsdb.Equal("_uuid", cur.UUID)).WithColumns("external_ids"),
		ovsdb.Delete(ref),
	}
}

// PlanReap returns the IC-NB operations that delete cur when it is abandoned: ours (owned
// returns true for its ids) and without any claim. Two AZs that leave at the same moment
// each see the other's claim and drop only their own, which leaves such a switch behind;
// every AZ's ycloud-ic then tries this, guarded by a wait that the row is unchanged (one
// wins, and a spoke joining meanwhile keeps the switch).
func PlanReap(cur *icnb.TransitSwitch, owned func(map[string]string) bool) []ovsdb.Operation {
	if cur == nil || len(ParseClaims(cur.ExternalIDs)) > 0 || owned == nil || !owned(cur.ExternalIDs) {
		return nil
	}
	return []ovsdb.Operation{
		ovsdb.Wait(&icnb.TransitSwitch{}, ovsdb.FuncEqual, &icnb.TransitSwitch{ExternalIDs: cur.ExternalIDs}).
			Where(ovsdb.Equal("_uuid", cur.UUID)).WithColumns("external_ids"),
		ovsdb.Delete(&icnb.TransitSwitch{UUID: cur.UUID}),
	}
}

// usedAddresses returns the transit addresses other AZs' ports use on ts, from IC-SB
// Port_Binding rows, keyed by address with the holder's AZ row UUID.
func usedAddresses(pbs []*icsb.PortBinding, ts, azUUID string) map[netip.Addr]string {
	out := map[netip.Addr]string{}
	for _, pb := range pbs {
		if pb.TransitSwitch != ts || pb.AvailabilityZone == azUUID {
			continue
		}
		for _, a := range ParsePortAddress(pb.Address) {
			out[a] = pb.AvailabilityZone
		}
	}
	return out
}
