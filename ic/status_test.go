package ic

import (
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

// writeStatus against a real apiserver: status.interconnect is written on a live Vpc, and a
// write to a Vpc deleted after the informer showed it counts as done.
func TestWriteStatus(t *testing.T) {
	k8s := framework.StartCluster(t, framework.Options{Name: "ic-status"})
	ctx := framework.Context(t, time.Minute)
	c := k8s.Client
	r := &reconciler{client: c}
	st := &iaasv1.VpcInterconnectStatus{TransitSwitch: "ts1", GatewayChassis: []string{"n1", "n2"}, LearnedRoutes: 2, AdvertisedRoutes: 1}
	read := func(name string) *iaasv1.Vpc {
		t.Helper()
		if err := c.Create(ctx, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
		var vpc iaasv1.Vpc
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &vpc); err != nil {
			t.Fatal(err)
		}
		return &vpc
	}

	t.Run("written", func(t *testing.T) {
		vpc := read("written")
		if err := r.writeStatus(ctx, vpc, st); err != nil {
			t.Fatal(err)
		}
		var got iaasv1.Vpc
		if err := c.Get(ctx, client.ObjectKey{Name: "written"}, &got); err != nil {
			t.Fatal(err)
		}
		ic := got.Status.Interconnect
		if ic == nil || ic.TransitSwitch != "ts1" || !slices.Equal(ic.GatewayChassis, st.GatewayChassis) || ic.LearnedRoutes != 2 || ic.AdvertisedRoutes != 1 {
			t.Fatalf("status.interconnect %+v, want %+v", ic, st)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		vpc := read("deleted")
		if err := c.Delete(ctx, vpc.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, client.ObjectKey{Name: "deleted"}, &iaasv1.Vpc{}); !apierrors.IsNotFound(err) {
			t.Fatalf("vpc still there after delete (%v): the case would not test a gone object", err)
		}
		if err := r.writeStatus(ctx, vpc, st); err != nil {
			t.Fatalf("status.interconnect write to a deleted vpc: %v, want success", err)
		}
	})
}
