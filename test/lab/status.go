package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Status is a point-in-time report on a lab.
type Status struct {
	Dir       string
	Shape     Shape
	Complete  bool
	CreatedAt time.Time
	// Processes lists every process the lab started, dead ones included: the lab never
	// restarts a crashed process, it reports it.
	Processes  []ProcessStatus
	Components []ComponentStatus
	Nodes      []NodeStatus
	Warnings   []string
}

// ProcessStatus is one process.
type ProcessStatus struct {
	Name  string
	PID   int
	Alive bool
	Log   string
}

// ComponentStatus is the health of one component of a cluster.
type ComponentStatus struct {
	Cluster string
	Name    string
	// Health is "ok" (possibly followed by ": details"), "not built (...)", "disabled" or
	// what failed.
	Health string
}

// NodeStatus is one node.
type NodeStatus struct {
	Cluster, Name, IP, NetNS string
	// Ready is the node's Ready condition as the apiserver reports it ("True", "False",
	// "Unknown"), or why it could not be read.
	Ready string
	// Chassis reports whether ovn-controller registered the node in the southbound DB.
	Chassis bool
}

// Healthy reports whether every process is alive, every component ok (or deliberately
// skipped) and every node Ready with its chassis.
func (s *Status) Healthy() bool {
	for _, p := range s.Processes {
		if !p.Alive {
			return false
		}
	}
	for _, c := range s.Components {
		if !strings.HasPrefix(c.Health, "ok") && !strings.HasPrefix(c.Health, "not built") && c.Health != "disabled" {
			return false
		}
	}
	for _, n := range s.Nodes {
		if n.Ready != "True" || !n.Chassis {
			return false
		}
	}
	return s.Complete
}

// Status checks every process, component and node of the lab.
func (l *Lab) Status(ctx context.Context) *Status {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st := l.st
	s := &Status{Dir: l.cfg.Dir, Shape: st.Shape, Complete: st.Complete, CreatedAt: st.CreatedAt, Warnings: st.Warnings}
	alive := map[string]bool{}
	for _, p := range l.Processes() {
		a := p.Alive()
		alive[p.Name] = a
		s.Processes = append(s.Processes, ProcessStatus{Name: p.Name, PID: p.PID, Alive: a, Log: p.Log})
	}
	skipped := map[string]string{}
	for _, k := range st.Skipped {
		skipped[k.Name] = k.Reason
	}
	procHealth := func(name string) string {
		if r, ok := skipped[name]; ok {
			return r
		}
		a, ok := alive[name]
		switch {
		case !ok:
			return "not started"
		case !a:
			return "process exited"
		}
		return "ok"
	}
	errHealth := func(name string, err error) string {
		if h := procHealth(name); h != "ok" {
			return h
		}
		if err != nil {
			return err.Error()
		}
		return "ok"
	}
	add := func(cluster, comp, health string) {
		s.Components = append(s.Components, ComponentStatus{Cluster: cluster, Name: comp, Health: health})
	}
	add("ic", "ovn-ic-nb", errHealth("ic/ovn-ic-nb", socketHealth(st.IC.NB)))
	add("ic", "ovn-ic-sb", errHealth("ic/ovn-ic-sb", socketHealth(st.IC.SB)))
	for _, ci := range st.Clusters {
		add(ci.Name, "etcd", errHealth(ci.Name+"/etcd", etcdHealth(ctx, ci.EtcdClient)))
		add(ci.Name, "kube-apiserver", errHealth(ci.Name+"/kube-apiserver", apiserverReady(ctx, ci)))
		if len(ci.CRDs) > 0 {
			add(ci.Name, "crds", "ok: "+crdGroups(ci.CRDs))
		}
		fedHealth := func(comps []clusterComponent) {
			for _, fc := range comps {
				name := ci.Name + "/" + fc.name
				if url := l.componentHealthURL(ci, fc.name); url != "" {
					add(ci.Name, fc.name, errHealth(name, httpHealth(ctx, url)))
				} else {
					add(ci.Name, fc.name, procHealth(name))
				}
			}
		}
		if ci.Role != RoleSpoke {
			fedHealth(l.hubComponents())
			continue
		}
		add(ci.Name, "kube-controller-manager", errHealth(ci.Name+"/kube-controller-manager", healthz(ctx, ci.KCMPort)))
		add(ci.Name, "kube-scheduler", errHealth(ci.Name+"/kube-scheduler", healthz(ctx, ci.SchedulerPort)))
		add(ci.Name, "ovn-nb", errHealth(ci.Name+"/ovn-nb", socketHealth(ci.NB)))
		add(ci.Name, "ovn-sb", errHealth(ci.Name+"/ovn-sb", socketHealth(ci.SB)))
		add(ci.Name, "ovn-northd", procHealth(ci.Name+"/ovn-northd"))
		add(ci.Name, "ovn-ic", procHealth(ci.Name+"/ovn-ic"))
		if ci.ControllerHealthPort != 0 {
			add(ci.Name, "ycloud-controller", errHealth(ci.Name+"/ycloud-controller", httpHealth(ctx, "http://127.0.0.1:"+strconv.Itoa(ci.ControllerHealthPort)+"/healthz")))
		} else {
			add(ci.Name, "ycloud-controller", procHealth(ci.Name+"/ycloud-controller"))
		}
		fedHealth(l.spokeComponents())
		for _, n := range ci.Nodes {
			if n.CNIHealthPort != 0 {
				add(ci.Name, n.Name+"/ycloud-cni", errHealth(n.Name+"/ycloud-cni", httpHealth(ctx, cniHealthURL(n))))
			} else {
				add(ci.Name, n.Name+"/ycloud-cni", procHealth(n.Name+"/ycloud-cni"))
			}
		}

		ready := map[string]bool{}
		readyErr := ""
		if cfg, err := restConfig(ci); err != nil {
			readyErr = err.Error()
		} else if cs, err := kubernetes.NewForConfig(cfg); err != nil {
			readyErr = err.Error()
		} else if ready, err = readyNodes(ctx, cs); err != nil {
			readyErr = "unknown: " + err.Error()
		}
		chassis, _ := sbChassis(ctx, ci.SB)
		for _, n := range ci.Nodes {
			ns := NodeStatus{Cluster: ci.Name, Name: n.Name, IP: n.IP, NetNS: n.NetNS, Chassis: slices.Contains(chassis, n.Name)}
			switch r, ok := ready[n.Name]; {
			case readyErr != "":
				ns.Ready = readyErr
			case !ok:
				ns.Ready = "not registered"
			case r:
				ns.Ready = "True"
			default:
				ns.Ready = "False"
			}
			s.Nodes = append(s.Nodes, ns)
		}
	}
	return s
}

func socketHealth(endpoint string) error {
	c, err := net.DialTimeout("unix", strings.TrimPrefix(endpoint, "unix:"), 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

func etcdHealth(ctx context.Context, url string) error {
	if url == "" {
		return fmt.Errorf("no endpoint")
	}
	return httpHealth(ctx, url+"/health")
}

// httpHealth GETs a plain-HTTP health endpoint and wants 200.
func httpHealth(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// Write prints the status as tables.
func (s *Status) Write(w io.Writer) {
	state := "up"
	if !s.Complete {
		state = "INCOMPLETE (an up failed or is running; run down)"
	}
	fmt.Fprintf(w, "lab %s: hub + %s, %s, since %s\n\n", s.Dir, s.Shape, state, s.CreatedAt.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROCESS\tPID\tSTATE\tLOG")
	for _, p := range s.Processes {
		state := "alive"
		if !p.Alive {
			state = "DEAD"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", p.Name, p.PID, state, p.Log)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tCOMPONENT\tHEALTH")
	for _, c := range s.Components {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Cluster, c.Name, c.Health)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tNODE\tREADY\tCHASSIS\tIP\tNETNS")
	for _, n := range s.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\n", n.Cluster, n.Name, n.Ready, n.Chassis, n.IP, n.NetNS)
	}
	tw.Flush()
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "\nWARNING: %s", warn)
	}
	if len(s.Warnings) > 0 {
		fmt.Fprintln(w)
	}
}
