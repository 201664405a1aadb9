// Package cnitest builds node-side test beds for the CNI: network namespaces, processes
// started inside them (ovsdb-server, ovs-vswitchd with the userspace datapath,
// ovn-controller, the ycloud-cni daemon, iperf3), an underlay Linux bridge joining nodes
// for geneve, and helpers that run commands in a namespace.
//
// Everything is torn down through TB.Cleanup, in reverse order of creation, and only by
// what was created here: processes by PID, namespaces by the handle we opened. Nothing is
// ever created in, or changed in, the caller's own (root) network namespace.
//
// Processes are started from a goroutine locked to a thread that switched into the
// target namespace (ns.Do): a child process inherits the namespace of the thread that
// forked it. See package nic for the Go thread rule behind that.
//
// The functions take a TB (a *testing.T fits) so that the benchmark program, which has no
// testing.T, can use them too.
package cnitest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
)

// TB is the part of testing.TB the helpers need.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
	Failed() bool
}

// Process is a child process started by Start.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Start starts a process in network namespace netns (nil: the caller's) with extra
// environment, output appended to logPath ("" discards it), and stops it when the test
// ends (SIGTERM, then SIGKILL after 10 s).
func Start(t TB, netns ns.NetNS, env []string, logPath, name string, args ...string) *Process {
	t.Helper()
	p, err := StartProcess(netns, env, logPath, name, args...)
	if err != nil {
		t.Fatalf("cnitest: %v", err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() && p.LogPath != "" {
			t.Logf("cnitest: last lines of %s (%s):\n%s", p.LogPath, name, Tail(p.LogPath, 25))
		}
	})
	return p
}

// StartProcess is Start without a TB; the caller must Stop the process.
func StartProcess(netns ns.NetNS, env []string, logPath, name string, args ...string) (*Process, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	// Own process group, so a terminal's Ctrl-C reaches the test, which stops us itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("log for %s: %w", name, err)
		}
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
	}
	start := func(ns.NetNS) error { return cmd.Start() }
	var err error
	if netns != nil {
		err = netns.Do(start)
	} else {
		err = start(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop terminates the process (SIGTERM, SIGKILL after 10 s) and waits for it.
func (p *Process) Stop() { p.signal(syscall.SIGTERM, 10*time.Second) }

// Kill kills the process (SIGKILL) and waits for it: a crash.
func (p *Process) Kill() { p.signal(syscall.SIGKILL, 10*time.Second) }

func (p *Process) signal(sig syscall.Signal, grace time.Duration) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Run runs a command to completion in netns (nil: the caller's) and returns its combined
// output.
func Run(ctx context.Context, netns ns.NetNS, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	run := func(ns.NetNS) error { return cmd.Run() }
	var err error
	if netns != nil {
		err = netns.Do(run)
	} else {
		err = run(nil)
	}
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// MustRun is Run that fails the test on error.
func MustRun(t TB, netns ns.NetNS, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := Run(ctx, netns, name, args...)
	if err != nil {
		t.Fatalf("cnitest: %v", err)
	}
	return out
}

// Tail returns the last n lines of a file.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Eventually polls cond every interval until it returns nil or timeout passes, and
// returns the last error.
func Eventually(timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		time.Sleep(interval)
	}
}
