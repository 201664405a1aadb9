package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/cni/daemon"
	"github.com/ycloud-sdn/ycloud/cni/nic"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/ovsdbtest"
)

// These tests run the daemon in-process against one real node (ovsdb-server, ovs-vswitchd
// with the userspace datapath, ovn-controller) and OVN central, and a real apiserver. The
// test stands in for the controller: it creates the logical switch ports with ovn-nbctl
// and writes the allocation annotations itself. It stands in for kubelet too, invoking the
// real ycloud binary. (test/e2e/cni runs the real controller.)

var shimBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ycloud-daemon-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := cnitest.BuildBinaries(dir, "github.com/ycloud-sdn/ycloud/cmd/ycloud")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	shimBin = bins["ycloud"]
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	t       *testing.T
	kube    *framework.Cluster
	central *ovsdbtest.OVNCentral
	node    *cnitest.Node
	cfg     daemon.Config
	plugin  *cnitest.Plugin
	stopD   func()
}

func setup(t *testing.T) *env {
	e := &env{t: t}
	e.kube = framework.StartCluster(t, framework.Options{Name: "cni-daemon"})
	e.central = ovsdbtest.StartOVNCentral(t)
	e.node = cnitest.StartNode(t, cnitest.NodeOptions{Name: "node1"})
	e.node.StartOVNController()
	e.nbctl("ls-add", "ls1")
	ctx := framework.Context(t, time.Minute)
	if err := e.kube.Client.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}); err != nil {
		t.Fatal(err)
	}
	dir := cnitest.ShortDir(t, "ycd-")
	e.cfg = daemon.DefaultConfig()
	e.cfg.Kubeconfig = e.kube.Kubeconfig
	e.cfg.NodeName = "node1"
	e.cfg.OVSDB = e.node.DB
	e.cfg.OVNRemote = e.central.SBEndpoint()
	e.cfg.EncapIP = "192.0.2.11"
	e.cfg.DatapathType = "netdev"
	e.cfg.SocketPath = filepath.Join(dir, "cni.sock")
	e.cfg.PodCIDRs = "10.99.0.0/16"
	e.cfg.HostNetns = e.node.NS.Path()
	e.cfg.MetricsAddr = freeAddr(t)
	e.cfg.ResyncPeriod = 2 * time.Second
	e.plugin = &cnitest.Plugin{Bin: shimBin, Conf: e.conf(10)}
	e.startDaemon()
	if err := e.plugin.WaitReady(60 * time.Second); err != nil {
		t.Fatalf("daemon not ready: %v\n%s", err, e.node.Logs())
	}
	return e
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (e *env) conf(timeout int) []byte {
	return fmt.Appendf(nil, `{"cniVersion":"1.1.0","name":"ycloud","type":"ycloud","socketPath":%q,"timeoutSeconds":%d}`, e.cfg.SocketPath, timeout)
}

// startDaemon runs daemon.Run until stopDaemon (or the end of the test).
func (e *env) startDaemon() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, e.cfg) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("daemon.Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				e.t.Errorf("daemon did not stop")
			}
		})
	}
	e.stopD = stop
	e.t.Cleanup(stop)
}

func (e *env) stopDaemon() { e.stopD() }

func (e *env) nbctl(args ...string) string {
	return cnitest.MustRun(e.t, nil, "ovn-nbctl", append([]string{"--db=" + e.central.NBEndpoint()}, args...)...)
}

type pod struct {
	name  string
	ns    ns.NetNS
	alloc *iaasv1.Allocation
	att   *cnitest.Attachment
	obj   *corev1.Pod
}

// newPod makes a pod: its LSP in NB (when lsp), the Pod object, a netns and the
// attachment; the allocation annotation only when annotate is set.
func (e *env) newPod(name string, octet int, lsp, annotate bool) *pod {
	e.t.Helper()
	ctx := framework.Context(e.t, time.Minute)
	p := &pod{name: name, ns: cnitest.NewNetns(e.t)}
	mac := fmt.Sprintf("0a:58:0a:00:00:%02x", octet)
	p.alloc = &iaasv1.Allocation{
		IPs:      []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.0.0.%d/24", octet))},
		Gateways: []netip.Addr{netip.MustParseAddr("10.0.0.1")},
		MAC:      mac, Subnet: "ls1", Vpc: "v", LogicalSwitchPort: "default." + name + ".eth0",
	}
	if lsp {
		e.nbctl("lsp-add", "ls1", p.alloc.LogicalSwitchPort, "--", "lsp-set-addresses", p.alloc.LogicalSwitchPort,
			fmt.Sprintf("%s 10.0.0.%d", mac, octet), "--", "lsp-set-options", p.alloc.LogicalSwitchPort, "requested-chassis=node1")
	}
	p.obj = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.PodSpec{NodeName: "node1", Containers: []corev1.Container{{Name: "c", Image: "pause"}}},
	}
	if err := e.kube.Client.Create(ctx, p.obj); err != nil {
		e.t.Fatal(err)
	}
	p.att = &cnitest.Attachment{ContainerID: "sandbox-" + name, Netns: p.ns.Path(), IfName: "eth0",
		Namespace: "default", Name: name, UID: string(p.obj.UID)}
	if annotate {
		e.annotate(p, map[string]string{iaasv1.AnnotationAllocation: mustFormat(e.t, p.alloc)})
	}
	return p
}

func mustFormat(t *testing.T, a *iaasv1.Allocation) string {
	v, err := iaasv1.FormatAllocation(a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// annotate merges annotations into the pod (a value "" removes the key).
func (e *env) annotate(p *pod, ann map[string]string) {
	e.t.Helper()
	vals := map[string]any{}
	for k, v := range ann {
		if v == "" {
			vals[k] = nil
		} else {
			vals[k] = v
		}
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": vals}})
	ctx := framework.Context(e.t, time.Minute)
	if err := e.kube.Client.Patch(ctx, p.obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) add(p *pod) (*current.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.plugin.Add(ctx, p.att)
}

func (e *env) mustAdd(p *pod) *current.Result {
	e.t.Helper()
	res, err := e.add(p)
	if err != nil {
		e.t.Fatalf("ADD %s: %v\n%s", p.name, err, e.node.Logs())
	}
	return res
}

func (e *env) del(a *cnitest.Attachment) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return e.plugin.Del(ctx, a)
}

func hostIf(p *pod) string { return nic.HostIfName(p.att.ContainerID, p.att.IfName) }

// portState returns "present"/"absent" for the OVS port and the host device of a pod.
func (e *env) portState(p *pod) (ovs, link bool) {
	e.t.Helper()
	ovs = strings.Contains(" "+strings.ReplaceAll(e.node.Vsctl("list-ports", "br-int"), "\n", " ")+" ", " "+hostIf(p)+" ")
	_ = e.node.NS.Do(func(ns.NetNS) error {
		_, err := netlink.LinkByName(hostIf(p))
		link = err == nil
		return nil
	})
	return ovs, link
}

func (e *env) ping(from ns.NetNS, to string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := cnitest.Run(ctx, from, "busybox", "ping", "-c1", "-W1", to)
	return err
}

func (e *env) waitPing(from ns.NetNS, to string) {
	e.t.Helper()
	if err := cnitest.Eventually(20*time.Second, 100*time.Millisecond, func() error { return e.ping(from, to) }); err != nil {
		e.t.Fatalf("ping %s: %v\n%s", to, err, e.node.Logs())
	}
}

func poll(t *testing.T, what string, cond func() error) {
	t.Helper()
	if err := cnitest.Eventually(30*time.Second, 50*time.Millisecond, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestDaemon(t *testing.T) {
	e := setup(t)
	p1 := e.newPod("p1", 5, true, false)
	p2 := e.newPod("p2", 6, true, true)

	t.Run("ADD waits for the controller's allocation", func(t *testing.T) {
		done := make(chan error, 1)
		var res *current.Result
		go func() {
			var err error
			res, err = e.add(p1)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("ADD returned before the allocation existed: %v", err)
		case <-time.After(700 * time.Millisecond):
		}
		e.annotate(p1, map[string]string{iaasv1.AnnotationAllocation: mustFormat(t, p1.alloc)})
		if err := <-done; err != nil {
			t.Fatalf("ADD: %v\n%s", err, e.node.Logs())
		}
		if len(res.IPs) != 1 || res.IPs[0].Address.String() != "10.0.0.5/24" || res.IPs[0].Gateway.String() != "10.0.0.1" {
			t.Fatalf("result IPs = %+v", res.IPs)
		}
		if len(res.Interfaces) != 2 || res.Interfaces[1].Name != "eth0" || res.Interfaces[1].Mac != "0a:58:0a:00:00:05" ||
			res.Interfaces[1].Sandbox != p1.ns.Path() || res.Interfaces[0].Name != hostIf(p1) {
			t.Fatalf("result interfaces = %v", res.Interfaces)
		}
		if got := e.node.Vsctl("get", "Interface", hostIf(p1), "external_ids:iface-id", "external_ids:ovn-installed",
			"external_ids:attached-mac", `external_ids:"ycloud.io/owner"`); strings.ReplaceAll(got, `"`, "") !=
			"default.p1.eth0\ntrue\n0a:58:0a:00:00:05\ndefault/p1" {
			t.Fatalf("OVS interface external_ids = %q", got)
		}
	})

	t.Run("pods on one switch reach each other", func(t *testing.T) {
		e.mustAdd(p2)
		e.waitPing(p1.ns, "10.0.0.6")
		e.waitPing(p2.ns, "10.0.0.5")
	})

	t.Run("CHECK verifies and reports drift", func(t *testing.T) {
		p3 := e.newPod("p3", 7, true, true)
		res := e.mustAdd(p3)
		ctx := framework.Context(t, time.Minute)
		if err := e.plugin.Check(ctx, p3.att, res); err != nil {
			t.Fatalf("CHECK: %v", err)
		}
		if err := p3.ns.Do(func(ns.NetNS) error {
			l, err := netlink.LinkByName("eth0")
			if err != nil {
				return err
			}
			a, _ := netlink.ParseAddr("10.0.0.7/24")
			return netlink.AddrDel(l, a)
		}); err != nil {
			t.Fatal(err)
		}
		err := e.plugin.Check(ctx, p3.att, res)
		var ce *cnitest.CNIError
		if !errors.As(err, &ce) || !strings.Contains(ce.Details, "lacks address 10.0.0.7/24") {
			t.Fatalf("CHECK after removing the address = %v", err)
		}
		// DEL is idempotent: twice, without a netns, and for a sandbox never seen.
		for i, a := range []*cnitest.Attachment{p3.att, p3.att, {ContainerID: p3.att.ContainerID, IfName: "eth0"},
			{ContainerID: "never-seen", IfName: "eth0"}} {
			if err := e.del(a); err != nil {
				t.Fatalf("DEL #%d: %v", i, err)
			}
		}
		if ovs, link := e.portState(p3); ovs || link {
			t.Fatalf("after DEL: ovs port %v, host device %v", ovs, link)
		}
	})

	t.Run("ADD without an allocation fails in time and leaves nothing", func(t *testing.T) {
		p4 := e.newPod("p4", 8, true, false)
		plugin := &cnitest.Plugin{Bin: shimBin, Conf: e.conf(2)}
		start := time.Now()
		_, err := plugin.Add(framework.Context(t, time.Minute), p4.att)
		took := time.Since(start)
		var ce *cnitest.CNIError
		if !errors.As(err, &ce) || ce.Code != 11 || !strings.Contains(ce.Details, iaasv1.AnnotationAllocation) {
			t.Fatalf("ADD = %v, want code 11 naming the annotation", err)
		}
		if took > 4*time.Second {
			t.Fatalf("ADD with timeoutSeconds=2 took %v", took)
		}
		if ovs, link := e.portState(p4); ovs || link {
			t.Fatalf("failed ADD left: ovs port %v, host device %v", ovs, link)
		}
	})

	t.Run("ADD rolls back when ovn-controller never installs the port", func(t *testing.T) {
		p5 := e.newPod("p5", 9, false, true) // no LSP in NB
		plugin := &cnitest.Plugin{Bin: shimBin, Conf: e.conf(3)}
		_, err := plugin.Add(framework.Context(t, time.Minute), p5.att)
		var ce *cnitest.CNIError
		if !errors.As(err, &ce) || ce.Code != 11 || !strings.Contains(ce.Details, "ovn-controller") {
			t.Fatalf("ADD = %v, want code 11 about ovn-controller", err)
		}
		if ovs, link := e.portState(p5); ovs || link {
			t.Fatalf("failed ADD left: ovs port %v, host device %v", ovs, link)
		}
		if err := p5.ns.Do(func(ns.NetNS) error {
			if _, err := netlink.LinkByName("eth0"); err == nil {
				return errors.New("eth0 is still in the pod")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an unsupported NIC type is refused clearly", func(t *testing.T) {
		p8 := e.newPod("p8", 12, true, false)
		p8.alloc.NicType = iaasv1.NicTypeVF
		e.annotate(p8, map[string]string{iaasv1.AnnotationAllocation: mustFormat(t, p8.alloc)})
		_, err := e.add(p8)
		var ce *cnitest.CNIError
		if !errors.As(err, &ce) || !strings.Contains(ce.Details, `nic type "vf" is not supported`) {
			t.Fatalf("ADD of a vf = %v", err)
		}
		if ovs, link := e.portState(p8); ovs || link {
			t.Fatalf("refused ADD left: ovs port %v, host device %v", ovs, link)
		}
	})

	t.Run("QoS follows the annotations of a running pod", func(t *testing.T) {
		e.annotate(p1, map[string]string{iaasv1.AnnotationIngressRate: "20", iaasv1.AnnotationEgressRate: "50"})
		poll(t, "OVS QoS of p1", func() error {
			got := e.node.Vsctl("get", "Interface", hostIf(p1), "ingress_policing_rate", "ingress_policing_burst")
			if got != "50000\n50000" {
				return fmt.Errorf("policing %q", got)
			}
			q := e.node.Vsctl("--columns=other_config", "list", "Queue")
			if !strings.Contains(q, `max-rate="20000000"`) {
				return fmt.Errorf("queues %q", q)
			}
			if qos := e.node.Vsctl("get", "Port", hostIf(p1), "qos"); qos == "[]" {
				return errors.New("port has no qos")
			}
			return nil
		})
		tc := cnitest.MustRun(t, p1.ns, "tc", "qdisc", "show", "dev", "eth0")
		if !strings.Contains(tc, "tbf") || !strings.Contains(tc, "rate 50Mbit") {
			t.Fatalf("pod egress shaper: %s", tc)
		}
		e.annotate(p1, map[string]string{iaasv1.AnnotationIngressRate: "", iaasv1.AnnotationEgressRate: ""})
		poll(t, "QoS of p1 removed", func() error {
			if got := e.node.Vsctl("get", "Interface", hostIf(p1), "ingress_policing_rate"); got != "0" {
				return fmt.Errorf("policing %s", got)
			}
			if got := e.node.Vsctl("list", "QoS") + e.node.Vsctl("list", "Queue"); got != "" {
				return fmt.Errorf("qos rows left: %s", got)
			}
			if tc := cnitest.MustRun(t, p1.ns, "tc", "qdisc", "show", "dev", "eth0"); strings.Contains(tc, "tbf") {
				return fmt.Errorf("shaper left: %s", tc)
			}
			return nil
		})
	})

	t.Run("GC removes attachments the runtime no longer has", func(t *testing.T) {
		p6 := e.newPod("p6", 10, true, true)
		e.mustAdd(p6)
		if err := e.plugin.GC(framework.Context(t, time.Minute), []*cnitest.Attachment{p1.att, p2.att}); err != nil {
			t.Fatalf("GC: %v", err)
		}
		if ovs, link := e.portState(p6); ovs || link {
			t.Fatalf("after GC p6 still has: ovs port %v, host device %v", ovs, link)
		}
		for _, p := range []*pod{p1, p2} {
			if ovs, link := e.portState(p); !ovs || !link {
				t.Fatalf("GC removed valid attachment %s", p.name)
			}
		}
	})

	t.Run("a deleted pod loses its port", func(t *testing.T) {
		p7 := e.newPod("p7", 11, true, true)
		e.mustAdd(p7)
		if err := e.kube.Client.Delete(framework.Context(t, time.Minute), p7.obj, client.GracePeriodSeconds(0)); err != nil {
			t.Fatal(err)
		}
		poll(t, "port of deleted pod p7", func() error {
			if ovs, link := e.portState(p7); ovs || link {
				return fmt.Errorf("ovs port %v, host device %v", ovs, link)
			}
			return nil
		})
	})

	t.Run("management port gives the node a path to its pods", func(t *testing.T) {
		join := &iaasv1.Allocation{IPs: []netip.Prefix{netip.MustParsePrefix("10.0.0.2/24")},
			Gateways: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, MAC: "0a:58:0a:00:00:02",
			Subnet: "ls1", Vpc: "v", LogicalSwitchPort: "node-node1"}
		e.nbctl("lsp-add", "ls1", "node-node1", "--", "lsp-set-addresses", "node-node1", "0a:58:0a:00:00:02 10.0.0.2",
			"--", "lsp-set-options", "node-node1", "requested-chassis=node1")
		var node corev1.Node
		ctx := framework.Context(t, time.Minute)
		if err := e.kube.Client.Get(ctx, client.ObjectKey{Name: "node1"}, &node); err != nil {
			t.Fatal(err)
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, daemon.JoinAllocationAnnotation, mustFormat(t, join))
		if err := e.kube.Client.Patch(ctx, &node, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
		poll(t, "management port", func() error {
			out, err := cnitest.Run(ctx, e.node.NS, "ip", "-o", "addr", "show", "dev", "ycloud0")
			if err != nil || !strings.Contains(out, "10.0.0.2/24") {
				return fmt.Errorf("addresses %q %v", out, err)
			}
			out, err = cnitest.Run(ctx, e.node.NS, "ip", "route", "show", "10.99.0.0/16")
			if err != nil || !strings.Contains(out, "via 10.0.0.1 dev ycloud0") {
				return fmt.Errorf("route %q %v", out, err)
			}
			return nil
		})
		if got := e.node.Vsctl("get", "Interface", "ycloud0", "type", "mac", "external_ids:iface-id"); strings.ReplaceAll(got, `"`, "") != "internal\n0a:58:0a:00:00:02\nnode-node1" {
			t.Fatalf("management interface = %q", got)
		}
		e.waitPing(e.node.NS, "10.0.0.5")
	})

	t.Run("resync repairs the chassis configuration", func(t *testing.T) {
		e.node.Vsctl("remove", "Open_vSwitch", ".", "external_ids", "hostname", "--",
			"remove", "Bridge", "br-int", "other_config", "disable-in-band")
		poll(t, "chassis configuration restored", func() error {
			got := e.node.Vsctl("--if-exists", "get", "Open_vSwitch", ".", "external_ids:hostname") + " " +
				e.node.Vsctl("--if-exists", "get", "Bridge", "br-int", "other_config:disable-in-band")
			if strings.ReplaceAll(got, `"`, "") != "node1 true" {
				return fmt.Errorf("hostname and disable-in-band: %s", got)
			}
			return nil
		})
	})

	t.Run("the ic-gateway label makes the node an interconnect gateway chassis", func(t *testing.T) {
		ctx := framework.Context(t, time.Minute)
		// role reads what the daemon wrote and what ovn-controller published from it.
		role := func() string {
			ovs := e.node.Vsctl("--if-exists", "get", "Open_vSwitch", ".", "external_ids:ovn-is-interconn")
			sb := cnitest.MustRun(t, nil, "ovn-sbctl", "--db="+e.central.SBEndpoint(), "--if-exists", "get", "Chassis", "node1", "other_config:is-interconn")
			return strings.ReplaceAll(strings.TrimSpace(ovs)+" "+strings.TrimSpace(sb), `"`, "")
		}
		waitRole := func(want string) {
			poll(t, "ovn-is-interconn "+want, func() error {
				if got := role(); got != want+" "+want {
					return fmt.Errorf("OVS and SB chassis say %q", got)
				}
				return nil
			})
		}
		label := func(v string) {
			val := "null"
			if v != "" {
				val = strconv.Quote(v)
			}
			var node corev1.Node
			node.Name = "node1"
			patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:%s}}}`, iaasv1.ICGatewayLabel, val)
			if err := e.kube.Client.Patch(ctx, &node, client.RawPatch(types.MergePatchType, patch)); err != nil {
				t.Fatal(err)
			}
		}
		waitRole("false") // not labelled
		label("true")
		waitRole("true")
		label("no")
		waitRole("false")
		label("true")
		waitRole("true")
		label("")
		waitRole("false")
	})

	t.Run("metrics and health", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": "ok", "/metrics": `ycloud_cni_requests_total{code="0",command="ADD"}`} {
			resp, err := http.Get("http://" + e.cfg.MetricsAddr + path)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, 1<<20)
			n, _ := resp.Body.Read(body)
			for n < len(body) {
				m, err := resp.Body.Read(body[n:])
				n += m
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if !strings.Contains(string(body[:n]), want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	})

	t.Run("a restart touches no running pod and catches up", func(t *testing.T) {
		before := e.node.Vsctl("get", "Interface", hostIf(p1), "_uuid", "ofport")
		e.stopDaemon()
		// Pods keep working with the daemon down, and a rate set meanwhile is applied
		// once it is back.
		e.waitPing(p2.ns, "10.0.0.5")
		e.annotate(p1, map[string]string{iaasv1.AnnotationEgressRate: "30"})
		e.startDaemon()
		if err := e.plugin.WaitReady(60 * time.Second); err != nil {
			t.Fatal(err)
		}
		poll(t, "egress rate applied after the restart", func() error {
			if got := e.node.Vsctl("get", "Interface", hostIf(p1), "ingress_policing_rate"); got != "30000" {
				return fmt.Errorf("policing %s", got)
			}
			return nil
		})
		if after := e.node.Vsctl("get", "Interface", hostIf(p1), "_uuid", "ofport"); after != before {
			t.Fatalf("the restart replaced p1's interface: %q -> %q", before, after)
		}
		e.waitPing(p2.ns, "10.0.0.5")
		if err := e.del(p1.att); err != nil {
			t.Fatalf("DEL after restart: %v", err)
		}
		if ovs, link := e.portState(p1); ovs || link {
			t.Fatalf("after DEL: ovs port %v, host device %v", ovs, link)
		}
	})
}
