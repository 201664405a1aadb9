// Package labtest holds what end-to-end tests of the lab share: a snapshot of the host
// state the lab may touch, and the comparison after Down that proves it left nothing behind
// (network namespaces, mounts, cgroups, processes, links, sysctls).
package labtest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/ycloud-sdn/ycloud/test/lab"
)

// HostState is what the lab may change on the host while it runs.
type HostState struct {
	Netns       []string
	Mounts      map[string]bool // mountinfo lines without the mount IDs
	Sysctls     map[string]string
	libexecKube bool
}

var watchedSysctls = []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops"}

// Snapshot records the host state.
func Snapshot() (HostState, error) {
	ns, err := NetnsList()
	if err != nil {
		return HostState{}, err
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return HostState{}, err
	}
	hs := HostState{Netns: ns, Mounts: map[string]bool{}, Sysctls: map[string]string{}}
	if _, err := os.Stat("/usr/libexec/kubernetes"); err == nil {
		hs.libexecKube = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(mi)), "\n") {
		hs.Mounts[mountKey(line)] = true
	}
	for _, k := range watchedSysctls {
		b, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			return HostState{}, err
		}
		hs.Sysctls[k] = strings.TrimSpace(string(b))
	}
	return hs, nil
}

// mountKey drops the mount and parent IDs (fields 1-2), which change when a mount is
// re-created, and keeps what identifies the mount.
func mountKey(line string) string {
	f := strings.Fields(line)
	if len(f) > 2 {
		f = f[2:]
	}
	return strings.Join(f, " ")
}

// NetnsList lists the named network namespaces (ip netns list).
func NetnsList() ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out, nil
}

// CheckGone compares the host with the snapshot taken before Up and returns one error per
// difference the lab of cfg (Dir and Prefix) is responsible for. procs are the lab's
// processes as recorded before Down. Other engineers' tests may create or delete their own
// network namespaces meanwhile; only those are tolerated.
func CheckGone(cfg lab.Config, procs []lab.Process, before HostState) []error {
	var errs []error
	after, err := Snapshot()
	if err != nil {
		return []error{err}
	}
	foreign := func(name string) bool { return !strings.HasPrefix(name, cfg.Prefix+"-") }
	for _, ns := range after.Netns {
		if !foreign(ns) {
			errs = append(errs, fmt.Errorf("network namespace %s left behind", ns))
		}
	}
	for _, ns := range before.Netns {
		if !foreign(ns) {
			errs = append(errs, fmt.Errorf("network namespace %s existed before up", ns))
		}
	}
	otherNetns := func(key string) bool {
		// key fields: major:minor, root, mount point, options, ...
		f := strings.Fields(key)
		return len(f) > 2 && strings.HasPrefix(f[2], "/run/netns/") && foreign(strings.TrimPrefix(f[2], "/run/netns/"))
	}
	for m := range after.Mounts {
		if !before.Mounts[m] && !otherNetns(m) {
			errs = append(errs, fmt.Errorf("mount left behind: %s", m))
		}
	}
	for m := range before.Mounts {
		if !after.Mounts[m] && !otherNetns(m) {
			errs = append(errs, fmt.Errorf("mount removed: %s", m))
		}
	}
	for k, v := range before.Sysctls {
		if after.Sysctls[k] != v {
			errs = append(errs, fmt.Errorf("sysctl %s changed from %s to %s", k, v, after.Sysctls[k]))
		}
	}
	for _, p := range procs {
		if p.Alive() {
			errs = append(errs, fmt.Errorf("process %s (pid %d) still runs", p.Name, p.PID))
		}
	}
	// Processes the lab did not start itself (shims, pods) are found by their cgroups and
	// command lines: none may survive.
	for _, h := range []string{"pids", "memory", "cpu", "freezer"} {
		entries, _ := os.ReadDir("/sys/fs/cgroup/" + h)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), cfg.Prefix+"-") {
				errs = append(errs, fmt.Errorf("cgroup /sys/fs/cgroup/%s/%s left behind", h, e.Name()))
			}
		}
	}
	self := fmt.Sprint(os.Getpid())
	procDirs, _ := os.ReadDir("/proc")
	for _, d := range procDirs {
		if d.Name() == "self" || d.Name() == self {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if strings.Contains(string(cmd), cfg.Dir+"/") || strings.HasSuffix(strings.TrimRight(string(cmd), "\x00"), cfg.Dir) {
			errs = append(errs, fmt.Errorf("process %s still refers to the lab dir: %q", d.Name(), strings.ReplaceAll(string(cmd), "\x00", " ")))
		}
	}
	if _, err := os.Stat("/sys/class/net/" + cfg.Prefix + "-root"); err == nil {
		errs = append(errs, fmt.Errorf("root link %s-root left behind", cfg.Prefix))
	}
	// Kubernetes components create their default flexvolume directory when not told
	// otherwise; the lab tells them.
	if after.libexecKube && !before.libexecKube {
		errs = append(errs, errors.New("/usr/libexec/kubernetes was created while the lab ran"))
	}
	return errs
}

// FreeUnderlay picks a /16 among 10.<first>.0.0 ... 10.<first+count-1>.0.0 that no
// root-namespace address uses, starting from one derived from seed (a PID), so that two
// runs of a test on one machine do not collide. Tests that may run at the same time (go
// test runs packages in parallel) use disjoint ranges: an underlay is only visible on the
// root namespace once its lab is up.
func FreeUnderlay(first, count, seed int) (string, error) {
	if first < 0 || count < 1 || first+count > 256 {
		return "", fmt.Errorf("underlay range 10.%d-%d: out of bounds", first, first+count-1)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	for i := range count {
		cand := netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", first+(seed+i)%count))
		used := false
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Overlaps(cand) {
				used = true
			}
		}
		if !used {
			return cand.String(), nil
		}
	}
	return "", fmt.Errorf("no free underlay /16 in 10.%d.0.0-10.%d.255.255", first, first+count-1)
}

// Prefix derives a lab prefix from seed (a PID): "<base><4 hex digits>".
func Prefix(base string, seed int) string {
	return fmt.Sprintf("%s%04x", base, seed%0x10000)
}
