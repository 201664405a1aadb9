package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
)

// vnicIPReconciler handles VnicIps made by users: a reserved address (spec.ipAddress set)
// is held in the pool, and one without an address gets one, recorded in status. VnicIps the
// controller makes for pods carry their address in spec and are already in the pool; they
// get a status write only when something is wrong, to keep writes per pod low.
type vnicIPReconciler struct{ *env }

const reasonConflict = "AddressConflict"

func (r *vnicIPReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	var v iaasv1.VnicIp
	if err := r.client.Get(ctx, req.NamespacedName, &v); err != nil {
		// Deletion releases the address in the informer's delete handler.
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !v.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
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
	sp, err := r.alloc.pool(ctx, &subnet)
	if err != nil {
		return reconcile.Result{}, err
	}
	owner := vnicIPOwner(&v)
	addrs := vnicIPAddrs(&v)
	var problem error
	if len(addrs) == 0 {
		// An address taken by an earlier reconcile whose status write this read of the cache
		// does not show yet is this VnicIp's; allocating again would leak it.
		if addrs = sp.pool.Owned(owner); len(addrs) == 0 {
			if addrs, err = sp.pool.Allocate(owner); err != nil {
				problem = err
			}
		}
	} else {
		for _, a := range addrs {
			if err := sp.pool.Reserve(a, owner); err != nil {
				problem = err
			}
		}
		// spec.ipAddress set on a VnicIp that had an allocated address: that one is free now.
		for _, s := range []string{v.Status.V4IP, v.Status.V6IP} {
			if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(addrs, a.Unmap()) {
				if o, ok := sp.pool.Owner(a); ok && o == owner {
					sp.pool.Release(a)
				}
			}
		}
	}
	subnetStats(subnet.Name, sp.pool)
	if problem != nil {
		reason := reasonConflict
		var inUse *ipam.InUseError
		switch {
		case errors.As(problem, &inUse):
		case errors.Is(problem, ipam.ErrFull):
			reason = reasonSubnetFull
		default:
			reason = reasonBadAddress
		}
		if setReady(&v.Status.Conditions, v.Generation, false, reason, problem.Error()) {
			r.events.Eventf(&v, nil, "Warning", reason, "Allocate", "%v", problem)
		}
		// The address may be freed, or the subnet widened, later: try again as pods do.
		return reconcile.Result{RequeueAfter: userRetry}, patchStatus(ctx, r.client, old, &v, old.Status, v.Status)
	}
	if v.Labels[labelPod] != "" && len(v.Status.Conditions) == 0 {
		return reconcile.Result{}, nil
	}
	v.Status.V4IP, v.Status.V6IP = "", ""
	for _, a := range addrs {
		if a.Is4() {
			v.Status.V4IP = a.String()
		} else {
			v.Status.V6IP = a.String()
		}
	}
	v.Status.Vnic = v.Spec.Vnic
	v.Status.ObservedGeneration = v.Generation
	setReady(&v.Status.Conditions, v.Generation, true, iaasv1.ReasonReconciled, "address "+joinAddrs(addrs)+" is reserved in subnet "+subnet.Name)
	return reconcile.Result{}, patchStatus(ctx, r.client, old, &v, old.Status, v.Status)
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
