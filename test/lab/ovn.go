package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// OVN layout: one pair of interconnect databases for the whole lab, and per spoke (= OVN
// availability zone, named after the spoke) standalone NB and SB ovsdb-servers, ovn-northd
// and ovn-ic. All listen on unix sockets under the lab directory, which every node can
// reach because nodes share the host's filesystem.

const ovnSchemas = "/usr/share/ovn"

// startDB creates a database file from a schema and serves it on a unix socket.
func (l *Lab) startDB(ctx context.Context, name, dir, file, schemaFile, endpoint string) (*Process, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	db := filepath.Join(dir, file)
	_ = os.Remove(db)
	if _, err := run(ctx, "ovsdb-tool", "create", db, schemaFile); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sock := strings.TrimPrefix(endpoint, "unix:")
	p, err := l.start(procSpec{
		name: name, path: "ovsdb-server",
		args: []string{db, "--remote=punix:" + sock, "--unixctl=" + strings.TrimSuffix(sock, ".sock") + ".ctl",
			"--no-chdir", "-vconsole:info", "-vsyslog:off"},
		env: []string{"OVS_RUNDIR=" + dir, "OVS_LOGDIR=" + dir, "OVS_DBDIR=" + dir},
	})
	if err != nil {
		return nil, err
	}
	if err := waitSocket(ctx, sock, p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// startOVN starts the interconnect databases and every spoke's OVN central and ovn-ic.
func (l *Lab) startOVN(ctx context.Context) error {
	st := l.st
	icDir := filepath.Join(l.cfg.Dir, "ic")
	if _, err := l.startDB(ctx, "ic/ovn-ic-nb", icDir, "ic-nb.db", filepath.Join(ovnSchemas, "ovn-ic-nb.ovsschema"), st.IC.NB); err != nil {
		return err
	}
	if _, err := l.startDB(ctx, "ic/ovn-ic-sb", icDir, "ic-sb.db", filepath.Join(ovnSchemas, "ovn-ic-sb.ovsschema"), st.IC.SB); err != nil {
		return err
	}
	if err := initInterconnectNB(ctx, st.IC.NB); err != nil {
		return err
	}
	return parallel(st.Clusters[1:], func(ci *ClusterInfo) error {
		dir := filepath.Join(ci.Dir, "ovn")
		if _, err := l.startDB(ctx, ci.Name+"/ovn-nb", dir, "nb.db", filepath.Join(ovnSchemas, "ovn-nb.ovsschema"), ci.NB); err != nil {
			return err
		}
		if _, err := l.startDB(ctx, ci.Name+"/ovn-sb", dir, "sb.db", filepath.Join(ovnSchemas, "ovn-sb.ovsschema"), ci.SB); err != nil {
			return err
		}
		// Name and route exchange first: northd and ovn-ic read NB_Global when they start.
		if err := initNorthbound(ctx, ci.NB, ci.Name); err != nil {
			return err
		}
		if err := initSouthbound(ctx, ci.SB); err != nil {
			return err
		}
		env := []string{"OVN_RUNDIR=" + dir, "OVN_LOGDIR=" + dir, "OVS_RUNDIR=" + dir}
		if _, err := l.start(procSpec{
			name: ci.Name + "/ovn-northd", path: "ovn-northd", env: env,
			args: []string{"--ovnnb-db=" + ci.NB, "--ovnsb-db=" + ci.SB, "--unixctl=" + filepath.Join(dir, "northd.ctl"),
				"--no-chdir", "-vconsole:info", "-vsyslog:off"},
		}); err != nil {
			return err
		}
		_, err := l.start(procSpec{
			name: ci.Name + "/ovn-ic", path: "ovn-ic", env: env,
			args: []string{"--ovnnb-db=" + ci.NB, "--ovnsb-db=" + ci.SB, "--ic-nb-db=" + st.IC.NB, "--ic-sb-db=" + st.IC.SB,
				"--unixctl=" + filepath.Join(dir, "ovn-ic.ctl"), "--no-chdir", "-vconsole:info", "-vsyslog:off"},
		})
		return err
	})
}

// startController starts ycloud-controller for a spoke when it is built and enabled.
func (l *Lab) startController(ci *ClusterInfo) error {
	health, err := l.startClusterComponent(ci, ci, clusterComponent{
		name: "ycloud-controller", binary: "ycloud-controller", comp: l.cfg.Controller,
		defaults: DefaultControllerArgs, healthPath: "/readyz"})
	if err != nil || health == 0 {
		return err
	}
	return l.record(func(*State) { ci.ControllerHealthPort = health })
}

// waitSpokeReady waits until every node of a spoke is Ready and registered as an OVN
// chassis in the spoke's southbound database, the default namespace can take pods, and
// (ycloud CNI) our data path is ready (waitDataPath).
func (l *Lab) waitSpokeReady(ctx context.Context, ci *ClusterInfo) error {
	cfg, err := restConfig(ci)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	want := make([]string, 0, len(ci.Nodes))
	for _, n := range ci.Nodes {
		want = append(want, n.Name)
	}
	kubelets := l.processesNamed("/kubelet", ci.Nodes)
	err = poll(ctx, l.cfg.ReadyTimeout, 250*time.Millisecond, "cluster "+ci.Name+" nodes Ready", nil, func() (bool, string) {
		for _, p := range kubelets {
			if !p.Alive() {
				return false, deadErr(p).Error()
			}
		}
		ready, err := readyNodes(ctx, cs)
		if err != nil {
			return false, err.Error()
		}
		var missing []string
		for _, n := range want {
			if !ready[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return false, "not Ready: " + strings.Join(missing, ", ")
		}
		return true, ""
	})
	if err != nil {
		return err
	}
	// Pods can only be created once kube-controller-manager has made the namespace's default
	// ServiceAccount (admission refuses them before) and the kube-root-ca.crt ConfigMap that
	// projected token volumes mount.
	err = poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "cluster "+ci.Name+" default ServiceAccount", nil, func() (bool, string) {
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	if err != nil {
		return err
	}
	err = poll(ctx, l.cfg.ReadyTimeout, 100*time.Millisecond, "cluster "+ci.Name+" chassis in SB", nil, func() (bool, string) {
		got, err := sbChassis(ctx, ci.SB)
		if err != nil {
			return false, err.Error()
		}
		sort.Strings(got)
		for _, n := range want {
			if !slices.Contains(got, n) {
				return false, fmt.Sprintf("chassis %v registered, want %v", got, want)
			}
		}
		return true, ""
	})
	if err != nil {
		return err
	}
	return l.waitDataPath(ctx, ci)
}

// readyNodes maps node name to its Ready condition.
func readyNodes(ctx context.Context, cs kubernetes.Interface) (map[string]bool, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, n := range list.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				out[n.Name] = c.Status == corev1.ConditionTrue
			}
		}
	}
	return out, nil
}

// processesNamed returns the records of <node><suffix> for the given nodes.
func (l *Lab) processesNamed(suffix string, nodes []*NodeInfo) []*Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Process
	for _, n := range nodes {
		for _, p := range l.st.Processes {
			if p.Name == n.Name+suffix {
				out = append(out, p)
			}
		}
	}
	return out
}
