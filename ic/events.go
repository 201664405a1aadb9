package ic

import (
	"context"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icsb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/sb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// keyEvent is what an OVSDB change tells the reconciler: which VPCs to look at again. The
// mapping to Vpc names runs on the controller's goroutine (it lists the informer cache),
// never on the OVSDB event dispatcher.
type keyEvent struct {
	kind keyKind
	name string
}

type keyKind int

const (
	keyVpc     keyKind = iota // name is a Vpc
	keyTransit                // name is a transit switch: its local Vpc
	keyAll                    // every federated Vpc (gateway candidates changed)
)

// setup registers the controller: Vpcs, gateway nodes and OVSDB events.
func (r *reconciler) setup(mgr manager.Manager) error {
	// Tests run several managers in one process; the global name check would refuse the
	// second one.
	skip := true
	opts := controller.Options{MaxConcurrentReconciles: 4, SkipNameValidation: &skip}
	vpcPred := predicate.Funcs{
		UpdateFunc: func(ev event.UpdateEvent) bool {
			o, n := ev.ObjectOld.(*iaasv1.Vpc), ev.ObjectNew.(*iaasv1.Vpc)
			// Spec changes, and status.interconnect changed by someone else (repaired).
			return o.Generation != n.Generation || !equality.Semantic.DeepEqual(o.Status.Interconnect, n.Status.Interconnect) ||
				o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
		},
	}
	nodePred := predicate.Funcs{
		// Heartbeats change status every few seconds; only the labels can change the choice.
		UpdateFunc: func(ev event.UpdateEvent) bool {
			return !maps.Equal(ev.ObjectOld.GetLabels(), ev.ObjectNew.GetLabels())
		},
	}
	all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		return r.federated(ctx, "")
	})
	keys := handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, k keyEvent) []reconcile.Request {
		switch k.kind {
		case keyVpc:
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: k.name}}}
		case keyTransit:
			return r.federated(ctx, k.name)
		default:
			return r.federated(ctx, "")
		}
	})
	return ctrl.NewControllerManagedBy(mgr).Named("interconnect").
		For(&iaasv1.Vpc{}, builder.WithPredicates(vpcPred)).
		Watches(&corev1.Node{}, all, builder.WithPredicates(nodePred)).
		WatchesRawSource(source.Channel(r.keys, keys)).
		WithOptions(opts).Complete(r)
}

// federated lists the Vpcs with a transit switch (only those on ts, when given).
func (r *reconciler) federated(ctx context.Context, ts string) []reconcile.Request {
	var list iaasv1.VpcList
	var opts []client.ListOption
	if ts != "" {
		opts = append(opts, client.MatchingFields{indexTransitSwitch: ts})
	}
	if err := r.client.List(ctx, &list, opts...); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, v := range list.Items {
		if f := v.Spec.Federation; f != nil && f.TransitSwitch != "" {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: v.Name}})
		}
	}
	return out
}

// send queues a key without ever blocking the OVSDB dispatcher; a key dropped when the
// queue is full is repaired by the periodic resync.
func (r *reconciler) send(kind keyKind, name string) {
	select {
	case r.keys <- event.TypedGenericEvent[keyEvent]{Object: keyEvent{kind: kind, name: name}}:
	default:
	}
}

// sendJanitor queues a transit switch for the janitor (see janitorLoop); a dropped one is
// caught by the periodic garbage collection.
func (r *reconciler) sendJanitor(ts string) {
	select {
	case r.janitor <- ts:
	default:
	}
}

// watchOVSDB turns the database changes that matter into keys:
//   - NB: the transit switch copy appearing or changing (ovn-ic), the VPC router appearing
//     or its routes changing (learned routes), our own rows edited or deleted behind our
//     back, NB_Global edited (the AZ name and options are put back);
//   - SB: chassis appearing, leaving or changing their interconnect flag;
//   - IC-NB: transit switches and claims; IC-SB: port bindings on transit switches
//     (addresses in use) and routes this AZ advertises.
func (r *reconciler) watchOVSDB() error {
	ours := func(ids map[string]string) {
		if o, ok := ovnnb.OwnerOf(ids, r.cfg.Cluster); ok && o.Kind == KindInterconnect {
			r.send(keyVpc, o.Key)
		}
	}
	routerVpc := func(row any) {
		if v, ok := strings.CutPrefix(row.(*nb.LogicalRouter).Name, ovnnb.RouterName("")); ok && v != "" {
			r.send(keyVpc, v)
		}
	}
	transitLS := func(row any) {
		if ts := row.(*nb.LogicalSwitch).OtherConfig[otherInterconnTS]; ts != "" {
			r.send(keyTransit, ts)
		}
	}
	chassisIDs := func(row any) map[string]string { return row.(*sb.Chassis).OtherConfig }
	azRoute := func(row any) {
		rt := row.(*icsb.Route)
		if az := r.azUUID(); az == "" || rt.AvailabilityZone == az {
			r.send(keyTransit, rt.TransitSwitch)
		}
	}
	poke := func() {
		select {
		case r.azPoke <- struct{}{}:
		default:
		}
	}
	handlers := []struct {
		c     *ovsdb.Client
		table string
		h     ovsdb.Handler
	}{
		{r.dbs.nb, nb.NBGlobalTable, ovsdb.Handler{
			OnAdd:    func(any) { poke() },
			OnUpdate: func(any, any) { poke() },
			OnDelete: func(any) { poke() },
		}},
		{r.dbs.nb, nb.LogicalSwitchTable, ovsdb.Handler{
			OnAdd: transitLS,
			OnUpdate: func(old, new any) {
				o, n := old.(*nb.LogicalSwitch), new.(*nb.LogicalSwitch)
				if o.OtherConfig[otherInterconnTS] != n.OtherConfig[otherInterconnTS] {
					transitLS(old)
				}
				transitLS(new)
			},
			OnDelete: transitLS,
		}},
		{r.dbs.nb, nb.LogicalRouterTable, ovsdb.Handler{
			OnAdd: routerVpc,
			OnUpdate: func(old, new any) {
				o, n := old.(*nb.LogicalRouter), new.(*nb.LogicalRouter)
				if !slices.Equal(o.StaticRoutes, n.StaticRoutes) || !slices.Equal(o.Ports, n.Ports) {
					routerVpc(new)
				}
			},
			OnDelete: routerVpc,
		}},
		{r.dbs.nb, nb.LogicalRouterPortTable, ovsdb.Handler{
			OnUpdate: func(old, _ any) { ours(old.(*nb.LogicalRouterPort).ExternalIDs) },
			OnDelete: func(row any) { ours(row.(*nb.LogicalRouterPort).ExternalIDs) },
		}},
		{r.dbs.nb, nb.LogicalSwitchPortTable, ovsdb.Handler{
			OnUpdate: func(old, _ any) { ours(old.(*nb.LogicalSwitchPort).ExternalIDs) },
			OnDelete: func(row any) { ours(row.(*nb.LogicalSwitchPort).ExternalIDs) },
		}},
		{r.dbs.nb, nb.GatewayChassisTable, ovsdb.Handler{
			OnUpdate: func(old, _ any) { ours(old.(*nb.GatewayChassis).ExternalIDs) },
			OnDelete: func(row any) { ours(row.(*nb.GatewayChassis).ExternalIDs) },
		}},
		{r.dbs.sb, sb.ChassisTable, ovsdb.Handler{
			OnAdd: func(any) { r.send(keyAll, "") },
			OnUpdate: func(old, new any) {
				if chassisIDs(old)[optIsInterconn] != chassisIDs(new)[optIsInterconn] {
					r.send(keyAll, "")
				}
			},
			OnDelete: func(any) { r.send(keyAll, "") },
		}},
		{r.dbs.icnb, icnb.TransitSwitchTable, ovsdb.Handler{
			OnAdd: func(row any) { r.send(keyTransit, row.(*icnb.TransitSwitch).Name) },
			OnUpdate: func(_, new any) {
				ts := new.(*icnb.TransitSwitch)
				r.send(keyTransit, ts.Name)
				if len(ParseClaims(ts.ExternalIDs)) == 0 {
					r.sendJanitor(ts.Name)
				}
			},
			OnDelete: func(row any) { r.send(keyTransit, row.(*icnb.TransitSwitch).Name) },
		}},
		{r.dbs.icsb, icsb.PortBindingTable, ovsdb.Handler{
			OnAdd: func(row any) { r.send(keyTransit, row.(*icsb.PortBinding).TransitSwitch) },
			OnDelete: func(row any) {
				pb := row.(*icsb.PortBinding)
				r.send(keyTransit, pb.TransitSwitch)
				if pb.AvailabilityZone == r.azUUID() {
					r.sendJanitor(pb.TransitSwitch)
				}
			},
		}},
		{r.dbs.icsb, icsb.RouteTable, ovsdb.Handler{
			OnAdd: func(row any) {
				azRoute(row)
				if rt := row.(*icsb.Route); rt.AvailabilityZone == r.azUUID() {
					r.sendJanitor(rt.TransitSwitch)
				}
			},
			OnDelete: azRoute,
		}},
	}
	for _, h := range handlers {
		if err := h.c.Cache().AddHandler(h.table, h.h); err != nil {
			return err
		}
	}
	return nil
}
