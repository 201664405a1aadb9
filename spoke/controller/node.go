package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// JoinAllocationAnnotation is iaasv1.JoinAllocationAnnotation, kept here for callers that
// think of it as the controller's output.
const JoinAllocationAnnotation = iaasv1.JoinAllocationAnnotation

// nodeReconciler gives every node a management port (LSP node-<name>) on the join subnet,
// through which the node reaches pods.
type nodeReconciler struct{ *env }

func nodeOwner(name string) string { return "node/" + name }

func (r *nodeReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	portName := ovnnb.NodePortName(req.Name)
	var join iaasv1.Subnet
	if err := r.client.Get(ctx, client.ObjectKey{Name: r.cfg.JoinSubnet}, &join); err != nil {
		return reconcile.Result{}, fmt.Errorf("join subnet %q: %w", r.cfg.JoinSubnet, err)
	}
	sp, err := r.alloc.pool(ctx, &join)
	if err != nil {
		return reconcile.Result{}, err
	}
	var node corev1.Node
	if err := r.client.Get(ctx, req.NamespacedName, &node); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		sp.pool.ReleaseOwner(nodeOwner(req.Name))
		subnetStats(join.Name, sp.pool)
		plan, err := ovnnb.PlanDeletePort(r.nb.Cache(), portName)
		if err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, r.transact(ctx, plan)
	}

	addrs, fresh, err := nodeJoinAddrs(sp.pool, &node, join.Name)
	if err != nil {
		if errors.Is(err, ipam.ErrFull) {
			r.events.Eventf(&node, nil, corev1.EventTypeWarning, reasonSubnetFull, "Allocate", "join subnet %q is full", join.Name)
		}
		return reconcile.Result{}, fmt.Errorf("node %q: join address: %w", node.Name, err)
	}
	subnetStats(join.Name, sp.pool)

	mac := ovnnb.MAC(portName)
	lsp := ovnnb.BuildPort(ovnnb.PortSpec{
		Owner: r.owner(ovnnb.KindNode, node.Name), Name: portName, MAC: mac, IPs: addrs,
		Vpc: join.Spec.Vpc, Subnet: join.Name, Chassis: node.Name, PortSecurity: true,
	})
	plan, err := ovnnb.PlanPort(r.nb.Cache(), &lsp, ovnnb.SwitchName(join.Name))
	if err == nil {
		err = r.transact(ctx, plan)
	}
	if err != nil {
		// The allocation is only durable once the annotation is written below; an address
		// taken now and not recorded would leak until the next pool rebuild.
		if fresh {
			sp.pool.ReleaseOwner(nodeOwner(node.Name))
		}
		return requeueFor(fmt.Errorf("node %q: management port: %w", node.Name, err))
	}

	a := &iaasv1.Allocation{MAC: mac, Subnet: join.Name, Vpc: join.Spec.Vpc, LogicalSwitchPort: portName}
	for _, addr := range addrs {
		for i, c := range sp.info.CIDRs {
			if c.Contains(addr) {
				a.IPs = append(a.IPs, netip.PrefixFrom(addr, c.Bits()))
				a.Gateways = append(a.Gateways, sp.info.Gateways[i])
			}
		}
	}
	val, err := iaasv1.FormatAllocation(a)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("node %q: %w", node.Name, err)
	}
	if node.Annotations[JoinAllocationAnnotation] == val {
		return reconcile.Result{}, nil
	}
	patch := client.RawPatch("application/merge-patch+json", fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, JoinAllocationAnnotation, val))
	if err := r.client.Patch(ctx, &node, patch); err != nil {
		if fresh {
			sp.pool.ReleaseOwner(nodeOwner(node.Name))
		}
		return reconcile.Result{}, fmt.Errorf("node %q: write join allocation: %w", node.Name, err)
	}
	return reconcile.Result{}, nil
}

// nodeJoinAddrs picks the node's join addresses: those its annotation records, else those the
// pool already holds for it, else fresh ones (fresh = true, so a failure before the
// annotation is written can give them back).
//
// The middle case matters: right after this controller writes the annotation, the next
// reconcile can still read the node from a cache that has not seen the write. Allocating
// again then would leave the first address held by the node forever (until a restart
// rebuilds the pool) and move the node's port to a second address.
func nodeJoinAddrs(pool *ipam.Pool, node *corev1.Node, subnet string) (addrs []netip.Addr, fresh bool, err error) {
	owner := nodeOwner(node.Name)
	if a, err := iaasv1.ParseAllocation(node.Annotations[JoinAllocationAnnotation]); err == nil && a.Subnet == subnet {
		for _, p := range a.IPs {
			if err := pool.Reserve(p.Addr(), owner); err == nil {
				addrs = append(addrs, p.Addr())
			}
		}
	}
	if len(addrs) > 0 {
		return addrs, false, nil
	}
	if held := pool.Owned(owner); len(held) > 0 {
		return held, false, nil
	}
	addrs, err = pool.Allocate(owner)
	return addrs, err == nil, err
}
