package ic

import (
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
)

// Route exchange switches of NB_Global.options (ovn-nb(5)); both default to false.
const (
	optRouteAdv   = "ic-route-adv"
	optRouteLearn = "ic-route-learn"
)

// PlanAZ returns the operations that make NB_Global name this availability zone and turn on
// route advertisement and learning; none when it already does. cur nil means NB_Global does
// not exist yet (nobody ran "ovn-nbctl init"): it is inserted under a wait so that two
// writers cannot create two.
//
// Route exchange is switched on for the whole AZ, which is safe because ovn-ic only
// advertises and learns on routers that have a port on a transit switch, and only among the
// routers of the same transit switch: a VPC that is not federated takes no part, and
// tenants never share a transit switch (see the package documentation).
//
// options is shared with ovn-northd, which writes its own keys there (mac_prefix,
// svc_monitor_mac, ...), so our two keys are replaced with a delete-then-insert mutation
// that leaves every other key alone, rather than by rewriting the map.
func PlanAZ(cur *nb.NBGlobal, az string) []ovsdb.Operation {
	want := map[string]string{optRouteAdv: "true", optRouteLearn: "true"}
	if cur == nil {
		return []ovsdb.Operation{
			ovsdb.Wait(&nb.NBGlobal{}, ovsdb.FuncEqual).WhereAll(),
			ovsdb.Insert(&nb.NBGlobal{Name: az, Options: want}),
		}
	}
	var ops []ovsdb.Operation
	ref := &nb.NBGlobal{UUID: cur.UUID}
	if cur.Name != az {
		u := *ref
		u.Name = az
		ops = append(ops, ovsdb.Update(&u, "name"))
	}
	if cur.Options[optRouteAdv] != "true" || cur.Options[optRouteLearn] != "true" {
		ops = append(ops, ovsdb.Mutate(ref,
			ovsdb.DeleteValues("options", []string{optRouteAdv, optRouteLearn}),
			ovsdb.InsertValues("options", want)))
	}
	return ops
}
