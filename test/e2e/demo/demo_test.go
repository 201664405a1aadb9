package demoe2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ycloud-sdn/ycloud/test/lab"
	"github.com/ycloud-sdn/ycloud/test/lab/demo"
	"github.com/ycloud-sdn/ycloud/test/lab/labtest"
)

// TestDemoTwice: up -> samples -> pods -> packet checks -> down, twice. A leak, or state
// the first run leaves for the second, fails the second.
func TestDemoTwice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the demo e2e test needs root (network namespaces, mounts, cgroups); CI runs it as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bins, err := labtest.BuildComponents(ctx, lab.DefaultRepoRoot(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Short: unix socket paths of the nodes live under it.
	dir, err := os.MkdirTemp("/var/tmp", "ydemo-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the labs' logs are kept in %s/logs", dir)
			return
		}
		os.RemoveAll(dir)
	})
	pid := os.Getpid()
	// 10.220-239: test/e2e/lab uses 10.200-219 and may run at the same time.
	underlay, err := labtest.FreeUnderlay(220, 20, pid)
	if err != nil {
		t.Fatal(err)
	}
	cfg := lab.Config{
		Dir:          dir,
		Prefix:       labtest.Prefix("yd", pid),
		Underlay:     underlay,
		ReadyTimeout: 3 * time.Minute,
		Log:          testWriter{t},
	}
	labtest.UseComponents(&cfg, bins)
	var starts []time.Duration
	for round := 1; round <= 2; round++ {
		ok := t.Run(fmt.Sprintf("run%d", round), func(t *testing.T) {
			starts = append(starts, run(ctx, t, cfg)...)
		})
		if !ok {
			break
		}
	}
	if len(starts) > 0 {
		res := demo.Result{}
		for _, d := range starts {
			res.Pods = append(res.Pods, demo.Pod{Start: d})
		}
		t.Logf("pod create -> Running over %d pods of both runs: median %v", len(starts), res.MedianStart().Round(time.Millisecond))
	}
}

// run is one demo; it returns the pods' start times.
func run(ctx context.Context, t *testing.T, cfg lab.Config) []time.Duration {
	before, err := labtest.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := demo.Run(ctx, demo.Options{Lab: cfg, Out: testWriter{t}})
	if res != nil {
		var b strings.Builder
		res.WriteSummary(&b)
		t.Log(b.String())
	}
	if res == nil || res.Kept {
		t.Fatalf("demo: %v (result %v)", err, res)
	}
	// Down ran whatever happened: what the host looks like is checked first.
	for _, e := range labtest.CheckGone(cfg, res.Processes, before) {
		t.Error(e)
	}
	if _, oerr := lab.Open(cfg.Dir); !errors.Is(oerr, lab.ErrNoLab) {
		t.Errorf("after the demo the lab directory still holds a lab: %v", oerr)
	}
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	t.Logf("demo took %v", time.Since(t0).Round(time.Millisecond))

	// What the demo must have shown: 2 spokes x 2 nodes x 2 web pods + 4 VPC pods + 6
	// federated pods (3 per tenant), and every kind of check, all passing (Run returns an
	// error otherwise; checked again here so that a check silently dropped from the plan
	// fails too).
	if len(res.Pods) != 18 {
		t.Errorf("%d demo pods, want 18", len(res.Pods))
	}
	want := map[string]int{
		"pod -> pod, same node":      4,
		"pod -> pod, across nodes":   4,
		"node -> pod":                8,
		"vpc demo-":                  2,
		"overlap:":                   2,
		"isolation: demo-":           3,
		"isolation: the default VPC": 1,
		"isolation: tenant-":         4,
		"sample Vpc vpc1 Ready":      2,
		"FederatedVpc tenant-a/vpc-a Ready on 2 clusters":              1,
		"FederatedVpc tenant-b/vpc-b Ready on 2 clusters":              1,
		"FederatedVpc tenant-a/vpc-a shows each cluster's OVN-IC link": 1,
		"FederatedVpc tenant-b/vpc-b shows each cluster's OVN-IC link": 1,
		"Vpc tenant-a.vpc-a linked over OVN-IC":                        2,
		"Vpc tenant-b.vpc-b linked over OVN-IC":                        2,
		"tenant-a: pod -> pod across clusters":                         2,
		"tenant-b: pod -> pod across clusters":                         2,
		"tenant-a: ping across clusters":                               2,
		"tenant-b: ping across clusters":                               2,
		"every lab process still runs":                                 1,
		"lab status healthy":                                           1,
	}
	got := map[string]int{}
	for _, c := range res.Checks {
		if !c.Pass {
			t.Errorf("check %s %q failed: %s", c.Cluster, c.Name, c.Detail)
		}
		for prefix := range want {
			if strings.HasPrefix(c.Name, prefix) {
				got[prefix]++
			}
		}
	}
	for prefix, n := range want {
		if got[prefix] != n {
			t.Errorf("%d checks %q, want %d", got[prefix], prefix, n)
		}
	}
	for _, p := range res.Pods {
		if p.IP == "" || p.Node == "" || p.Vpc == "" {
			t.Errorf("pod %s/%s: incomplete record %+v", p.Cluster, p.Name, p)
		}
		if strings.HasPrefix(p.Name, "vpc-") != strings.HasPrefix(p.IP, "10.77.0.") {
			t.Errorf("pod %s has IP %s: VPC pods (only) must be in 10.77.0.0/24", p.Name, p.IP)
		}
		if strings.HasPrefix(p.Name, "fed-") != strings.HasPrefix(p.IP, "10.100.") {
			t.Errorf("pod %s has IP %s: federated pods (only) must be in 10.100.0.0/16", p.Name, p.IP)
		}
	}
	out := make([]time.Duration, 0, len(res.Pods))
	for _, p := range res.Pods {
		out = append(out, p.Start)
	}
	return out
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
