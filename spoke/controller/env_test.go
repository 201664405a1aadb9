package controller

import (
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

// patchStatus against a real apiserver: a status write to an object deleted after it was
// read is done, not an error; other failures still are.
func TestPatchStatus(t *testing.T) {
	k8s := framework.StartCluster(t, framework.Options{Name: "patch-status"})
	ctx := framework.Context(t, time.Minute)
	c := k8s.Client
	// read returns the Vpc as a reconciler sees it, and a copy with a Ready condition.
	read := func(name string) (old, vpc *iaasv1.Vpc) {
		t.Helper()
		if err := c.Create(ctx, &iaasv1.Vpc{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
			t.Fatal(err)
		}
		old = &iaasv1.Vpc{}
		if err := c.Get(ctx, client.ObjectKey{Name: name}, old); err != nil {
			t.Fatal(err)
		}
		vpc = old.DeepCopy()
		setReady(&vpc.Status.Conditions, vpc.Generation, true, iaasv1.ReasonReconciled, "test")
		return old, vpc
	}

	t.Run("written", func(t *testing.T) {
		old, vpc := read("written")
		if err := patchStatus(ctx, c, old, vpc, old.Status, vpc.Status); err != nil {
			t.Fatal(err)
		}
		var got iaasv1.Vpc
		if err := c.Get(ctx, client.ObjectKey{Name: "written"}, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Reason != iaasv1.ReasonReconciled {
			t.Fatalf("status not written: %+v", got.Status)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		old, vpc := read("deleted")
		if err := c.Delete(ctx, old.DeepCopy()); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, client.ObjectKey{Name: "deleted"}, &iaasv1.Vpc{}); !apierrors.IsNotFound(err) {
			t.Fatalf("vpc still there after delete (%v): the case would not test a gone object", err)
		}
		if err := patchStatus(ctx, c, old, vpc, old.Status, vpc.Status); err != nil {
			t.Fatalf("status write to a deleted vpc: %v, want success", err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		old, vpc := read("refused")
		vpc.Status.Conditions[0].Reason = "not a valid reason"
		err := patchStatus(ctx, c, old, vpc, old.Status, vpc.Status)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `vpc "refused": status: `) {
			t.Fatalf("err = %v, want an Invalid error naming the vpc", err)
		}
	})
}
