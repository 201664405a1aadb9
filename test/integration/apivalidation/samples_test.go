package apivalidation

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

func samplesDir() string { return filepath.Join(framework.RepoRoot(), "deploy", "samples") }

// sampleFiles returns kustomization.yaml's resources in order, after checking that every YAML
// file of the directory is listed (a sample nobody applies is a sample nobody tests).
func sampleFiles(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(samplesDir(), "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	onDisk, err := filepath.Glob(filepath.Join(samplesDir(), "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range onDisk {
		if b := filepath.Base(f); b != "kustomization.yaml" && !slices.Contains(k.Resources, b) {
			t.Errorf("%s is not listed in kustomization.yaml", b)
		}
	}
	if len(k.Resources) == 0 || k.Resources[0] != "namespaces.yaml" {
		t.Errorf("kustomization.yaml must apply namespaces.yaml first, got %v", k.Resources)
	}
	files := make([]string, len(k.Resources))
	for i, r := range k.Resources {
		files[i] = filepath.Join(samplesDir(), r)
	}
	return files
}

// The seed's annotation block (000 section 2.2.6), quotes normalised.
var seedAnnotations = map[string]string{
	"k8s.v1.cni.cncf.io/networks":     "yusur-vf@eth1",
	"cni.iaas.yusur.io/subnet":        "ovn-default",
	"eth1.iaas.yusur.io/subnet":       "subnet1",
	"eth1.iaas.yusur.io/vnicip":       "vnicip-1",
	"cni.iaas.yusur.io/ingress_rate":  "100",
	"cni.iaas.yusur.io/egress_rate":   "200",
	"eth1.iaas.yusur.io/ingress_rate": "500",
}

func testSamples(t *testing.T, c *framework.Cluster) {
	ctx := framework.Context(t, 2*time.Minute)
	kinds := map[string]bool{}
	for _, f := range sampleFiles(t) {
		objs := framework.ApplyYAMLFile(t, c, f)
		for _, want := range objs {
			kinds[want.GetKind()] = true
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(want.GroupVersionKind())
			if err := c.Client.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
				t.Errorf("%s: read back %s %s: %v", filepath.Base(f), want.GetKind(), want.GetName(), err)
				continue
			}
			// Everything the sample says must survive: a field the schema does not know
			// would be pruned silently, and the sample would lie to its reader.
			for _, top := range []string{"spec", "metadata"} {
				if want.Object[top] == nil {
					continue
				}
				if err := subset(want.Object[top], got.Object[top], top); err != nil {
					t.Errorf("%s: %s %s: %v", filepath.Base(f), want.GetKind(), want.GetName(), err)
				}
			}
		}
	}
	for _, k := range []string{"Vpc", "Subnet", "Nic", "Vnic", "VnicIp", "Eip", "EipGateway", "Nat", "Snat",
		"SecurityGroup", "YusurService", "NetworkProbe", "FederatedVpc", "FederatedEipGateway", "FederatedService", "Pod"} {
		if !kinds[k] {
			t.Errorf("deploy/samples has no %s", k)
		}
	}

	t.Run("ysvc1 as in the seed", func(t *testing.T) {
		var got iaasv1.YusurService
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "ysvc1"}, &got); err != nil {
			t.Fatal(err)
		}
		target := intstr.FromInt32(5001)
		want := iaasv1.YusurServiceSpec{
			Type:  iaasv1.ServiceTypeClusterIP,
			Scope: iaasv1.ServiceScopeVpc,
			Vpc:   "vpc1",
			Ports: []iaasv1.ServicePort{{
				Port: 5001, Name: "iperf", Protocol: iaasv1.ServiceProtocolTCP, TargetPort: &target,
			}},
			Selector: map[string]string{"svc": "svc1-ep"},
		}
		// Exact: nothing lost and nothing defaulted in, since the seed sets every field that
		// has a default.
		if !reflect.DeepEqual(got.Spec, want) {
			t.Errorf("ysvc1 spec changed:\n got %#v\nwant %#v", got.Spec, want)
		}
		if got.Spec.Ports[0].TargetPort.Type != intstr.Int {
			t.Errorf("targetPort became a string: %v", got.Spec.Ports[0].TargetPort)
		}
	})

	t.Run("pod annotations as in the seed", func(t *testing.T) {
		var pod corev1.Pod
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "pod1"}, &pod); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pod.Annotations, seedAnnotations) {
			t.Errorf("pod1 annotations:\n got %v\nwant %v", pod.Annotations, seedAnnotations)
		}
		// And they mean what the seed says, through the helpers the CNI will use.
		for _, tc := range []struct {
			ifName, key, want string
		}{
			{"eth0", iaasv1.KeySubnet, "ovn-default"},
			{"eth1", iaasv1.KeySubnet, "subnet1"},
			{"eth1", iaasv1.KeyVnicIp, "vnicip-1"},
			{"eth0", iaasv1.KeyIngressRate, "100"},
			{"eth0", iaasv1.KeyEgressRate, "200"},
			{"eth1", iaasv1.KeyIngressRate, "500"},
		} {
			got, ok := iaasv1.LookupInterfaceAnnotation(pod.Annotations, tc.ifName, tc.key)
			if !ok || got != tc.want {
				t.Errorf("%s %s = %q, %v; want %q", tc.ifName, tc.key, got, ok, tc.want)
			}
		}
		if _, ok := iaasv1.LookupInterfaceAnnotation(pod.Annotations, "eth1", iaasv1.KeyEgressRate); ok {
			t.Errorf("eth1 has an egress rate; the seed leaves it unlimited")
		}
	})
}

// subset reports the first place where want (from a sample) is not contained in got (read
// back from the apiserver). Lists must match element by element; maps may gain keys.
func subset(want, got any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want an object", path, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s was dropped", path, k)
			}
			if err := subset(wv, gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			if err := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		// YAML and JSON decoders may pick different integer types; compare the text.
		if fmt.Sprint(want) != fmt.Sprint(got) || strings.Contains(fmt.Sprintf("%T", want), "string") != strings.Contains(fmt.Sprintf("%T", got), "string") {
			return fmt.Errorf("%s: got %v (%T), want %v (%T)", path, got, got, want, want)
		}
		return nil
	}
}
