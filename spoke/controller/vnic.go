package controller

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// vnicReconciler keeps each Vnic's logical switch port in NB: its MAC, the addresses of the
// VnicIps bound to it, port security, and the chassis of its Nic's node.
type vnicReconciler struct{ *env }

func (r *vnicReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	portName := ovnnb.VnicPortName(req.Namespace, req.Name)
	var v iaasv1.Vnic
	if err := r.client.Get(ctx, req.NamespacedName, &v); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		plan, err := ovnnb.PlanDeletePort(r.nb.Cache(), portName)
		if err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, r.transact(ctx, plan)
	}
	old := v.DeepCopy()

	var subnet iaasv1.Subnet
	if err := r.client.Get(ctx, client.ObjectKey{Name: v.Spec.Subnet}, &subnet); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		setReady(&v.Status.Conditions, v.Generation, false, reasonSubnetNotFound, fmt.Sprintf("subnet %q does not exist", v.Spec.Subnet))
		return reconcile.Result{}, patchStatus(ctx, r.client, old, &v, old.Status, v.Status)
	}
	var ips iaasv1.VnicIpList
	if err := r.client.List(ctx, &ips, client.MatchingFields{indexVnicIPVnic: v.Namespace + "/" + v.Name}); err != nil {
		return reconcile.Result{}, err
	}
	var addrs []netip.Addr
	for i := range ips.Items {
		if ips.Items[i].Spec.Subnet == v.Spec.Subnet {
			addrs = append(addrs, vnicIPAddrs(&ips.Items[i])...)
		}
	}
	if len(addrs) == 0 {
		// The VnicIp watch brings the Vnic back once an address is bound.
		setReady(&v.Status.Conditions, v.Generation, false, iaasv1.ReasonPending, "no VnicIp with an address is bound to this vnic")
		return reconcile.Result{}, patchStatus(ctx, r.client, old, &v, old.Status, v.Status)
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	addrs = slices.Compact(addrs)

	spec := ovnnb.PortSpec{
		Owner:        r.owner(ovnnb.KindVnic, v.Namespace+"/"+v.Name),
		Name:         portName,
		MAC:          string(v.Spec.MAC),
		IPs:          addrs,
		Vpc:          subnet.Spec.Vpc,
		Subnet:       subnet.Name,
		PortSecurity: v.Spec.PortSecurity == nil || *v.Spec.PortSecurity,
	}
	if v.Labels[labelPod] != "" {
		spec.Pod = v.Namespace + "/" + v.Labels[labelPod]
	}
	if v.Spec.Nic != "" {
		var nic iaasv1.Nic
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: v.Spec.Nic}, &nic); err == nil {
			spec.Chassis = nic.Spec.Node
		}
	}
	if spec.Chassis == "" && v.Labels[labelPod] != "" {
		// The pod's Nic is created at the same time as this Vnic and may not be in the
		// cache yet; the pod knows the node too.
		var pod corev1.Pod
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: v.Namespace, Name: v.Labels[labelPod]}, &pod); err == nil {
			spec.Chassis = pod.Spec.NodeName
		}
	}
	if spec.MAC == "" {
		spec.MAC = ovnnb.MAC(portName)
	}
	lsp := ovnnb.BuildPort(spec)
	plan, err := ovnnb.PlanPort(r.nb.Cache(), &lsp, ovnnb.SwitchName(subnet.Name))
	if err == nil {
		err = r.transact(ctx, plan)
	}
	if err != nil {
		setReady(&v.Status.Conditions, v.Generation, false, iaasv1.ReasonPending, fmt.Sprintf("northbound: %v", err))
		if perr := patchStatus(ctx, r.client, old, &v, old.Status, v.Status); perr != nil {
			return reconcile.Result{}, perr
		}
		return requeueFor(fmt.Errorf("vnic %s/%s: %w", v.Namespace, v.Name, err))
	}
	v.Status.LogicalSwitchPort = portName
	v.Status.MAC = spec.MAC
	v.Status.IPs = make([]string, len(addrs))
	for i, a := range addrs {
		v.Status.IPs[i] = a.String()
	}
	v.Status.Chassis = spec.Chassis
	v.Status.Ready = true
	v.Status.ObservedGeneration = v.Generation
	setReady(&v.Status.Conditions, v.Generation, true, iaasv1.ReasonReconciled, "logical switch port "+portName+" is in the northbound database")
	return reconcile.Result{}, patchStatus(ctx, r.client, old, &v, old.Status, v.Status)
}
