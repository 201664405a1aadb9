package shim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/ycloud-sdn/ycloud/cni/cnirpc"
)

// The shim is tested as the runtime uses it: the real binary, CNI_* environment, the
// network configuration on stdin, a result or an error object on stdout.
var shimBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ycloud-shim-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shimBin = filepath.Join(dir, "ycloud")
	out, err := exec.Command("go", "build", "-o", shimBin, "github.com/ycloud-sdn/ycloud/cmd/ycloud").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build shim: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeDaemon serves handler on a unix socket in a fresh directory.
func fakeDaemon(t *testing.T, handler func(ctx context.Context, req *cnirpc.Request) *cnirpc.Response) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cni.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: cnirpc.Handler(handler)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

type run struct {
	stdout []byte
	err    error
	took   time.Duration
}

func invoke(t *testing.T, command, conf string, extraEnv ...string) run {
	t.Helper()
	cmd := exec.Command(shimBin)
	cmd.Env = append([]string{
		"CNI_COMMAND=" + command,
		"CNI_CONTAINERID=0123456789abcdef",
		"CNI_NETNS=/var/run/netns/does-not-matter",
		"CNI_IFNAME=eth0",
		"CNI_ARGS=K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod1;K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef",
		"CNI_PATH=/opt/cni/bin",
	}, extraEnv...)
	cmd.Stdin = strings.NewReader(conf)
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	return run{stdout: out.Bytes(), err: err, took: time.Since(start)}
}

func conf(sock string, timeout int) string {
	return fmt.Sprintf(`{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud","socketPath":%q,"timeoutSeconds":%d}`, sock, timeout)
}

func cniErr(t *testing.T, r run) *types.Error {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) {
		t.Fatalf("shim exit = %v, want a non-zero exit; stdout %s", r.err, r.stdout)
	}
	e := &types.Error{}
	if err := json.Unmarshal(r.stdout, e); err != nil || e.Msg == "" {
		t.Fatalf("stdout %q is not a CNI error: %v", r.stdout, err)
	}
	return e
}

func TestAddForwardsTheInvocationAndPrintsTheResult(t *testing.T) {
	var got *cnirpc.Request
	sock := fakeDaemon(t, func(_ context.Context, req *cnirpc.Request) *cnirpc.Response {
		got = req
		return &cnirpc.Response{Result: json.RawMessage(`{"cniVersion":"1.1.0","ips":[{"address":"10.0.0.5/24"}]}`)}
	})
	r := invoke(t, "ADD", conf(sock, 5))
	if r.err != nil {
		t.Fatalf("ADD: %v: %s", r.err, r.stdout)
	}
	if !strings.Contains(string(r.stdout), `"10.0.0.5/24"`) {
		t.Fatalf("stdout = %s", r.stdout)
	}
	if got == nil || got.Command != "ADD" || got.ContainerID != "0123456789abcdef" || got.IfName != "eth0" ||
		got.Netns != "/var/run/netns/does-not-matter" || !strings.Contains(got.Args, "K8S_POD_NAME=pod1") ||
		got.Path != "/opt/cni/bin" || !strings.Contains(string(got.Config), `"timeoutSeconds":5`) {
		t.Fatalf("daemon received %+v", got)
	}
	if got.Deadline.IsZero() || time.Until(got.Deadline) > 5*time.Second {
		t.Fatalf("request deadline %v does not reflect timeoutSeconds", got.Deadline)
	}
}

func TestDaemonErrorIsPassedThrough(t *testing.T) {
	sock := fakeDaemon(t, func(context.Context, *cnirpc.Request) *cnirpc.Response {
		return &cnirpc.Response{Error: types.NewError(types.ErrInvalidNetNS, "pod network namespace does not exist", "open /x: no such file")}
	})
	e := cniErr(t, invoke(t, "ADD", conf(sock, 5)))
	if e.Code != types.ErrInvalidNetNS || e.Details != "open /x: no such file" {
		t.Fatalf("error = %+v", e)
	}
}

func TestDaemonDown(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "nobody.sock")
	for _, tc := range []struct {
		command string
		code    uint
	}{{"ADD", types.ErrTryAgainLater}, {"DEL", types.ErrTryAgainLater}, {"STATUS", types.ErrPluginNotAvailable}} {
		r := invoke(t, tc.command, conf(sock, 5))
		e := cniErr(t, r)
		if e.Code != tc.code || !strings.Contains(e.Msg, "not running") || !strings.Contains(e.Details, sock) {
			t.Errorf("%s with the daemon down: %+v", tc.command, e)
		}
		if r.took > 3*time.Second {
			t.Errorf("%s with the daemon down took %v", tc.command, r.took)
		}
	}
}

// A daemon that hangs: the shim answers within timeoutSeconds with a CNI error, and the
// daemon sees its request cancelled (so an ADD would roll back).
func TestSlowDaemonTimesOut(t *testing.T) {
	cancelled := make(chan struct{})
	sock := fakeDaemon(t, func(ctx context.Context, _ *cnirpc.Request) *cnirpc.Response {
		<-ctx.Done()
		close(cancelled)
		return &cnirpc.Response{}
	})
	r := invoke(t, "ADD", conf(sock, 1))
	e := cniErr(t, r)
	if e.Code != types.ErrTryAgainLater || !strings.Contains(e.Msg, "timed out") || !strings.Contains(e.Details, "1s") {
		t.Fatalf("error = %+v", e)
	}
	if r.took < 900*time.Millisecond || r.took > 3*time.Second {
		t.Fatalf("the shim answered after %v, want about the 1s timeout", r.took)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon's request context was not cancelled when the shim gave up")
	}
}

func TestBadConfiguration(t *testing.T) {
	r := invoke(t, "ADD", `{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud","timeoutSeconds":-1}`)
	if e := cniErr(t, r); e.Code != types.ErrInvalidNetworkConfig {
		t.Fatalf("negative timeout: %+v", e)
	}
	r = invoke(t, "ADD", `{"cniVersion":"9.9.9","name":"ycloud","type":"ycloud"}`)
	if e := cniErr(t, r); e.Code != types.ErrIncompatibleCNIVersion {
		t.Fatalf("unknown version: %+v", e)
	}
}

func TestVersion(t *testing.T) {
	r := invoke(t, "VERSION", "")
	if r.err != nil || !strings.Contains(string(r.stdout), `"1.1.0"`) {
		t.Fatalf("VERSION: %v %s", r.err, r.stdout)
	}
}
