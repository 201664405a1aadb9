package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	osexec "os/exec"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"
)

// ExecOptions describes one command run in a pod's container through the apiserver's exec
// API (apiserver -> kubelet -> containerd), as kubectl exec does.
type ExecOptions struct {
	Cluster, Namespace, Pod string
	// Container defaults to the pod's only (or first) container.
	Container string
	Command   []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	TTY       bool
}

// ExecResult is the output of a command run with Exec.
type ExecResult struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// ExitError reports a command that ran and exited non-zero.
type ExitError struct {
	// Pod is "cluster/namespace/pod", or "node <name>" for NodeExec.
	Pod  string
	Code int
}

func (e *ExitError) Error() string {
	where := "pod " + e.Pod
	if strings.HasPrefix(e.Pod, "node ") {
		where = e.Pod
	}
	return fmt.Sprintf("command in %s exited with code %d", where, e.Code)
}

// Exec runs cmd in the first container of pod ns/pod of cluster and returns its output. A
// command that exits non-zero returns the output and an *ExitError.
func (l *Lab) Exec(ctx context.Context, cluster, namespace, pod string, cmd ...string) (ExecResult, error) {
	var out, errOut bytes.Buffer
	code, err := l.ExecStream(ctx, ExecOptions{
		Cluster: cluster, Namespace: namespace, Pod: pod, Command: cmd, Stdout: &out, Stderr: &errOut,
	})
	res := ExecResult{Stdout: out.String(), Stderr: errOut.String(), ExitCode: code}
	return res, err
}

// ExecStream runs a command with the caller's streams and returns its exit code. The error
// is an *ExitError for a non-zero exit, or a transport error.
func (l *Lab) ExecStream(ctx context.Context, o ExecOptions) (int, error) {
	cfg, err := l.RESTConfig(o.Cluster)
	if err != nil {
		return -1, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return -1, err
	}
	id := o.Cluster + "/" + o.Namespace + "/" + o.Pod
	if len(o.Command) == 0 {
		return -1, fmt.Errorf("exec in %s: no command", id)
	}
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(o.Namespace).Name(o.Pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: o.Container,
			Command:   o.Command,
			Stdin:     o.Stdin != nil,
			Stdout:    o.Stdout != nil,
			Stderr:    o.Stderr != nil && !o.TTY,
			TTY:       o.TTY,
		}, scheme.ParameterCodec)
	// Like kubectl: WebSockets first (the apiserver's default since 1.31), SPDY when the
	// upgrade is refused.
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	ex, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr, Tty: o.TTY})
	var codeErr exec.CodeExitError
	if errors.As(err, &codeErr) {
		return codeErr.Code, &ExitError{Pod: id, Code: codeErr.Code}
	}
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	return 0, nil
}

// NodeExec runs a command (as root) in a node's network and mount namespaces, where its
// kubelet, OVS and ycloud-cni run: `ip addr` there lists the node's eth0, br-phy and
// management port, and `Ynettest()` reaches pods exactly as the node does. A command that
// exits non-zero returns its output and an *ExitError.
func (l *Lab) NodeExec(ctx context.Context, node string, argv ...string) (ExecResult, error) {
	var out, errOut bytes.Buffer
	code, err := l.NodeExecStream(ctx, node, argv, nil, &out, &errOut)
	return ExecResult{Stdout: out.String(), Stderr: errOut.String(), ExitCode: code}, err
}

// NodeExecStream is NodeExec with the caller's streams; it returns the exit code.
func (l *Lab) NodeExecStream(ctx context.Context, node string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	n := l.st.node(node)
	if n == nil {
		return -1, fmt.Errorf("node %q: not in this lab", node)
	}
	if len(argv) == 0 {
		return -1, fmt.Errorf("exec on node %s: no command", node)
	}
	if n.HolderPID == 0 {
		return -1, fmt.Errorf("node %s: not started", node)
	}
	// The holder is identified by PID only; check it is still ours (a recycled PID would
	// put the command in a stranger's namespaces).
	holder := l.holder(n)
	if holder == nil || !holder.Alive() {
		return -1, fmt.Errorf("node %s: its namespace holder (pid %d) is gone", node, n.HolderPID)
	}
	cmd := osexec.CommandContext(ctx, "nsenter", append([]string{"--target", strconv.Itoa(n.HolderPID), "--mount", "--net", "--"}, argv...)...)
	cmd.Dir = "/"
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err := cmd.Run()
	var exit *osexec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), &ExitError{Pod: "node " + node, Code: exit.ExitCode()}
	}
	if err != nil {
		return -1, fmt.Errorf("exec on node %s: %w", node, err)
	}
	return 0, nil
}

// holder returns the process record of a node's namespace holder.
func (l *Lab) holder(n *NodeInfo) *Process {
	for _, p := range l.Processes() {
		if p.Name == n.Name+"/nodeinit" && p.PID == n.HolderPID {
			return &p
		}
	}
	return nil
}

// Ynettest returns the path of the static network test tool the test image carries, for
// NodeExec (empty before Up built it).
func (l *Lab) Ynettest() string { return l.st.Ynettest }
