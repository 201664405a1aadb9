package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/schema"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/vswitch"
)

// The lab writes the few rows that bootstrap a database (what `ovn-nbctl init` and
// `ovs-vsctl init` + `add-br` would do) with our own OVSDB client, in one transaction each,
// on databases it just created.

// transactOnce dials the database, runs one transaction and closes the connection.
func transactOnce(ctx context.Context, s *schema.Database, models []any, endpoint string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	dm, err := ovsdb.NewDatabaseModel(s, models...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := ovsdb.Dial(ctx, dm, endpoint, ovsdb.WithoutReconnect())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", endpoint, err)
	}
	defer c.Close()
	res, err := c.Transact(ctx, ops...)
	if err != nil {
		return nil, fmt.Errorf("transact on %s: %w", endpoint, err)
	}
	return res, nil
}

// initNorthbound inserts NB_Global with the availability zone name and route exchange over
// the interconnect enabled (both default to false; OVN-NOTES.md §1.3).
func initNorthbound(ctx context.Context, endpoint, az string) error {
	_, err := transactOnce(ctx, nb.Schema(), nb.Models(), endpoint,
		ovsdb.Wait(&nb.NBGlobal{}, "==").WhereAll().WithColumns("name"),
		ovsdb.Insert(&nb.NBGlobal{
			Name:    az,
			Options: map[string]string{"ic-route-adv": "true", "ic-route-learn": "true"},
		}))
	if err != nil {
		return fmt.Errorf("northbound %s: %w", az, err)
	}
	return nil
}

// initSouthbound inserts SB_Global (ovn-sbctl init).
func initSouthbound(ctx context.Context, endpoint string) error {
	_, err := transactOnce(ctx, sb.Schema(), sb.Models(), endpoint,
		ovsdb.Wait(&sb.SBGlobal{}, "==").WhereAll().WithColumns("options"),
		ovsdb.Insert(&sb.SBGlobal{}))
	if err != nil {
		return fmt.Errorf("southbound %s: %w", endpoint, err)
	}
	return nil
}

// initInterconnectNB inserts IC_NB_Global (ovn-ic-nbctl init).
func initInterconnectNB(ctx context.Context, endpoint string) error {
	_, err := transactOnce(ctx, icnb.Schema(), icnb.Models(), endpoint,
		ovsdb.Wait(&icnb.ICNBGlobal{}, "==").WhereAll().WithColumns("options"),
		ovsdb.Insert(&icnb.ICNBGlobal{}))
	if err != nil {
		return fmt.Errorf("interconnect northbound %s: %w", endpoint, err)
	}
	return nil
}

// initVswitch writes a node's Open_vSwitch row: the OVN chassis settings ovn-controller
// reads (system-id, ovn-remote, geneve encapsulation on the node IP, netdev datapath for
// the br-int it creates) and the netdev bridge br-phy that owns the uplink eth0 and carries
// the node IP on its internal port (OVN-NOTES.md §1.4).
//
// With the ycloud CNI, ycloud-cni writes the same chassis keys (DefaultCNIDaemonArgs passes
// it these values), finds them in place and adds only ovn-bridge; br-int is ovn-controller's
// and the daemon's. The lab still writes the row first: ovn-controller 23.03 started on a
// database without it never notices the row appearing later (cni/cnitest), and the daemon
// starts after ovn-controller. interconn writes ovn-is-interconn=true, for gateways the
// daemon does not label-drive (the reference CNI).
func initVswitch(ctx context.Context, n *NodeInfo, sbEndpoint string, interconn bool) error {
	internal := "internal"
	ids := map[string]string{
		"system-id":                 n.Name,
		"hostname":                  n.Name,
		"ovn-remote":                sbEndpoint,
		"ovn-encap-type":            "geneve",
		"ovn-encap-ip":              n.IP,
		"ovn-bridge-datapath-type":  "netdev",
		"ovn-monitor-all":           "true",
		"ovn-remote-probe-interval": "0",
	}
	if interconn {
		ids["ovn-is-interconn"] = "true"
	}
	ops := []ovsdb.Operation{
		ovsdb.Wait(&vswitch.OpenvSwitch{}, "==").WhereAll().WithColumns("external_ids"),
		ovsdb.Insert(&vswitch.Interface{Name: "br-phy", Type: internal}).WithNamedUUID("ifbrphy"),
		ovsdb.Insert(&vswitch.Port{Name: "br-phy", Interfaces: []string{"ifbrphy"}}).WithNamedUUID("portbrphy"),
		ovsdb.Insert(&vswitch.Interface{Name: "eth0"}).WithNamedUUID("ifeth0"),
		ovsdb.Insert(&vswitch.Port{Name: "eth0", Interfaces: []string{"ifeth0"}}).WithNamedUUID("porteth0"),
		ovsdb.Insert(&vswitch.Bridge{
			Name:         "br-phy",
			DatapathType: "netdev",
			Ports:        []string{"portbrphy", "porteth0"},
		}).WithNamedUUID("brphy"),
		ovsdb.Insert(&vswitch.OpenvSwitch{Bridges: []string{"brphy"}, ExternalIDs: ids}),
	}
	if _, err := transactOnce(ctx, vswitch.Schema(), vswitch.Models(), n.OVSDB, ops...); err != nil {
		return fmt.Errorf("node %s: open_vswitch: %w", n.Name, err)
	}
	return nil
}

// sbChassis lists the chassis names registered in a southbound database.
func sbChassis(ctx context.Context, endpoint string) ([]string, error) {
	res, err := transactOnce(ctx, sb.Schema(), sb.Models(), endpoint,
		ovsdb.Select(&sb.Chassis{}, "name").WhereAll())
	if err != nil {
		return nil, err
	}
	var rows []sb.Chassis
	dm, err := ovsdb.NewDatabaseModel(sb.Schema(), sb.Models()...)
	if err != nil {
		return nil, err
	}
	if err := dm.Decode(res[0].Rows, &rows); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(rows))
	for _, r := range rows {
		names = append(names, r.Name)
	}
	return names, nil
}
