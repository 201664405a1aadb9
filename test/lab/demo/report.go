package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ycloud-sdn/ycloud/test/lab"
)

// WriteSummary prints the result: timings, pods, checks, skipped samples.
func (r *Result) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "\n=== ycloud demo summary (lab %s)\n\n", r.Dir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAB UP PHASE\tSECONDS")
	var total time.Duration
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%.2f\n", p.Name, p.Duration.Seconds())
		total += p.Duration
	}
	fmt.Fprintf(tw, "total\t%.2f\n", total.Seconds())
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEMO STEP\tSECONDS")
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "%s\t%.2f\n", s.Name, s.Duration.Seconds())
	}
	tw.Flush()

	if len(r.Applied) > 0 || len(r.Skipped) > 0 {
		clusters := make([]string, 0, len(r.Applied))
		for c := range r.Applied {
			clusters = append(clusters, c)
		}
		sort.Strings(clusters)
		var parts []string
		for _, c := range clusters {
			parts = append(parts, fmt.Sprintf("%s %d", c, r.Applied[c]))
		}
		fmt.Fprintf(w, "\nsamples applied: %s objects\n", strings.Join(parts, ", "))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  not applied: %s\n", s)
		}
	}

	if len(r.Pods) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLUSTER\tPOD\tNODE\tVPC/SUBNET\tIP\tCREATE->RUNNING\tCHECKS")
		pass, fail := checksPerPod(r.Checks)
		for _, p := range r.Pods {
			fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s/%s\t%s\t%.2fs\t%d passed, %d failed\n", p.Cluster, p.Namespace, p.Name, p.Node,
				p.Vpc, p.Subnet, p.IP, p.Start.Seconds(), pass[p.Cluster+"/"+p.Name], fail[p.Cluster+"/"+p.Name])
		}
		tw.Flush()
		fmt.Fprintf(w, "pod create -> Running: median %.2fs over %d pods\n", r.MedianStart().Seconds(), len(r.Pods))
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tCLUSTER\tCHECK\tFROM -> TO\tDETAIL")
	for _, c := range r.Checks {
		status := "PASS"
		if !c.Pass {
			status = "FAIL"
		}
		path := ""
		if c.From != "" {
			path = c.From + " -> " + c.To
		}
		cluster := c.Cluster
		if cluster == "" {
			cluster = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", status, cluster, c.Name, path, c.Detail)
	}
	tw.Flush()
	failed := len(r.Failed())
	fmt.Fprintf(w, "\n%d checks: %d passed, %d failed\n", len(r.Checks), len(r.Checks)-failed, failed)
}

// checksPerPod counts the packet checks each pod took part in (as source or destination).
func checksPerPod(checks []Check) (pass, fail map[string]int) {
	pass, fail = map[string]int{}, map[string]int{}
	for _, c := range checks {
		for _, end := range []string{c.From, c.To} {
			name := ""
			if p, ok := strings.CutPrefix(end, "pod "); ok {
				name = p
			} else if i := strings.Index(end, " ("); i >= 0 && strings.HasSuffix(end, ")") {
				name = end[i+2 : len(end)-1]
			}
			if name == "" {
				continue
			}
			if c.Pass {
				pass[c.Cluster+"/"+name]++
			} else {
				fail[c.Cluster+"/"+name]++
			}
		}
	}
	return pass, fail
}

const usage = `  demo [--keep|--keep-on-failure] [--clusters N] [--nodes M] [--prefix P] [--underlay CIDR]
       [--samples DIR|none]
         bring up a lab with the ycloud CNI (default 2 spokes x 2 nodes), apply
         deploy/samples, run Deployments, check the data path with real packets
         (same node, across nodes, node -> pod, overlapping VPCs isolated), print a
         summary and take the lab down (--keep leaves it running); exit 1 when a
         check fails
`

// Command is the `ycloud-lab demo` subcommand.
func Command() lab.Command {
	return lab.Command{Name: "demo", Usage: usage, Run: runCLI}
}

func runCLI(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := Options{Out: stdout, Lab: lab.Config{Dir: dir, Log: stdout}}
	fs.StringVar(&o.Lab.Dir, "dir", dir, "lab directory")
	fs.BoolVar(&o.Keep, "keep", false, "leave the lab running after the demo")
	fs.BoolVar(&o.KeepOnFailure, "keep-on-failure", false, "leave the lab running when a check fails, for inspection")
	fs.IntVar(&o.Lab.Clusters, "clusters", 2, "number of spokes")
	fs.IntVar(&o.Lab.Nodes, "nodes", 2, "nodes per spoke (the VPC checks need 2)")
	fs.IntVar(&o.Lab.ICGateways, "ic-gateways", 0, "nodes per spoke that may be OVN-IC gateway chassis (0: every node; at least 2 for gateway failover)")
	fs.StringVar(&o.Lab.Prefix, "prefix", "", "prefix of namespaces, links and cgroups (default ylab)")
	fs.StringVar(&o.Lab.Underlay, "underlay", "", "underlay IPv4 /16 (default 10.250.0.0/16)")
	fs.StringVar(&o.Samples, "samples", "", "sample manifests to apply (default deploy/samples; none: skip)")
	fs.DurationVar(&o.PodTimeout, "pod-timeout", 0, "bound of the wait for the demo's pods (default 3m)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	start := time.Now()
	res, err := Run(ctx, o)
	if res != nil {
		res.WriteSummary(stdout)
		fmt.Fprintf(stdout, "\ndemo finished in %.1fs\n\n", time.Since(start).Seconds())
		fmt.Fprint(stdout, Explore(res.Dir, res.Kept, o.withDefaults().Lab))
	}
	if err != nil {
		if errors.Is(err, ErrLabExists) {
			fmt.Fprintf(stderr, "ycloud-lab demo: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "\nycloud-lab demo FAILED: %v\n", err)
		return 1
	}
	return 0
}
