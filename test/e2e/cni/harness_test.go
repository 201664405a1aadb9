package cni_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// The test bed: one spoke apiserver, one OVN central, the real ycloud-controller in
// process, and two nodes. Each node is a network namespace with its own ovsdb-server,
// ovs-vswitchd (userspace datapath), ovn-controller, and a ycloud-cni daemon process; the
// nodes tunnel geneve over a Linux bridge in an underlay namespace. There is no kubelet:
// the test plays it, creating Pod objects bound to a node, a network namespace per pod,
// and running the ycloud binary with CNI_* variables and the network configuration on
// stdin, as containerd does.
//
//	   apiserver  OVN NB/SB/northd  ycloud-controller          (test process, root netns)
//	       |            |
//	  ycloud-cni    ycloud-cni      (processes in the root netns; --host-netns=<node>)
//	 [node1 netns]  [node2 netns]   ovsdb-server, ovs-vswitchd, ovn-controller, br-int
//	      eth0 ------ br-ul ------ eth0                       [underlay netns]

const (
	defaultCIDR = "10.16.0.0/16"
	joinCIDR    = "100.64.0.0/16"
)

var bins map[string]string

func TestMain(m *testing.M) {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	slog.SetDefault(slog.New(h))
	ctrl.SetLogger(logr.FromSlogHandler(h))
	dir, err := os.MkdirTemp("", "ycloud-e2e-cni-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err = cnitest.BuildBinaries(dir, "github.com/ycloud-sdn/ycloud/cmd/ycloud", "github.com/ycloud-sdn/ycloud/cmd/ycloud-cni")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cluster struct {
	t       *testing.T
	kube    *framework.Cluster
	central *ovsdbtest.OVNCentral
	nodes   map[string]*node
}

type node struct {
	name   string
	os     *cnitest.Node
	plugin *cnitest.Plugin
}

// newCluster builds the test bed; podCIDRs are routed by each node through its
// management port.
func newCluster(t *testing.T, podCIDRs string) *cluster {
	c := &cluster{t: t, nodes: map[string]*node{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.kube = framework.StartCluster(t, framework.Options{Name: "spoke"}) }()
	c.central = ovsdbtest.StartOVNCentral(t)
	ul := cnitest.StartUnderlay(t)
	for i, name := range []string{"node1", "node2"} {
		n := &node{name: name}
		n.os = cnitest.StartNode(t, cnitest.NodeOptions{Name: name, Underlay: ul, EncapIP: fmt.Sprintf("172.31.255.%d", 11+i)})
		n.os.StartOVNController()
		c.nodes[name] = n
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx := framework.Context(t, time.Minute)
	for name := range c.nodes {
		if err := c.kube.Client.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	c.startController()
	for _, n := range c.nodes {
		c.startDaemon(n, podCIDRs)
	}
	for _, n := range c.nodes {
		if err := n.plugin.WaitReady(90 * time.Second); err != nil {
			t.Fatalf("%s: ycloud-cni not ready: %v", n.name, err)
		}
	}
	return c
}

func (c *cluster) startController() {
	cfg := controller.DefaultConfig()
	cfg.NBAddress = c.central.NBEndpoint()
	cfg.Cluster = "spoke"
	cfg.MetricsAddr, cfg.HealthAddr = "0", "0"
	cfg.LeaderElect = false
	cfg.DefaultSubnetCIDR = defaultCIDR
	cfg.JoinSubnetCIDR = joinCIDR
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- controller.Run(ctx, cfg, c.kube.Config) }()
	c.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				c.t.Errorf("controller exited: %v", err)
			}
		case <-time.After(30 * time.Second):
			c.t.Errorf("controller did not stop")
		}
	})
}

// startDaemon runs ycloud-cni as a process. It runs in the root namespace, where the
// apiserver listens, and works on the node's namespace through --host-netns; its OVSDB
// and CNI sockets are files, reachable from anywhere.
func (c *cluster) startDaemon(n *node, podCIDRs string) {
	sock := filepath.Join(n.os.Dir, "cni.sock")
	cnitest.Start(c.t, nil, nil, filepath.Join(n.os.Dir, "ycloud-cni.log"), bins["ycloud-cni"],
		"--kubeconfig", c.kube.Kubeconfig,
		"--node-name", n.name,
		"--ovsdb", n.os.DB,
		"--ovn-remote", c.central.SBEndpoint(),
		"--encap-ip", n.os.EncapIP,
		"--datapath-type", "netdev",
		"--socket", sock,
		"--pod-cidrs", podCIDRs,
		"--host-netns", n.os.NS.Path(),
		"--metrics-bind-address", "0",
	)
	n.plugin = &cnitest.Plugin{Bin: bins["ycloud"],
		Conf: fmt.Appendf(nil, `{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud","socketPath":%q,"timeoutSeconds":60}`, sock)}
}

func (c *cluster) create(objs ...client.Object) {
	c.t.Helper()
	ctx := framework.Context(c.t, time.Minute)
	for _, o := range objs {
		if err := c.kube.Client.Create(ctx, o); err != nil {
			c.t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func vpc(name string) *iaasv1.Vpc { return &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: name}} }

func subnet(name, vpc, cidr string) *iaasv1.Subnet {
	return &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iaasv1.SubnetSpec{Vpc: vpc, CIDRBlock: iaasv1.DualStackCIDR(cidr)}}
}

// pod is a pod the test runs as kubelet would.
type pod struct {
	name string
	node *node
	obj  *corev1.Pod
	ns   ns.NetNS
	att  *cnitest.Attachment
	ip   string
	mac  string
}

// runPod creates the Pod object bound to a node, its sandbox (a netns) and runs CNI ADD.
func (c *cluster) runPod(name, nodeName string, ann map[string]string) *pod {
	c.t.Helper()
	p := c.createPod(name, nodeName, ann)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := p.node.plugin.Add(ctx, p.att)
	if err != nil {
		c.t.Fatalf("ADD %s on %s: %v\n%s", name, nodeName, err, p.node.os.Logs())
	}
	if len(res.IPs) == 0 || len(res.Interfaces) < 2 {
		c.t.Fatalf("ADD %s: result %+v", name, res)
	}
	p.ip = res.IPs[0].Address.IP.String()
	p.mac = res.Interfaces[1].Mac
	return p
}

func (c *cluster) createPod(name, nodeName string, ann map[string]string) *pod {
	c.t.Helper()
	p := &pod{name: name, node: c.nodes[nodeName], ns: cnitest.NewNetns(c.t)}
	p.obj = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: ann},
		Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "c", Image: "registry.local/pause:1"}}},
	}
	c.create(p.obj)
	p.att = &cnitest.Attachment{ContainerID: "sandbox-" + name + "-" + string(p.obj.UID)[:8], Netns: p.ns.Path(),
		IfName: "eth0", Namespace: "default", Name: name, UID: string(p.obj.UID)}
	return p
}

// stopPod is kubelet tearing a pod down: CNI DEL, then the Pod object goes.
func (c *cluster) stopPod(p *pod) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.node.plugin.Del(ctx, p.att); err != nil {
		c.t.Fatalf("DEL %s: %v", p.name, err)
	}
	if err := c.kube.Client.Delete(ctx, p.obj, client.GracePeriodSeconds(0)); err != nil {
		c.t.Fatalf("delete pod %s: %v", p.name, err)
	}
}

func ping(from ns.NetNS, ip string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cnitest.Run(ctx, from, "busybox", "ping", "-c1", "-W1", ip)
	return err
}

// waitPing polls until from reaches ip (the first packets may be lost while OVN
// resolves neighbours).
func waitPing(t *testing.T, from ns.NetNS, ip, what string) {
	t.Helper()
	if err := cnitest.Eventually(30*time.Second, 100*time.Millisecond, func() error { return ping(from, ip) }); err != nil {
		t.Fatalf("%s: ping %s: %v", what, ip, err)
	}
}

// mustNotReach asserts that three pings, a second apart, all go unanswered.
func mustNotReach(t *testing.T, from ns.NetNS, ip, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := cnitest.Run(ctx, from, "busybox", "ping", "-c3", "-W1", ip)
	if err == nil {
		t.Fatalf("%s: %s answered although it must be unreachable:\n%s", what, ip, out)
	}
	if !strings.Contains(out, "0 packets received") {
		t.Fatalf("%s: ping %s failed unexpectedly: %v", what, ip, err)
	}
}

// neighborMAC returns the MAC from's kernel resolved ip to.
func neighborMAC(t *testing.T, from ns.NetNS, ip string) string {
	t.Helper()
	out := cnitest.MustRun(t, from, "ip", "neigh", "show", ip)
	f := strings.Fields(out)
	for i := range f {
		if f[i] == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	t.Fatalf("no neighbour entry for %s: %q", ip, out)
	return ""
}

// iperfServer runs "iperf3 -s" in the pod until the test ends.
func (p *pod) iperfServer(t *testing.T) {
	cnitest.Start(t, p.ns, nil, filepath.Join(t.TempDir(), "iperf3-"+p.name+".log"), "iperf3", "-s", "-p", "5201")
}

// iperf measures TCP throughput from client to server (reverse: server to client) in
// Mbit/s at the receiver, over secs seconds after a first omitted second.
func iperf(t *testing.T, client, server *pod, secs int, reverse bool) float64 {
	t.Helper()
	args := []string{"-c", server.ip, "-p", "5201", "-t", fmt.Sprint(secs), "-O", "1", "-J"}
	if reverse {
		args = append(args, "-R")
	}
	var (
		out string
		err error
	)
	// The server may still be starting, or still closing the previous test (it then
	// resets the next control connection): failures are retried for a while.
	for deadline := time.Now().Add(20 * time.Second); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+20)*time.Second)
		out, err = cnitest.Run(ctx, client.ns, "iperf3", args...)
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("iperf3 %s -> %s: %v\n%s", client.name, server.name, err, out)
	}
	var r struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.End.SumReceived.BitsPerSecond == 0 {
		t.Fatalf("iperf3 output: %v\n%s", err, out)
	}
	return r.End.SumReceived.BitsPerSecond / 1e6
}

// vnicIPHolds reports whether some VnicIp holds address ip.
func vnicIPHolds(ctx context.Context, c client.Client, ip string) (bool, error) {
	var list iaasv1.VnicIpList
	if err := c.List(ctx, &list); err != nil {
		return false, err
	}
	for _, v := range list.Items {
		for _, a := range strings.Split(string(v.Spec.IPAddress), ",") {
			if strings.TrimSpace(a) == ip {
				return true, nil
			}
		}
	}
	return false, nil
}

// hasPort reports whether the pod's node has an OVS interface for the pod's sandbox.
func hasPort(p *pod) bool {
	out := p.node.os.Vsctl("--columns=name", "find", "Interface", `external_ids:"ycloud.io/sandbox"=`+p.att.ContainerID)
	return strings.TrimSpace(out) != ""
}

func rawMergePatch(data []byte) client.Patch { return client.RawPatch(types.MergePatchType, data) }

// hostIf is the pod's host-side device (and OVS port) name.
func (p *pod) hostIf(t *testing.T) string {
	t.Helper()
	return nic.HostIfName(p.att.ContainerID, p.att.IfName)
}
