package lab

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This machine runs cgroup v1 (hybrid): /sys/fs/cgroup is a tmpfs holding one mount per
// v1 hierarchy, and cgroup2 at /sys/fs/cgroup/unified holds no useful controller. Each
// kubelet gets cgroupRoot /<prefix>-<node>, which must exist in every v1 hierarchy before
// the kubelet starts (it refuses "cgroup ... has some missing paths"), with cpuset.cpus and
// cpuset.mems copied from the parent (v1 cpusets start empty). The node's own daemons go to
// <root>/daemons in the pids hierarchy, so one recursive walk of pids:/<root> finds every
// process of a node: daemons, containerd shims (they stay in containerd's cgroup) and pods
// (the kubelet puts them under <root>/kubepods).

const cgroupFS = "/sys/fs/cgroup"

// daemonsCgroup is the child of a node's cgroup root that holds the node's daemons.
const daemonsCgroup = "daemons"

// cgroupHierarchies returns the directory names of the v1 hierarchies mounted under
// /sys/fs/cgroup ("cpu", "memory", "systemd", ...).
func cgroupHierarchies() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m, ok := parseMountinfo(sc.Text())
		if !ok || m.fstype != "cgroup" || filepath.Dir(m.mountPoint) != cgroupFS {
			continue
		}
		out = append(out, filepath.Base(m.mountPoint))
	}
	if len(out) == 0 {
		return nil, errors.New("no cgroup v1 hierarchy under /sys/fs/cgroup (the lab needs the hybrid layout this machine has)")
	}
	sort.Strings(out)
	return out, sc.Err()
}

// createNodeCgroup makes <h>/<name> in every hierarchy and pids/<name>/daemons.
func createNodeCgroup(name string) error {
	hs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range hs {
		dir := filepath.Join(cgroupFS, h, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cgroup %s: %w", dir, err)
		}
		if h == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(cgroupFS, h, f))
				if err != nil {
					return fmt.Errorf("cgroup %s: %w", dir, err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("cgroup %s: %s: %w", dir, f, err)
				}
			}
		}
	}
	dir := filepath.Join(cgroupFS, "pids", name, daemonsCgroup)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return nil
}

func joinCgroup(hierarchy, name string, pid int) error {
	p := filepath.Join(cgroupFS, hierarchy, name, "cgroup.procs")
	if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("move pid %d into %s: %w", pid, p, err)
	}
	return nil
}

// cgroupPIDs lists the processes in <hierarchy>/<name> and all its descendants.
func cgroupPIDs(hierarchy, name string) ([]int, error) {
	root := filepath.Join(cgroupFS, hierarchy, name)
	var pids []int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids, err
}

// killCgroup kills every process of a node's cgroup tree: SIGTERM, up to grace for them
// to go, then SIGKILL until the tree is empty. Processes fork while we kill (a dying shim,
// a restarting container), so it loops instead of signalling a snapshot once.
func killCgroup(name string, grace time.Duration) error {
	hs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	list := func() []int {
		seen := map[int]bool{}
		var all []int
		// pids holds the daemons; every hierarchy holds the pods. Walking them all catches a
		// process that was never moved (for example one that forked before joining).
		for _, h := range hs {
			pids, _ := cgroupPIDs(h, name)
			for _, p := range pids {
				if !seen[p] && p != os.Getpid() {
					seen[p] = true
					all = append(all, p)
				}
			}
		}
		return all
	}
	for _, p := range list() {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	if waitGone(grace, func() bool { return len(list()) > 0 }) {
		return nil
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		left := list()
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: processes %v survive SIGKILL", name, left)
		}
		for _, p := range left {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		waitGone(200*time.Millisecond, func() bool { return len(list()) > 0 })
	}
}

// removeCgroup removes <h>/<name> and everything below it in every hierarchy, deepest
// first. The tree must hold no process. Absent is not an error.
func removeCgroup(name string) error {
	hs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hs {
		root := filepath.Join(cgroupFS, h, name)
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Children sort after their parents; remove in reverse.
		sort.Strings(dirs)
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := rmdirRetry(dirs[i]); err != nil {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dirs[i], err))
			}
		}
	}
	return errors.Join(errs...)
}

// rmdirRetry retries EBUSY for a moment: a cgroup is busy until the kernel has finished
// tearing down its last exited task.
func rmdirRetry(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return err
		}
		<-t.C
	}
}

// mountEntry is one line of /proc/<pid>/mountinfo.
type mountEntry struct {
	id, parent string
	root       string
	mountPoint string
	optional   []string
	fstype     string
	source     string
	superOpts  string
}

// parseMountinfo parses one mountinfo line (proc(5)).
func parseMountinfo(line string) (mountEntry, bool) {
	f := strings.Fields(line)
	sep := -1
	for i, x := range f {
		if x == "-" {
			sep = i
			break
		}
	}
	if sep < 6 || len(f) < sep+4 {
		return mountEntry{}, false
	}
	return mountEntry{
		id: f[0], parent: f[1], root: unescapeMount(f[3]), mountPoint: unescapeMount(f[4]),
		optional: f[6:sep], fstype: f[sep+1], source: f[sep+2], superOpts: f[sep+3],
	}, true
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
