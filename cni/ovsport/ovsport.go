// Package ovsport configures the node's local Open vSwitch through OVSDB (package
// internal/ovsdb, never ovs-vsctl): the Open_vSwitch row that tells ovn-controller who
// this chassis is, the integration bridge, and one OVS port per pod interface (and the
// node's management port), each with the external_ids ovn-controller binds by and the
// QoS of package qos.
//
// Ownership is data: every port, QoS and queue row this package creates carries
// ycloud.io/owner-kind and ycloud.io/owner (plus, for pod ports, the sandbox id, pod UID,
// interface name and netns path). That is the daemon's only persistent state: after a
// restart it reads its ports back from OVS (Ports), so nothing is stored elsewhere and
// nothing about running pods has to be redone.
//
// Every change is one OVSDB transaction; the client's cache (fed by monitors on the few
// tables and columns used here) answers reads and is up to date when Transact returns,
// because the server sends the updates a transaction causes before its reply.
package ovsport

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/vswitch"
)

// external_ids keys. iface-id and attached-mac are OVN's (ovn-controller(8),
// ovn-architecture(7)); ovn-installed is written by ovn-controller once the port's flows
// are in place. The ycloud.io keys are ours.
const (
	KeyIfaceID      = "iface-id"
	KeyAttachedMAC  = "attached-mac"
	KeyOVNInstalled = "ovn-installed"

	KeyOwnerKind = "ycloud.io/owner-kind"
	KeyOwner     = "ycloud.io/owner"
	KeyPodUID    = "ycloud.io/pod-uid"
	KeyIfName    = "ycloud.io/ifname"
	KeySandbox   = "ycloud.io/sandbox"
	KeyNetns     = "ycloud.io/netns"
	KeyNicType   = "ycloud.io/nic-type"
	// KeyPort marks QoS and Queue rows with the port they belong to.
	KeyPort = "ycloud.io/port"

	// OwnerKindPod owns pod interface ports (owner "namespace/name").
	OwnerKindPod = "Pod"
	// OwnerKindNode owns the management port (owner: the node name).
	OwnerKindNode = "Node"
)

// Switch is the node's Open vSwitch, seen through one OVSDB connection.
type Switch struct {
	client *ovsdb.Client
	bridge string
	log    *slog.Logger

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every monitored change
}

// Dial connects to the local Open_vSwitch database (e.g. "unix:/var/run/openvswitch/
// db.sock"), starts the monitors and returns once the cache holds the current content.
// bridge is the integration bridge's name (br-int).
func Dial(ctx context.Context, endpoint, bridge string, log *slog.Logger) (*Switch, error) {
	dm, err := ovsdb.NewDatabaseModel(vswitch.Schema(), vswitch.Models()...)
	if err != nil {
		return nil, fmt.Errorf("open_vswitch model: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := ovsdb.Dial(ctx, dm, endpoint,
		ovsdb.WithLogger(log),
		// A local unix socket: reconnect fast after an ovsdb-server restart.
		ovsdb.WithReconnect(50*time.Millisecond, 2*time.Second),
		ovsdb.WithIndex(vswitch.BridgeTable, "name"),
		ovsdb.WithIndex(vswitch.PortTable, "name"),
		ovsdb.WithIndex(vswitch.InterfaceTable, "name"),
		ovsdb.WithExternalIDIndex(vswitch.InterfaceTable, KeySandbox),
		ovsdb.WithExternalIDIndex(vswitch.InterfaceTable, KeyOwner),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to open_vswitch %s: %w", endpoint, err)
	}
	s := &Switch{client: c, bridge: bridge, log: log, changed: make(chan struct{})}
	for _, table := range []string{vswitch.OpenvSwitchTable, vswitch.BridgeTable, vswitch.PortTable, vswitch.InterfaceTable} {
		if err := c.Cache().AddHandler(table, ovsdb.Handler{
			OnAdd:    func(any) { s.notify() },
			OnUpdate: func(any, any) { s.notify() },
			OnDelete: func(any) { s.notify() },
		}); err != nil {
			c.Close()
			return nil, err
		}
	}
	// Only the columns used here: vswitchd rewrites Interface statistics and status every
	// few seconds, and those updates would be pure noise.
	if _, err := c.Monitor(ctx,
		ovsdb.TableMonitor{Table: vswitch.OpenvSwitchTable, Columns: []string{"bridges", "external_ids"}},
		ovsdb.TableMonitor{Table: vswitch.BridgeTable, Columns: []string{"name", "ports", "datapath_type", "fail_mode", "other_config", "external_ids"}},
		ovsdb.TableMonitor{Table: vswitch.PortTable, Columns: []string{"name", "interfaces", "qos", "external_ids"}},
		ovsdb.TableMonitor{Table: vswitch.InterfaceTable, Columns: []string{"name", "type", "external_ids", "ofport", "ifindex", "error", "mac", "mtu_request", "ingress_policing_rate", "ingress_policing_burst"}},
		ovsdb.TableMonitor{Table: vswitch.QoSTable, Columns: []string{"type", "queues", "external_ids"}},
		ovsdb.TableMonitor{Table: vswitch.QueueTable, Columns: []string{"other_config", "external_ids"}},
	); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor open_vswitch %s: %w", endpoint, err)
	}
	return s, nil
}

// Close disconnects.
func (s *Switch) Close() { s.client.Close() }

// Bridge returns the integration bridge's name.
func (s *Switch) Bridge() string { return s.bridge }

// Connected reports whether the OVSDB connection is up.
func (s *Switch) Connected() bool { return s.client.Endpoint() != "" }

func (s *Switch) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Changed returns a channel that is closed at the next change of the monitored tables.
func (s *Switch) Changed() <-chan struct{} { return s.changes() }

func (s *Switch) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// waitFor returns when cond holds on the cache, re-evaluating it after every change of
// the monitored tables, or fails when ctx ends.
func (s *Switch) waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		// Take the channel before evaluating: a change that lands in between closes it.
		ch := s.changes()
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// lookupOne returns the row of type T whose indexed column equals value, or nil.
func lookupOne[T any](s *Switch, column, value string) (*T, error) {
	rows, err := ovsdb.Lookup[T](s.client.Cache(), column, value)
	if err != nil {
		return nil, err
	}
	switch len(rows) {
	case 0:
		return nil, nil
	case 1:
		return rows[0], nil
	default:
		return nil, fmt.Errorf("%d rows with %s %q", len(rows), column, value)
	}
}

func (s *Switch) transact(ctx context.Context, what string, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	res, err := s.client.Transact(ctx, ops...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return res, nil
}
