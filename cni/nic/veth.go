package nic

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// Veth is the veth-pair NIC: one end is the pod's interface, the other stays in the host
// (node) namespace and is attached to br-int.
//
//	pod netns                 host netns
//	  eth0  <--- veth pair --->  yc3f2a...  --- br-int (OVS port, iface-id=<lsp>)
type Veth struct {
	host ns.NetNS
}

// NewVeth returns a veth NIC whose host ends live in the network namespace at
// hostNetns ("" means the caller's own: the daemon normally runs in the node's
// namespace). Close releases it.
func NewVeth(hostNetns string) (*Veth, error) {
	var (
		h   ns.NetNS
		err error
	)
	if hostNetns == "" {
		h, err = ns.GetCurrentNS()
	} else {
		h, err = ns.GetNS(hostNetns)
	}
	if err != nil {
		return nil, fmt.Errorf("veth: open host netns %q: %w", hostNetns, err)
	}
	return &Veth{host: h}, nil
}

// Close releases the host namespace handle.
func (v *Veth) Close() error { return v.host.Close() }

// HostNS returns the host namespace (the daemon uses it for the management port).
func (v *Veth) HostNS() ns.NetNS { return v.host }

var _ NIC = (*Veth)(nil)

// Add implements NIC.
func (v *Veth) Add(ctx context.Context, req *Request) (_ *Result, err error) {
	if req.Allocation == nil {
		return nil, fmt.Errorf("veth %s: no allocation", req)
	}
	mac, err := net.ParseMAC(req.Allocation.MAC)
	if err != nil {
		return nil, fmt.Errorf("veth %s: mac %q: %w", req, req.Allocation.MAC, err)
	}
	podNS, err := ns.GetNS(req.Netns)
	if err != nil {
		return nil, fmt.Errorf("veth %s: open pod netns %q: %w", req, req.Netns, err)
	}
	defer podNS.Close()

	res := &Result{HostIfName: req.HostIfName, PodMAC: mac.String()}
	err = v.host.Do(func(ns.NetNS) error {
		if old, err := netlink.LinkByName(req.HostIfName); err == nil {
			// Left by an ADD that crashed half-way; deleting it also removes its peer.
			if err := netlink.LinkDel(old); err != nil {
				return fmt.Errorf("delete leftover %s: %w", req.HostIfName, err)
			}
		}
		attrs := netlink.NewLinkAttrs()
		attrs.Name = req.HostIfName
		attrs.MTU = req.MTU
		veth := &netlink.Veth{
			LinkAttrs:        attrs,
			PeerName:         req.IfName,
			PeerHardwareAddr: mac,
			PeerNamespace:    netlink.NsFd(int(podNS.Fd())),
			PeerMTU:          uint32(req.MTU),
		}
		// Creating the peer directly in the pod namespace means its name (eth0) never
		// has to be unique in the host namespace, and no half-moved device is ever left.
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("create veth %s/%s: %w", req.HostIfName, req.IfName, err)
		}
		link, err := netlink.LinkByName(req.HostIfName)
		if err != nil {
			return fmt.Errorf("find new veth %s: %w", req.HostIfName, err)
		}
		res.HostMAC = link.Attrs().HardwareAddr.String()
		// The host end only carries the pod's frames into OVS. With IPv6 on, the kernel
		// would give it a link-local address and send router solicitations and DAD
		// probes from it into the pod: packets that come from no one on the pod's
		// network (the interconnect e2e test counts every packet a pod receives).
		if err := disableIPv6(req.HostIfName); err != nil {
			return err
		}
		if err := netlink.LinkSetUp(link); err != nil {
			return fmt.Errorf("set %s up: %w", req.HostIfName, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("veth %s: %w", req, err)
	}
	defer func() {
		if err != nil {
			_ = v.deleteHost(req.HostIfName)
		}
	}()
	if err := podNS.Do(func(ns.NetNS) error { return configurePodInterface(req, mac) }); err != nil {
		return nil, fmt.Errorf("veth %s: configure pod side: %w", req, err)
	}
	return res, nil
}

// Del implements NIC. Deleting the host end deletes the pair, so the pod namespace is
// not needed (and may already be gone).
func (v *Veth) Del(_ context.Context, req *Request) error {
	if err := v.deleteHost(req.HostIfName); err != nil {
		return fmt.Errorf("veth %s: %w", req, err)
	}
	return nil
}

func (v *Veth) deleteHost(name string) error {
	return v.host.Do(func(ns.NetNS) error {
		link, err := netlink.LinkByName(name)
		if err != nil {
			if isLinkNotFound(err) {
				return nil
			}
			return fmt.Errorf("find %s: %w", name, err)
		}
		if err := netlink.LinkDel(link); err != nil && !isLinkNotFound(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
		return nil
	})
}

// Check implements NIC.
func (v *Veth) Check(_ context.Context, req *Request) error {
	if req.Allocation == nil {
		return fmt.Errorf("veth %s: no allocation", req)
	}
	var hostIndex int
	err := v.host.Do(func(ns.NetNS) error {
		link, err := netlink.LinkByName(req.HostIfName)
		if err != nil {
			if isLinkNotFound(err) {
				return fmt.Errorf("host device %s: %w", req.HostIfName, ErrNotFound)
			}
			return fmt.Errorf("host device %s: %w", req.HostIfName, err)
		}
		if _, ok := link.(*netlink.Veth); !ok {
			return fmt.Errorf("host device %s is a %s, not a veth", req.HostIfName, link.Type())
		}
		if link.Attrs().Flags&net.FlagUp == 0 {
			return fmt.Errorf("host device %s is down", req.HostIfName)
		}
		hostIndex = link.Attrs().Index
		return nil
	})
	if err != nil {
		return fmt.Errorf("veth %s: %w", req, err)
	}
	podNS, err := ns.GetNS(req.Netns)
	if err != nil {
		return fmt.Errorf("veth %s: open pod netns %q: %w", req, req.Netns, err)
	}
	defer podNS.Close()
	err = podNS.Do(func(ns.NetNS) error {
		link, err := checkPodInterface(req)
		if err != nil {
			return err
		}
		// The pod's end must be paired with our host end, not with some other device of
		// the same name.
		if link.Attrs().ParentIndex != hostIndex {
			return fmt.Errorf("%s is paired with ifindex %d, not with host device %s (ifindex %d)",
				req.IfName, link.Attrs().ParentIndex, req.HostIfName, hostIndex)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("veth %s: %w", req, err)
	}
	return nil
}

// Announce implements NIC. IPv6 neighbours are not told yet (unsolicited neighbour
// advertisements): they recover through neighbour unreachability detection.
func (v *Veth) Announce(_ context.Context, req *Request) error {
	mac, err := net.ParseMAC(req.Allocation.MAC)
	if err != nil {
		return fmt.Errorf("veth %s: mac %q: %w", req, req.Allocation.MAC, err)
	}
	err = ns.WithNetNSPath(req.Netns, func(ns.NetNS) error {
		return sendGratuitousARP(req.IfName, mac, req.Allocation.IPs)
	})
	if err != nil {
		return fmt.Errorf("veth %s: announce: %w", req, err)
	}
	return nil
}

// SetEgressLimit implements NIC: a token bucket on the pod's end of the pair shapes what
// the pod sends before it reaches OVS (see package qos for why not in OVS).
func (v *Veth) SetEgressLimit(_ context.Context, req *Request, mbps int32) error {
	podNS, err := ns.GetNS(req.Netns)
	if err != nil {
		return fmt.Errorf("veth %s: egress limit: open pod netns %q: %w", req, req.Netns, err)
	}
	defer podNS.Close()
	err = podNS.Do(func(ns.NetNS) error {
		link, err := netlink.LinkByName(req.IfName)
		if err != nil {
			return fmt.Errorf("find %s: %w", req.IfName, err)
		}
		return setTokenBucket(link, mbps)
	})
	if err != nil {
		return fmt.Errorf("veth %s: egress limit %d Mbit/s: %w", req, mbps, err)
	}
	return nil
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// EgressLimit returns the egress limit SetEgressLimit put on the pod's interface, in
// Mbit/s (0: none).
func (v *Veth) EgressLimit(_ context.Context, req *Request) (int32, error) {
	var mbps int32
	err := ns.WithNetNSPath(req.Netns, func(ns.NetNS) error {
		link, err := netlink.LinkByName(req.IfName)
		if err != nil {
			return fmt.Errorf("find %s: %w", req.IfName, err)
		}
		mbps, err = egressLimit(link)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("veth %s: read egress limit: %w", req, err)
	}
	return mbps, nil
}

// disableIPv6 turns IPv6 off on a link of the calling thread's network namespace (net
// sysctls are per namespace). A kernel without IPv6 has nothing to turn off.
func disableIPv6(ifName string) error {
	p := filepath.Join("/proc/sys/net/ipv6/conf", ifName, "disable_ipv6")
	if err := os.WriteFile(p, []byte("1"), 0o644); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disable ipv6 on %s: %w", ifName, err)
	}
	return nil
}
