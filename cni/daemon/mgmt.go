package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/cni/ovsport"
)

// kickManagementPort asks the management port loop to reconcile (node changed, resync).
func (d *Daemon) kickManagementPort() {
	select {
	case d.mgmt <- struct{}{}:
	default:
	}
}

// mgmtState is what the management port was last configured from; when neither the
// allocation nor the device changed, an OVS event needs no netlink work.
type mgmtState struct {
	alloc   string
	ifindex int
}

// runManagementPort keeps the management port in line with the node's join allocation.
// It reacts to node events (kick), to OVS changes (vswitchd recreates an internal port's
// device on restart, losing its addresses) and retries failures with backoff.
func (d *Daemon) runManagementPort(ctx context.Context) {
	var last mgmtState
	backoff := time.Duration(0)
	for {
		changed := d.sw.Changed()
		var retry <-chan time.Time
		if backoff > 0 {
			retry = time.After(backoff)
		}
		force := false
		select {
		case <-ctx.Done():
			return
		case <-d.mgmt:
			force = true
		case <-changed:
		case <-retry:
			force = true
		}
		st, err := d.reconcileManagementPort(ctx, last, force)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 200*time.Millisecond), 30*time.Second)
			d.log.Warn("management port", "port", d.cfg.MgmtPort, "err", err, "retryIn", backoff)
			continue
		}
		backoff = 0
		last = st
	}
}

// reconcileManagementPort creates or updates the management port: an OVS internal port
// bound to the node's join LSP, with the allocation's MAC and address, and routes to the
// pod CIDRs through the join gateway.
func (d *Daemon) reconcileManagementPort(ctx context.Context, last mgmtState, force bool) (mgmtState, error) {
	if !d.pods.synced() {
		return last, nil
	}
	node, err := d.pods.nodes.Get(d.cfg.NodeName)
	if apierrors.IsNotFound(err) {
		return last, nil
	}
	if err != nil {
		return last, err
	}
	raw := node.Annotations[JoinAllocationAnnotation]
	if raw == "" {
		return last, nil // the controller has not allocated it yet
	}
	alloc, err := iaasv1.ParseAllocation(raw)
	if err != nil {
		return last, fmt.Errorf("node %s annotation %s: %w", node.Name, JoinAllocationAnnotation, err)
	}
	name := d.cfg.MgmtPort
	mtu := alloc.MTU
	if mtu == 0 {
		mtu = d.cfg.MTU
	}
	port, err := d.sw.Port(name)
	if err != nil && !errors.Is(err, ovsport.ErrPortNotFound) {
		return last, err
	}
	if port == nil || port.IfaceID != alloc.LogicalSwitchPort || port.ExternalIDs[ovsport.KeyAttachedMAC] != alloc.MAC {
		if err := d.sw.AddPort(ctx, ovsport.PortSpec{
			Name: name, Type: "internal", IfaceID: alloc.LogicalSwitchPort, MAC: alloc.MAC, MTU: mtu,
			ExternalIDs: map[string]string{ovsport.KeyOwnerKind: ovsport.OwnerKindNode, ovsport.KeyOwner: d.cfg.NodeName},
		}); err != nil {
			return last, err
		}
		d.log.Info("management port created", "port", name, "lsp", alloc.LogicalSwitchPort, "ips", alloc.IPs)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = d.sw.WaitOfport(wctx, name)
	cancel()
	if err != nil {
		return last, err
	}
	if port, err = d.sw.Port(name); err != nil {
		return last, err
	}
	st := mgmtState{alloc: raw, ifindex: port.Ifindex}
	if !force && st == last {
		return last, nil
	}
	cidrs, _ := d.cfg.podCIDRs()
	if err := d.hostNS.Do(func(ns.NetNS) error { return configureManagementLink(name, alloc, mtu, cidrs) }); err != nil {
		return last, fmt.Errorf("management port %s: %w", name, err)
	}
	return st, nil
}

// configureManagementLink runs in the host namespace: MAC, MTU, transmit checksumming off
// (the device is read by the userspace datapath too), the join address (and no other),
// up, and a route to each pod CIDR via the join gateway of its family.
func configureManagementLink(name string, alloc *iaasv1.Allocation, mtu int, podCIDRs []netip.Prefix) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	mac, _ := net.ParseMAC(alloc.MAC)
	if link.Attrs().HardwareAddr.String() != mac.String() {
		if err := netlink.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("set mac %s: %w", mac, err)
		}
	}
	if link.Attrs().MTU != mtu {
		if err := netlink.LinkSetMTU(link, mtu); err != nil {
			return fmt.Errorf("set mtu %d: %w", mtu, err)
		}
	}
	if err := nic.SetTxChecksum(name, false); err != nil && !errors.Is(err, syscall.EOPNOTSUPP) {
		return err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() {
			continue
		}
		p, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		if !slices.Contains(alloc.IPs, netip.PrefixFrom(p.Unmap(), ones)) {
			if err := netlink.AddrDel(link, &a); err != nil {
				return fmt.Errorf("remove old address %s: %w", a.IPNet, err)
			}
		}
	}
	for _, p := range alloc.IPs {
		ipn := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: ipn}); err != nil {
			return fmt.Errorf("add address %s: %w", p, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	for _, cidr := range podCIDRs {
		var gw netip.Addr
		for _, g := range alloc.Gateways {
			if g.Is4() == cidr.Addr().Is4() {
				gw = g
			}
		}
		if !gw.IsValid() {
			continue // no join gateway of this family
		}
		route := &netlink.Route{
			LinkIndex: link.Attrs().Index,
			Dst:       &net.IPNet{IP: cidr.Addr().AsSlice(), Mask: net.CIDRMask(cidr.Bits(), cidr.Addr().BitLen())},
			Gw:        gw.AsSlice(),
		}
		if err := netlink.RouteReplace(route); err != nil {
			return fmt.Errorf("route %s via %s: %w", cidr, gw, err)
		}
	}
	return nil
}
