package framework

import (
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A hub and two spokes at once: each is its own apiserver with its own storage, the hub
// serves the OCM CRDs, and all serve ours.
func TestHubAndTwoSpokes(t *testing.T) {
	names := []string{"hub", "spoke1", "spoke2"}
	clusters := make([]*Cluster, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clusters[i] = StartCluster(t, Options{Name: n, OCM: n == "hub"})
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctx := Context(t, time.Minute)

	hosts := map[string]bool{}
	for _, c := range clusters {
		if hosts[c.Config.Host] {
			t.Fatalf("cluster %s shares apiserver %s with another cluster", c.Name, c.Config.Host)
		}
		hosts[c.Config.Host] = true
		for _, crd := range []string{"vpcs.iaas.yusur.io", "subnets.iaas.yusur.io", "federatedvpcs.federation.iaas.yusur.io"} {
			var got apiextensionsv1.CustomResourceDefinition
			if err := c.Client.Get(ctx, client.ObjectKey{Name: crd}, &got); err != nil {
				t.Errorf("%s: crd %s: %v", c.Name, crd, err)
			}
		}
		var mw apiextensionsv1.CustomResourceDefinition
		err := c.Client.Get(ctx, client.ObjectKey{Name: "manifestworks.work.open-cluster-management.io"}, &mw)
		if c.Name == "hub" && err != nil {
			t.Errorf("hub must serve the OCM ManifestWork CRD: %v", err)
		}
		if c.Name != "hub" && err == nil {
			t.Errorf("%s was not asked for OCM CRDs but serves them", c.Name)
		}
	}

	// Storage is separate: a namespace made on spoke1 does not exist on spoke2.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "only-on-spoke1"}}
	if err := clusters[1].Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if err := clusters[2].Client.Get(ctx, client.ObjectKeyFromObject(ns), &corev1.Namespace{}); err == nil {
		t.Fatal("namespace created on spoke1 is visible on spoke2")
	}
}

func TestDecodeYAML(t *testing.T) {
	objs, err := DecodeYAML([]byte("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetKind() != "ConfigMap" {
		t.Fatalf("unexpected objects: %+v", objs)
	}
	if _, err := DecodeYAML([]byte("a: [")); err == nil {
		t.Fatal("broken YAML decoded without error")
	}
}
