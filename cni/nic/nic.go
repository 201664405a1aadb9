// Package nic plumbs a pod's network interface on the node: the Linux side of a pod NIC
// (the device inside the pod's network namespace and its host-side counterpart that gets
// attached to br-int). The OVS side is package ovsport's; the daemon combines both.
//
// NIC is the small interface every NIC type implements. Veth, a veth pair, is the first;
// VF, SF and vDPA (a representor on the host side) and the shared NIC come later and
// differ only in how the two ends are obtained.
//
// # Network namespaces and Go threads
//
// A network namespace belongs to an OS thread, not to a process, and the Go scheduler
// moves goroutines between threads at will. Code that must run in another namespace
// therefore runs only inside ns.NetNS.Do, which locks a fresh goroutine to its thread,
// switches that thread, runs the function and switches back (the thread is discarded if
// switching back fails). Inside Do, only work that uses sockets opened in that function
// is namespace-bound: netlink requests through the package-level netlink functions (they
// open a socket per request, on the current thread), and ioctl sockets opened there.
// Goroutines started inside Do do NOT inherit the namespace, and nothing opened inside Do
// may be used after it returns. Every function in this package that takes a namespace
// follows that rule; nothing here ever calls ns.Set directly.
// See https://github.com/containernetworking/plugins/blob/main/pkg/ns/README.md.
package nic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// Request describes one pod interface.
type Request struct {
	// ContainerID is the sandbox id (CNI_CONTAINERID).
	ContainerID string
	// Netns is the path of the pod's network namespace (CNI_NETNS). Del accepts "" or a
	// path that no longer exists.
	Netns string
	// IfName is the interface name inside the pod (CNI_IFNAME).
	IfName string
	// HostIfName is the host-side device name; HostIfName(ContainerID, IfName) unless
	// the caller recorded another one.
	HostIfName string
	// Allocation is the controller's answer for this interface. Del does not need it.
	Allocation *iaasv1.Allocation
	// MTU is the effective MTU (the allocation's, or the daemon's default).
	MTU int
}

// Result describes the plumbed interface.
type Result struct {
	// HostIfName is the device to attach to br-int.
	HostIfName string
	// HostMAC is the host-side device's MAC.
	HostMAC string
	// PodMAC is the MAC of the pod's interface (the allocation's).
	PodMAC string
}

// NIC creates, removes and verifies the Linux side of one pod interface.
//
// All methods are safe for concurrent use on different interfaces; the caller serializes
// calls for the same interface.
type NIC interface {
	// Add creates the pod interface from the allocation: name, MAC, MTU, addresses,
	// default and extra routes, and whatever the datapath needs (for veth: transmit
	// checksum offload off). A leftover host device of the same name, from an attempt
	// that crashed, is replaced. On error, Add leaves nothing behind.
	Add(ctx context.Context, req *Request) (*Result, error)
	// Del removes the interface. It is idempotent: a missing namespace, device or
	// address is success.
	Del(ctx context.Context, req *Request) error
	// Check verifies that the interface still matches the allocation and returns an
	// error naming the first difference.
	Check(ctx context.Context, req *Request) error
	// Announce tells the pod's neighbours its addresses now live at its MAC (gratuitous
	// ARP), so peers that cached a previous owner of a reused address switch over at
	// once. Call it when the datapath forwards the interface's traffic. Best effort.
	Announce(ctx context.Context, req *Request) error
	// SetEgressLimit limits what the pod sends through this interface, in Mbit/s (0
	// removes the limit). The daemon uses it where the OVS datapath cannot police the
	// port itself (see package qos). Idempotent.
	SetEgressLimit(ctx context.Context, req *Request, mbps int32) error
}

// ErrNotFound is wrapped by Check when a device is missing.
var ErrNotFound = errors.New("not found")

// HostIfName derives the host-side device name of a pod interface: "yc" and 12 hex
// digits of a hash of the sandbox id and interface name. It is deterministic, so DEL
// finds the device even when the OVS database lost track of it, and it fits IFNAMSIZ
// (15 characters).
func HostIfName(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return "yc" + hex.EncodeToString(sum[:6])
}

func (r *Request) String() string {
	return fmt.Sprintf("container %.12s interface %s", r.ContainerID, r.IfName)
}
