package controller_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

// kill -9 while pods are being allocated, start again: every pod ends with a unique
// address, one VnicIp each, one port each, and nothing else.
func TestKillNineMidwayAndRestart(t *testing.T) {
	w := newWorld(t)
	ctx := framework.Context(t, 6*time.Minute)
	c := w.k8s.Client
	const n = 300
	first := w.startProcess("controller-1.log")
	createPods(t, ctx, c, "default", "k", n, 16)

	// Kill once a part of the pods is allocated, so the crash lands in the middle.
	eventually(t, 2*time.Minute, "some allocations before the kill", func() error {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace("default")); err != nil {
			return err
		}
		done := 0
		for _, p := range pods.Items {
			if _, ok := p.Annotations[iaasv1.AnnotationAllocation]; ok {
				done++
			}
		}
		if done < n/4 {
			return fmt.Errorf("%d allocated", done)
		}
		if done == n {
			t.Logf("all %d pods were allocated before the kill; the restart still has to prove no rows leak", n)
		}
		return nil
	})
	first.kill()

	w.startProcess("controller-2.log")
	ips := waitAllocations(t, ctx, c, "default", "k", n, 3*time.Minute)
	assertUnique(t, ips)
	eventually(t, 2*time.Minute, "one vnicip per pod", func() error {
		var l iaasv1.VnicIpList
		if err := c.List(ctx, &l, client.InNamespace("default")); err != nil {
			return err
		}
		if len(l.Items) != n {
			return fmt.Errorf("%d vnicips for %d pods", len(l.Items), n)
		}
		for _, v := range l.Items {
			pod := v.Labels["iaas.yusur.io/pod"]
			if ips[pod] != string(v.Spec.IPAddress) {
				return fmt.Errorf("vnicip %s holds %s but pod %q has %s", v.Name, v.Spec.IPAddress, pod, ips[pod])
			}
		}
		return nil
	})
	eventually(t, 2*time.Minute, "one port per pod, no leaks", func() error { return w.portsExactly(ips) })
}
