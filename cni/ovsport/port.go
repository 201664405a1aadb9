package ovsport

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/ycloud-sdn/ycloud/cni/qos"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/vswitch"
)

// ErrPortNotFound is returned for a port OVS does not have.
var ErrPortNotFound = errors.New("ovs port not found")

// PortSpec describes one port on the integration bridge. Port and interface share the
// name, which is also the Linux device's.
type PortSpec struct {
	Name string
	// Type is the interface type: "" for an existing Linux device (a veth end) or
	// "internal" for a device OVS creates (the management port).
	Type string
	// IfaceID is the OVN logical switch port the interface binds to.
	IfaceID string
	// MAC is the MAC behind the port (external_ids:attached-mac); for an internal port
	// OVS also gives the device that MAC.
	MAC string
	// MTU of an internal port's device (mtu_request); 0 leaves the default.
	MTU int
	// ExternalIDs are added to the interface's (owner, sandbox, pod, ...).
	ExternalIDs map[string]string
	// QoS of the port.
	QoS qos.OVS
}

// PortInfo is one port as OVS has it.
type PortInfo struct {
	Name    string
	IfaceID string
	// ExternalIDs are the interface's.
	ExternalIDs map[string]string
	QoS         qos.OVS
	// Ofport is the OpenFlow port number: 0 until vswitchd has opened the device, -1
	// when it failed (see Error).
	Ofport int
	// Ifindex is the kernel's index of the device (0 when unknown); it changes when the
	// device is recreated, e.g. an internal port after a vswitchd restart.
	Ifindex int
	Error   string
	// Installed reports ovn-controller's external_ids:ovn-installed=true.
	Installed bool
}

// portNames are the uuid-names used inside one transaction.
const (
	nIface = "iface"
	nPort  = "port"
	nQoS   = "qos"
	nQueue = "queue0"
)

// AddPort attaches spec's device to the integration bridge in one transaction: the
// interface with its external_ids and policing, the port, and its HTB QoS with queue 0.
// A port of the same name (left by an attempt that crashed, or a device recreated under
// the same name) is replaced in the same transaction, so AddPort is safe to repeat.
func (s *Switch) AddPort(ctx context.Context, spec PortSpec) error {
	what := fmt.Sprintf("add port %s (iface-id %s)", spec.Name, spec.IfaceID)
	var ops []ovsdb.Operation
	old, err := lookupOne[vswitch.Port](s, "name", spec.Name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if old != nil {
		ops = append(ops, s.deletePortOps(old)...)
	}
	ext := map[string]string{KeyIfaceID: spec.IfaceID}
	if spec.MAC != "" {
		ext[KeyAttachedMAC] = spec.MAC
	}
	maps.Copy(ext, spec.ExternalIDs)
	iface := &vswitch.Interface{
		Name:                 spec.Name,
		Type:                 spec.Type,
		ExternalIDs:          ext,
		IngressPolicingRate:  spec.QoS.PolicingRate,
		IngressPolicingBurst: spec.QoS.PolicingBurst,
	}
	if spec.Type == "internal" {
		if spec.MAC != "" {
			iface.MAC = &spec.MAC
		}
		if spec.MTU > 0 {
			iface.MTURequest = &spec.MTU
		}
	}
	port := &vswitch.Port{
		Name:       spec.Name,
		Interfaces: []string{nIface},
		ExternalIDs: map[string]string{
			KeyOwnerKind: spec.ExternalIDs[KeyOwnerKind],
			KeyOwner:     spec.ExternalIDs[KeyOwner],
		},
	}
	if spec.QoS.MaxRate > 0 {
		ops = append(ops, insertHTBOps(spec.Name, spec.QoS)...)
		q := nQoS
		port.QoS = &q
	}
	ops = append(ops,
		// Fail rather than leave root rows (QoS, Queue) behind when the bridge is missing.
		ovsdb.Wait(vswitch.BridgeTable, ovsdb.FuncNotEqual).Where(ovsdb.Equal("name", s.bridge)),
		ovsdb.Insert(iface).WithNamedUUID(nIface),
		ovsdb.Insert(port).WithNamedUUID(nPort),
		ovsdb.Mutate(&vswitch.Bridge{}, ovsdb.InsertValues("ports", []string{nPort})).Where(ovsdb.Equal("name", s.bridge)),
	)
	_, err = s.transact(ctx, what, ops...)
	return err
}

// insertHTBOps creates the linux-htb QoS of a port with queue 0 as q says, as uuid-names
// nQoS and nQueue.
func insertHTBOps(port string, q qos.OVS) []ovsdb.Operation {
	owner := map[string]string{KeyPort: port}
	return []ovsdb.Operation{
		ovsdb.Insert(&vswitch.Queue{
			OtherConfig: q.QueueConfig(),
			ExternalIDs: owner,
		}).WithNamedUUID(nQueue),
		ovsdb.Insert(&vswitch.QoS{
			Type:        qos.HTBType,
			Queues:      map[int]string{0: nQueue},
			ExternalIDs: owner,
		}).WithNamedUUID(nQoS),
	}
}

// deletePortOps removes a port, its interfaces and the QoS rows we made for it (QoS and
// Queue are root tables: nothing garbage-collects them).
func (s *Switch) deletePortOps(p *vswitch.Port) []ovsdb.Operation {
	ops := []ovsdb.Operation{
		ovsdb.Mutate(&vswitch.Bridge{}, ovsdb.DeleteValues("ports", []string{p.UUID})).Where(ovsdb.Equal("name", s.bridge)),
		ovsdb.Delete(&vswitch.Port{UUID: p.UUID}),
	}
	for _, id := range p.Interfaces {
		ops = append(ops, ovsdb.Delete(&vswitch.Interface{UUID: id}))
	}
	if p.QoS != nil {
		ops = append(ops, s.deleteQoSOps(*p.QoS, p.Name)...)
	}
	return ops
}

// deleteQoSOps deletes QoS row id and its queues, when we made them for port.
func (s *Switch) deleteQoSOps(id, port string) []ovsdb.Operation {
	q, err := ovsdb.GetByUUID[vswitch.QoS](s.client.Cache(), id)
	if err != nil || q.ExternalIDs[KeyPort] != port {
		return nil
	}
	ops := []ovsdb.Operation{ovsdb.Delete(&vswitch.QoS{UUID: id})}
	for _, qid := range q.Queues {
		ops = append(ops, ovsdb.Delete(&vswitch.Queue{UUID: qid}))
	}
	return ops
}

// DelPort removes a port with its QoS rows. A missing port is success.
func (s *Switch) DelPort(ctx context.Context, name string) error {
	p, err := lookupOne[vswitch.Port](s, "name", name)
	if err != nil {
		return fmt.Errorf("delete port %s: %w", name, err)
	}
	if p == nil {
		return nil
	}
	// Deleting by UUID rows that are already gone (GC and DEL racing on one sandbox)
	// matches nothing and is not an error.
	_, err = s.transact(ctx, "delete port "+name, s.deletePortOps(p)...)
	return err
}

// SetQoS brings a port's QoS to q, touching only what differs.
func (s *Switch) SetQoS(ctx context.Context, name string, q qos.OVS) error {
	what := fmt.Sprintf("set qos of port %s", name)
	iface, err := lookupOne[vswitch.Interface](s, "name", name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	port, err := lookupOne[vswitch.Port](s, "name", name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if iface == nil || port == nil {
		return fmt.Errorf("%s: %w", what, ErrPortNotFound)
	}
	var ops []ovsdb.Operation
	if iface.IngressPolicingRate != q.PolicingRate || iface.IngressPolicingBurst != q.PolicingBurst {
		ops = append(ops, ovsdb.Update(&vswitch.Interface{UUID: iface.UUID,
			IngressPolicingRate: q.PolicingRate, IngressPolicingBurst: q.PolicingBurst},
			"ingress_policing_rate", "ingress_policing_burst"))
	}
	cur, queue := s.htbOf(port)
	switch {
	case q.MaxRate == 0 && port.QoS != nil:
		ops = append(ops, ovsdb.Update(&vswitch.Port{UUID: port.UUID}, "qos"))
		ops = append(ops, s.deleteQoSOps(*port.QoS, name)...)
	case q.MaxRate > 0 && queue != nil && (cur.MaxRate != q.MaxRate || cur.Burst != q.Burst):
		other := maps.Clone(queue.OtherConfig)
		if other == nil {
			other = map[string]string{}
		}
		maps.Copy(other, q.QueueConfig())
		ops = append(ops, ovsdb.Update(&vswitch.Queue{UUID: queue.UUID, OtherConfig: other}, "other_config"))
	case q.MaxRate > 0 && queue == nil:
		// No QoS, or one that is not ours to edit: give the port a fresh one.
		ops = append(ops, insertHTBOps(name, q)...)
		qn := nQoS
		ops = append(ops, ovsdb.Update(&vswitch.Port{UUID: port.UUID, QoS: &qn}, "qos"))
		if port.QoS != nil {
			ops = append(ops, s.deleteQoSOps(*port.QoS, name)...)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	_, err = s.transact(ctx, what, ops...)
	return err
}

// htbOf returns the max-rate and burst of queue 0 of port's QoS, and that queue, when the
// QoS is a linux-htb we made; zero and nil otherwise.
func (s *Switch) htbOf(port *vswitch.Port) (qos.OVS, *vswitch.Queue) {
	var o qos.OVS
	if port.QoS == nil {
		return o, nil
	}
	q, err := ovsdb.GetByUUID[vswitch.QoS](s.client.Cache(), *port.QoS)
	if err != nil || q.Type != qos.HTBType || q.ExternalIDs[KeyPort] != port.Name {
		return o, nil
	}
	qid, ok := q.Queues[0]
	if !ok {
		return o, nil
	}
	queue, err := ovsdb.GetByUUID[vswitch.Queue](s.client.Cache(), qid)
	if err != nil {
		return o, nil
	}
	o.FromQueueConfig(queue.OtherConfig)
	return o, queue
}

// Port returns a port by name, or ErrPortNotFound.
func (s *Switch) Port(name string) (*PortInfo, error) {
	iface, err := lookupOne[vswitch.Interface](s, "name", name)
	if err != nil {
		return nil, fmt.Errorf("port %s: %w", name, err)
	}
	if iface == nil {
		return nil, fmt.Errorf("port %s: %w", name, ErrPortNotFound)
	}
	return s.info(iface), nil
}

func (s *Switch) info(iface *vswitch.Interface) *PortInfo {
	pi := &PortInfo{
		Name:        iface.Name,
		IfaceID:     iface.ExternalIDs[KeyIfaceID],
		ExternalIDs: iface.ExternalIDs,
		Installed:   iface.ExternalIDs[KeyOVNInstalled] == "true",
		QoS:         qos.OVS{PolicingRate: iface.IngressPolicingRate, PolicingBurst: iface.IngressPolicingBurst},
	}
	if iface.Ofport != nil {
		pi.Ofport = *iface.Ofport
	}
	if iface.Ifindex != nil {
		pi.Ifindex = *iface.Ifindex
	}
	if iface.Error != nil {
		pi.Error = *iface.Error
	}
	if port, err := lookupOne[vswitch.Port](s, "name", iface.Name); err == nil && port != nil {
		htb, _ := s.htbOf(port)
		pi.QoS.MaxRate, pi.QoS.Burst = htb.MaxRate, htb.Burst
	}
	return pi
}

// infos describes the ports of interfaces.
func (s *Switch) infos(ifaces []*vswitch.Interface) []*PortInfo {
	out := make([]*PortInfo, 0, len(ifaces))
	for _, i := range ifaces {
		out = append(out, s.info(i))
	}
	return out
}

// PortsOwnedBy lists the ports whose interface has ycloud.io/owner-kind kind.
func (s *Switch) PortsOwnedBy(kind string) ([]*PortInfo, error) {
	ifaces, err := ovsdb.List(s.client.Cache(), func(i *vswitch.Interface) bool {
		return i.ExternalIDs[KeyOwnerKind] == kind
	})
	if err != nil {
		return nil, fmt.Errorf("list %s ports: %w", kind, err)
	}
	return s.infos(ifaces), nil
}

// PortsOf lists the ports of one owner (a pod "namespace/name", or a node).
func (s *Switch) PortsOf(owner string) ([]*PortInfo, error) {
	ifaces, err := ovsdb.LookupExternalID[vswitch.Interface](s.client.Cache(), KeyOwner, owner)
	if err != nil {
		return nil, fmt.Errorf("ports of %s: %w", owner, err)
	}
	return s.infos(ifaces), nil
}

// PortsOfSandbox lists the ports of one sandbox (container id).
func (s *Switch) PortsOfSandbox(id string) ([]*PortInfo, error) {
	ifaces, err := ovsdb.LookupExternalID[vswitch.Interface](s.client.Cache(), KeySandbox, id)
	if err != nil {
		return nil, fmt.Errorf("ports of sandbox %.12s: %w", id, err)
	}
	return s.infos(ifaces), nil
}

// WaitInstalled returns once ovn-controller has marked the port's interface
// ovn-installed=true, which it does after the port is bound to this chassis and its
// flows are in place: from then on the pod's traffic flows. It fails early when the
// interface disappears or vswitchd cannot open its device.
func (s *Switch) WaitInstalled(ctx context.Context, name string) error {
	err := s.waitFor(ctx, func() (bool, error) {
		iface, err := lookupOne[vswitch.Interface](s, "name", name)
		if err != nil {
			return false, err
		}
		if iface == nil {
			return false, ErrPortNotFound
		}
		if iface.Ofport != nil && *iface.Ofport == -1 && iface.Error != nil {
			return false, fmt.Errorf("vswitchd: %s", *iface.Error)
		}
		return iface.ExternalIDs[KeyOVNInstalled] == "true", nil
	})
	if err != nil {
		return fmt.Errorf("wait for ovn-controller to install port %s: %w", name, err)
	}
	return nil
}

// WaitOfport returns the port's OpenFlow number once vswitchd has opened its device
// (for an internal port: created it).
func (s *Switch) WaitOfport(ctx context.Context, name string) (int, error) {
	var ofport int
	err := s.waitFor(ctx, func() (bool, error) {
		iface, err := lookupOne[vswitch.Interface](s, "name", name)
		if err != nil {
			return false, err
		}
		if iface == nil {
			return false, ErrPortNotFound
		}
		if iface.Ofport == nil {
			return false, nil
		}
		if *iface.Ofport == -1 && iface.Error != nil {
			return false, fmt.Errorf("vswitchd: %s", *iface.Error)
		}
		ofport = *iface.Ofport
		return ofport > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("wait for vswitchd to open port %s: %w", name, err)
	}
	return ofport, nil
}

// CollectQoS deletes QoS and Queue rows we made (ycloud.io/port) that no port uses any
// more: left when someone removed a port behind our back (ovs-vsctl del-port), since
// both are root tables. It returns how many rows it deleted.
func (s *Switch) CollectQoS(ctx context.Context) (int, error) {
	used := map[string]bool{}
	ports, err := ovsdb.List[vswitch.Port](s.client.Cache(), nil)
	if err != nil {
		return 0, err
	}
	for _, p := range ports {
		if p.QoS != nil {
			used[*p.QoS] = true
		}
	}
	qoss, err := ovsdb.List(s.client.Cache(), func(q *vswitch.QoS) bool { return q.ExternalIDs[KeyPort] != "" })
	if err != nil {
		return 0, err
	}
	usedQueue := map[string]bool{}
	var ops []ovsdb.Operation
	for _, q := range qoss {
		if used[q.UUID] {
			for _, qid := range q.Queues {
				usedQueue[qid] = true
			}
			continue
		}
		ops = append(ops, ovsdb.Delete(&vswitch.QoS{UUID: q.UUID}))
	}
	queues, err := ovsdb.List(s.client.Cache(), func(q *vswitch.Queue) bool { return q.ExternalIDs[KeyPort] != "" })
	if err != nil {
		return 0, err
	}
	for _, q := range queues {
		if !usedQueue[q.UUID] {
			ops = append(ops, ovsdb.Delete(&vswitch.Queue{UUID: q.UUID}))
		}
	}
	if len(ops) == 0 {
		return 0, nil
	}
	if _, err := s.transact(ctx, "collect unused qos rows", ops...); err != nil {
		return 0, err
	}
	return len(ops), nil
}
