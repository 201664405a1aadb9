package nic

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// sendGratuitousARP broadcasts one gratuitous ARP request ("who has A? tell A", from the
// interface's MAC) for each IPv4 address, from the calling thread's namespace (inside
// ns.Do).
//
// Why: addresses are reused. A neighbour that talked to the address's previous owner keeps
// its old MAC as REACHABLE for up to 45 s and sends there, into a port that no longer
// exists; the announcement overrides such entries at once (measured: without it a pod
// reached a reused address only after ~25 s). Receivers that have no entry ignore it
// (arp_accept=0), so it costs nothing elsewhere.
func sendGratuitousARP(ifName string, mac net.HardwareAddr, addrs []netip.Prefix) error {
	ifi, err := net.InterfaceByName(ifName)
	if err != nil {
		return fmt.Errorf("find %s: %w", ifName, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return fmt.Errorf("arp socket: %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index, Halen: 6}
	copy(to.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	for _, p := range addrs {
		if !p.Addr().Is4() {
			continue
		}
		if err := unix.Sendto(fd, garpFrame(mac, p.Addr()), 0, to); err != nil {
			return fmt.Errorf("send gratuitous arp for %s on %s: %w", p.Addr(), ifName, err)
		}
	}
	return nil
}

// garpFrame builds the Ethernet frame of a gratuitous ARP request.
func garpFrame(mac net.HardwareAddr, ip netip.Addr) []byte {
	f := make([]byte, 0, 42)
	f = append(f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // destination: broadcast
	f = append(f, mac...)
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_ARP)
	f = binary.BigEndian.AppendUint16(f, 1)      // hardware type: Ethernet
	f = binary.BigEndian.AppendUint16(f, 0x0800) // protocol type: IPv4
	f = append(f, 6, 4)                          // address lengths
	f = binary.BigEndian.AppendUint16(f, 1)      // operation: request
	a := ip.As4()
	f = append(f, mac...)
	f = append(f, a[:]...)
	f = append(f, 0, 0, 0, 0, 0, 0) // target MAC: unknown
	f = append(f, a[:]...)          // target IP: the sender's own
	return f
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
