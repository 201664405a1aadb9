package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// freePort asks the kernel for a free TCP port on ip. Another process could take it before
// our server binds it; the lab then fails at start-up with the server's bind error in its
// log, which is clear enough for a test tool, and much rarer than fixed ports colliding
// with other labs and test apiservers on this machine.
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port on %s: %w", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (l *Lab) bin(name string) string { return filepath.Join(l.cfg.BinDir, name) }

// assignPorts picks the ports of a cluster's control plane and records them.
func (l *Lab) assignPorts(ci *ClusterInfo) error {
	var ports [5]int
	for i := range ports {
		ip := "127.0.0.1"
		if i == 2 {
			ip = ci.BindIP
		}
		p, err := freePort(ip)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", ci.Name, err)
		}
		ports[i] = p
	}
	return l.record(func(*State) {
		ci.EtcdClient = "http://127.0.0.1:" + strconv.Itoa(ports[0])
		ci.EtcdPeerPort = ports[1]
		ci.APIServer = "https://" + net.JoinHostPort(ci.BindIP, strconv.Itoa(ports[2]))
		ci.KCMPort, ci.SchedulerPort = ports[3], ports[4]
	})
}

func (l *Lab) startEtcd(ci *ClusterInfo) (*Process, error) {
	data := filepath.Join(ci.Dir, "etcd")
	peer := "http://127.0.0.1:" + strconv.Itoa(ci.EtcdPeerPort)
	return l.start(procSpec{
		name: ci.Name + "/etcd",
		path: l.bin("etcd"),
		args: []string{
			"--name=" + ci.Name, "--data-dir=" + data,
			"--listen-client-urls=" + ci.EtcdClient, "--advertise-client-urls=" + ci.EtcdClient,
			"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=" + ci.Name + "=" + peer, "--initial-cluster-state=new",
			// A lab's data dies with the lab: fsync only costs time on a shared disk.
			"--unsafe-no-fsync=true", "--log-level=warn",
		},
	})
}

func (l *Lab) startAPIServer(ci *ClusterInfo, p *clusterPKI) (*Process, error) {
	_, port, _ := net.SplitHostPort(ci.APIServer[len("https://"):])
	return l.start(procSpec{
		name: ci.Name + "/kube-apiserver",
		path: l.bin("kube-apiserver"),
		args: []string{
			"--etcd-servers=" + ci.EtcdClient,
			"--bind-address=" + ci.BindIP, "--advertise-address=" + ci.BindIP, "--secure-port=" + port,
			"--tls-cert-file=" + p.serverCert, "--tls-private-key-file=" + p.serverKey,
			"--client-ca-file=" + p.caFile,
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + p.saPub, "--service-account-signing-key-file=" + p.saKey,
			"--service-cluster-ip-range=" + serviceCIDR,
			"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
			"--allow-privileged=true",
			"--kubelet-client-certificate=" + p.kubeletClientCert, "--kubelet-client-key=" + p.kubeletClientKey,
			"--kubelet-preferred-address-types=InternalIP,Hostname",
			// Nothing serves the kubernetes Service's endpoints here (no kube-proxy); the
			// reconciler would only write an address nobody routes to.
			"--endpoint-reconciler-type=none",
			"--profiling=false",
			// Without it the apiserver writes self-signed certificates to /var/run/kubernetes.
			"--cert-dir=" + filepath.Join(ci.Dir, "pki", "apiserver-generated"),
		},
	})
}

func (l *Lab) startKCM(ci *ClusterInfo, p *clusterPKI) (*Process, error) {
	kc := filepath.Join(ci.Dir, "kube-controller-manager.kubeconfig")
	if err := p.writeKubeconfig(kc, ci.Name, ci.APIServer, "system:kube-controller-manager", nil); err != nil {
		return nil, err
	}
	return l.start(procSpec{
		name: ci.Name + "/kube-controller-manager",
		path: l.bin("kube-controller-manager"),
		args: []string{
			"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ci.KCMPort),
			"--cert-dir=" + filepath.Join(ci.Dir, "pki", "kcm-generated"),
			"--leader-elect=false",
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + p.saKey,
			"--root-ca-file=" + p.caFile,
			"--service-cluster-ip-range=" + serviceCIDR,
			// The default, /usr/libexec/kubernetes/..., would be created on the host.
			"--flex-volume-plugin-dir=" + filepath.Join(ci.Dir, "kcm-flexvolume"),
			"--profiling=false",
		},
	})
}

func (l *Lab) startScheduler(ci *ClusterInfo, p *clusterPKI) (*Process, error) {
	kc := filepath.Join(ci.Dir, "kube-scheduler.kubeconfig")
	if err := p.writeKubeconfig(kc, ci.Name, ci.APIServer, "system:kube-scheduler", nil); err != nil {
		return nil, err
	}
	return l.start(procSpec{
		name: ci.Name + "/kube-scheduler",
		path: l.bin("kube-scheduler"),
		args: []string{
			"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
			"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ci.SchedulerPort),
			"--cert-dir=" + filepath.Join(ci.Dir, "pki", "scheduler-generated"),
			"--leader-elect=false",
			"--profiling=false",
		},
	})
}

// restConfig loads a cluster's admin kubeconfig.
func restConfig(ci *ClusterInfo) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", ci.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: kubeconfig: %w", ci.Name, err)
	}
	// Sized for tests talking to their own apiserver.
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// apiserverReady returns nil when /readyz answers ok.
func apiserverReady(ctx context.Context, ci *ClusterInfo) error {
	cfg, err := restConfig(ci)
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err == nil && string(body) == "ok" {
		return nil
	}
	// A failing /readyz lists every check; name only the failing ones.
	var failing []string
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "[-]"); ok {
			failing = append(failing, strings.TrimSuffix(name, " failed: reason withheld"))
		}
	}
	if len(failing) > 0 {
		return fmt.Errorf("/readyz: failing %s", strings.Join(failing, ", "))
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("/readyz: %s", firstLine(body))
}

// healthz probes the /healthz of a controller manager or scheduler on 127.0.0.1. Their
// serving certificates are self-signed, and /healthz needs no authentication; only
// liveness is checked, not identity.
func healthz(ctx context.Context, port int) error {
	if port == 0 {
		return fmt.Errorf("no port")
	}
	cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // liveness only
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz: %s", resp.Status)
	}
	return nil
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}

// exists reports whether a file exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
