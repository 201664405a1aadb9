package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ycloud-sdn/ycloud/test/images"
)

// Up runs these phases in order, each timed. Within a phase, independent work runs
// concurrently (clusters, nodes); across phases, nothing waits that need not: kubelets
// start before their apiserver answers and register as soon as it does.
//
//	build       images and static helpers (cached), required binaries present
//	network     namespaces, underlay bridge, root link, node uplinks
//	config      per-cluster PKI, ports (on the root link, hence after network), kubeconfigs,
//	            node configuration files
//	control     etcd + kube-apiserver per cluster, IC databases, OVN central + ovn-ic per spoke
//	nodes       per node: namespace holder, OVS chain and containerd chain, then kubelet
//	apiservers  /readyz, then kube-controller-manager, kube-scheduler, CRDs, ycloud-controller
//	federation  spokes registered on the hub (ManagedClusters), ycloud-hub and the placement
//	            stand-in on the hub, a work agent stand-in and ycloud-ic per spoke
//	ready       nodes Ready, default ServiceAccount, chassis in the southbound DB; with the
//	            ycloud CNI also ycloud-controller synced, ycloud-cni healthy and every
//	            node's management port bound; the federation components healthy

// upRun carries what phases hand to later phases.
type upRun struct {
	archives []string
	nodeInit string
	pkis     map[string]*clusterPKI
	apiProcs map[string]*Process
}

func (l *Lab) up(ctx context.Context) error {
	total := time.Now()
	r := &upRun{pkis: map[string]*clusterPKI{}, apiProcs: map[string]*Process{}}
	phases := []struct {
		name string
		run  func(context.Context, *upRun) error
	}{
		{"build binaries and images", l.buildPhase},
		{"network namespaces and underlay", l.networkPhase},
		{"certificates and configuration", l.configPhase},
		{"control planes and OVN databases", l.controlPhase},
		{"nodes (OVS, containerd, kubelet)", l.nodesPhase},
		{"apiservers ready, controllers, CRDs", l.apiserversPhase},
		{"federation: ycloud-hub, OCM stand-ins, ycloud-ic", l.federationPhase},
		{"nodes Ready, chassis, data path", l.readyPhase},
	}
	for _, p := range phases {
		start := time.Now()
		l.logf("==> %s", p.name)
		err := p.run(ctx, r)
		status := ""
		if err != nil {
			status = "  FAILED"
		}
		d := time.Since(start)
		l.logf("<== %-36s %6.2fs%s", p.name, d.Seconds(), status)
		if rerr := l.record(func(st *State) { st.Phases = append(st.Phases, PhaseTiming{Name: p.name, Duration: d}) }); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
	}
	if err := l.record(func(st *State) { st.Complete = true }); err != nil {
		return err
	}
	l.logf("lab up in %.1fs: %s (dir %s)", time.Since(total).Seconds(), l.st.Shape, l.cfg.Dir)
	return nil
}

func (l *Lab) buildPhase(ctx context.Context, r *upRun) error {
	res, err := images.Build(ctx, images.Options{RepoRoot: l.cfg.RepoRoot, CacheDir: l.cfg.CacheDir})
	if err != nil {
		return err
	}
	r.archives = []string{res.Archives[images.PauseImage], res.Archives[images.TestImage]}
	if err := l.record(func(st *State) { st.Ynettest = res.Ynettest }); err != nil {
		return err
	}
	r.nodeInit, _, err = images.BuildGo(ctx, "", l.cfg.RepoRoot, filepath.Join(l.cfg.RepoRoot, "test", "lab", "nodeinit"), l.cfg.CacheDir)
	if err != nil {
		return err
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"} {
		if !exists(l.bin(b)) {
			return fmt.Errorf("binary %s missing: run make deps", l.bin(b))
		}
	}
	if l.cfg.CNI == CNIYcloud {
		// Our data path: without these no pod gets a network, so a lab without them would
		// only fail later and less clearly.
		for _, c := range []struct {
			comp Component
			name string
		}{{l.cfg.Controller, "ycloud-controller"}, {l.cfg.CNIDaemon, "ycloud-cni"}} {
			if c.comp.Disabled {
				l.warnf("%s is disabled: pods of the ycloud CNI get no network without it", c.name)
				continue
			}
			if bin := l.componentBinary(c.comp, c.name); !exists(bin) {
				return fmt.Errorf("binary %s missing: run make build (the ycloud CNI mode needs it)", bin)
			}
		}
	}
	return l.prepareCNIBin()
}

// componentBinary is the binary of an optional component.
func (l *Lab) componentBinary(c Component, name string) string {
	if c.Binary != "" {
		return c.Binary
	}
	return l.bin(name)
}

func (l *Lab) networkPhase(ctx context.Context, _ *upRun) error {
	if err := l.recordRunNetns(); err != nil {
		return err
	}
	if err := l.setupUnderlay(ctx); err != nil {
		return err
	}
	for _, n := range l.st.nodes() {
		if err := l.setupNodeNetwork(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lab) configPhase(_ context.Context, r *upRun) error {
	for _, ci := range l.st.Clusters {
		if err := os.MkdirAll(ci.Dir, 0o755); err != nil {
			return err
		}
		p, err := writeClusterPKI(ci)
		if err != nil {
			return err
		}
		r.pkis[ci.Name] = p
		if err := l.assignPorts(ci); err != nil {
			return err
		}
		if err := p.writeKubeconfig(ci.Kubeconfig, ci.Name, ci.APIServer, "ycloud-lab-admin", []string{"system:masters"}); err != nil {
			return err
		}
		// Admin-level identities for our components and the OCM stand-ins (one user name
		// each, so audit logs tell them apart) until the lab installs their RBAC.
		who := []string{CompHub, CompPlacement}
		if ci.Role == RoleSpoke {
			who = []string{"ycloud-controller", "ycloud-cni", CompIC, CompWorkAgent}
		}
		for _, w := range who {
			if err := p.writeKubeconfig(filepath.Join(ci.Dir, w+".kubeconfig"), ci.Name, ci.APIServer, w, []string{"system:masters"}); err != nil {
				return err
			}
		}
		if ci.Role == RoleHub {
			// Each spoke's work agent has its own identity on the hub, as a klusterlet does.
			for _, s := range l.st.Clusters {
				if s.Role != RoleSpoke {
					continue
				}
				user := "system:open-cluster-management:" + s.Name + ":work"
				if err := p.writeKubeconfig(filepath.Join(ci.Dir, CompWorkAgent+"-"+s.Name+".kubeconfig"), ci.Name, ci.APIServer, user, []string{"system:masters"}); err != nil {
					return err
				}
			}
		}
		for _, n := range ci.Nodes {
			if err := l.writeNodeConfig(n, p, ci); err != nil {
				return err
			}
		}
	}
	sys, err := readHostSysctls()
	if err != nil {
		return err
	}
	return l.record(func(st *State) { st.Sysctls = sys })
}

func (l *Lab) controlPhase(ctx context.Context, r *upRun) error {
	for _, ci := range l.st.Clusters {
		if _, err := l.startEtcd(ci); err != nil {
			return err
		}
		p, err := l.startAPIServer(ci, r.pkis[ci.Name])
		if err != nil {
			return err
		}
		r.apiProcs[ci.Name] = p
	}
	return l.startOVN(ctx)
}

func (l *Lab) nodesPhase(ctx context.Context, r *upRun) error {
	return parallel(l.st.nodes(), func(n *NodeInfo) error {
		ci, err := l.st.cluster(n.Cluster)
		if err != nil {
			return err
		}
		return l.startNode(ctx, ci, n, r.nodeInit, r.archives)
	})
}

func (l *Lab) apiserversPhase(ctx context.Context, r *upRun) error {
	return parallel(l.st.Clusters, func(ci *ClusterInfo) error {
		if err := poll(ctx, l.cfg.ReadyTimeout, 200*time.Millisecond, "cluster "+ci.Name+" apiserver /readyz", r.apiProcs[ci.Name], func() (bool, string) {
			if err := apiserverReady(ctx, ci); err != nil {
				return false, err.Error()
			}
			return true, ""
		}); err != nil {
			return err
		}
		// kube-controller-manager gives up when its apiserver is not healthy within 10s of
		// its start, so it starts only now; the CRDs install meanwhile.
		if ci.Role == RoleSpoke {
			if _, err := l.startKCM(ci, r.pkis[ci.Name]); err != nil {
				return err
			}
			if _, err := l.startScheduler(ci, r.pkis[ci.Name]); err != nil {
				return err
			}
		}
		cfg, err := restConfig(ci)
		if err != nil {
			return err
		}
		names, warnings, err := installCRDs(ctx, cfg, ci, l.crdDirs(ci), l.cfg.ReadyTimeout)
		if err != nil {
			return err
		}
		for _, w := range warnings {
			l.warnf("%s", w)
		}
		if err := l.record(func(*State) { ci.CRDs = names }); err != nil {
			return err
		}
		if ci.Role == RoleSpoke {
			// It reconciles our CRDs: they must exist first.
			return l.startController(ci)
		}
		return nil
	})
}

func (l *Lab) readyPhase(ctx context.Context, _ *upRun) error {
	var spokes []*ClusterInfo
	for _, ci := range l.st.Clusters {
		if ci.Role == RoleSpoke {
			spokes = append(spokes, ci)
		}
	}
	if err := parallel(spokes, func(ci *ClusterInfo) error { return l.waitSpokeReady(ctx, ci) }); err != nil {
		return err
	}
	return l.waitFederation(ctx)
}

// parallel runs f for every item concurrently and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
