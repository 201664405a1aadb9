package nic

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// The functions in this file run inside the pod's namespace (within ns.Do).

// configurePodInterface gives the pod's new interface its allocation: MAC (checked; it
// was set at creation), addresses, up, routes, and transmit checksumming off.
func configurePodInterface(req *Request, mac net.HardwareAddr) error {
	link, err := netlink.LinkByName(req.IfName)
	if err != nil {
		return fmt.Errorf("find %s: %w", req.IfName, err)
	}
	if link.Attrs().HardwareAddr.String() != mac.String() {
		if err := netlink.LinkSetHardwareAddr(link, mac); err != nil {
			return fmt.Errorf("set %s mac %s: %w", req.IfName, mac, err)
		}
	}
	if err := SetTxChecksum(req.IfName, false); err != nil {
		return fmt.Errorf("turn off tx checksum offload on %s: %w", req.IfName, err)
	}
	for _, p := range req.Allocation.IPs {
		addr := &netlink.Addr{IPNet: prefixToIPNet(p)}
		if p.Addr().Is6() {
			// OVN already guarantees the address is unique; duplicate address detection
			// would only keep it tentative (unusable) for a second or more.
			addr.Flags = unix.IFA_F_NODAD
		}
		if err := netlink.AddrReplace(link, addr); err != nil {
			return fmt.Errorf("add address %s to %s: %w", p, req.IfName, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", req.IfName, err)
	}
	for _, r := range desiredRoutes(req.Allocation) {
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: prefixToIPNet(r.Dst)}
		if r.Via.IsValid() {
			route.Gw = r.Via.AsSlice()
		} else {
			route.Scope = netlink.SCOPE_LINK
		}
		if err := netlink.RouteReplace(route); err != nil {
			return fmt.Errorf("add route %s via %v dev %s: %w", r.Dst, r.Via, req.IfName, err)
		}
	}
	return nil
}

// desiredRoutes lists the routes an allocation asks for, in the order they must be added:
// on-link routes to gateways outside the interface's subnets first, then the default
// routes, then the extra routes.
func desiredRoutes(a *iaasv1.Allocation) []iaasv1.AllocationRoute {
	var out []iaasv1.AllocationRoute
	onLink := func(gw netip.Addr) bool {
		return slices.ContainsFunc(a.IPs, func(p netip.Prefix) bool { return p.Masked().Contains(gw) })
	}
	for _, gw := range a.Gateways {
		if !onLink(gw) {
			out = append(out, iaasv1.AllocationRoute{Dst: netip.PrefixFrom(gw, gw.BitLen())})
		}
	}
	for _, gw := range a.Gateways {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if gw.Is6() {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		out = append(out, iaasv1.AllocationRoute{Dst: dst, Via: gw})
	}
	for _, r := range a.Routes {
		out = append(out, iaasv1.AllocationRoute{Dst: r.Dst.Masked(), Via: r.Via})
	}
	return out
}

// checkPodInterface verifies the pod's interface against the allocation and returns it.
func checkPodInterface(req *Request) (netlink.Link, error) {
	link, err := netlink.LinkByName(req.IfName)
	if err != nil {
		if isLinkNotFound(err) {
			return nil, fmt.Errorf("pod interface %s: %w", req.IfName, ErrNotFound)
		}
		return nil, fmt.Errorf("pod interface %s: %w", req.IfName, err)
	}
	attrs := link.Attrs()
	if _, ok := link.(*netlink.Veth); !ok {
		return nil, fmt.Errorf("pod interface %s is a %s, not a veth", req.IfName, link.Type())
	}
	if want, _ := net.ParseMAC(req.Allocation.MAC); attrs.HardwareAddr.String() != want.String() {
		return nil, fmt.Errorf("pod interface %s has mac %s, want %s", req.IfName, attrs.HardwareAddr, want)
	}
	if req.MTU != 0 && attrs.MTU != req.MTU {
		return nil, fmt.Errorf("pod interface %s has mtu %d, want %d", req.IfName, attrs.MTU, req.MTU)
	}
	if attrs.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("pod interface %s is down", req.IfName)
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return netlink.AddrList(link, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", req.IfName, err)
	}
	for _, p := range req.Allocation.IPs {
		if !slices.ContainsFunc(addrs, func(a netlink.Addr) bool { return ipNetToPrefix(a.IPNet) == p }) {
			return nil, fmt.Errorf("pod interface %s lacks address %s", req.IfName, p)
		}
	}
	routes, err := retryDump(func() ([]netlink.Route, error) { return netlink.RouteList(link, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, fmt.Errorf("list routes of %s: %w", req.IfName, err)
	}
	for _, want := range desiredRoutes(req.Allocation) {
		found := slices.ContainsFunc(routes, func(r netlink.Route) bool {
			return routeDst(r) == want.Dst && sameGateway(r.Gw, want.Via)
		})
		if !found {
			return nil, fmt.Errorf("pod interface %s lacks route %s via %v", req.IfName, want.Dst, want.Via)
		}
	}
	on, err := txChecksum(req.IfName)
	if err != nil {
		return nil, err
	}
	if on {
		return nil, fmt.Errorf("pod interface %s has tx checksum offload on (TCP through the userspace datapath would fail)", req.IfName)
	}
	return link, nil
}

func sameGateway(gw net.IP, want netip.Addr) bool {
	if !want.IsValid() {
		return len(gw) == 0
	}
	a, ok := netip.AddrFromSlice(gw)
	return ok && a.Unmap() == want
}

// routeDst returns a route's destination; a default route may come back without one.
func routeDst(r netlink.Route) netip.Prefix {
	if r.Dst == nil {
		if r.Family == netlink.FAMILY_V4 {
			return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		}
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	return ipNetToPrefix(r.Dst)
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func ipNetToPrefix(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}
	}
	a = a.Unmap()
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a, ones)
}

// retryDump repeats a netlink dump interrupted by a concurrent change (the kernel then
// flags the dump as possibly inconsistent); a few attempts always suffice in practice.
func retryDump[T any](dump func() ([]T, error)) ([]T, error) {
	var (
		out []T
		err error
	)
	for range 5 {
		out, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return out, err
}
