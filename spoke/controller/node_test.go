package controller

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/spoke/ipam"
)

func TestNodeJoinAddrs(t *testing.T) {
	newPool := func(t *testing.T) *ipam.Pool {
		p, err := ipam.NewPool([]netip.Prefix{netip.MustParsePrefix("100.64.0.0/24")}, []netip.Addr{netip.MustParseAddr("100.64.0.1")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	node := func(ann string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
		if ann != "" {
			n.Annotations = map[string]string{iaasv1.JoinAllocationAnnotation: ann}
		}
		return n
	}
	recorded := `{"mac":"0a:00:00:00:00:01","subnet":"join","ips":["100.64.0.9/24"],"logicalSwitchPort":"node-n1"}`

	t.Run("first reconcile allocates", func(t *testing.T) {
		p := newPool(t)
		got, fresh, err := nodeJoinAddrs(p, node(""), "join")
		if err != nil || !fresh || len(got) != 1 {
			t.Fatalf("got %v fresh=%v err=%v", got, fresh, err)
		}
	})
	t.Run("stale cache reuses what the pool holds", func(t *testing.T) {
		p := newPool(t)
		first, _, err := nodeJoinAddrs(p, node(""), "join")
		if err != nil {
			t.Fatal(err)
		}
		// The annotation was written, but this read of the node predates it.
		again, fresh, err := nodeJoinAddrs(p, node(""), "join")
		if err != nil || fresh || !slices.Equal(again, first) {
			t.Fatalf("got %v fresh=%v err=%v, want %v reused", again, fresh, err, first)
		}
		if used := p.Stats()[0].Used; used != 1 {
			t.Fatalf("pool holds %d addresses, want 1", used)
		}
	})
	t.Run("annotation is restored after a restart", func(t *testing.T) {
		p := newPool(t)
		got, fresh, err := nodeJoinAddrs(p, node(recorded), "join")
		if err != nil || fresh || !slices.Equal(got, []netip.Addr{netip.MustParseAddr("100.64.0.9")}) {
			t.Fatalf("got %v fresh=%v err=%v", got, fresh, err)
		}
	})
	t.Run("annotation for another join subnet is ignored", func(t *testing.T) {
		p := newPool(t)
		got, fresh, err := nodeJoinAddrs(p, node(recorded), "join2")
		if err != nil || !fresh || slices.Contains(got, netip.MustParseAddr("100.64.0.9")) {
			t.Fatalf("got %v fresh=%v err=%v", got, fresh, err)
		}
	})
}
