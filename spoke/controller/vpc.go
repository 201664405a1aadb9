package controller

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// vpcReconciler keeps a Vpc's logical router, routes and policies in NB.
type vpcReconciler struct{ *env }

func (r *vpcReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if err := r.waitReady(ctx); err != nil {
		return reconcile.Result{}, err
	}
	owner := r.owner(ovnnb.KindVpc, req.Name)
	var vpc iaasv1.Vpc
	if err := r.client.Get(ctx, req.NamespacedName, &vpc); err != nil {
		if !apierrors.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		if req.Name == iaasv1.DefaultVpcName {
			// The default VPC is part of the cluster, not a user object: put it back.
			return reconcile.Result{}, ensureDefaults(ctx, r.env)
		}
		plan, err := ovnnb.PlanDeleteRouter(r.nb.Cache(), owner)
		if err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, r.transact(ctx, plan)
	}
	old := vpc.DeepCopy()

	rows, err := ovnnb.BuildRouter(&vpc, r.cfg.Cluster)
	if err != nil {
		setReady(&vpc.Status.Conditions, vpc.Generation, false, iaasv1.ReasonInvalid, err.Error())
		r.events.Eventf(&vpc, nil, "Warning", iaasv1.ReasonInvalid, "Build", "%v", err)
		return reconcile.Result{}, patchStatus(ctx, r.client, old, &vpc, old.Status, vpc.Status)
	}
	plan, err := ovnnb.PlanRouter(r.nb.Cache(), rows, owner)
	if err == nil {
		err = r.transact(ctx, plan)
	}
	if err != nil {
		setReady(&vpc.Status.Conditions, vpc.Generation, false, iaasv1.ReasonError, fmt.Sprintf("northbound: %v", err))
		_ = patchStatus(ctx, r.client, old, &vpc, old.Status, vpc.Status)
		return reconcile.Result{}, fmt.Errorf("vpc %q: %w", vpc.Name, err)
	}

	var subnets iaasv1.SubnetList
	if err := r.client.List(ctx, &subnets, client.MatchingFields{indexSubnetVpc: vpc.Name}); err != nil {
		return reconcile.Result{}, err
	}
	names := make([]string, 0, len(subnets.Items))
	for _, s := range subnets.Items {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	vpc.Status.Router = rows.Router.Name
	vpc.Status.Subnets = names
	vpc.Status.ObservedGeneration = vpc.Generation
	setReady(&vpc.Status.Conditions, vpc.Generation, true, iaasv1.ReasonReconciled, "logical router "+rows.Router.Name+" is in the northbound database")
	return reconcile.Result{}, patchStatus(ctx, r.client, old, &vpc, old.Status, vpc.Status)
}

// ensureDefaults creates the default VPC and its two subnets when they are missing.
// Existing objects are left as they are: an operator may have tuned them.
func ensureDefaults(ctx context.Context, e *env) error {
	objs := []client.Object{
		&iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: iaasv1.DefaultVpcName}},
		&iaasv1.Subnet{
			ObjectMeta: metav1.ObjectMeta{Name: e.cfg.DefaultSubnet},
			Spec: iaasv1.SubnetSpec{
				Vpc:       iaasv1.DefaultVpcName,
				CIDRBlock: iaasv1.DualStackCIDR(e.cfg.DefaultSubnetCIDR),
				Default:   true,
			},
		},
		&iaasv1.Subnet{
			ObjectMeta: metav1.ObjectMeta{Name: e.cfg.JoinSubnet},
			Spec: iaasv1.SubnetSpec{
				Vpc:       iaasv1.DefaultVpcName,
				CIDRBlock: iaasv1.DualStackCIDR(e.cfg.JoinSubnetCIDR),
			},
		},
	}
	for _, o := range objs {
		if err := e.client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("default %T %q: %w", o, o.GetName(), err)
		}
	}
	return nil
}
