package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is one process the lab started.
type Process struct {
	// Name is "<cluster>/<component>" or "<node>/<component>" ("spoke1/kube-apiserver",
	// "spoke1-n1/kubelet"); "ic/..." for the interconnect databases.
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// StartTime is field 22 of /proc/<pid>/stat (clock ticks after boot). Together with
	// PID it identifies the process: a recycled PID has another start time, so a later
	// `down` never signals a stranger.
	StartTime uint64   `json:"startTime"`
	Args      []string `json:"args"`
	Log       string   `json:"log"`
	// Node is set for processes of a node.
	Node string `json:"node,omitempty"`
}

// procSpec says how to start a process.
type procSpec struct {
	name string
	path string
	args []string
	env  []string
	// netns runs the process in this named network namespace (nsenter --net); holder runs
	// it in the namespaces of that PID (a node's mount + network namespaces) instead.
	netns  string
	holder int
	// cgroup is a pids-hierarchy cgroup (relative to the hierarchy root) the process is
	// moved into right after it starts; node daemons live there so that Down can find
	// everything they spawned (containerd shims and pods included).
	cgroup string
	node   string
	// newMountNS gives the process a private mount namespace (node holders only).
	newMountNS bool
}

func (l *Lab) logPath(name string) string {
	return filepath.Join(l.cfg.Dir, "logs", strings.ReplaceAll(name, "/", "_")+".log")
}

// start launches a process in its own session with stdout and stderr appended to its log,
// and records it in the state before returning. The process is not a child that must be
// waited for by the caller: a goroutine reaps it, and if this process exits first it is
// re-parented to init, so that the lab outlives the `ycloud-lab up` command.
func (l *Lab) start(spec procSpec) (*Process, error) {
	logFile := l.logPath(spec.name)
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	defer f.Close()

	argv := append([]string{spec.path}, spec.args...)
	switch {
	case spec.holder != 0:
		argv = append([]string{"nsenter", "--target", strconv.Itoa(spec.holder), "--mount", "--net", "--"}, argv...)
	case spec.netns != "":
		argv = append([]string{"nsenter", "--net=" + netnsPath(spec.netns), "--"}, argv...)
	}
	fmt.Fprintf(f, "=== %s ycloud-lab starts: %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(argv, " "))

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if spec.newMountNS {
		// Go unshares the mount namespace in the child and makes "/" recursively private
		// before exec, so nothing mounted inside ever propagates back to the host.
		cmd.SysProcAttr.Unshareflags = syscall.CLONE_NEWNS
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.name, err)
	}
	pid := cmd.Process.Pid
	go func() { _ = cmd.Wait() }()

	st, err := procStartTime(pid)
	if err != nil {
		// It died at once; keep the record so status shows it and its log.
		st = 0
	}
	p := &Process{Name: spec.name, PID: pid, StartTime: st, Args: argv, Log: logFile, Node: spec.node}
	if spec.cgroup != "" && st != 0 {
		if err := joinCgroup("pids", spec.cgroup, pid); err != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return nil, fmt.Errorf("start %s: %w", spec.name, err)
		}
	}
	l.mu.Lock()
	l.st.Processes = append(l.st.Processes, p)
	err = l.st.save()
	l.mu.Unlock()
	if err != nil {
		return p, err
	}
	l.logf("  started %-32s pid %d", spec.name, pid)
	return p, nil
}

// procStartTime reads the start time of pid; it fails when the process is gone or a zombie.
func procStartTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 {
		return 0, fmt.Errorf("pid %d: short stat", pid)
	}
	if fields[0] == "Z" || fields[0] == "X" {
		return 0, fmt.Errorf("pid %d: exited", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// Alive reports whether the process still runs (and is the same process).
func (p *Process) Alive() bool {
	if p.PID <= 0 || p.StartTime == 0 {
		return false
	}
	st, err := procStartTime(p.PID)
	return err == nil && st == p.StartTime
}

// stop sends SIGTERM, waits up to grace, then SIGKILL and waits for the process to go.
func (p *Process) stop(grace time.Duration) error {
	if !p.Alive() {
		return nil
	}
	_ = syscall.Kill(p.PID, syscall.SIGTERM)
	if waitGone(grace, p.Alive) {
		return nil
	}
	_ = syscall.Kill(p.PID, syscall.SIGKILL)
	if waitGone(10*time.Second, p.Alive) {
		return nil
	}
	return fmt.Errorf("process %s (pid %d) survives SIGKILL", p.Name, p.PID)
}

// waitGone polls alive until it is false or d passes; it reports whether it became false.
func waitGone(d time.Duration, alive func() bool) bool {
	deadline := time.Now().Add(d)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for alive() {
		if time.Now().After(deadline) {
			return false
		}
		<-t.C
	}
	return true
}

// run executes a short command (ip, ethtool, ovsdb-tool, ctr) and returns its output; the
// error carries the command line and its output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// deadErr describes a process that died, with the end of its log.
func deadErr(p *Process) error {
	return fmt.Errorf("%s (pid %d) exited; log %s ends:\n%s", p.Name, p.PID, p.Log, tail(p.Log, 15))
}

var errTimeout = errors.New("timed out")

// poll calls check every interval until it returns true, returns an error, or timeout
// passes (then the error names what was awaited and the last reason check gave). When
// watch is not nil, its death ends the wait early.
func poll(ctx context.Context, timeout, interval time.Duration, what string, watch *Process, check func() (bool, string)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	last := ""
	for {
		ok, reason := check()
		if ok {
			return nil
		}
		if reason != "" {
			last = reason
		}
		if watch != nil && !watch.Alive() {
			return fmt.Errorf("waiting for %s: %w", what, deadErr(watch))
		}
		select {
		case <-ctx.Done():
			cause := ctx.Err()
			if errors.Is(cause, context.DeadlineExceeded) {
				cause = fmt.Errorf("%w after %s", errTimeout, timeout)
			}
			if last != "" {
				return fmt.Errorf("waiting for %s: %w (last: %s)", what, cause, last)
			}
			return fmt.Errorf("waiting for %s: %w", what, cause)
		case <-t.C:
		}
	}
}
