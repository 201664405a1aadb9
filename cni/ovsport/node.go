package ovsport

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/vswitch"
)

// NodeConfig is what ovn-controller needs to know about this chassis, and how the
// integration bridge is built.
type NodeConfig struct {
	// SystemID is the chassis name: the Kubernetes node name, which the controller puts
	// in each port's options:requested-chassis.
	SystemID string
	// Hostname is the chassis hostname (default SystemID).
	Hostname string
	// OVNRemote is the southbound database address ovn-controller connects to.
	OVNRemote string
	// EncapType ("geneve") and EncapIP (this node's tunnel endpoint).
	EncapType, EncapIP string
	// DatapathType of br-int and of the bridges ovn-controller creates: "system" (kernel)
	// or "netdev" (userspace).
	DatapathType string
	// Interconn is external_ids:ovn-is-interconn, "true" on nodes that may be OVN
	// interconnect gateways (ovn-controller publishes it as the SB Chassis' is-interconn and
	// ovn-ic only shares such chassis with other zones). Empty leaves the key as it is.
	Interconn string
}

// externalIDs returns the Open_vSwitch external_ids ovn-controller reads (ovn-controller(8)).
func (c NodeConfig) externalIDs() map[string]string {
	host := c.Hostname
	if host == "" {
		host = c.SystemID
	}
	return map[string]string{
		"system-id":                c.SystemID,
		"hostname":                 host,
		"ovn-remote":               c.OVNRemote,
		"ovn-encap-type":           c.EncapType,
		"ovn-encap-ip":             c.EncapIP,
		"ovn-bridge-datapath-type": c.DatapathType,
		"ovn-is-interconn":         c.Interconn,
	}
}

// ConfigureNode writes the chassis configuration into the Open_vSwitch row (creating the
// row when ovsdb-server was started on an empty database) and creates the integration
// bridge when it is missing: datapath_type, fail_mode=secure (no flows but OVN's, even
// while ovn-controller is down) and other_config:disable-in-band=true (no hidden in-band
// control flows). It changes only what differs, so a daemon restart writes nothing.
//
// ovn-controller creates the bridge too when it starts first, and so may anyone running
// "ovs-vsctl init": the transaction is guarded by waits on what the cache showed, and when
// a guard fails (someone else wrote meanwhile) it is built again once our cache has seen
// that write.
func (s *Switch) ConfigureNode(ctx context.Context, cfg NodeConfig) error {
	const attempts = 20
	for i := 1; ; i++ {
		err := s.configureNode(ctx, cfg)
		if err == nil || !ovsdb.IsError(err, ovsdb.ErrTimedOut) || i == attempts {
			return err
		}
		// The monitor update for the winner's write arrives right after its commit.
		select {
		case <-ctx.Done():
			return fmt.Errorf("configure node %q: %w (last: %w)", cfg.SystemID, ctx.Err(), err)
		case <-time.After(time.Duration(i) * 20 * time.Millisecond):
		}
	}
}

func (s *Switch) configureNode(ctx context.Context, cfg NodeConfig) error {
	want := cfg.externalIDs()
	want["ovn-bridge"] = s.bridge
	for k, v := range want {
		if v == "" {
			delete(want, k)
		}
	}
	var ops []ovsdb.Operation
	rows, err := ovsdb.List[vswitch.OpenvSwitch](s.client.Cache(), nil)
	if err != nil {
		return fmt.Errorf("configure node %q: %w", cfg.SystemID, err)
	}
	ovsRow := "ovs"
	switch len(rows) {
	case 0:
		// "ovs-vsctl init" was never run. Insert the row, unless someone else just did.
		ops = append(ops,
			ovsdb.Wait(vswitch.OpenvSwitchTable, ovsdb.FuncEqual).WhereAll(),
			ovsdb.Insert(&vswitch.OpenvSwitch{ExternalIDs: want}).WithNamedUUID(ovsRow),
		)
	case 1:
		ovsRow = rows[0].UUID
		if changed := diffMap(rows[0].ExternalIDs, want); len(changed) > 0 {
			ops = append(ops, ovsdb.Mutate(&vswitch.OpenvSwitch{UUID: ovsRow},
				ovsdb.DeleteValues("external_ids", keys(changed)),
				ovsdb.InsertValues("external_ids", changed)))
		}
	default:
		return fmt.Errorf("configure node %q: %d Open_vSwitch rows", cfg.SystemID, len(rows))
	}

	br, err := lookupOne[vswitch.Bridge](s, "name", s.bridge)
	if err != nil {
		return fmt.Errorf("configure node %q: bridge %s: %w", cfg.SystemID, s.bridge, err)
	}
	secure := vswitch.BridgeFailModeSecure
	if br == nil {
		ops = append(ops,
			// Guard: ovn-controller creates br-int too when it starts first.
			ovsdb.Wait(vswitch.BridgeTable, ovsdb.FuncEqual).Where(ovsdb.Equal("name", s.bridge)),
			ovsdb.Insert(&vswitch.Interface{Name: s.bridge, Type: "internal"}).WithNamedUUID("brif"),
			ovsdb.Insert(&vswitch.Port{Name: s.bridge, Interfaces: []string{"brif"}}).WithNamedUUID("brport"),
			ovsdb.Insert(&vswitch.Bridge{
				Name:         s.bridge,
				DatapathType: cfg.DatapathType,
				FailMode:     &secure,
				OtherConfig:  map[string]string{"disable-in-band": "true"},
				Ports:        []string{"brport"},
				ExternalIDs:  map[string]string{KeyOwnerKind: OwnerKindNode, KeyOwner: cfg.SystemID},
			}).WithNamedUUID("br"),
			ovsdb.Mutate(&vswitch.OpenvSwitch{UUID: ovsRow}, ovsdb.InsertValues("bridges", []string{"br"})),
		)
	} else {
		if br.DatapathType != cfg.DatapathType || br.FailMode == nil || *br.FailMode != secure {
			ops = append(ops, ovsdb.Update(&vswitch.Bridge{UUID: br.UUID, DatapathType: cfg.DatapathType, FailMode: &secure},
				"datapath_type", "fail_mode"))
		}
		if br.OtherConfig["disable-in-band"] != "true" {
			ops = append(ops, ovsdb.Mutate(&vswitch.Bridge{UUID: br.UUID},
				ovsdb.DeleteValues("other_config", []string{"disable-in-band"}),
				ovsdb.InsertValues("other_config", map[string]string{"disable-in-band": "true"})))
		}
	}
	if len(ops) == 0 {
		return nil
	}
	if _, err := s.transact(ctx, fmt.Sprintf("configure node %q", cfg.SystemID), ops...); err != nil {
		return err
	}
	return nil
}

// BridgeReady reports whether the integration bridge exists.
func (s *Switch) BridgeReady() bool {
	br, err := lookupOne[vswitch.Bridge](s, "name", s.bridge)
	return err == nil && br != nil
}

// diffMap returns the pairs of want that cur lacks or holds with another value.
func diffMap(cur, want map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if cv, ok := cur[k]; !ok || cv != v {
			out[k] = v
		}
	}
	return out
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	return out
}
