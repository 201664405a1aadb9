package fedvpc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/render"
)

// Reasons of the FederatedVpc Ready and Placed conditions. Each validation failure has its
// own, so `kubectl get -o yaml` tells the user which rule their spec broke.
const (
	ReasonAllClustersReady   = "AllClustersReady"
	ReasonClustersNotReady   = "ClustersNotReady"
	ReasonPlaced             = "Placed"
	ReasonNoClusters         = "NoClustersSelected"
	ReasonInvalidRef         = "InvalidPlacementRef"
	ReasonPlacementNotFound  = "PlacementNotFound"
	ReasonPlacementElsewhere = "PlacementInOtherNamespace"
	ReasonInvalidSubnet      = "InvalidSubnet"
	ReasonSubnetOverlap      = "SubnetOverlap"
	ReasonCIDRExhausted      = "CIDRExhausted"
	ReasonTooManyClusters    = "TooManyClusters"
	ReasonTransitExhausted   = "TransitExhausted"
	ReasonRenderFailed       = "RenderFailed"
	ReasonDeleting           = "Deleting"
)

// problem is a reason the hub pushes nothing for a FederatedVpc. Terminal problems are in
// the spec itself (only an edit fixes them); the others may clear when something else
// changes (a Placement appears, another VPC frees a transit slice).
type problem struct {
	reason, msg string
	// placement marks problems of the placementRef, which also make Placed False.
	placement bool
	terminal  bool
}

// clusterInput is what the hub knows about the VPC in one cluster.
type clusterInput struct {
	name string
	// workName is the name of the cluster's work.
	workName string
	// work is the cluster's ManifestWork as last seen (nil when there is none).
	work *workv1.ManifestWork
	// manifests are the objects the current render puts in the work; nil when nothing was
	// rendered (a problem), and then the work's own status lists them.
	manifests []render.Manifest
	// err is why the hub could not write the work this pass.
	err error
	// subnets are the pieces the cluster gets.
	subnets []fedv1.ClusterSubnet
}

// statusInput is everything the new status is computed from.
type statusInput struct {
	old        fedv1.FederatedVpcStatus
	generation int64
	placement  string
	clusters   []clusterInput // placed clusters, sorted by name
	// allocations and transit are written when set (a problem keeps the recorded ones).
	allocations []fedv1.SubnetAllocation
	transit     *fedv1.FederatedVpcStatus
	problem     *problem
	// notes are added to the Placed message (subnets pinned to clusters not placed).
	notes []string
	now   metav1.Time
}

// buildStatus computes the FederatedVpc status. It is a pure function of its input, and an
// unchanged world yields a status equal to the old one, so the reconciler writes nothing.
func buildStatus(in statusInput) fedv1.FederatedVpcStatus {
	st := *in.old.DeepCopy()
	st.ObservedGeneration = in.generation
	if in.allocations != nil {
		st.Allocations = in.allocations
	}
	if len(st.Allocations) == 0 {
		st.Allocations = nil
	}
	if in.transit != nil {
		st.TransitSwitch, st.TransitSubnet, st.TunnelKey = in.transit.TransitSwitch, in.transit.TransitSubnet, in.transit.TunnelKey
	}

	st.Clusters = nil
	ready := 0
	var waiting []string
	for _, c := range in.clusters {
		cs := clusterStatus(c, in.old.Clusters, in.now)
		if cs.Ready {
			ready++
		} else if len(waiting) < 3 {
			waiting = append(waiting, c.name+": "+cs.Message)
		}
		st.Clusters = append(st.Clusters, cs)
	}
	st.ClusterCount, st.ReadyClusters = int32(len(in.clusters)), int32(ready)

	placed := metav1.Condition{Type: fedv1.ConditionPlaced, Status: metav1.ConditionTrue, Reason: ReasonPlaced,
		Message: fmt.Sprintf("placement %q selected %d cluster(s)", in.placement, len(in.clusters))}
	if len(in.notes) > 0 {
		placed.Message += "; " + strings.Join(in.notes, "; ")
	}
	readyCond := metav1.Condition{Type: fedv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonAllClustersReady,
		Message: fmt.Sprintf("ready in all %d cluster(s)", len(in.clusters))}
	switch {
	case in.problem != nil:
		readyCond.Status, readyCond.Reason, readyCond.Message = metav1.ConditionFalse, in.problem.reason, in.problem.msg
		if in.problem.placement {
			placed.Status, placed.Reason, placed.Message = metav1.ConditionFalse, in.problem.reason, in.problem.msg
		}
	case len(in.clusters) == 0:
		msg := fmt.Sprintf("placement %q selected no clusters", in.placement)
		placed.Status, placed.Reason, placed.Message = metav1.ConditionFalse, ReasonNoClusters, msg
		readyCond.Status, readyCond.Reason, readyCond.Message = metav1.ConditionFalse, ReasonNoClusters, msg
	case ready < len(in.clusters):
		readyCond.Status, readyCond.Reason = metav1.ConditionFalse, ReasonClustersNotReady
		readyCond.Message = fmt.Sprintf("ready in %d of %d clusters; %s", ready, len(in.clusters), strings.Join(waiting, "; "))
	}
	for _, c := range []metav1.Condition{placed, readyCond} {
		c.ObservedGeneration = in.generation
		c.LastTransitionTime = in.now
		meta.SetStatusCondition(&st.Conditions, c)
	}
	return st
}

// clusterStatus judges one cluster from its work: applied when the agent applied the
// current generation of the work, ready when in addition every spoke object reports
// Ready=True for its own current generation.
func clusterStatus(c clusterInput, old []fedv1.FederatedVpcClusterStatus, now metav1.Time) fedv1.FederatedVpcClusterStatus {
	cs := fedv1.FederatedVpcClusterStatus{ClusterStatus: fedv1.ClusterStatus{Cluster: c.name}, Subnets: c.subnets}
	cs.Applied, cs.Ready, cs.Message = judge(c)
	if c.err != nil {
		cs.Ready = false
		cs.Message = c.err.Error()
	}
	setInterconnect(&cs, c)
	cs.LastTransitionTime = &now
	if i := slices.IndexFunc(old, func(o fedv1.FederatedVpcClusterStatus) bool { return o.Cluster == c.name }); i >= 0 {
		if o := old[i]; o.Applied == cs.Applied && o.Ready == cs.Ready && o.LastTransitionTime != nil {
			cs.LastTransitionTime = o.LastTransitionTime.DeepCopy()
		}
	}
	return cs
}

func judge(c clusterInput) (applied, ready bool, msg string) {
	w := c.work
	// A work not written yet and a work not applied yet read the same: the hub writes
	// it in the same pass, and an unchanged message saves a status write.
	waiting := "waiting for the work agent to apply manifestwork " + c.workName
	if w == nil {
		return false, false, waiting
	}
	if !w.DeletionTimestamp.IsZero() {
		return false, false, "manifestwork " + w.Name + " is being deleted"
	}
	ac := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkApplied)
	switch {
	case ac == nil || ac.ObservedGeneration != w.Generation:
		return false, false, waiting
	case ac.Status != metav1.ConditionTrue:
		return false, false, "not applied: " + ac.Message
	}
	if av := meta.FindStatusCondition(w.Status.Conditions, workv1.WorkAvailable); av == nil || av.Status != metav1.ConditionTrue {
		return true, false, "objects not available on the cluster yet"
	}
	want := c.manifests
	if want == nil {
		for _, m := range w.Status.ResourceStatus.Manifests {
			want = append(want, render.Manifest{Kind: m.ResourceMeta.Kind, Name: m.ResourceMeta.Name})
		}
	}
	for _, m := range want {
		i := slices.IndexFunc(w.Status.ResourceStatus.Manifests, func(mc workv1.ManifestCondition) bool {
			return mc.ResourceMeta.Kind == m.Kind && mc.ResourceMeta.Name == m.Name
		})
		if i < 0 {
			return true, false, fmt.Sprintf("%s %s: no status yet", m.Kind, m.Name)
		}
		fb := feedback(w.Status.ResourceStatus.Manifests[i].StatusFeedbacks)
		if fb[render.FeedbackReady] != string(metav1.ConditionTrue) || fb[render.FeedbackGeneration] == "" ||
			fb[render.FeedbackGeneration] != fb[render.FeedbackReadyGeneration] {
			why := "not ready"
			if r := fb[render.FeedbackReason]; r != "" {
				why = r
			}
			if fb[render.FeedbackReady] == string(metav1.ConditionTrue) {
				why = "ready condition is for an older generation"
			}
			if msg := fb[render.FeedbackMessage]; msg != "" {
				why += ": " + msg
			}
			return true, false, fmt.Sprintf("%s %s: %s", m.Kind, m.Name, why)
		}
	}
	return true, true, ""
}

// setInterconnect copies the spoke Vpc's OVN-IC link, as last reported in its feedback,
// into the cluster's status. It runs apart from judge on purpose: a VPC that is not
// linked (not yet, no gateway node, no ycloud-ic on the spoke, or placed in one cluster
// and so needing no link) reports none of these values and must still be Ready. A work
// not written yet, or without the Vpc's status, leaves the fields empty. Values are
// copied even while the work waits for the agent: they describe the link as it is, which
// a spec change does not alter at once.
func setInterconnect(cs *fedv1.FederatedVpcClusterStatus, c clusterInput) {
	if c.work == nil {
		return
	}
	name := ""
	if i := slices.IndexFunc(c.manifests, func(m render.Manifest) bool { return m.Kind == vpcKind }); i >= 0 {
		name = c.manifests[i].Name
	}
	for _, mc := range c.work.Status.ResourceStatus.Manifests {
		if mc.ResourceMeta.Kind != vpcKind || (name != "" && mc.ResourceMeta.Name != name) {
			continue
		}
		fb := feedback(mc.StatusFeedbacks)
		cs.TransitSwitch = fb[render.FeedbackTransitSwitch]
		cs.ActiveGateway = fb[render.FeedbackActiveGateway]
		cs.LearnedRoutes = count(fb[render.FeedbackLearnedRoutes])
		cs.AdvertisedRoutes = count(fb[render.FeedbackAdvertisedRoutes])
		return
	}
}

// vpcKind is the kind of the spoke Vpc manifest in a FederatedVpc's work.
const vpcKind = "Vpc"

// count reads a route count from feedback. Anything that is not a non-negative int32 (a
// missing value, a hand-edited spoke status) reads as 0, the API's "none reported".
func count(s string) int32 {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return 0
	}
	return int32(n)
}

// feedback flattens statusFeedback values to strings (integers in decimal).
func feedback(r workv1.StatusFeedbackResult) map[string]string {
	out := make(map[string]string, len(r.Values))
	for _, v := range r.Values {
		switch {
		case v.Value.String != nil:
			out[v.Name] = *v.Value.String
		case v.Value.Integer != nil:
			out[v.Name] = strconv.FormatInt(*v.Value.Integer, 10)
		case v.Value.Boolean != nil:
			out[v.Name] = strconv.FormatBool(*v.Value.Boolean)
		}
	}
	return out
}
