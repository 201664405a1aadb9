// Command nodeinit prepares and then holds a lab node's private mount namespace.
//
// The lab starts it as `nsenter --net=/run/netns/<node> -- nodeinit ...` with a fresh mount
// namespace already unshared and made recursively private (Go's SysProcAttr.Unshareflags),
// so that every mount below stays inside the node. It then
//
//  1. replaces /sys by a sysfs of the node's network namespace (so /sys/class/net lists the
//     node's links, as vswitchd and the CNI expect), and mounts the host's cgroup v1
//     hierarchies (and cgroup2) again under a tmpfs on /sys/fs/cgroup: the fresh sysfs hides
//     them, and the kubelet cannot start without them (KUBELET-NOTES.md §5, variant B);
//  2. mounts tmpfs over paths the node needs private and empty (-tmpfs, e.g. /run, which
//     also hides the host's /run/netns from the node's containerd);
//  3. bind-mounts private directories over host paths that kubelet, containerd and the CNI
//     plugins hard-code (-bind SRC:DST, e.g. /var/lib, /var/log);
//  4. bind-mounts small files over single files (-bind-file SRC:DST): the lab masks the
//     /proc/sys entries the kubelet would otherwise rewrite host-wide (vm.overcommit_memory,
//     kernel.panic, ...) with files that already hold the values the kubelet wants;
//  5. writes the -ready file and stays alive as the namespace's anchor: the lab starts every
//     daemon of the node with `nsenter --target <this pid> --mount --net`. It reaps
//     re-parented children and exits on SIGTERM or SIGINT.
//
// It refuses to touch anything when it shares the host's mount namespace, or when "/" still
// propagates mounts to a peer: a lazy unmount of /sys there would take /sys from the host.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var tmpfs, binds, fileBinds multi
	ready := flag.String("ready", "", "file to create once the namespace is prepared")
	hostNS := flag.String("host-mntns", "", "the host's mount namespace (readlink /proc/self/ns/mnt of the lab); refuse to run in it")
	sysfs := flag.Bool("sysfs", true, "remount /sys for the network namespace and re-attach the cgroup hierarchies")
	flag.Var(&tmpfs, "tmpfs", "mount an empty tmpfs on this directory (repeatable)")
	flag.Var(&binds, "bind", "SRC:DST bind-mount directory SRC over DST, creating SRC (repeatable)")
	flag.Var(&fileBinds, "bind-file", "SRC:DST bind-mount file SRC over file DST (repeatable)")
	flag.Parse()

	if err := prepare(*hostNS, *sysfs, tmpfs, binds, fileBinds); err != nil {
		fmt.Fprintf(os.Stderr, "nodeinit: %v\n", err)
		os.Exit(1)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "nodeinit: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Fprintf(os.Stderr, "nodeinit: namespace ready (pid %d)\n", os.Getpid())
	hold()
}

func prepare(hostNS string, sysfs bool, tmpfs, binds, fileBinds []string) error {
	if err := checkPrivate(hostNS); err != nil {
		return err
	}
	if sysfs {
		if err := remountSys(); err != nil {
			return err
		}
	}
	for _, dst := range tmpfs {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount("tmpfs", dst, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=755"); err != nil {
			return fmt.Errorf("tmpfs on %s: %w", dst, err)
		}
	}
	for _, b := range binds {
		src, dst, ok := strings.Cut(b, ":")
		if !ok {
			return fmt.Errorf("-bind %q: want SRC:DST", b)
		}
		if err := os.MkdirAll(src, 0o755); err != nil {
			return err
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", src, dst, err)
		}
	}
	for _, b := range fileBinds {
		src, dst, ok := strings.Cut(b, ":")
		if !ok {
			return fmt.Errorf("-bind-file %q: want SRC:DST", b)
		}
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", src, dst, err)
		}
	}
	return nil
}

// checkPrivate makes sure this process has its own mount namespace (not the host's, as
// the lab reports it, nor its parent's: PID 1's is not readable here) and that "/" does not
// propagate to a peer group.
func checkPrivate(hostNS string) error {
	if hostNS == "" {
		return errors.New("-host-mntns is required")
	}
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return err
	}
	parent, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid()))
	if err != nil {
		return err
	}
	if self == hostNS || self == parent {
		return fmt.Errorf("refusing to run in the host's mount namespace %s (start me with a private one)", self)
	}
	mounts, err := mountinfo()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m.mountPoint == "/" || m.mountPoint == "/sys" {
			for _, o := range m.optional {
				if strings.HasPrefix(o, "shared:") {
					return fmt.Errorf("refusing to run: %s is a shared mount (%s); mounts would propagate to the host", m.mountPoint, o)
				}
			}
		}
	}
	return nil
}

// remountSys swaps /sys for a sysfs of this network namespace and mounts every cgroup
// hierarchy the host had again (same controllers, so the same hierarchies).
func remountSys() error {
	mounts, err := mountinfo()
	if err != nil {
		return err
	}
	type cg struct{ dir, fstype, opts string }
	var cgroups []cg
	for _, m := range mounts {
		if filepath.Dir(m.mountPoint) != "/sys/fs/cgroup" || (m.fstype != "cgroup" && m.fstype != "cgroup2") {
			continue
		}
		var opts []string
		for _, o := range strings.Split(m.superOpts, ",") {
			if o != "rw" && o != "ro" {
				opts = append(opts, o)
			}
		}
		if len(opts) == 1 && strings.HasPrefix(opts[0], "name=") {
			// A named hierarchy without controllers must say so.
			opts = append([]string{"none"}, opts...)
		}
		cgroups = append(cgroups, cg{m.mountPoint, m.fstype, strings.Join(opts, ",")})
	}
	if len(cgroups) == 0 {
		return errors.New("no cgroup hierarchy mounted under /sys/fs/cgroup")
	}
	if err := syscall.Unmount("/sys", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount /sys: %w", err)
	}
	if err := syscall.Mount("sysfs", "/sys", "sysfs", 0, ""); err != nil {
		return fmt.Errorf("mount sysfs: %w", err)
	}
	if err := syscall.Mount("tmpfs", "/sys/fs/cgroup", "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("tmpfs on /sys/fs/cgroup: %w", err)
	}
	for _, c := range cgroups {
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(c.fstype, c.dir, c.fstype, 0, c.opts); err != nil {
			return fmt.Errorf("mount %s (%s) on %s: %w", c.fstype, c.opts, c.dir, err)
		}
	}
	return nil
}

type mount struct {
	mountPoint, fstype, superOpts string
	optional                      []string
}

func mountinfo() ([]mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(fields) < sep+4 {
			continue
		}
		out = append(out, mount{mountPoint: fields[4], optional: fields[6:sep], fstype: fields[sep+1], superOpts: fields[sep+3]})
	}
	return out, sc.Err()
}

// hold keeps the namespace alive: reap children, exit on SIGTERM/SIGINT.
func hold() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
