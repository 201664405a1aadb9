package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

func (w *world) router(name string) (*nb.LogicalRouter, error) {
	rows, err := ovsdb.Lookup[nb.LogicalRouter](w.nb.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%d routers named %q", len(rows), name)
	}
	return rows[0], nil
}

func (w *world) lswitch(name string) (*nb.LogicalSwitch, error) {
	rows, err := ovsdb.Lookup[nb.LogicalSwitch](w.nb.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%d switches named %q", len(rows), name)
	}
	return rows[0], nil
}

func (w *world) port(name string) (*nb.LogicalSwitchPort, error) {
	rows, err := ovsdb.Lookup[nb.LogicalSwitchPort](w.nb.Cache(), "name", name)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("%d ports named %q", len(rows), name)
	}
	return rows[0], nil
}

// subnetAttached checks the switch, the router port with the gateway network, and that the
// router holds the port.
func (w *world) subnetAttached(vpc, subnet, gwNet string) error {
	lr, err := w.router(ovnnb.RouterName(vpc))
	if err != nil {
		return err
	}
	ls, err := w.lswitch(subnet)
	if err != nil {
		return err
	}
	lrps, _ := ovsdb.Lookup[nb.LogicalRouterPort](w.nb.Cache(), "name", ovnnb.RouterPortName(vpc, subnet))
	if len(lrps) != 1 {
		return fmt.Errorf("router port %s: %d rows", ovnnb.RouterPortName(vpc, subnet), len(lrps))
	}
	if !slices.Equal(lrps[0].Networks, []string{gwNet}) {
		return fmt.Errorf("router port networks %v, want %s", lrps[0].Networks, gwNet)
	}
	if !slices.Contains(lr.Ports, lrps[0].UUID) {
		return fmt.Errorf("router %s does not hold its port", lr.Name)
	}
	rp, err := w.port(ovnnb.SwitchRouterPortName(vpc, subnet))
	if err != nil {
		return err
	}
	if rp.Type != "router" || rp.Options["router-port"] != lrps[0].Name || !slices.Contains(ls.Ports, rp.UUID) {
		return fmt.Errorf("switch router port %+v not wired to %s", rp, lrps[0].Name)
	}
	return nil
}

func mkVpc(name string) *iaasv1.Vpc { return &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: name}} }

func mkSubnet(name, vpc, cidr string) *iaasv1.Subnet {
	return &iaasv1.Subnet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iaasv1.SubnetSpec{Vpc: vpc, CIDRBlock: iaasv1.DualStackCIDR(cidr)}}
}

func mkPod(ns, name, node string, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: ann},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "registry.local/busybox:1.35"}}},
	}
}

func allocationOf(ctx context.Context, c client.Client, ns, name string) (*iaasv1.Allocation, error) {
	var p corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return nil, err
	}
	v, ok := p.Annotations[iaasv1.AnnotationAllocation]
	if !ok {
		return nil, fmt.Errorf("pod %s/%s has no allocation yet", ns, name)
	}
	return iaasv1.ParseAllocation(v)
}

func TestVpcSubnetLifecycleAndOverlap(t *testing.T) {
	w := newWorld(t)
	w.runInProcess(nil)
	ctx := framework.Context(t, 3*time.Minute)
	c := w.k8s.Client

	// The default VPC and its two subnets exist without anyone creating them.
	eventually(t, time.Minute, "default vpc", func() error {
		if err := w.subnetAttached(iaasv1.DefaultVpcName, "ovn-default", "10.16.0.1/16"); err != nil {
			return err
		}
		return w.subnetAttached(iaasv1.DefaultVpcName, "join", "100.64.0.1/16")
	})

	// Two tenants' VPCs with the same CIDR coexist, each on its own router.
	for _, o := range []client.Object{mkVpc("vpca"), mkVpc("vpcb"), mkSubnet("suba", "vpca", "10.1.0.0/24"), mkSubnet("subb", "vpcb", "10.1.0.0/24")} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, time.Minute, "overlapping subnets", func() error {
		if err := w.subnetAttached("vpca", "suba", "10.1.0.1/24"); err != nil {
			return err
		}
		return w.subnetAttached("vpcb", "subb", "10.1.0.1/24")
	})
	// Status tells the truth.
	eventually(t, 30*time.Second, "subnet status", func() error {
		var s iaasv1.Subnet
		if err := c.Get(ctx, client.ObjectKey{Name: "suba"}, &s); err != nil {
			return err
		}
		ready := false
		for _, cnd := range s.Status.Conditions {
			ready = ready || (cnd.Type == iaasv1.ConditionReady && cnd.Status == metav1.ConditionTrue)
		}
		if !ready || s.Status.LogicalSwitch != "suba" || s.Status.Gateway != "10.1.0.1" || s.Status.V4AvailableIPs != 253 {
			return fmt.Errorf("status %+v", s.Status)
		}
		return nil
	})
	eventually(t, 30*time.Second, "vpc status", func() error {
		var v iaasv1.Vpc
		if err := c.Get(ctx, client.ObjectKey{Name: "vpca"}, &v); err != nil {
			return err
		}
		if v.Status.Router != "vpc-vpca" || !slices.Equal(v.Status.Subnets, []string{"suba"}) {
			return fmt.Errorf("status %+v", v.Status)
		}
		return nil
	})

	// Static routes from the spec land on the router; removing one removes its row.
	var v iaasv1.Vpc
	if err := c.Get(ctx, client.ObjectKey{Name: "vpca"}, &v); err != nil {
		t.Fatal(err)
	}
	v.Spec.StaticRoutes = []iaasv1.StaticRoute{{CIDR: "192.168.0.0/16", NextHop: "10.1.0.254"}, {CIDR: "172.16.0.0/12", NextHop: "10.1.0.253"}}
	if err := c.Update(ctx, &v); err != nil {
		t.Fatal(err)
	}
	routes := func(want ...string) func() error {
		return func() error {
			lr, err := w.router("vpc-vpca")
			if err != nil {
				return err
			}
			var got []string
			for _, id := range lr.StaticRoutes {
				r, err := ovsdb.GetByUUID[nb.LogicalRouterStaticRoute](w.nb.Cache(), id)
				if err != nil {
					return err
				}
				got = append(got, r.IPPrefix+" via "+r.Nexthop)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				return fmt.Errorf("routes %v, want %v", got, want)
			}
			return nil
		}
	}
	eventually(t, 30*time.Second, "static routes", routes("172.16.0.0/12 via 10.1.0.253", "192.168.0.0/16 via 10.1.0.254"))
	if err := c.Get(ctx, client.ObjectKey{Name: "vpca"}, &v); err != nil {
		t.Fatal(err)
	}
	v.Spec.StaticRoutes = v.Spec.StaticRoutes[:1]
	if err := c.Update(ctx, &v); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "static route removed", routes("192.168.0.0/16 via 10.1.0.254"))

	// Deleting a subnet removes its switch and router port; deleting the VPC its router.
	if err := c.Delete(ctx, mkSubnet("subb", "", "")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "subnet rows gone", func() error {
		if _, err := w.lswitch("subb"); err == nil {
			return fmt.Errorf("switch subb still exists")
		}
		if lrps, _ := ovsdb.Lookup[nb.LogicalRouterPort](w.nb.Cache(), "name", ovnnb.RouterPortName("vpcb", "subb")); len(lrps) != 0 {
			return fmt.Errorf("router port still exists")
		}
		if err := c.Get(ctx, client.ObjectKey{Name: "subb"}, &iaasv1.Subnet{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("subnet object still there: %v", err)
		}
		return nil
	})
	if err := c.Delete(ctx, mkVpc("vpcb")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "router gone", func() error {
		if _, err := w.router("vpc-vpcb"); err == nil || !strings.Contains(err.Error(), "0 routers") {
			return fmt.Errorf("router vpc-vpcb: %v", err)
		}
		return nil
	})
	// The other tenant is untouched.
	if err := w.subnetAttached("vpca", "suba", "10.1.0.1/24"); err != nil {
		t.Fatal(err)
	}
}
