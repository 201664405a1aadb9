package ic

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// writeStatus sets the Vpc's status.interconnect to st (nil removes it) when it differs
// from what the informer shows. ycloud-controller owns the rest of the status, so this is a
// JSON merge patch that names only status.interconnect: it never carries (or overwrites) a
// stale copy of the controller's fields, and needs no resourceVersion.
func (r *reconciler) writeStatus(ctx context.Context, vpc *iaasv1.Vpc, st *iaasv1.VpcInterconnectStatus) error {
	if equality.Semantic.DeepEqual(vpc.Status.Interconnect, st) {
		return nil
	}
	body, err := InterconnectPatch(st)
	if err != nil {
		return err
	}
	if err := r.client.Status().Patch(ctx, vpc, client.RawPatch(types.MergePatchType, body)); err != nil {
		// A Vpc deleted since the informer showed it has no status to keep; its deletion
		// event brings the name back and the next reconcile unlinks it. Done, not an error
		// (which would only be logged as a "Reconciler error" and retried).
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("vpc %q: status.interconnect: %w", vpc.Name, err)
	}
	return nil
}

// InterconnectPatch returns the merge patch that makes status.interconnect equal st. A merge
// patch leaves keys it does not mention untouched, so every field is spelled out, with null
// for the empty ones (the API omits them when empty) and explicit zeros for the counts.
func InterconnectPatch(st *iaasv1.VpcInterconnectStatus) ([]byte, error) {
	var ic any
	if st != nil {
		m := map[string]any{
			"transitSwitch":    nil,
			"gatewayChassis":   nil,
			"learnedRoutes":    st.LearnedRoutes,
			"advertisedRoutes": st.AdvertisedRoutes,
		}
		if st.TransitSwitch != "" {
			m["transitSwitch"] = st.TransitSwitch
		}
		if len(st.GatewayChassis) > 0 {
			m["gatewayChassis"] = st.GatewayChassis
		}
		ic = m
	}
	return json.Marshal(map[string]any{"status": map[string]any{"interconnect": ic}})
}
