package nic

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Legacy ethtool ioctl commands (linux/ethtool.h). ETHTOOL_STXCSUM is what "ethtool -K
// <if> tx off" sends to older kernels; current kernels map it onto the same feature bits
// (NETIF_F_CSUM_MASK), and turning transmit checksumming off also turns off TSO, which
// depends on it.
const (
	ethtoolGTxCsum = 0x16
	ethtoolSTxCsum = 0x17
)

// ethtoolValue is struct ethtool_value.
type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreqData is struct ifreq with the union holding a pointer (ifr_data); the union is 24
// bytes on 64-bit Linux.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [24 - unsafe.Sizeof(uintptr(0))]byte
}

// ethtoolValueIoctl runs one ethtool get/set command carrying a uint32 on ifName, in the
// calling thread's network namespace (so: inside ns.Do).
func ethtoolValueIoctl(ifName string, cmd, data uint32) (uint32, error) {
	if len(ifName) >= unix.IFNAMSIZ {
		return 0, fmt.Errorf("interface name %q too long", ifName)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("ethtool socket: %w", err)
	}
	defer unix.Close(fd)
	val := &ethtoolValue{cmd: cmd, data: data}
	ifr := &ifreqData{data: unsafe.Pointer(val)}
	copy(ifr.name[:], ifName)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(ifr)))
	runtime.KeepAlive(ifr)
	runtime.KeepAlive(val)
	if errno != 0 {
		return 0, fmt.Errorf("ethtool command %#x on %s: %w", cmd, ifName, errno)
	}
	return val.data, nil
}

// SetTxChecksum turns transmit checksum offload of ifName on or off ("ethtool -K <if> tx
// off"), in the calling thread's network namespace: call it inside ns.Do.
//
// Why: a veth whose peer is read by the OVS userspace datapath (AF_PACKET) hands it TCP
// segments with a partial checksum that nobody completes, so the receiver drops them and
// TCP never connects; with tx off the kernel computes full checksums before the packet
// leaves the pod. Measured on OVS 3.1 netdev: see docs/OVN-NOTES.md, gotcha 5.
func SetTxChecksum(ifName string, on bool) error {
	var v uint32
	if on {
		v = 1
	}
	_, err := ethtoolValueIoctl(ifName, ethtoolSTxCsum, v)
	return err
}

// txChecksum reports whether transmit checksum offload is on.
func txChecksum(ifName string) (bool, error) {
	v, err := ethtoolValueIoctl(ifName, ethtoolGTxCsum, 0)
	return v != 0, err
}
