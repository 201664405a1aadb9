// Package deploy checks the install bundles: each kustomize base builds with the pinned
// kustomize, and every object in it is accepted by a real apiserver (namespaces and CRDs
// for real, everything else in dry-run, so the apiserver validates it fully without the
// test depending on controllers running).
package deploy

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ycloud-sdn/ycloud/test/framework"
)

func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command(filepath.Join(framework.BinDir(), "kustomize"), "build", dir).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("kustomize build %s: %v: %s", dir, err, ee.Stderr)
		}
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	objs, err := framework.DecodeYAML(out)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestBundlesBuildAndAreAccepted(t *testing.T) {
	// An apiserver with no CRDs at all: the bundles must bring their own.
	c := framework.StartCluster(t, framework.Options{Name: "deploy", CRDDirs: []string{t.TempDir()}})
	ctx := framework.Context(t, 2*time.Minute)
	for _, side := range []struct {
		dir       string
		wantKinds []string
		wantCRD   string
	}{
		{"spoke", []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ServiceAccount", "ClusterRoleBinding"}, "subnets.iaas.yusur.io"},
		{"hub", []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ServiceAccount", "ClusterRoleBinding"}, "federatedvpcs.federation.iaas.yusur.io"},
	} {
		t.Run(side.dir, func(t *testing.T) {
			objs := build(t, filepath.Join(framework.RepoRoot(), "deploy", side.dir))
			kinds := map[string]int{}
			crd := false
			var first, rest []*unstructured.Unstructured
			for _, o := range objs {
				kinds[o.GetKind()]++
				if o.GetKind() == "CustomResourceDefinition" && o.GetName() == side.wantCRD {
					crd = true
				}
				if o.GetLabels()["app.kubernetes.io/part-of"] != "ycloud" {
					t.Errorf("%s %s lacks the part-of label", o.GetKind(), o.GetName())
				}
				if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" {
					first = append(first, o)
				} else {
					rest = append(rest, o)
				}
			}
			for _, k := range side.wantKinds {
				if kinds[k] == 0 {
					t.Errorf("bundle %s has no %s (kinds: %v)", side.dir, k, kinds)
				}
			}
			if side.dir == "spoke" {
				agg := false
				for _, o := range objs {
					agg = agg || (o.GetKind() == "ClusterRole" && o.GetLabels()["open-cluster-management.io/aggregate-to-work"] == "true")
				}
				if !agg {
					t.Error("spoke bundle lacks the ClusterRole that lets the OCM work agent manage iaas.yusur.io objects")
				}
			}
			if !crd {
				t.Errorf("bundle %s lacks CRD %s", side.dir, side.wantCRD)
			}
			if err := framework.Apply(ctx, c.Client, first, false); err != nil {
				t.Fatal(err)
			}
			if err := framework.Apply(ctx, c.Client, rest, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}
