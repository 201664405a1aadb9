package controller_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// Without kubelets, deleting a scheduled pod needs GracePeriodSeconds(0): nobody else would
// confirm its termination. Tests do that wherever they delete pods.

func TestMain(m *testing.M) {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	os.Exit(m.Run())
}

// world is one spoke: a test apiserver and a real OVN central.
type world struct {
	t    *testing.T
	k8s  *framework.Cluster
	ovn  *ovsdbtest.OVNCentral
	nb   *ovsdb.Client // an independent reader of NB, to check what the controller wrote
	name string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, name: "c1"}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.k8s = framework.StartCluster(t, framework.Options{Name: "spoke"}) }()
	w.ovn = ovsdbtest.StartOVNCentral(t)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	dm, err := ovsdb.NewDatabaseModel(nb.Schema(), nb.Models()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := framework.Context(t, time.Minute)
	w.nb, err = ovsdb.Dial(ctx, dm, w.ovn.NBEndpoint(), ovsdb.WithIndex(nb.LogicalSwitchPortTable, "name"),
		ovsdb.WithIndex(nb.LogicalSwitchTable, "name"), ovsdb.WithIndex(nb.LogicalRouterTable, "name"),
		ovsdb.WithIndex(nb.LogicalRouterPortTable, "name"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.nb.Close)
	var mons []ovsdb.TableMonitor
	for _, tb := range []string{nb.LogicalRouterTable, nb.LogicalRouterPortTable, nb.LogicalSwitchTable, nb.LogicalSwitchPortTable, nb.LogicalRouterStaticRouteTable} {
		mons = append(mons, ovsdb.TableMonitor{Table: tb})
	}
	if _, err := w.nb.Monitor(ctx, mons...); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) config() controller.Config {
	cfg := controller.DefaultConfig()
	cfg.NBAddress = w.ovn.NBEndpoint()
	cfg.Cluster = w.name
	cfg.MetricsAddr, cfg.HealthAddr = "0", "0"
	cfg.LeaderElect = false
	cfg.DefaultSubnetCIDR = "10.16.0.0/16"
	return cfg
}

// runInProcess runs the controller until the returned stop function is called (or the test
// ends) and fails the test if it exits with an error.
func (w *world) runInProcess(mod func(*controller.Config)) (stop func()) {
	cfg := w.config()
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx, cfg, w.k8s.Config) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					w.t.Errorf("controller exited: %v", err)
				}
			case <-time.After(30 * time.Second):
				w.t.Errorf("controller did not stop within 30s")
			}
		})
	}
	w.t.Cleanup(stop)
	return stop
}

// process is ycloud-controller run as a separate binary, so a test can kill -9 it.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func controllerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ycloud-controller-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ycloud-controller")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/ycloud-sdn/ycloud/cmd/ycloud-controller").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func (w *world) startProcess(logName string, extra ...string) *process {
	w.t.Helper()
	cfg := w.config()
	args := []string{"--kubeconfig", w.k8s.Kubeconfig, "--ovn-nb", cfg.NBAddress, "--cluster", cfg.Cluster,
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--leader-elect=false"}
	args = append(args, extra...)
	cmd := exec.Command(controllerBinary(w.t), args...)
	logf, err := os.Create(filepath.Join(w.t.TempDir(), logName))
	if err != nil {
		w.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	w.t.Cleanup(func() {
		p.kill()
		if w.t.Failed() {
			if b, err := os.ReadFile(logf.Name()); err == nil {
				lines := strings.Split(string(b), "\n")
				if len(lines) > 40 {
					lines = lines[len(lines)-40:]
				}
				w.t.Logf("%s (last lines):\n%s", logName, strings.Join(lines, "\n"))
			}
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, d, err)
		}
		<-tick.C
	}
}
