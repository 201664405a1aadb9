// Package demo is `make demo`: the product's main job shown end to end on one machine.
// It brings up a lab (a hub and two spokes of two real kubelet nodes, ycloud CNI: our
// ycloud-hub on the hub, ycloud-controller and ycloud-ic per spoke, our ycloud-cni and CNI
// plugin per node, real OVN and OVN-IC, the OCM stand-ins of test/ocm), applies
// deploy/samples where they make sense (spoke kinds to the spokes, federation and OCM kinds
// to the hub), runs Deployments of the test image, proves the data path with real packets
// and prints a summary:
//
//	hub         FederatedVpc tenant-a/vpc-a (the sample) and tenant-b/vpc-b, both
//	            10.100.0.0/16, placed on both spokes by OCM Placements: the hub carves the
//	            per-cluster subnets, ManifestWorks carry them, ycloud-ic links each VPC to
//	            its own transit switch; Ready rolls up on the hub
//	across      each tenant's pods reach each other between the clusters (TCP with the
//	            expected pod answering and ICMP, both directions); an address only the other
//	            tenant has is never reached (TCP and ICMP)
//	per spoke   pod -> pod on the same node, pod -> pod across nodes (geneve between the
//	            nodes' userspace OVS), node -> pod through the node's management port
//	spoke1      two VPCs with the same CIDR: each reaches its own pods, an address taken by
//	            both answers from the caller's VPC, an address only the other VPC has (and
//	            the default VPC's pods) cannot be reached
//
// Then it takes the lab down again (unless Options.Keep), so that the machine is as before.
// It fails (exit code 1) when any check fails.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ycloud-sdn/ycloud/test/lab"
)

// Options configures Run.
type Options struct {
	// Lab is the lab to bring up. Clusters and Nodes default to 2 and 2; CNI is always
	// CNIYcloud (the demo is about our data path). Lab.Log receives the lab's progress.
	Lab lab.Config
	// Keep leaves the lab running after the demo (take it down with `ycloud-lab down`);
	// KeepOnFailure only when a check failed or a step after Up did.
	Keep          bool
	KeepOnFailure bool
	// Samples is the directory of sample manifests (default <repo>/deploy/samples; "none"
	// applies nothing).
	Samples string
	// Out receives the demo's progress and summary (default os.Stdout).
	Out io.Writer
	// PodTimeout bounds the wait for the demo's pods to run (default 3m).
	PodTimeout time.Duration
}

// Result is what the demo measured and checked.
type Result struct {
	// Dir is the lab directory; Kept is true when the lab was left running.
	Dir  string
	Kept bool
	// Phases are the lab's start phases; Steps the demo's own steps, both timed.
	Phases []lab.PhaseTiming
	Steps  []lab.PhaseTiming
	// Applied counts sample objects applied per cluster; Skipped says why others were not.
	Applied map[string]int
	Skipped []string
	Pods    []Pod
	Checks  []Check
	// Processes are the lab's processes as they were just before the demo took it down
	// (tests check that none survives).
	Processes []lab.Process
}

// Pod is one pod of the demo.
type Pod struct {
	Cluster, Namespace, Name, Node, IP string
	// Vpc and Subnet the pod's interface is in (from the controller's allocation).
	Vpc, Subnet string
	// Deployment names the Deployment the pod belongs to.
	Deployment string
	// Start is the time from the pod's creation (first seen on a watch) to phase Running.
	Start time.Duration
}

// Check is one assertion made with real packets (or, for the samples, on the API).
type Check struct {
	Cluster  string
	Name     string
	From, To string
	Pass     bool
	Detail   string
	Duration time.Duration
}

// Failed returns the checks that failed.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// MedianStart is the median pod create -> Running time (0 without pods).
func (r *Result) MedianStart() time.Duration {
	if len(r.Pods) == 0 {
		return 0
	}
	d := make([]time.Duration, 0, len(r.Pods))
	for _, p := range r.Pods {
		d = append(d, p.Start)
	}
	return median(d)
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// withDefaults fills the options.
func (o Options) withDefaults() Options {
	if o.Lab.Clusters == 0 {
		o.Lab.Clusters = 2
	}
	if o.Lab.Nodes == 0 {
		o.Lab.Nodes = 2
	}
	if o.Lab.ICGateways == 0 {
		// Every node may carry the interconnect: two gateway chassis per VPC (HA).
		o.Lab.ICGateways = o.Lab.Nodes
	}
	o.Lab.CNI = lab.CNIYcloud
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.PodTimeout == 0 {
		o.PodTimeout = 3 * time.Minute
	}
	return o
}

// ErrLabExists is returned when the directory already holds a lab: the demo brings up its
// own and takes it down at the end, so it never reuses (or removes) a lab someone kept.
var ErrLabExists = errors.New("a lab is already up in this directory")

// Run runs the demo. The error reports what kept the demo from running (the lab did not
// come up, the pods did not start); failed checks are in the result (Result.Failed), and
// also make the error non-nil.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	o = o.withDefaults()
	dir := o.Lab.Dir
	if dir == "" {
		dir = lab.DefaultDir
	}
	if l, err := lab.Open(dir); err == nil {
		return nil, fmt.Errorf("%w: %s (%s); take it down first (ycloud-lab --dir %s down) or use another --dir", ErrLabExists, l.Dir(), l.Shape(), l.Dir())
	} else if !errors.Is(err, lab.ErrNoLab) {
		return nil, err
	}
	res = &Result{Dir: dir, Applied: map[string]int{}}
	out := o.Out
	step := func(name string, f func() error) error {
		t := time.Now()
		fmt.Fprintf(out, "==> %s\n", name)
		err := f()
		d := time.Since(t)
		res.Steps = append(res.Steps, lab.PhaseTiming{Name: name, Duration: d})
		status := ""
		if err != nil {
			status = "  FAILED"
		}
		fmt.Fprintf(out, "<== %-40s %6.2fs%s\n", name, d.Seconds(), status)
		return err
	}

	var l *lab.Lab
	if err := step("lab up: hub + spokes, ycloud CNI", func() error {
		var err error
		l, err = lab.Up(ctx, o.Lab)
		return err
	}); err != nil {
		return res, err
	}
	res.Dir = l.Dir()
	res.Phases = l.Phases()
	defer func() {
		res.Processes = l.Processes()
		if o.Keep || (o.KeepOnFailure && (err != nil || len(res.Failed()) > 0)) {
			res.Kept = true
			return
		}
		// Down runs even when ctx was cancelled (Ctrl-C): the machine must be left as before.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		derr := step("lab down", func() error { return l.Down(dctx) })
		if derr != nil {
			err = errors.Join(err, fmt.Errorf("lab down: %w", derr))
		}
	}()

	d := &demo{l: l, o: o, res: res}
	if err := d.clients(); err != nil {
		return res, err
	}
	if err := step("apply deploy/samples (spoke kinds on spokes, federation on the hub)", func() error { return d.applySamples(ctx) }); err != nil {
		return res, err
	}
	if len(l.Spokes()) >= 2 {
		if err := step("hub: FederatedVpcs tenant-a/vpc-a and tenant-b/vpc-b (both "+fedCIDR+") on every spoke", func() error { return d.federate(ctx) }); err != nil {
			return res, err
		}
	} else {
		fmt.Fprintf(out, "  skipped: the federated VPCs need two spokes\n")
	}
	if err := step("VPCs demo-a and demo-b, both 10.77.0.0/24, on "+lab.SpokeName(1), func() error { return d.createVPCs(ctx) }); err != nil {
		return res, err
	}
	if err := step("Deployments of the test image, pods Running", func() error { return d.runPods(ctx) }); err != nil {
		return res, err
	}
	if err := step("data path checks with real packets", func() error { d.runChecks(ctx); return nil }); err != nil {
		return res, err
	}
	if err := l.CheckProcesses(); err != nil {
		d.addCheck(Check{Name: "every lab process still runs", Detail: err.Error()})
	} else {
		d.addCheck(Check{Name: "every lab process still runs", Pass: true, Detail: fmt.Sprintf("%d processes", len(l.Processes()))})
	}
	if st := l.Status(ctx); st.Healthy() {
		d.addCheck(Check{Name: "lab status healthy", Pass: true, Detail: fmt.Sprintf("%d components ok, %d nodes Ready with their chassis", len(st.Components), len(st.Nodes))})
	} else {
		d.addCheck(Check{Name: "lab status healthy", Detail: unhealthy(st)})
	}
	if n := len(res.Failed()); n > 0 {
		return res, fmt.Errorf("%d of %d checks failed", n, len(res.Checks))
	}
	return res, nil
}

// unhealthy lists what makes a status unhealthy, on one line.
func unhealthy(st *lab.Status) string {
	var out []string
	for _, p := range st.Processes {
		if !p.Alive {
			out = append(out, "process "+p.Name+" dead")
		}
	}
	for _, c := range st.Components {
		if !strings.HasPrefix(c.Health, "ok") && !strings.HasPrefix(c.Health, "not built") && c.Health != "disabled" {
			out = append(out, c.Cluster+" "+c.Name+": "+c.Health)
		}
	}
	for _, n := range st.Nodes {
		if n.Ready != "True" || !n.Chassis {
			out = append(out, fmt.Sprintf("node %s Ready=%s chassis=%t", n.Name, n.Ready, n.Chassis))
		}
	}
	if !st.Complete {
		out = append(out, "up did not complete")
	}
	return strings.Join(out, "; ")
}

// Explore returns how to look around a lab like the demo's: how to bring one up (the
// demo took its own down) or, when it was kept, what to look at.
func Explore(dir string, kept bool, cfg lab.Config) string {
	cmd := "ycloud-lab"
	if dir != lab.DefaultDir {
		cmd += " --dir " + dir
	}
	var s string
	if kept {
		s = "The lab is still running. Look around:\n"
	} else {
		extra := ""
		if cfg.Prefix != "" {
			extra += " --prefix " + cfg.Prefix
		}
		if cfg.Underlay != "" {
			extra += " --underlay " + cfg.Underlay
		}
		s = fmt.Sprintf("The demo took its lab down. To explore, bring one up (the same shape, without the demo's objects),\n"+
			"or run the demo again and keep its lab:\n"+
			"  %s up --clusters %d --nodes %d --cni ycloud --ic-gateways %d%s\n"+
			"  %s demo --keep%s\n", cmd, cfg.Clusters, cfg.Nodes, cfg.ICGateways, extra, cmd, extra)
	}
	s += fmt.Sprintf(""+
		"  export KUBECONFIG=$(%[1]s kubeconfig spoke1)    # hub, spoke1, spoke2 ...\n"+
		"  kubectl get pods -n %[2]s -o wide; kubectl get vpc,subnet,vnicip -A\n"+
		"  %[1]s exec spoke1/%[2]s/POD -- ynettest http-get --url http://IP:8080/\n"+
		"  %[1]s node-exec spoke1-n1 -- ip route            # the node's view: management port ycloud0\n"+
		"  %[1]s status; %[1]s logs spoke1-n1/ycloud-cni; %[1]s logs spoke1/ycloud-controller\n"+
		"  %[1]s down\n", cmd, Namespace)
	return s
}

// SamplesDir is the default sample directory of a checkout.
func SamplesDir(repoRoot string) string { return filepath.Join(repoRoot, "deploy", "samples") }
