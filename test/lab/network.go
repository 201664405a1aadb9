package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
)

// Network layout (everything but <prefix>-root lives in namespaces the lab creates):
//
//	root netns                 <prefix>-ul netns                 <prefix>-<node> netns
//	<prefix>-root 10.250.0.1 ── root ─┐
//	  (spoke apiservers bind here)    br-ul ── c1n1 ───────────── eth0 ─ OVS br-phy (netdev)
//	                                    │                                  br-phy internal port:
//	                                    └─ c1n2 ── ...                     10.250.1.11/16
//
// The node's address lives on the internal port of the userspace (netdev) OVS bridge br-phy
// that owns the uplink eth0: a userspace tunnel (geneve) must leave through a bridge OVS
// owns, and vswitchd learns the route from the namespace's kernel table (OVN-NOTES.md §1.4).
// The kubelet's traffic to its apiserver takes the same path.
//
// The root namespace gets exactly one link, <prefix>-root, with transmit checksum offload
// off: a TCP segment the root kernel sends with a partial checksum would otherwise reach the
// node's kernel through OVS's userspace datapath (which does not complete checksums here)
// and be dropped as corrupt. Nothing else in the root namespace changes: no route, no
// forwarding, no firewall rule.
//
// The lab never switches a Go thread into another namespace: every command that must run in
// one is exec'd through `ip -n`, `nsenter` or a process started there, so the Go runtime's
// threads all stay in the root namespaces (see containernetworking/plugins pkg/ns for why
// setns from Go is delicate).

const netnsDir = "/run/netns"

func netnsPath(name string) string { return filepath.Join(netnsDir, name) }

// isMountPoint reports whether path is a mount point in this process's mount namespace.
func isMountPoint(path string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := parseMountinfo(sc.Text()); ok && m.mountPoint == path {
			return true, nil
		}
	}
	return false, sc.Err()
}

// recordRunNetns notes, before the lab's first `ip netns add`, whether /run/netns exists and
// is a mount point, so that Down can undo exactly what `ip netns add` did to it.
func (l *Lab) recordRunNetns() error {
	_, err := os.Stat(netnsDir)
	dirMissing := errors.Is(err, fs.ErrNotExist)
	mounted := false
	if !dirMissing {
		if mounted, err = isMountPoint(netnsDir); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.RunNetnsDir = dirMissing
	l.st.RunNetnsMount = !mounted
	return l.st.save()
}

// addNetns creates a named network namespace with lo up, recording it first.
func (l *Lab) addNetns(ctx context.Context, name string) error {
	if _, err := os.Stat(netnsPath(name)); err == nil {
		return fmt.Errorf("netns %s already exists: another lab with prefix %q runs, or a previous one was not taken down (ycloud-lab down, or ip netns del %s)", name, l.cfg.Prefix, name)
	}
	if err := l.record(func(st *State) { st.Netns = append(st.Netns, name) }); err != nil {
		return err
	}
	if _, err := run(ctx, "ip", "netns", "add", name); err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	if _, err := run(ctx, "ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	return nil
}

// checkUnderlayFree fails when the root namespace already has an address in the underlay,
// or the root link name is taken: two labs must use different prefixes and underlays.
func checkUnderlayFree(st *State) error {
	if _, err := net.InterfaceByName(st.RootLink); err == nil {
		return fmt.Errorf("link %s already exists in the root namespace: another lab with prefix %q runs (or was not taken down)", st.RootLink, st.Config.Prefix)
	}
	ul := netip.MustParsePrefix(st.Underlay)
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("list root addresses: %w", err)
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Overlaps(ul) {
			return fmt.Errorf("underlay %s overlaps %s, already on the root namespace: choose another --underlay", ul, p)
		}
	}
	return nil
}

// setupUnderlay makes the underlay namespace with its bridge, and the root link to it.
func (l *Lab) setupUnderlay(ctx context.Context) error {
	st := l.st
	ns := st.UnderlayNS
	if err := l.addNetns(ctx, ns); err != nil {
		return err
	}
	steps := [][]string{
		{"-n", ns, "link", "add", "br-ul", "type", "bridge"},
		{"-n", ns, "link", "set", "br-ul", "up"},
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("underlay: %w", err)
		}
	}
	if err := l.record(func(st *State) { st.RootLinks = append(st.RootLinks, st.RootLink) }); err != nil {
		return err
	}
	steps = [][]string{
		{"link", "add", st.RootLink, "type", "veth", "peer", "name", "root", "netns", ns},
		{"-n", ns, "link", "set", "root", "master", "br-ul", "up"},
		{"addr", "add", st.RootIP + "/16", "dev", st.RootLink},
		{"link", "set", st.RootLink, "up"},
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("underlay: %w", err)
		}
	}
	if _, err := run(ctx, "ethtool", "-K", st.RootLink, "tx", "off"); err != nil {
		return fmt.Errorf("underlay: %w", err)
	}
	return nil
}

// setupNodeNetwork makes a node's namespace and plugs its eth0 into the underlay bridge.
// The address goes on br-phy later, once ovs-vswitchd has created it.
func (l *Lab) setupNodeNetwork(ctx context.Context, n *NodeInfo) error {
	if err := l.addNetns(ctx, n.NetNS); err != nil {
		return err
	}
	ul := l.st.UnderlayNS
	steps := [][]string{
		{"-n", ul, "link", "add", n.UnderlayLink, "type", "veth", "peer", "name", "eth0", "netns", n.NetNS},
		{"-n", ul, "link", "set", n.UnderlayLink, "master", "br-ul", "up"},
		{"-n", n.NetNS, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("node %s network: %w", n.Name, err)
		}
	}
	return nil
}

// configureBrPhy puts the node address on br-phy and, with the reference CNI, routes the
// other nodes' pod CIDRs to them.
func (l *Lab) configureBrPhy(ctx context.Context, n *NodeInfo, peers []*NodeInfo) error {
	steps := [][]string{
		{"-n", n.NetNS, "addr", "add", n.IP + "/16", "dev", "br-phy"},
		{"-n", n.NetNS, "link", "set", "br-phy", "up"},
	}
	if l.cfg.CNI == CNIReference {
		for _, p := range peers {
			if p.Name != n.Name {
				steps = append(steps, []string{"-n", n.NetNS, "route", "add", p.PodCIDR, "via", p.IP, "dev", "br-phy"})
			}
		}
	}
	for _, s := range steps {
		if _, err := run(ctx, "ip", s...); err != nil {
			return fmt.Errorf("node %s br-phy: %w", n.Name, err)
		}
	}
	return nil
}

// linkExistsIn reports whether a link exists in a named namespace.
func linkExistsIn(ctx context.Context, netns, link string) bool {
	_, err := run(ctx, "ip", "-n", netns, "link", "show", "dev", link)
	return err == nil
}

// teardownNetwork deletes the namespaces and root links the lab recorded, and undoes what
// `ip netns add` did to /run/netns when the lab was the one that did it. Absent is fine.
func teardownNetwork(ctx context.Context, st *State) error {
	var errs []error
	for i := len(st.Netns) - 1; i >= 0; i-- {
		ns := st.Netns[i]
		if _, err := os.Stat(netnsPath(ns)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := run(ctx, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	// Deleting the underlay namespace destroyed the veth pair; a root link left over means
	// the namespace was never made (a failed up), so delete it directly.
	for _, link := range st.RootLinks {
		if _, err := net.InterfaceByName(link); err == nil {
			if _, err := run(ctx, "ip", "link", "del", link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if st.RunNetnsMount || st.RunNetnsDir {
		entries, err := os.ReadDir(netnsDir)
		if err == nil && len(entries) == 0 {
			if st.RunNetnsMount {
				if mounted, _ := isMountPoint(netnsDir); mounted {
					// `ip netns add` bind-mounted /run/netns on itself (to make it shared); no
					// namespace is left in it, so nobody else relies on that mount.
					if err := syscall.Unmount(netnsDir, syscall.MNT_DETACH); err != nil {
						errs = append(errs, fmt.Errorf("unmount %s: %w", netnsDir, err))
					}
				}
			}
			if st.RunNetnsDir {
				if err := os.Remove(netnsDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
