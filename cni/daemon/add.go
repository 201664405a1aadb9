package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/ovsport"
	"github.com/ycloud-sdn/ycloud/cni/qos"
)

// cleanupTimeout bounds the rollback of a failed ADD, which runs after the request's own
// context may have ended.
const cleanupTimeout = 15 * time.Second

// add plumbs one pod interface. Every step after the NIC exists is undone by the deferred
// cleanup unless the whole ADD succeeds, so a failed or timed-out ADD leaves nothing for
// the runtime's retry to trip over.
func (d *Daemon) add(ctx context.Context, c *call) (_ *current.Result, err error) {
	unlock := d.locks.lock(c.ContainerID)
	defer unlock()

	waitStart := time.Now()
	pod, alloc, err := d.pods.waitAllocation(ctx, c)
	if err != nil {
		return nil, err
	}
	allocated := time.Now()
	d.metrics.allocWait.Observe(allocated.Sub(waitStart).Seconds())
	limits, err := qos.FromAnnotations(pod.Annotations, c.IfName)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", c.podKey(), err)
	}
	mtu := alloc.MTU
	if mtu == 0 {
		mtu = d.cfg.MTU
	}
	req := &nic.Request{
		ContainerID: c.ContainerID,
		Netns:       c.Netns,
		IfName:      c.IfName,
		HostIfName:  nic.HostIfName(c.ContainerID, c.IfName),
		Allocation:  alloc,
		MTU:         mtu,
	}
	n, err := d.nicFor(alloc.NicType)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", c.podKey(), err)
	}
	d.removeStaleSandboxes(ctx, c)

	res, err := n.Add(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", c.podKey(), err)
	}
	defer func() {
		if err == nil {
			return
		}
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if derr := d.sw.DelPort(cctx, req.HostIfName); derr != nil {
			d.log.Error("rollback: delete port", "port", req.HostIfName, "err", derr)
		}
		if derr := n.Del(cctx, req); derr != nil {
			d.log.Error("rollback: delete nic", "port", req.HostIfName, "err", derr)
		}
	}()
	if d.cfg.DatapathType == "netdev" && limits.Egress > 0 {
		if err := n.SetEgressLimit(ctx, req, limits.Egress); err != nil {
			return nil, err
		}
	}
	err = d.sw.AddPort(ctx, ovsport.PortSpec{
		Name:    req.HostIfName,
		IfaceID: alloc.LogicalSwitchPort,
		MAC:     res.PodMAC,
		ExternalIDs: map[string]string{
			ovsport.KeyOwnerKind: ovsport.OwnerKindPod,
			ovsport.KeyOwner:     c.podKey(),
			ovsport.KeyPodUID:    string(pod.UID),
			ovsport.KeyIfName:    c.IfName,
			ovsport.KeySandbox:   c.ContainerID,
			ovsport.KeyNetns:     c.Netns,
			ovsport.KeyNicType:   string(nicType(alloc.NicType)),
		},
		QoS: limits.ToOVS(),
	})
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", c.podKey(), err)
	}
	installStart := time.Now()
	if err := d.sw.WaitInstalled(ctx, req.HostIfName); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w (is ovn-controller running, and is logical switch port %s bound to chassis %s?)",
				errTransient, err, alloc.LogicalSwitchPort, d.cfg.NodeName)
		}
		return nil, fmt.Errorf("pod %s: %w", c.podKey(), err)
	}
	d.metrics.installWait.Observe(time.Since(installStart).Seconds())
	// Only now can the announcement leave the node.
	if err := n.Announce(ctx, req); err != nil {
		d.log.Warn("announce pod addresses", "pod", c.podKey(), "err", err)
	}
	d.log.Info("pod interface added", "pod", c.podKey(), "ifname", c.IfName, "port", req.HostIfName,
		"lsp", alloc.LogicalSwitchPort, "ips", alloc.IPs, "allocationWait", allocated.Sub(waitStart).Round(time.Millisecond),
		"plumbing", installStart.Sub(allocated).Round(time.Millisecond), "installWait", time.Since(installStart).Round(time.Millisecond))
	return buildResult(c, alloc, res, mtu), nil
}

// nicType defaults an empty type to veth.
func nicType(t iaasv1.NicType) iaasv1.NicType {
	if t == "" {
		return iaasv1.NicTypeVeth
	}
	return t
}

// removeStaleSandboxes deletes ports of the same pod interface left by an older sandbox
// the runtime never DELeted: two OVS interfaces claiming one logical port would fight
// over the binding.
func (d *Daemon) removeStaleSandboxes(ctx context.Context, c *call) {
	ports, err := d.sw.PortsOf(c.podKey())
	if err != nil {
		return
	}
	for _, p := range ports {
		if p.ExternalIDs[ovsport.KeyIfName] != c.IfName || p.ExternalIDs[ovsport.KeySandbox] == c.ContainerID {
			continue
		}
		// Not under the other sandbox's lock: two sandboxes of one pod ADDing at once would
		// otherwise deadlock. Both deletions are idempotent.
		if err := d.sw.DelPort(ctx, p.Name); err != nil {
			d.log.Warn("remove port of stale sandbox", "port", p.Name, "err", err)
			continue
		}
		if n, err := d.nicFor(iaasv1.NicType(p.ExternalIDs[ovsport.KeyNicType])); err == nil {
			_ = n.Del(ctx, portRequest(p))
		}
		d.metrics.portsDeleted.WithLabelValues("stale-sandbox").Inc()
		d.log.Info("removed port of a stale sandbox", "pod", c.podKey(), "port", p.Name, "sandbox", short(p.ExternalIDs[ovsport.KeySandbox]))
	}
}

// del removes one pod interface. Idempotent: nothing found is success. It needs neither
// the apiserver nor the pod's namespace.
func (d *Daemon) del(ctx context.Context, c *call) error {
	unlock := d.locks.lock(c.ContainerID)
	defer unlock()
	ports, err := d.sw.PortsOfSandbox(c.ContainerID)
	if err != nil {
		return err
	}
	// The derived veth name is tried too: the OVS port may be gone (deleted by hand, or
	// an ADD that crashed before attaching) while the device is not.
	type target struct {
		name    string
		nicType iaasv1.NicType
	}
	targets := []target{{nic.HostIfName(c.ContainerID, c.IfName), iaasv1.NicTypeVeth}}
	for _, p := range ports {
		if p.ExternalIDs[ovsport.KeyIfName] != c.IfName {
			continue
		}
		t := target{p.Name, nicType(iaasv1.NicType(p.ExternalIDs[ovsport.KeyNicType]))}
		if !slices.Contains(targets, t) {
			targets = append(targets, t)
		}
	}
	var errs []error
	for _, t := range targets {
		if err := d.sw.DelPort(ctx, t.name); err != nil {
			errs = append(errs, err)
			continue
		}
		n, err := d.nicFor(t.nicType)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, n.Del(ctx, &nic.Request{ContainerID: c.ContainerID, Netns: c.Netns, IfName: c.IfName, HostIfName: t.name}))
	}
	return errors.Join(errs...)
}

// check verifies one pod interface: the allocation is still the pod's, the NIC matches
// it, the OVS port carries the right iface-id and ovn-controller has installed it.
func (d *Daemon) check(ctx context.Context, c *call) error {
	if !d.pods.synced() {
		return fmt.Errorf("%w: pod informer not synced", errTransient)
	}
	_, alloc, why := d.pods.allocation(c)
	if alloc == nil {
		return fmt.Errorf("pod %s interface %s: %s", c.podKey(), c.IfName, why)
	}
	mtu := alloc.MTU
	if mtu == 0 {
		mtu = d.cfg.MTU
	}
	host := nic.HostIfName(c.ContainerID, c.IfName)
	port, err := d.sw.Port(host)
	if err != nil {
		return fmt.Errorf("pod %s interface %s: %w", c.podKey(), c.IfName, err)
	}
	if port.IfaceID != alloc.LogicalSwitchPort {
		return fmt.Errorf("port %s has iface-id %q, the allocation says %q", host, port.IfaceID, alloc.LogicalSwitchPort)
	}
	if !port.Installed {
		return fmt.Errorf("port %s (iface-id %s) is not installed by ovn-controller", host, port.IfaceID)
	}
	if ips, err := prevResultIPs(c.conf); err != nil {
		return err
	} else if len(ips) > 0 {
		for _, p := range alloc.IPs {
			if !slices.Contains(ips, p.String()) {
				return fmt.Errorf("prevResult lacks %s of the allocation (has %v)", p, ips)
			}
		}
	}
	n, err := d.nicFor(alloc.NicType)
	if err != nil {
		return err
	}
	return n.Check(ctx, &nic.Request{ContainerID: c.ContainerID, Netns: c.Netns, IfName: c.IfName,
		HostIfName: host, Allocation: alloc, MTU: mtu})
}

// gc implements CNI GC: every pod port whose (sandbox, interface) is not among the
// runtime's valid attachments is removed.
func (d *Daemon) gc(ctx context.Context, c *call) error {
	valid := map[[2]string]bool{}
	for _, a := range c.conf.ValidAttachments {
		valid[[2]string{a.ContainerID, a.IfName}] = true
	}
	ports, err := d.sw.PortsOwnedBy(ovsport.OwnerKindPod)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ports {
		if valid[[2]string{p.ExternalIDs[ovsport.KeySandbox], p.ExternalIDs[ovsport.KeyIfName]}] {
			continue
		}
		errs = append(errs, d.collectPort(ctx, p, "gc"))
	}
	return errors.Join(errs...)
}
