package twoaz

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/test/cnitest"
)

// Pod is a pod object plumbed by the harness the way a CNI would.
type Pod struct {
	Name  string
	Node  *Node
	NS    ns.NetNS
	Alloc *iaasv1.Allocation
	IP    netip.Addr
}

// defaultPodMTU is the CNI's default: it leaves room for geneve on a 1500-byte underlay.
const defaultPodMTU = 1400

// RunPod creates a pod on node in subnet and plumbs it once ycloud-controller has allocated
// its address; it returns when OVN reports the port up.
func (az *AZ) RunPod(name string, node *Node, subnet string) *Pod {
	t := az.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	obj := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Annotations: map[string]string{iaasv1.AnnotationSubnet: subnet}},
		Spec:       corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "c", Image: "registry.local/pause:1"}}},
	}
	if err := az.Kube.Client.Create(ctx, obj); err != nil {
		t.Fatalf("twoaz: pod %s: %v", name, err)
	}
	p := &Pod{Name: name, Node: node}
	err := cnitest.Eventually(time.Minute, 20*time.Millisecond, func() error {
		var cur corev1.Pod
		if err := az.Kube.Client.Get(ctx, client.ObjectKeyFromObject(obj), &cur); err != nil {
			return err
		}
		v, ok := cur.Annotations[iaasv1.AnnotationAllocation]
		if !ok {
			return fmt.Errorf("pod %s has no allocation yet", name)
		}
		a, err := iaasv1.ParseAllocation(v)
		if err != nil {
			return err
		}
		p.Alloc = a
		return nil
	})
	if err != nil {
		t.Fatalf("twoaz: %s: %v", az.Name, err)
	}
	p.IP = p.Alloc.IPs[0].Addr()
	p.NS = cnitest.NewNetns(t)
	if err := plumb(ctx, p); err != nil {
		t.Fatalf("twoaz: pod %s: %v", name, err)
	}
	host := hostIfName(name)
	node.Vsctl("add-port", "br-int", host, "--", "set", "interface", host, "external_ids:iface-id="+p.Alloc.LogicalSwitchPort)
	err = cnitest.Eventually(time.Minute, 20*time.Millisecond, func() error {
		rows, _ := ovsdb.Lookup[nb.LogicalSwitchPort](az.NBRead.Cache(), "name", p.Alloc.LogicalSwitchPort)
		if len(rows) == 0 || rows[0].Up == nil || !*rows[0].Up {
			return fmt.Errorf("port %s is not up", p.Alloc.LogicalSwitchPort)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("twoaz: %s pod %s: %v\n%s", az.Name, name, err, node.Logs())
	}
	return p
}

func hostIfName(pod string) string {
	n := "p-" + pod
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// plumb creates the veth pair (host end in the node's namespace, eth0 in the pod's) and
// configures eth0 from the allocation, as the CNI does.
func plumb(ctx context.Context, p *Pod) error {
	host := hostIfName(p.Name)
	err := p.Node.NS.Do(func(ns.NetNS) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = host
		attrs.MTU = defaultPodMTU
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(p.NS.Fd()))}); err != nil {
			return fmt.Errorf("veth %s: %w", host, err)
		}
		l, err := netlink.LinkByName(host)
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(l)
	})
	if err != nil {
		return err
	}
	mtu := p.Alloc.MTU
	if mtu == 0 {
		mtu = defaultPodMTU
	}
	err = p.NS.Do(func(ns.NetNS) error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		mac, err := net.ParseMAC(p.Alloc.MAC)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetHardwareAddr(l, mac); err != nil {
			return fmt.Errorf("eth0 mac: %w", err)
		}
		if err := netlink.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("eth0 mtu: %w", err)
		}
		pfx := p.Alloc.IPs[0]
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: pfx.Addr().AsSlice(), Mask: net.CIDRMask(pfx.Bits(), pfx.Addr().BitLen())}}); err != nil {
			return fmt.Errorf("eth0 address: %w", err)
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		if len(p.Alloc.Gateways) > 0 {
			if err := netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: p.Alloc.Gateways[0].AsSlice()}); err != nil {
				return fmt.Errorf("default route: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The userspace datapath does not complete partial checksums of packets a veth hands
	// it: without this, TCP from the pod is dropped (OVN-NOTES.md §1.5).
	_, err = cnitest.Run(ctx, p.NS, "ethtool", "-K", "eth0", "tx", "off")
	return err
}

// DeletePod deletes the pod object (grace period 0: there is no kubelet to confirm).
func (az *AZ) DeletePod(p *Pod) {
	t := az.w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: p.Name}}
	if err := az.Kube.Client.Delete(ctx, obj, client.GracePeriodSeconds(0)); err != nil {
		t.Fatalf("twoaz: delete pod %s: %v", p.Name, err)
	}
}
