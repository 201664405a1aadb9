package fedvpc

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	fedv1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/render"
)

var mans = []render.Manifest{{Kind: "Vpc", Name: "t.v"}, {Kind: "Subnet", Name: "t.v.web", Subnet: "web"}}

func str(s string) workv1.FieldValue { return workv1.FieldValue{Type: workv1.String, String: &s} }
func num(i int64) workv1.FieldValue  { return workv1.FieldValue{Type: workv1.Integer, Integer: &i} }
func cond(t string, s metav1.ConditionStatus, gen int64, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, ObservedGeneration: gen, Message: msg}
}

// objStatus is one manifest's status: ready, the spoke object's generation and the
// generation its Ready condition describes.
func objStatus(kind, name, ready string, gen, readyGen int64, reason string) workv1.ManifestCondition {
	vals := []workv1.FeedbackValue{{Name: render.FeedbackReady, Value: str(ready)}, {Name: render.FeedbackGeneration, Value: num(gen)},
		{Name: render.FeedbackReadyGeneration, Value: num(readyGen)}}
	if reason != "" {
		vals = append(vals, workv1.FeedbackValue{Name: render.FeedbackReason, Value: str(reason)})
	}
	return workv1.ManifestCondition{ResourceMeta: workv1.ManifestResourceMeta{Kind: kind, Name: name},
		StatusFeedbacks: workv1.StatusFeedbackResult{Values: vals}, Conditions: []metav1.Condition{}}
}

func work(gen int64, conds []metav1.Condition, objs ...workv1.ManifestCondition) *workv1.ManifestWork {
	w := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Name: "ycloud-vpc-t-v", Generation: gen}}
	w.Status.Conditions = conds
	w.Status.ResourceStatus.Manifests = objs
	return w
}

func appliedAvailable(gen int64) []metav1.Condition {
	return []metav1.Condition{cond(workv1.WorkApplied, metav1.ConditionTrue, gen, ""), cond(workv1.WorkAvailable, metav1.ConditionTrue, gen, "")}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name           string
		in             clusterInput
		applied, ready bool
		msg            string
	}{
		{name: "no work yet", in: clusterInput{workName: "ycloud-vpc-t-v"}, msg: "waiting for the work agent to apply manifestwork ycloud-vpc-t-v"},
		{name: "agent has not seen the new generation", in: clusterInput{workName: "ycloud-vpc-t-v", work: work(2, appliedAvailable(1))},
			msg: "waiting for the work agent to apply manifestwork ycloud-vpc-t-v"},
		{name: "apply failed", in: clusterInput{work: work(1, []metav1.Condition{cond(workv1.WorkApplied, metav1.ConditionFalse, 1, "cidrBlock is immutable")})},
			msg: "not applied: cidrBlock is immutable"},
		{name: "applied, objects ready", in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1),
			objStatus("Vpc", "t.v", "True", 1, 1, ""), objStatus("Subnet", "t.v.web", "True", 3, 3, ""))}, applied: true, ready: true},
		{name: "subnet still pending", in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1),
			objStatus("Vpc", "t.v", "True", 1, 1, ""), objStatus("Subnet", "t.v.web", "False", 1, 1, "VpcNotFound"))}, applied: true,
			msg: "Subnet t.v.web: VpcNotFound"},
		{name: "ready for an older spoke generation", in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1),
			objStatus("Vpc", "t.v", "True", 2, 1, ""), objStatus("Subnet", "t.v.web", "True", 1, 1, ""))}, applied: true,
			msg: "Vpc t.v: ready condition is for an older generation"},
		{name: "a manifest without status", in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), objStatus("Vpc", "t.v", "True", 1, 1, ""))},
			applied: true, msg: "Subnet t.v.web: no status yet"},
		{name: "write error wins", in: clusterInput{err: errors.New("namespace cluster9 not found"), manifests: mans, work: work(1, appliedAvailable(1),
			objStatus("Vpc", "t.v", "True", 1, 1, ""), objStatus("Subnet", "t.v.web", "True", 1, 1, ""))}, applied: true,
			msg: "namespace cluster9 not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := clusterStatus(tc.in, nil, metav1.Now())
			if cs.Applied != tc.applied || cs.Ready != tc.ready || cs.Message != tc.msg {
				t.Fatalf("got applied=%v ready=%v %q, want %v %v %q", cs.Applied, cs.Ready, cs.Message, tc.applied, tc.ready, tc.msg)
			}
		})
	}
}

func readyWork() *workv1.ManifestWork {
	return work(1, appliedAvailable(1), objStatus("Vpc", "t.v", "True", 1, 1, ""), objStatus("Subnet", "t.v.web", "True", 1, 1, ""))
}

func TestBuildStatusRollUp(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	allocs := []fedv1.SubnetAllocation{{Subnet: "web", Cluster: "c1", CIDRBlock: "10.0.0.0/24", Gateway: "10.0.0.1"}}
	in := statusInput{generation: 3, placement: "p", now: t0, allocations: allocs,
		transit:  &fedv1.FederatedVpcStatus{TransitSwitch: "ts-t.v", TransitSubnet: "169.254.0.0/28", TunnelKey: 16711680},
		clusters: []clusterInput{{name: "c1", manifests: mans, work: readyWork()}, {name: "c2", workName: "w"}}}

	st := buildStatus(in)
	ready := meta.FindStatusCondition(st.Conditions, fedv1.ConditionReady)
	if ready.Status != metav1.ConditionFalse || ready.Reason != ReasonClustersNotReady || !strings.Contains(ready.Message, "ready in 1 of 2 clusters; c2: waiting") ||
		ready.ObservedGeneration != 3 || st.ClusterCount != 2 || st.ReadyClusters != 1 || st.TransitSwitch != "ts-t.v" || len(st.Allocations) != 1 {
		t.Fatalf("status %+v", st)
	}

	// Nothing changed an instant later: the status is equal, so nothing is written.
	in.old, in.now = st, metav1.NewTime(t0.Add(time.Minute))
	if again := buildStatus(in); !equality.Semantic.DeepEqual(again, st) {
		t.Fatalf("unchanged input gave a different status:\n%+v\n%+v", st, again)
	}

	// c2 becomes ready: the roll-up flips, c1 keeps its transition time, c2 gets a new one.
	in.clusters[1] = clusterInput{name: "c2", manifests: mans, work: readyWork()}
	st2 := buildStatus(in)
	ready = meta.FindStatusCondition(st2.Conditions, fedv1.ConditionReady)
	if ready.Status != metav1.ConditionTrue || ready.Reason != ReasonAllClustersReady || !ready.LastTransitionTime.Equal(&in.now) {
		t.Fatalf("Ready %+v", ready)
	}
	if !st2.Clusters[0].LastTransitionTime.Equal(&t0) || !st2.Clusters[1].LastTransitionTime.Equal(&in.now) {
		t.Fatalf("cluster transition times %v %v", st2.Clusters[0].LastTransitionTime, st2.Clusters[1].LastTransitionTime)
	}
}

func TestBuildStatusProblems(t *testing.T) {
	old := fedv1.FederatedVpcStatus{Allocations: []fedv1.SubnetAllocation{{Subnet: "web", Cluster: "c1", CIDRBlock: "10.0.0.0/24"}}, TransitSwitch: "ts-x"}
	st := buildStatus(statusInput{old: old, generation: 2, placement: "gone", now: metav1.Now(),
		problem: &problem{reason: ReasonPlacementNotFound, msg: `placement "gone" not found`, placement: true}})
	ready := meta.FindStatusCondition(st.Conditions, fedv1.ConditionReady)
	placed := meta.FindStatusCondition(st.Conditions, fedv1.ConditionPlaced)
	if ready.Status != metav1.ConditionFalse || ready.Reason != ReasonPlacementNotFound || placed.Status != metav1.ConditionFalse || placed.Reason != ReasonPlacementNotFound {
		t.Fatalf("conditions %+v", st.Conditions)
	}
	// A problem keeps the durable record as it was.
	if len(st.Allocations) != 1 || st.TransitSwitch != "ts-x" {
		t.Fatalf("recorded allocations dropped: %+v", st)
	}

	st = buildStatus(statusInput{generation: 1, placement: "p", now: metav1.Now(), problem: &problem{reason: ReasonCIDRExhausted, msg: "full"}})
	if c := meta.FindStatusCondition(st.Conditions, fedv1.ConditionPlaced); c.Status != metav1.ConditionTrue {
		t.Fatalf("a carving problem must not make Placed false: %+v", c)
	}

	st = buildStatus(statusInput{generation: 1, placement: "p", now: metav1.Now(), notes: []string{`subnet "db" is for cluster "x", which is not selected`}})
	if c := meta.FindStatusCondition(st.Conditions, fedv1.ConditionReady); c.Reason != ReasonNoClusters {
		t.Fatalf("no clusters: %+v", c)
	}
}

// withFeedback adds feedback values to a manifest's status.
func withFeedback(mc workv1.ManifestCondition, vals ...workv1.FeedbackValue) workv1.ManifestCondition {
	mc.StatusFeedbacks.Values = append(slices.Clone(mc.StatusFeedbacks.Values), vals...)
	return mc
}

// linked is the feedback of a Vpc that ycloud-ic attached to ts-t.v with gw1 active.
func linked(learned int64) []workv1.FeedbackValue {
	return []workv1.FeedbackValue{{Name: render.FeedbackTransitSwitch, Value: str("ts-t.v")}, {Name: render.FeedbackActiveGateway, Value: str("gw1")},
		{Name: render.FeedbackLearnedRoutes, Value: num(learned)}, {Name: render.FeedbackAdvertisedRoutes, Value: num(2)}}
}

func TestClusterStatusInterconnect(t *testing.T) {
	type ic struct {
		ts, gw              string
		learned, advertised int32
	}
	readySubnet := objStatus("Subnet", "t.v.web", "True", 1, 1, "")
	for _, tc := range []struct {
		name  string
		in    clusterInput
		ready bool
		want  ic
	}{
		{name: "linked and ready", ready: true, want: ic{"ts-t.v", "gw1", 3, 2},
			in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""), linked(3)...), readySubnet)}},
		{name: "not linked is still ready", ready: true,
			in: clusterInput{manifests: mans, work: readyWork()}},
		// ycloud-ic writes zero counts and no switch while the VPC has no gateway node.
		{name: "unlinked with zero counts", ready: true,
			in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""),
				workv1.FeedbackValue{Name: render.FeedbackLearnedRoutes, Value: num(0)}, workv1.FeedbackValue{Name: render.FeedbackAdvertisedRoutes, Value: num(0)}), readySubnet)}},
		{name: "linked but a subnet is not ready", want: ic{"ts-t.v", "gw1", 1, 2},
			in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""), linked(1)...),
				objStatus("Subnet", "t.v.web", "False", 1, 1, "Pending"))}},
		{name: "no work yet", in: clusterInput{workName: "ycloud-vpc-t-v"}},
		// A problem pass renders nothing: the Vpc is found in the work's own status.
		{name: "nothing rendered", ready: true, want: ic{"ts-t.v", "gw1", 5, 2},
			in: clusterInput{work: work(1, appliedAvailable(1), readySubnet, withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""), linked(5)...))}},
		{name: "values of the wrong type read as empty", ready: true,
			in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""),
				workv1.FeedbackValue{Name: render.FeedbackLearnedRoutes, Value: str("many")}, workv1.FeedbackValue{Name: render.FeedbackAdvertisedRoutes, Value: num(-1)}), readySubnet)}},
		// Only the Vpc's feedback counts, never a Subnet's values of the same name.
		{name: "subnet feedback is ignored", ready: true,
			in: clusterInput{manifests: mans, work: work(1, appliedAvailable(1), objStatus("Vpc", "t.v", "True", 1, 1, ""), withFeedback(readySubnet, linked(3)...))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := clusterStatus(tc.in, nil, metav1.Now())
			got := ic{cs.TransitSwitch, cs.ActiveGateway, cs.LearnedRoutes, cs.AdvertisedRoutes}
			if got != tc.want || cs.Ready != tc.ready {
				t.Fatalf("got %+v ready=%v (%q), want %+v ready=%v", got, cs.Ready, cs.Message, tc.want, tc.ready)
			}
		})
	}
}

// A changing route count changes the status (so it is written) and nothing else; the same
// count again gives an equal status (so nothing is written).
func TestBuildStatusInterconnectChanges(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	linkedWork := func(learned int64) *workv1.ManifestWork {
		return work(1, appliedAvailable(1), withFeedback(objStatus("Vpc", "t.v", "True", 1, 1, ""), linked(learned)...), objStatus("Subnet", "t.v.web", "True", 1, 1, ""))
	}
	in := statusInput{generation: 1, placement: "p", now: t0,
		transit:  &fedv1.FederatedVpcStatus{TransitSwitch: "ts-t.v", TransitSubnet: "169.254.0.0/28", TunnelKey: 16711680},
		clusters: []clusterInput{{name: "c1", manifests: mans, work: linkedWork(1)}, {name: "c2", manifests: mans, work: linkedWork(1)}}}
	st := buildStatus(in)
	if st.ReadyClusters != 2 || st.Clusters[0].LearnedRoutes != 1 || st.Clusters[1].ActiveGateway != "gw1" {
		t.Fatalf("status %+v", st)
	}

	in.old, in.now = st, metav1.NewTime(t0.Add(time.Minute))
	if again := buildStatus(in); !equality.Semantic.DeepEqual(again, st) {
		t.Fatalf("unchanged feedback gave a different status:\n%+v\n%+v", st, again)
	}

	in.clusters[1].work = linkedWork(4)
	st2 := buildStatus(in)
	if equality.Semantic.DeepEqual(st2, st) {
		t.Fatal("a new learned-route count left the status equal: it would never be written")
	}
	want := *st.DeepCopy()
	want.Clusters[1].LearnedRoutes = 4
	if !equality.Semantic.DeepEqual(st2, want) {
		t.Fatalf("more than the count changed:\n%+v\n%+v", want, st2)
	}
}

func histogramCount(t *testing.T, h prometheus.Histogram) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func TestReadyTrackerObservesOncePerGeneration(t *testing.T) {
	var rt readyTracker
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fv := &fedv1.FederatedVpc{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "v", Generation: 1, CreationTimestamp: metav1.NewTime(created)}}
	notReady := &metav1.Condition{Status: metav1.ConditionFalse, ObservedGeneration: 1}
	isReady := &metav1.Condition{Status: metav1.ConditionTrue, ObservedGeneration: 1}
	n0 := histogramCount(t, readySeconds)

	rt.update(fv, nil, notReady, created.Add(time.Second))
	rt.update(fv, notReady, isReady, created.Add(3*time.Second))
	if histogramCount(t, readySeconds) != n0+1 {
		t.Fatal("first Ready not observed")
	}
	// Still ready, a placement change making it not ready and ready again (same
	// generation): not a new apply, not observed.
	rt.update(fv, isReady, isReady, created.Add(4*time.Second))
	rt.update(fv, isReady, notReady, created.Add(5*time.Second))
	rt.update(fv, notReady, isReady, created.Add(6*time.Second))
	if histogramCount(t, readySeconds) != n0+1 {
		t.Fatal("observed again without a new generation")
	}
	// A new generation is observed once it is Ready.
	fv.Generation = 2
	rt.update(fv, isReady, &metav1.Condition{Status: metav1.ConditionFalse, ObservedGeneration: 2}, created.Add(10*time.Second))
	rt.update(fv, nil, &metav1.Condition{Status: metav1.ConditionTrue, ObservedGeneration: 2}, created.Add(12*time.Second))
	if histogramCount(t, readySeconds) != n0+2 {
		t.Fatal("second generation not observed")
	}
	// A hub that restarts and finds the object already Ready measures nothing.
	var fresh readyTracker
	fresh.update(fv, &metav1.Condition{Status: metav1.ConditionTrue, ObservedGeneration: 2}, &metav1.Condition{Status: metav1.ConditionTrue, ObservedGeneration: 2}, time.Now())
	if histogramCount(t, readySeconds) != n0+2 {
		t.Fatal("restart observed a stale apply")
	}
}
