package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// collectGarbage deletes the NB rows this cluster owns whose owner object no longer exists,
// in one transaction. It must only run once the informer and NB caches are synced (env.ready):
// an empty cache would make every row look orphaned.
func collectGarbage(ctx context.Context, e *env) (int, error) {
	c := e.nb.Cache()
	ours := func(ids map[string]string) (ovnnb.Owner, bool) { return ovnnb.OwnerOf(ids, e.cfg.Cluster) }
	orphan := func(o ovnnb.Owner) (bool, error) { return ownerGone(ctx, e.client, o) }
	plan := &ovnnb.Plan{}
	counts := map[string]int{}

	routers, _ := ovsdb.List[nb.LogicalRouter](c, nil)
	for _, r := range routers {
		if o, ok := ours(r.ExternalIDs); ok {
			if gone, err := orphan(o); err != nil {
				return 0, err
			} else if gone {
				plan.Ops = append(plan.Ops, ovsdb.Delete(&nb.LogicalRouter{UUID: r.UUID}))
				counts[nb.LogicalRouterTable]++
			}
		}
	}
	switches, _ := ovsdb.List[nb.LogicalSwitch](c, nil)
	for _, s := range switches {
		if o, ok := ours(s.ExternalIDs); ok {
			if gone, err := orphan(o); err != nil {
				return 0, err
			} else if gone {
				plan.Ops = append(plan.Ops, ovsdb.Delete(&nb.LogicalSwitch{UUID: s.UUID}))
				counts[nb.LogicalSwitchTable]++
			}
		}
	}
	// Ports hang from routers and switches: detach the orphaned ones from their parents (the
	// server collects unreferenced non-root rows), skipping parents deleted above.
	for _, r := range routers {
		var drop []string
		for _, id := range r.Ports {
			lrp, err := ovsdb.GetByUUID[nb.LogicalRouterPort](c, id)
			if err != nil {
				continue
			}
			if o, ok := ours(lrp.ExternalIDs); ok {
				if gone, err := orphan(o); err != nil {
					return 0, err
				} else if gone {
					drop = append(drop, id)
				}
			}
		}
		if len(drop) > 0 {
			plan.Ops = append(plan.Ops, ovsdb.Mutate(&nb.LogicalRouter{UUID: r.UUID}, ovsdb.DeleteValues("ports", drop)))
			counts[nb.LogicalRouterPortTable] += len(drop)
		}
	}
	for _, s := range switches {
		var drop []string
		for _, id := range s.Ports {
			lsp, err := ovsdb.GetByUUID[nb.LogicalSwitchPort](c, id)
			if err != nil {
				continue
			}
			if o, ok := ours(lsp.ExternalIDs); ok {
				if gone, err := orphan(o); err != nil {
					return 0, err
				} else if gone {
					drop = append(drop, id)
				}
			}
		}
		if len(drop) > 0 {
			plan.Ops = append(plan.Ops, ovsdb.Mutate(&nb.LogicalSwitch{UUID: s.UUID}, ovsdb.DeleteValues("ports", drop)))
			counts[nb.LogicalSwitchPortTable] += len(drop)
		}
	}
	if plan.Empty() {
		return 0, nil
	}
	if err := e.transact(ctx, plan); err != nil {
		return 0, fmt.Errorf("garbage collection: %w", err)
	}
	n := 0
	for t, k := range counts {
		gcDeleted.WithLabelValues(t).Add(float64(k))
		n += k
	}
	log.FromContext(ctx).Info("garbage-collected orphaned northbound rows", "rows", counts)
	return n, nil
}

// ownerGone reports whether the object owning a row no longer exists.
func ownerGone(ctx context.Context, c client.Reader, o ovnnb.Owner) (bool, error) {
	var obj client.Object
	key := client.ObjectKey{Name: o.Key}
	switch o.Kind {
	case ovnnb.KindVpc:
		obj = &iaasv1.Vpc{}
	case ovnnb.KindSubnet:
		obj = &iaasv1.Subnet{}
	case ovnnb.KindNode:
		obj = &corev1.Node{}
	case ovnnb.KindVnic:
		ns, name, ok := strings.Cut(o.Key, "/")
		if !ok {
			return true, nil
		}
		obj, key = &iaasv1.Vnic{}, client.ObjectKey{Namespace: ns, Name: name}
	default:
		// A kind a newer controller owns: not ours to judge.
		return false, nil
	}
	err := c.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	return false, err
}
