package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

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
	Pod  string
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("command in pod %s exited with code %d", e.Pod, e.Code)
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
