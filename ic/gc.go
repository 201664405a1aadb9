package ic

import (
	"context"
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/log"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/icnb"
	"github.com/ycloud-sdn/ycloud/internal/ovsdb/nb"
	"github.com/ycloud-sdn/ycloud/spoke/ovnnb"
)

// collectGarbage finds what a Vpc deleted or un-federated while ycloud-ic was down (or a
// crash between the NB and IC-NB transactions) left behind:
//   - NB rows we own whose Vpc is gone or no longer federated: the Vpc is queued, and its
//     reconcile unlinks it (one code path for removal);
//   - claims of this AZ on transit switches that no local Vpc uses: released here (the
//     NB rows that named the switch may be gone already, so no reconcile could find them).
//
// It runs only after the informer caches synced: an empty cache would make every claim
// look orphaned.
func (r *reconciler) collectGarbage(ctx context.Context) error {
	// Held across the listing too: a reconcile claims only for a Vpc the informer already
	// shows, so every claim made before we list is for a Vpc in the list.
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	var list iaasv1.VpcList
	if err := r.client.List(ctx, &list); err != nil {
		return err
	}
	wanted := map[string]bool{} // transit switches local Vpcs use
	linked := map[string]bool{} // federated Vpcs
	for _, v := range list.Items {
		if f := v.Spec.Federation; f != nil && f.TransitSwitch != "" && f.TransitSubnet != "" {
			wanted[f.TransitSwitch] = true
			linked[v.Name] = true
		}
	}

	owners := map[string]bool{}
	c := r.dbs.nb.Cache()
	note := func(ids map[string]string) {
		if o, ok := ovnnb.OwnerOf(ids, r.cfg.Cluster); ok && o.Kind == KindInterconnect && !linked[o.Key] {
			owners[o.Key] = true
		}
	}
	lrps, _ := ovsdb.List[nb.LogicalRouterPort](c, nil)
	for _, l := range lrps {
		note(l.ExternalIDs)
	}
	lsps, _ := ovsdb.List[nb.LogicalSwitchPort](c, func(l *nb.LogicalSwitchPort) bool { return l.ExternalIDs[ovnnb.KeyOwnerKind] == KindInterconnect })
	for _, l := range lsps {
		note(l.ExternalIDs)
	}
	for vpc := range owners {
		r.send(keyVpc, vpc)
	}

	var errs []error
	released, err := r.releaseUnwanted(ctx)
	if err != nil && !isRaceLost(err) { // a lost race is retried by the next collection
		errs = append(errs, err)
	}
	// Abandoned switches (two AZs left at once) hold no claim of ours: reap those too.
	switches, err := ovsdb.List[icnb.TransitSwitch](r.dbs.icnb.Cache(), func(ts *icnb.TransitSwitch) bool {
		return !wanted[ts.Name] && len(ParseClaims(ts.ExternalIDs)) == 0
	})
	if err != nil {
		return err
	}
	for _, ts := range switches {
		if err := r.reapAbandoned(ctx, ts.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := r.withdrawAll(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(owners) > 0 || released > 0 {
		log.FromContext(ctx).Info("garbage collection", "unlinkQueued", len(owners), "claimsReleased", released)
	}
	return errors.Join(errs...)
}
