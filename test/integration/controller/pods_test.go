package controller_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/controller"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

func (w *world) eventFor(ctx context.Context, ns, name, reason string) error {
	var list eventsv1.EventList
	if err := w.k8s.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			return nil
		}
	}
	return fmt.Errorf("no %s event for %s/%s", reason, ns, name)
}

// ipamUsed reads the controller's in-use gauge for a subnet (the controller runs in this
// process, so its metrics are in the shared registry).
func ipamUsed(subnet string) float64 { return ipamUsedIn(subnet, "") }

// ipamUsedIn is ipamUsed for one CIDR of the subnet ("" = all). Earlier tests in this
// process leave their series behind; tests that reuse a subnet name with another CIDR
// (after a -count=2 rerun, say) tell theirs apart by the CIDR.
func ipamUsedIn(subnet, cidr string) float64 {
	mfs, err := metrics.Registry.Gather()
	if err != nil {
		return -1
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "ycloud_ipam_used_addresses" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["subnet"] == subnet && (cidr == "" || labels["cidr"] == cidr) {
				total += m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func podCondition(ctx context.Context, c client.Client, ns, name string) (*corev1.PodCondition, error) {
	var p corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return nil, err
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == "iaas.yusur.io/NetworkAllocated" {
			return &p.Status.Conditions[i], nil
		}
	}
	return nil, fmt.Errorf("pod %s/%s has no NetworkAllocated condition", ns, name)
}

func countVnicIPs(ctx context.Context, c client.Client, ns string) (int, error) {
	var l iaasv1.VnicIpList
	err := c.List(ctx, &l, client.InNamespace(ns))
	return len(l.Items), err
}

func TestPodAllocationPortAndRelease(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 3*time.Minute)
	c := w.k8s.Client
	for _, o := range []client.Object{mkVpc("vpc1"), mkSubnet("sub1", "vpc1", "192.168.10.0/24"),
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	p1 := mkPod("default", "p1", "n1", nil)
	p2 := mkPod("default", "p2", "n1", map[string]string{iaasv1.AnnotationSubnet: "sub1"})
	hostNet := mkPod("default", "hostnet", "n1", nil)
	hostNet.Spec.HostNetwork = true
	unscheduled := mkPod("default", "pending", "", nil)
	for _, p := range []*corev1.Pod{p1, p2, hostNet, unscheduled} {
		if err := c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	var a1, a2 *iaasv1.Allocation
	eventually(t, time.Minute, "allocations", func() (err error) {
		if a1, err = allocationOf(ctx, c, "default", "p1"); err != nil {
			return err
		}
		a2, err = allocationOf(ctx, c, "default", "p2")
		return err
	})
	if !netip.MustParsePrefix("10.16.0.0/16").Contains(a1.IPs[0].Addr()) || a1.IPs[0].Bits() != 16 || a1.Gateways[0] != netip.MustParseAddr("10.16.0.1") || a1.Subnet != "ovn-default" || a1.Vpc != iaasv1.DefaultVpcName {
		t.Fatalf("p1 allocation %+v not in ovn-default", a1)
	}
	if !netip.MustParsePrefix("192.168.10.0/24").Contains(a2.IPs[0].Addr()) || a2.Gateways[0] != netip.MustParseAddr("192.168.10.1") || a2.Vpc != "vpc1" {
		t.Fatalf("p2 allocation %+v not in sub1", a2)
	}
	// The port carries the same MAC and IP, with port security, bound to the pod's node.
	for _, a := range []*iaasv1.Allocation{a1, a2} {
		want := a.MAC + " " + a.IPs[0].Addr().String()
		eventually(t, 30*time.Second, "port "+a.LogicalSwitchPort, func() error {
			lsp, err := w.port(a.LogicalSwitchPort)
			if err != nil {
				return err
			}
			ls, err := w.lswitch(a.Subnet)
			if err != nil {
				return err
			}
			if !slices.Equal(lsp.Addresses, []string{want}) || !slices.Equal(lsp.PortSecurity, []string{want}) ||
				lsp.Options["requested-chassis"] != "n1" || !slices.Contains(ls.Ports, lsp.UUID) {
				return fmt.Errorf("port %+v, want addresses and port security %q on switch %s", lsp, want, a.Subnet)
			}
			return nil
		})
	}
	// Host-network and unscheduled pods get nothing.
	for _, name := range []string{"hostnet", "pending"} {
		if _, err := allocationOf(ctx, c, "default", name); err == nil {
			t.Fatalf("pod %s got an allocation", name)
		}
	}
	// The node got its management port on the join subnet.
	eventually(t, 30*time.Second, "node management port", func() error {
		var n corev1.Node
		if err := c.Get(ctx, client.ObjectKey{Name: "n1"}, &n); err != nil {
			return err
		}
		a, err := iaasv1.ParseAllocation(n.Annotations[controller.JoinAllocationAnnotation])
		if err != nil {
			return err
		}
		lsp, err := w.port(ovnnb.NodePortName("n1"))
		if err != nil {
			return err
		}
		// A retried reconcile (the join switch may not be in NB yet when the node appears)
		// must not leak addresses: the join subnet holds exactly this one.
		if used := ipamUsed("join"); used != 1 {
			return fmt.Errorf("join subnet has %v addresses in use, want 1", used)
		}
		if !netip.MustParsePrefix("100.64.0.0/16").Contains(a.IPs[0].Addr()) || !strings.Contains(lsp.Addresses[0], a.IPs[0].Addr().String()) {
			return fmt.Errorf("node allocation %+v vs port %v", a, lsp.Addresses)
		}
		return nil
	})
	// Vnic status is written once the port exists.
	eventually(t, 30*time.Second, "vnic status", func() error {
		var v iaasv1.Vnic
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "p1.eth0"}, &v); err != nil {
			return err
		}
		if !v.Status.Ready || v.Status.LogicalSwitchPort != a1.LogicalSwitchPort {
			return fmt.Errorf("vnic status %+v", v.Status)
		}
		return nil
	})

	// Deleting a pod removes its port and its VnicIp; the address is free again.
	if err := c.Delete(ctx, p1, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "p1 released", func() error {
		if _, err := w.port(a1.LogicalSwitchPort); err == nil {
			return fmt.Errorf("port %s still exists", a1.LogicalSwitchPort)
		}
		var l iaasv1.VnicIpList
		if err := c.List(ctx, &l, client.InNamespace("default")); err != nil {
			return err
		}
		for _, v := range l.Items {
			if strings.Contains(string(v.Spec.IPAddress), a1.IPs[0].Addr().String()) {
				return fmt.Errorf("vnicip %s still holds %s", v.Name, a1.IPs[0].Addr())
			}
		}
		return nil
	})
	// The freed address can be taken again as a static address.
	p3 := mkPod("default", "p3", "n1", map[string]string{iaasv1.AnnotationVnicIp: a1.IPs[0].Addr().String()})
	if err := c.Create(ctx, p3); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "freed address reused", func() error {
		a, err := allocationOf(ctx, c, "default", "p3")
		if err != nil {
			return err
		}
		if a.IPs[0].Addr() != a1.IPs[0].Addr() {
			return fmt.Errorf("p3 got %s, want %s", a.IPs[0], a1.IPs[0])
		}
		return nil
	})
}

func TestStaticAddressConflictsAndBadInput(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 3*time.Minute)
	c := w.k8s.Client

	owner := mkPod("default", "owner", "n1", map[string]string{iaasv1.AnnotationVnicIp: "10.16.0.100"})
	if err := c.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "static address", func() error {
		a, err := allocationOf(ctx, c, "default", "owner")
		if err != nil {
			return err
		}
		if a.IPs[0].Addr() != netip.MustParseAddr("10.16.0.100") {
			return fmt.Errorf("owner got %s", a.IPs[0])
		}
		return nil
	})
	before, err := countVnicIPs(ctx, c, "default")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		pod    string
		ann    map[string]string
		reason string
	}{
		{"thief", map[string]string{iaasv1.AnnotationVnicIp: "10.16.0.100"}, "AddressInUse"},
		{"nosubnet", map[string]string{iaasv1.AnnotationSubnet: "no-such-subnet"}, "SubnetNotFound"},
		{"outside", map[string]string{iaasv1.AnnotationVnicIp: "10.99.0.5"}, "InvalidAddress"},
		{"gateway", map[string]string{iaasv1.AnnotationVnicIp: "10.16.0.1"}, "InvalidAddress"},
		{"novnicip", map[string]string{iaasv1.AnnotationVnicIp: "vnicip-missing"}, "VnicIpNotFound"},
	}
	for _, tc := range cases {
		if err := c.Create(ctx, mkPod("default", tc.pod, "n1", tc.ann)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		eventually(t, 30*time.Second, tc.pod+" reported", func() error {
			if err := w.eventFor(ctx, "default", tc.pod, tc.reason); err != nil {
				return err
			}
			cnd, err := podCondition(ctx, c, "default", tc.pod)
			if err != nil {
				return err
			}
			if cnd.Status != corev1.ConditionFalse || cnd.Reason != tc.reason {
				return fmt.Errorf("condition %+v, want False/%s", cnd, tc.reason)
			}
			return nil
		})
		if _, err := allocationOf(ctx, c, "default", tc.pod); err == nil {
			t.Errorf("pod %s got an allocation despite %s", tc.pod, tc.reason)
		}
	}
	// The owner keeps its address; no VnicIp was made for the refused pods.
	a, err := allocationOf(ctx, c, "default", "owner")
	if err != nil || a.IPs[0].Addr() != netip.MustParseAddr("10.16.0.100") {
		t.Fatalf("owner allocation changed: %+v %v", a, err)
	}
	if after, err := countVnicIPs(ctx, c, "default"); err != nil || after != before {
		t.Fatalf("vnicips %d -> %d (%v): refused pods must not allocate", before, after, err)
	}

	// A reserved VnicIp made by a user gets an address, and a pod naming it uses it.
	vip := &iaasv1.VnicIp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "vnicip-1"}, Spec: iaasv1.VnicIpSpec{Subnet: "ovn-default"}}
	if err := c.Create(ctx, vip); err != nil {
		t.Fatal(err)
	}
	var reserved string
	eventually(t, 30*time.Second, "reserved vnicip address", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(vip), vip); err != nil {
			return err
		}
		if vip.Status.V4IP == "" {
			return fmt.Errorf("no address in status yet")
		}
		reserved = vip.Status.V4IP
		return nil
	})
	if err := c.Create(ctx, mkPod("default", "user", "n1", map[string]string{iaasv1.AnnotationVnicIp: "vnicip-1"})); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "pod uses reserved vnicip", func() error {
		a, err := allocationOf(ctx, c, "default", "user")
		if err != nil {
			return err
		}
		if a.IPs[0].Addr().String() != reserved || a.VnicIp != "vnicip-1" {
			return fmt.Errorf("allocation %+v, want %s from vnicip-1", a, reserved)
		}
		return nil
	})
	// The pod refused for naming a VnicIp that did not exist starts when it is created,
	// not at its periodic retry 30 s after the refusal.
	late := &iaasv1.VnicIp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "vnicip-missing"}, Spec: iaasv1.VnicIpSpec{Subnet: "ovn-default"}}
	if err := c.Create(ctx, late); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "pod allocated once its vnicip exists", func() error {
		a, err := allocationOf(ctx, c, "default", "novnicip")
		if err != nil {
			return err
		}
		if a.VnicIp != "vnicip-missing" {
			return fmt.Errorf("allocation %+v, want vnicip-missing", a)
		}
		return nil
	})
	// The fix for the thief: freeing the address lets it through on its next retry.
	if err := c.Delete(ctx, owner, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 90*time.Second, "thief allocated after the owner left", func() error {
		a, err := allocationOf(ctx, c, "default", "thief")
		if err != nil {
			return err
		}
		cnd, err := podCondition(ctx, c, "default", "thief")
		if err != nil {
			return err
		}
		if a.IPs[0].Addr() != netip.MustParseAddr("10.16.0.100") || cnd.Status != corev1.ConditionTrue {
			return fmt.Errorf("allocation %+v condition %+v", a, cnd)
		}
		return nil
	})
}

func TestSubnetDeletionWaitsForAddresses(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 3*time.Minute)
	c := w.k8s.Client
	for _, o := range []client.Object{mkVpc("v"), mkSubnet("s", "v", "10.5.0.0/24")} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	pod := mkPod("default", "user", "n1", map[string]string{iaasv1.AnnotationSubnet: "s"})
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "allocated", func() error { _, err := allocationOf(ctx, c, "default", "user"); return err })
	if err := c.Delete(ctx, mkSubnet("s", "", "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "deletion blocked with a reason", func() error {
		var s iaasv1.Subnet
		if err := c.Get(ctx, client.ObjectKey{Name: "s"}, &s); err != nil {
			return err
		}
		for _, cnd := range s.Status.Conditions {
			if cnd.Type == iaasv1.ConditionReady && cnd.Reason == "AddressesAllocated" && strings.Contains(cnd.Message, "default/s.10-5-0-2") {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", s.Status.Conditions)
	})
	if _, err := w.lswitch("s"); err != nil {
		t.Fatalf("switch removed while addresses are allocated: %v", err)
	}
	if err := c.Delete(ctx, pod, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "subnet and switch gone", func() error {
		if err := c.Get(ctx, client.ObjectKey{Name: "s"}, &iaasv1.Subnet{}); err == nil {
			return fmt.Errorf("subnet still exists")
		}
		if _, err := w.lswitch("s"); err == nil {
			return fmt.Errorf("switch still exists")
		}
		return nil
	})
}

// 500 pods created at once get 500 distinct addresses, and 500 ports.
func TestConcurrentPodsUnique(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 5*time.Minute)
	c := w.k8s.Client
	const n = 500
	createPods(t, ctx, c, "default", "p", n, 16)
	ips := waitAllocations(t, ctx, c, "default", "p", n, 3*time.Minute)
	assertUnique(t, ips)
	eventually(t, 2*time.Minute, "ports", func() error { return w.portsExactly(ips) })
}

func createPods(t *testing.T, ctx context.Context, c client.Client, ns, prefix string, n, par int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.Create(ctx, mkPod(ns, fmt.Sprintf("%s%d", prefix, i), "n1", nil)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// waitAllocations waits until n pods have allocations and returns pod -> address.
func waitAllocations(t *testing.T, ctx context.Context, c client.Client, ns, prefix string, n int, d time.Duration) map[string]string {
	t.Helper()
	ips := map[string]string{}
	eventually(t, d, fmt.Sprintf("%d allocations", n), func() error {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return err
		}
		clear(ips)
		for _, p := range pods.Items {
			if !strings.HasPrefix(p.Name, prefix) {
				continue
			}
			if a, err := iaasv1.ParseAllocation(p.Annotations[iaasv1.AnnotationAllocation]); err == nil {
				ips[p.Name] = a.IPs[0].Addr().String()
			}
		}
		if len(ips) != n {
			return fmt.Errorf("%d of %d allocated", len(ips), n)
		}
		return nil
	})
	return ips
}

func assertUnique(t *testing.T, ips map[string]string) {
	t.Helper()
	seen := map[string]string{}
	for pod, ip := range ips {
		if other, ok := seen[ip]; ok {
			t.Fatalf("address %s given to both %s and %s", ip, other, pod)
		}
		seen[ip] = pod
	}
}

// portsExactly checks NB holds one VIF port per pod with the pod's address, and no other
// pod ports.
func (w *world) portsExactly(ips map[string]string) error {
	lsps, err := ovsdb.List[nb.LogicalSwitchPort](w.nb.Cache(), func(p *nb.LogicalSwitchPort) bool {
		return p.ExternalIDs[ovnnb.KeyOwnerKind] == ovnnb.KindVnic
	})
	if err != nil {
		return err
	}
	if len(lsps) != len(ips) {
		return fmt.Errorf("%d pod ports in NB, want %d", len(lsps), len(ips))
	}
	for _, p := range lsps {
		pod := strings.TrimPrefix(p.ExternalIDs[ovnnb.KeyPod], "default/")
		want, ok := ips[pod]
		if !ok || len(p.Addresses) != 1 || !strings.HasSuffix(p.Addresses[0], " "+want) {
			return fmt.Errorf("port %s (pod %s) addresses %v, want %s", p.Name, pod, p.Addresses, want)
		}
	}
	return nil
}

// Rows deleted or edited behind the controller's back come back; owned rows whose owner is
// gone are collected; rows that are not ours are left alone.
func TestDriftRepairAndGarbageCollection(t *testing.T) {
	w := newWorld(t)
	stop := w.runInProcess(func(c *controller.Config) { c.ResyncPeriod = 3 * time.Second })
	ctx := framework.Context(t, 3*time.Minute)
	c := w.k8s.Client
	if err := c.Create(ctx, mkPod("default", "p", "n1", nil)); err != nil {
		t.Fatal(err)
	}
	var a *iaasv1.Allocation
	eventually(t, time.Minute, "allocation", func() (err error) { a, err = allocationOf(ctx, c, "default", "p"); return err })
	eventually(t, 30*time.Second, "port", func() error { _, err := w.port(a.LogicalSwitchPort); return err })

	nbctl := func(args ...string) {
		t.Helper()
		out, err := exec.Command("ovn-nbctl", append([]string{"--db=" + w.ovn.NBEndpoint()}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ovn-nbctl %v: %v: %s", args, err, out)
		}
	}
	// Tampering: delete the pod's port, change the default switch's router port addresses,
	// and delete a whole router.
	nbctl("lsp-del", a.LogicalSwitchPort)
	nbctl("lsp-set-addresses", ovnnb.SwitchRouterPortName(iaasv1.DefaultVpcName, "ovn-default"), "00:00:00:00:00:01")
	for _, o := range []client.Object{mkVpc("v2"), mkSubnet("s2", "v2", "10.7.0.0/24")} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "v2 attached", func() error { return w.subnetAttached("v2", "s2", "10.7.0.1/24") })
	nbctl("lr-del", "vpc-v2")
	eventually(t, 30*time.Second, "repair", func() error {
		if _, err := w.port(a.LogicalSwitchPort); err != nil {
			return err
		}
		rp, err := w.port(ovnnb.SwitchRouterPortName(iaasv1.DefaultVpcName, "ovn-default"))
		if err != nil {
			return err
		}
		if !slices.Equal(rp.Addresses, []string{"router"}) {
			return fmt.Errorf("router port addresses %v", rp.Addresses)
		}
		return w.subnetAttached("v2", "s2", "10.7.0.1/24")
	})

	// The default VPC is part of the cluster: deleting its object brings it back.
	var def iaasv1.Vpc
	if err := c.Get(ctx, client.ObjectKey{Name: iaasv1.DefaultVpcName}, &def); err != nil {
		t.Fatal(err)
	}
	oldUID := def.UID
	if err := c.Delete(ctx, &def); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "default vpc recreated", func() error {
		var v iaasv1.Vpc
		if err := c.Get(ctx, client.ObjectKey{Name: iaasv1.DefaultVpcName}, &v); err != nil {
			return err
		}
		if v.UID == oldUID {
			return fmt.Errorf("still the old object")
		}
		return w.subnetAttached(iaasv1.DefaultVpcName, "ovn-default", "10.16.0.1/16")
	})

	// Garbage: an owned switch whose Subnet never existed, and a foreign switch.
	nbctl("ls-add", "ghost", "--", "set", "Logical_Switch", "ghost",
		"external_ids:ycloud.io/owner-kind=Subnet", "external_ids:ycloud.io/owner=ghost", "external_ids:ycloud.io/cluster="+w.name)
	nbctl("ls-add", "foreign")
	eventually(t, 30*time.Second, "ghost collected", func() error {
		if _, err := w.lswitch("ghost"); err == nil {
			return fmt.Errorf("ghost still exists")
		}
		return nil
	})
	if _, err := w.lswitch("foreign"); err != nil {
		t.Fatalf("a switch that is not ours was touched: %v", err)
	}

	// Rows whose owner was deleted while the controller was down are collected at start.
	stop()
	if err := c.Delete(ctx, mkPod("default", "p", "", nil), client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{&iaasv1.Vnic{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p.eth0"}}} {
		if err := c.Delete(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	w.runInProcess(nil)
	eventually(t, 30*time.Second, "orphaned port collected after restart", func() error {
		if _, err := w.port(a.LogicalSwitchPort); err == nil {
			return fmt.Errorf("port %s still exists", a.LogicalSwitchPort)
		}
		return nil
	})
}

// A VnicIp that arrives before its Subnet is served as soon as the Subnet exists, not at the
// next resync.
func TestVnicIPBeforeSubnet(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil) // default resync: 5 minutes, far beyond the deadline below
	ctx := framework.Context(t, 2*time.Minute)
	c := w.k8s.Client
	vip := &iaasv1.VnicIp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "early"}, Spec: iaasv1.VnicIpSpec{Subnet: "late"}}
	if err := c.Create(ctx, vip); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "reported as waiting for its subnet", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(vip), vip); err != nil {
			return err
		}
		for _, cnd := range vip.Status.Conditions {
			if cnd.Reason == "SubnetNotFound" {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", vip.Status.Conditions)
	})
	for _, o := range []client.Object{mkVpc("v"), mkSubnet("late", "v", "10.8.0.0/24")} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "address once the subnet exists", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(vip), vip); err != nil {
			return err
		}
		if !netip.MustParsePrefix("10.8.0.0/24").Contains(netip.MustParseAddr(orZero(vip.Status.V4IP))) {
			return fmt.Errorf("status %+v", vip.Status)
		}
		return nil
	})

	// A second VnicIp asking for that address is refused; pinning the first one to another
	// address frees it, and the second gets it at its retry. The subnet then holds exactly
	// two addresses.
	first := vip.Status.V4IP
	reuse := &iaasv1.VnicIp{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "reuse"},
		Spec: iaasv1.VnicIpSpec{Subnet: "late", IPAddress: iaasv1.DualStackIP(first)}}
	if err := c.Create(ctx, reuse); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "second vnicip refused", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(reuse), reuse); err != nil {
			return err
		}
		if cnd := meta.FindStatusCondition(reuse.Status.Conditions, "Ready"); cnd == nil || cnd.Reason != "AddressConflict" {
			return fmt.Errorf("status %+v", reuse.Status)
		}
		return nil
	})
	patch := client.MergeFrom(vip.DeepCopy())
	vip.Spec.IPAddress = "10.8.0.50"
	if err := c.Patch(ctx, vip, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "pinned address in status", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(vip), vip); err != nil {
			return err
		}
		if vip.Status.V4IP != "10.8.0.50" {
			return fmt.Errorf("status %+v", vip.Status)
		}
		return nil
	})
	eventually(t, 45*time.Second, "freed address taken by the refused vnicip", func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(reuse), reuse); err != nil {
			return err
		}
		if reuse.Status.V4IP != first || !meta.IsStatusConditionTrue(reuse.Status.Conditions, "Ready") {
			return fmt.Errorf("status %+v", reuse.Status)
		}
		if used := ipamUsedIn("late", "10.8.0.0/24"); used != 2 {
			return fmt.Errorf("subnet late has %v addresses in use, want 2", used)
		}
		return nil
	})
}

func orZero(s string) string {
	if s == "" {
		return "0.0.0.0"
	}
	return s
}

// A pod that names a Subnet which does not exist yet (the hub's ManifestWork may deliver it
// after users create pods) is allocated as soon as the Subnet exists: the deadline is well
// under the pod reconciler's 30 s retry, so only the Subnet watch can meet it.
func TestPodBeforeSubnet(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 2*time.Minute)
	c := w.k8s.Client
	pod := mkPod("default", "early", "n1", map[string]string{iaasv1.AnnotationSubnet: "late"})
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	// The pod was looked at and found waiting, so its retry is already scheduled 30 s out.
	eventually(t, 30*time.Second, "reported as waiting for its subnet", func() error {
		cnd, err := podCondition(ctx, c, "default", "early")
		if err != nil {
			return err
		}
		if cnd.Status != corev1.ConditionFalse || cnd.Reason != "SubnetNotFound" {
			return fmt.Errorf("condition %+v, want False/SubnetNotFound", cnd)
		}
		return nil
	})
	for _, o := range []client.Object{mkVpc("v"), mkSubnet("late", "v", "10.9.0.0/24")} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var a *iaasv1.Allocation
	eventually(t, 10*time.Second, "allocation once the subnet exists", func() (err error) {
		if a, err = allocationOf(ctx, c, "default", "early"); err != nil {
			return err
		}
		if a.Subnet != "late" || a.Vpc != "v" || !netip.MustParsePrefix("10.9.0.0/24").Contains(a.IPs[0].Addr()) {
			return fmt.Errorf("allocation %+v, want an address of subnet late in vpc v", a)
		}
		return nil
	})
	// The port follows (the Vnic waits for the subnet's switch on its own), and the pod's
	// failure condition is cleared.
	eventually(t, 10*time.Second, "port and condition", func() error {
		lsp, err := w.port(a.LogicalSwitchPort)
		if err != nil {
			return err
		}
		if want := a.MAC + " " + a.IPs[0].Addr().String(); !slices.Equal(lsp.Addresses, []string{want}) {
			return fmt.Errorf("port addresses %v, want %q", lsp.Addresses, want)
		}
		cnd, err := podCondition(ctx, c, "default", "early")
		if err != nil {
			return err
		}
		if cnd.Status != corev1.ConditionTrue {
			return fmt.Errorf("condition %+v, want True", cnd)
		}
		return nil
	})
}
