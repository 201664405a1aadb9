package fedvpc

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
)

func TestRecentCreates(t *testing.T) {
	var rc recentCreates
	w := &workv1.ManifestWork{ObjectMeta: metav1.ObjectMeta{Namespace: "c1", Name: "ycloud-vpc-t-v", UID: "u1"}}
	key := types.NamespacedName{Namespace: "c1", Name: "ycloud-vpc-t-v"}
	if rc.get(key) != nil {
		t.Fatal("empty map returned a work")
	}
	rc.put(w)
	got := rc.get(key)
	if got == nil || got.UID != "u1" {
		t.Fatalf("get after put: %+v", got)
	}
	got.Name = "changed" // callers get a copy
	if rc.get(key).Name != "ycloud-vpc-t-v" {
		t.Fatal("get returned the stored object itself")
	}
	rc.gone(key)
	if rc.get(key) != nil {
		t.Fatal("a deleted work is still remembered")
	}
}
