package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// subnetFinalizer keeps a Subnet until every address in it is released, so a pod never
// holds an address of a switch that no longer exists.
const subnetFinalizer = "iaas.yusur.io/subnet-protection"

// Reasons of the Subnet Ready condition.
const (
	reasonAddressesAllocated = "AddressesAllocated"
	reasonVpcNotFound        = "VpcNotFound"
)

// subnetReconciler keeps a Subnet's logical switch and router port pair in NB, its IPAM
// pool, and its status.
type subnetReconciler struct{ *env }

func (r *subnetReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	owner := r.owner(ovnnb.KindSubnet, req.Name)
	var s iaasv1.Subnet
	if err := r.client.Get(ctx, req.NamespacedName, &s); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		// Gone without our finalizer (created before the controller ran and deleted while
		// it was down): the rows are still ours to remove.
		r.alloc.forget(req.Name)
		if req.Name == r.cfg.DefaultSubnet || req.Name == r.cfg.JoinSubnet {
			return reconcile.Result{}, ensureDefaults(ctx, r.env)
		}
		plan, err := ovnnb.PlanDeleteSwitch(r.nb.Cache(), owner)
		if err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, r.transact(ctx, plan)
	}
	old := s.DeepCopy()

	if !s.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &s, old, owner)
	}
	if !controllerutil.ContainsFinalizer(&s, subnetFinalizer) {
		controllerutil.AddFinalizer(&s, subnetFinalizer)
		if err := r.client.Patch(ctx, &s, client.MergeFrom(old)); err != nil {
			return reconcile.Result{}, fmt.Errorf("subnet %q: add finalizer: %w", s.Name, err)
		}
		old = s.DeepCopy()
	}

	var vpc iaasv1.Vpc
	if err := r.client.Get(ctx, client.ObjectKey{Name: s.Spec.Vpc}, &vpc); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		// The Vpc watch brings this subnet back when the Vpc appears.
		setReady(&s.Status.Conditions, s.Generation, false, reasonVpcNotFound, fmt.Sprintf("vpc %q does not exist", s.Spec.Vpc))
		return reconcile.Result{}, patchStatus(ctx, r.client, old, &s, old.Status, s.Status)
	}

	sp, err := r.alloc.pool(ctx, &s)
	if err != nil {
		setReady(&s.Status.Conditions, s.Generation, false, iaasv1.ReasonInvalid, err.Error())
		r.events.Eventf(&s, nil, "Warning", iaasv1.ReasonInvalid, "Build", "%v", err)
		return reconcile.Result{}, patchStatus(ctx, r.client, old, &s, old.Status, s.Status)
	}
	rows := ovnnb.BuildSwitch(&s, sp.info, r.cfg.Cluster)
	plan, err := ovnnb.PlanSwitch(r.nb.Cache(), rows, ovnnb.RouterName(s.Spec.Vpc), owner)
	if err == nil {
		err = r.transact(ctx, plan)
	}
	if err != nil {
		setReady(&s.Status.Conditions, s.Generation, false, iaasv1.ReasonPending, fmt.Sprintf("northbound: %v", err))
		if perr := patchStatus(ctx, r.client, old, &s, old.Status, s.Status); perr != nil {
			return reconcile.Result{}, perr
		}
		return requeueFor(fmt.Errorf("subnet %q: %w", s.Name, err))
	}

	s.Status.LogicalSwitch = rows.Switch.Name
	gws := make([]string, len(sp.info.Gateways))
	for i, g := range sp.info.Gateways {
		gws[i] = g.String()
	}
	s.Status.Gateway = strings.Join(gws, ",")
	fillCounts(&s.Status, sp)
	s.Status.ObservedGeneration = s.Generation
	setReady(&s.Status.Conditions, s.Generation, true, iaasv1.ReasonReconciled, "logical switch "+rows.Switch.Name+" is attached to router "+ovnnb.RouterName(s.Spec.Vpc))
	return reconcile.Result{}, patchStatus(ctx, r.client, old, &s, old.Status, s.Status)
}

// finalize removes the subnet's rows once no address in it is allocated.
func (r *subnetReconciler) finalize(ctx context.Context, s, old *iaasv1.Subnet, owner ovnnb.Owner) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(s, subnetFinalizer) {
		return reconcile.Result{}, nil
	}
	var ips iaasv1.VnicIpList
	if err := r.client.List(ctx, &ips, client.MatchingFields{indexVnicIPSubnet: s.Name}); err != nil {
		return reconcile.Result{}, err
	}
	users := make([]string, 0, len(ips.Items))
	for _, v := range ips.Items {
		users = append(users, v.Namespace+"/"+v.Name)
	}
	if sp := r.alloc.cached(s.Name); sp != nil && s.Name == r.cfg.JoinSubnet {
		// Node management ports hold join addresses without VnicIps.
		for _, st := range sp.pool.Stats() {
			if st.Used > 0 {
				users = append(users, fmt.Sprintf("%d node management port(s)", st.Used))
			}
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		shown := users
		if len(shown) > 5 {
			shown = append(shown[:5:5], "...")
		}
		msg := fmt.Sprintf("deletion waits: %d address(es) still allocated (%s); delete the pods or VnicIps that use them", len(users), strings.Join(shown, ", "))
		if setReady(&s.Status.Conditions, s.Generation, false, reasonAddressesAllocated, msg) {
			r.events.Eventf(s, nil, "Warning", reasonAddressesAllocated, "Delete", msg)
		}
		// VnicIp deletions bring the subnet back here.
		return reconcile.Result{}, patchStatus(ctx, r.client, old, s, old.Status, s.Status)
	}
	plan, err := ovnnb.PlanDeleteSwitch(r.nb.Cache(), owner)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := r.transact(ctx, plan); err != nil {
		return reconcile.Result{}, fmt.Errorf("subnet %q: delete rows: %w", s.Name, err)
	}
	r.alloc.forget(s.Name)
	controllerutil.RemoveFinalizer(s, subnetFinalizer)
	if err := r.client.Patch(ctx, s, client.MergeFrom(old)); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("subnet %q: remove finalizer: %w", s.Name, err)
	}
	return reconcile.Result{}, nil
}

func fillCounts(st *iaasv1.SubnetStatus, sp *subnetPool) {
	st.V4UsedIPs, st.V4AvailableIPs, st.V6UsedIPs, st.V6AvailableIPs = 0, 0, 0, 0
	var total int64
	for _, fs := range sp.pool.Stats() {
		free := int64(fs.Free)
		if fs.Free > 1<<62 {
			free = 1 << 62
		}
		if fs.Prefix.Addr().Is4() {
			st.V4UsedIPs, st.V4AvailableIPs = int64(fs.Used), free
		} else {
			st.V6UsedIPs, st.V6AvailableIPs = int64(fs.Used), free
		}
		if int64(fs.Used) > total {
			total = int64(fs.Used)
		}
	}
	st.AllocatedIPs = total
}
