package lab

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// With the ycloud CNI a spoke runs our data path:
//
//	ycloud-controller (root netns)        ycloud-cni + ycloud plugin (each node)
//	  pods  -> allocation annotation  ->    ADD: veth, OVS port iface-id=<LSP>, waits for
//	           + LSP (requested-chassis        ovn-installed
//	             = node name)
//	  nodes -> join-allocation         ->    management port ycloud0 (LSP node-<node>) with
//	           + LSP node-<node>               routes to the default subnet
//
// OVS external_ids:system-id is the Kubernetes node name on every node (initVswitch, and the
// daemon writes the same), so ovn-controller claims exactly the ports the controller pins
// to its node.

// waitDataPath waits until a spoke's data path can take pods: ycloud-controller has synced
// and made the default subnets, every node's ycloud-cni is healthy (Open_vSwitch
// connected, br-int there, pod informer synced), and every node's management port is
// bound by its ovn-controller (LSP node-<node> up in the northbound database).
func (l *Lab) waitDataPath(ctx context.Context, ci *ClusterInfo) error {
	if l.cfg.CNI != CNIYcloud || l.cfg.Controller.Disabled || l.cfg.CNIDaemon.Disabled {
		return nil
	}
	ctrl := l.processesNamed("/ycloud-controller", []*NodeInfo{{Name: ci.Name}})
	var watch *Process
	if len(ctrl) > 0 {
		watch = ctrl[0]
	}
	if ci.ControllerHealthPort != 0 {
		url := "http://127.0.0.1:" + strconv.Itoa(ci.ControllerHealthPort) + "/readyz"
		if err := poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "cluster "+ci.Name+" ycloud-controller "+url, watch, func() (bool, string) {
			if err := httpHealth(ctx, url); err != nil {
				return false, err.Error()
			}
			return true, ""
		}); err != nil {
			return err
		}
	}
	daemons := l.processesNamed("/ycloud-cni", ci.Nodes)
	for _, n := range ci.Nodes {
		if n.CNIHealthPort == 0 {
			continue
		}
		url := cniHealthURL(n)
		if err := poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "node "+n.Name+" ycloud-cni "+url, nil, func() (bool, string) {
			for _, p := range daemons {
				if !p.Alive() {
					return false, deadErr(p).Error()
				}
			}
			if err := httpHealth(ctx, url); err != nil {
				return false, err.Error()
			}
			return true, ""
		}); err != nil {
			return err
		}
	}
	ports := make([]string, 0, len(ci.Nodes))
	for _, n := range ci.Nodes {
		ports = append(ports, ovnnb.NodePortName(n.Name))
	}
	return poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "cluster "+ci.Name+" management ports up", watch, func() (bool, string) {
		up, err := nbPortsUp(ctx, ci.NB, ports)
		if err != nil {
			return false, err.Error()
		}
		var down []string
		for _, p := range ports {
			if !up[p] {
				down = append(down, p)
			}
		}
		if len(down) > 0 {
			return false, "logical switch ports not up (bound by ovn-controller): " + strings.Join(down, ", ")
		}
		return true, ""
	})
}

// cniHealthURL is where a node's ycloud-cni answers /healthz (reachable from the root
// namespace through the underlay).
func cniHealthURL(n *NodeInfo) string {
	return "http://" + net.JoinHostPort(n.IP, strconv.Itoa(n.CNIHealthPort)) + "/healthz"
}

// nbPortsUp reads the up column of the named logical switch ports (absent ports are
// missing from the map).
func nbPortsUp(ctx context.Context, endpoint string, names []string) (map[string]bool, error) {
	ops := make([]ovsdb.Operation, 0, len(names))
	for _, name := range names {
		ops = append(ops, ovsdb.Select(&nb.LogicalSwitchPort{}, "name", "up").Where(ovsdb.Equal("name", name)))
	}
	res, err := transactOnce(ctx, nb.Schema(), nb.Models(), endpoint, ops...)
	if err != nil {
		return nil, err
	}
	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range ops {
		var rows []nb.LogicalSwitchPort
		if err := dm.Decode(res[i].Rows, &rows); err != nil {
			return nil, fmt.Errorf("decode logical switch ports: %w", err)
		}
		for _, r := range rows {
			out[r.Name] = r.Up != nil && *r.Up
		}
	}
	return out, nil
}

// waitBridge waits until ovs-vswitchd has created an OVS bridge's internal device in the
// node (ovn-controller creates br-int when it starts).
func waitBridge(ctx context.Context, n *NodeInfo, bridge string, watch *Process) error {
	return poll(ctx, 30*time.Second, 50*time.Millisecond, "node "+n.Name+" "+bridge, watch, func() (bool, string) {
		return linkExistsIn(ctx, n.NetNS, bridge), "ovn-controller has not created " + bridge
	})
}
