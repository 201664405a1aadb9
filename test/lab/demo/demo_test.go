package demo

import (
	"bytes"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
	"github.com/ycloud-sdn/ycloud/test/lab"
)

func obj(apiVersion, kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetName(name)
	return u
}

func TestRoute(t *testing.T) {
	cases := []struct {
		name  string
		obj   *unstructured.Unstructured
		where string
		skip  bool
	}{
		{"vpc to spokes", obj("iaas.yusur.io/v1", "Vpc", "vpc1"), toSpoke, false},
		{"eip to spokes", obj("iaas.yusur.io/v1", "Eip", "eip1"), toSpoke, false},
		{"nic skipped", obj("iaas.yusur.io/v1", "Nic", "pod1.eth1"), "", true},
		{"vnic skipped", obj("iaas.yusur.io/v1", "Vnic", "pod1.eth1"), "", true},
		{"pod skipped", obj("v1", "Pod", "pod1"), "", true},
		{"namespace to hub", obj("v1", "Namespace", "tenant-a"), toHub, false},
		{"federated vpc to hub", obj("federation.iaas.yusur.io/v1alpha1", "FederatedVpc", "vpc-a"), toHub, false},
		{"placement to hub", obj("cluster.open-cluster-management.io/v1beta1", "Placement", "tenant-a"), toHub, false},
		{"unknown skipped", obj("apps/v1", "Deployment", "x"), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			where, why := route(tc.obj)
			if where != tc.where || (why != "") != tc.skip {
				t.Fatalf("route = %q, %q; want %q, skip %t", where, why, tc.where, tc.skip)
			}
		})
	}
}

// Every sample of the repository either goes somewhere or is skipped with a reason, and the
// ones the controller reconciles are present (the demo checks them).
func TestSamplesRoute(t *testing.T) {
	dir := SamplesDir(lab.DefaultRepoRoot())
	files, err := sampleFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := framework.DecodeYAML(data)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		for _, o := range objs {
			where, why := route(o)
			if where == "" && why == "" {
				t.Errorf("%s %s: neither routed nor skipped", o.GetKind(), o.GetName())
			}
			kinds[o.GetKind()] = where
		}
	}
	for kind, where := range map[string]string{"Vpc": toSpoke, "Subnet": toSpoke, "FederatedVpc": toHub} {
		if kinds[kind] != where {
			t.Errorf("samples: kind %s goes to %q, want %q", kind, kinds[kind], where)
		}
	}
}

func TestDeploymentsFor(t *testing.T) {
	deps := deploymentsFor("spoke1", []string{"spoke1-n1", "spoke1-n2"})
	if len(deps) != 2+len(vpcPods) {
		t.Fatalf("%d deployments on spoke1", len(deps))
	}
	ips := map[string][]string{}
	for _, d := range deps {
		spec := d.Spec.Template.Spec
		if spec.NodeSelector[corev1.LabelHostname] == "" || spec.Containers[0].ImagePullPolicy != corev1.PullNever {
			t.Errorf("%s: not pinned or pulls: %+v", d.Name, spec)
		}
		if d.Spec.Selector.MatchLabels[labelDeployment] != d.Name || d.Spec.Template.Labels[labelPartOf] != partOf {
			t.Errorf("%s: labels %v selector %v", d.Name, d.Spec.Template.Labels, d.Spec.Selector)
		}
		ann := d.Spec.Template.Annotations
		if subnet := ann[iaasv1.AnnotationSubnet]; subnet != "" {
			ips[subnet] = append(ips[subnet], ann[iaasv1.AnnotationVnicIp])
			if *d.Spec.Replicas != 1 {
				t.Errorf("%s: a static address allows one replica, not %d", d.Name, *d.Spec.Replicas)
			}
		}
	}
	// The isolation checks rely on .10 in both VPCs and one address only in each.
	a, b := strings.Join(ips["demo-a-net"], ","), strings.Join(ips["demo-b-net"], ",")
	if a != "10.77.0.10,10.77.0.11" || b != "10.77.0.10,10.77.0.12" {
		t.Fatalf("vpc addresses: a %s, b %s", a, b)
	}
	if deps := deploymentsFor("spoke2", []string{"spoke2-n1", "spoke2-n2"}); len(deps) != 2 {
		t.Fatalf("spoke2 has only web deployments, got %d", len(deps))
	}
	if deps := deploymentsFor("spoke1", []string{"spoke1-n1"}); len(deps) != 1 {
		t.Fatalf("one node: no VPC pods, got %d deployments", len(deps))
	}
}

func demoPods() []Pod {
	p := func(cluster, name, node, ip, deploy string) Pod {
		return Pod{Cluster: cluster, Namespace: Namespace, Name: name, Node: node, IP: ip, Deployment: deploy}
	}
	return []Pod{
		p("spoke1", "vpc-a-1-x", "spoke1-n1", "10.77.0.10", "vpc-a-1"),
		p("spoke1", "vpc-a-2-x", "spoke1-n2", "10.77.0.11", "vpc-a-2"),
		p("spoke1", "vpc-b-1-x", "spoke1-n2", "10.77.0.10", "vpc-b-1"),
		p("spoke1", "vpc-b-2-x", "spoke1-n1", "10.77.0.12", "vpc-b-2"),
		p("spoke1", "web-spoke1-n1-a", "spoke1-n1", "10.129.0.2", "web-spoke1-n1"),
		p("spoke1", "web-spoke1-n1-b", "spoke1-n1", "10.129.0.3", "web-spoke1-n1"),
		p("spoke1", "web-spoke1-n2-a", "spoke1-n2", "10.129.0.4", "web-spoke1-n2"),
		p("spoke1", "web-spoke1-n2-b", "spoke1-n2", "10.129.0.5", "web-spoke1-n2"),
		p("spoke2", "web-spoke2-n1-a", "spoke2-n1", "10.130.0.2", "web-spoke2-n1"),
		p("spoke2", "web-spoke2-n1-b", "spoke2-n1", "10.130.0.3", "web-spoke2-n1"),
		p("spoke2", "web-spoke2-n2-a", "spoke2-n2", "10.130.0.4", "web-spoke2-n2"),
		p("spoke2", "web-spoke2-n2-b", "spoke2-n2", "10.130.0.5", "web-spoke2-n2"),
	}
}

func TestPlanChecks(t *testing.T) {
	specs := planChecks(demoPods())
	byName := map[string]checkSpec{}
	count := map[string]int{}
	for _, s := range specs {
		byName[s.cluster+"/"+s.name+"/"+s.from()] = s
		for _, prefix := range []string{"pod -> pod, same node", "pod -> pod, across nodes", "node -> pod", "overlap", "isolation", "vpc demo-"} {
			if strings.HasPrefix(s.name, prefix) {
				count[prefix]++
			}
		}
		if s.fromPod != nil && s.fromPod.IP == s.ip {
			t.Errorf("%s: a pod probing itself", s.name)
		}
	}
	want := map[string]int{"pod -> pod, same node": 4, "pod -> pod, across nodes": 4, "node -> pod": 8, "overlap": 2, "isolation": 4, "vpc demo-": 2}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%d %q checks, want %d", count[k], k, n)
		}
	}
	cases := []struct {
		key, ip, want string
	}{
		{"spoke1/pod -> pod, same node spoke1-n1/pod web-spoke1-n1-a", "10.129.0.3", "web-spoke1-n1-b"},
		{"spoke1/pod -> pod, across nodes spoke1-n2 -> spoke1-n1/pod web-spoke1-n2-a", "10.129.0.2", "web-spoke1-n1-a"},
		{"spoke2/node -> pod on spoke2-n2, management port/node spoke2-n1", "10.130.0.4", "web-spoke2-n2-a"},
		{"spoke1/overlap: 10.77.0.10 from demo-a answers demo-a's pod/pod vpc-a-2-x", "10.77.0.10", "vpc-a-1-x"},
		{"spoke1/overlap: 10.77.0.10 from demo-b answers demo-b's pod/pod vpc-b-2-x", "10.77.0.10", "vpc-b-1-x"},
		// Isolation targets exist only in the other VPC (or in the default VPC).
		{"spoke1/isolation: demo-a cannot reach 10.77.0.12 (only in demo-b)/pod vpc-a-1-x", "10.77.0.12", ""},
		{"spoke1/isolation: demo-b cannot reach 10.77.0.11 (only in demo-a)/pod vpc-b-1-x", "10.77.0.11", ""},
		{"spoke1/isolation: demo-a cannot reach the default VPC/pod vpc-a-1-x", "10.129.0.2", ""},
		{"spoke1/isolation: the default VPC cannot reach demo-b/pod web-spoke1-n1-a", "10.77.0.12", ""},
	}
	for _, tc := range cases {
		s, ok := byName[tc.key]
		if !ok {
			t.Errorf("no check %q", tc.key)
			continue
		}
		if s.ip != tc.ip || s.wantHost != tc.want {
			t.Errorf("%s: ip %s want host %q; want %s %q", tc.key, s.ip, s.wantHost, tc.ip, tc.want)
		}
	}
	// Without the VPC pods (one node), only the default VPC checks remain.
	var web []Pod
	for _, p := range demoPods() {
		if strings.HasPrefix(p.Deployment, "web-") {
			web = append(web, p)
		}
	}
	for _, s := range planChecks(web) {
		if strings.Contains(s.name, "demo-") {
			t.Errorf("check %q without VPC pods", s.name)
		}
	}
}

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{ms(5), 5 * time.Millisecond},
		{ms(9, 1, 5), 5 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	r := &Result{Dir: "/var/tmp/x", Pods: demoPods()[:2], Applied: map[string]int{"hub": 5, "spoke1": 12}}
	r.Pods[0].Start, r.Pods[1].Start = time.Second, 3*time.Second
	r.Checks = []Check{
		{Cluster: "spoke1", Name: "vpc demo-a: pod -> pod across nodes", From: "pod vpc-a-1-x", To: "10.77.0.11 (vpc-a-2-x)", Pass: true},
		{Cluster: "spoke1", Name: "isolation", From: "pod vpc-a-1-x", To: "10.77.0.12 (vpc-b-2-x)", Detail: "attempt 1 reached"},
	}
	var b bytes.Buffer
	r.WriteSummary(&b)
	s := b.String()
	for _, want := range []string{"median 2.00s over 2 pods", "2 checks: 1 passed, 1 failed", "FAIL", "hub 5, spoke1 12",
		"vpc-a-1-x  spoke1-n1", "1 passed, 1 failed", "1 passed, 0 failed"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if len(r.Failed()) != 1 {
		t.Fatalf("failed: %v", r.Failed())
	}
}

func TestExplore(t *testing.T) {
	cfg := lab.Config{Clusters: 2, Nodes: 2, ICGateways: 1, Prefix: "yx"}
	s := Explore("/var/tmp/x", false, cfg)
	for _, want := range []string{"ycloud-lab --dir /var/tmp/x up --clusters 2 --nodes 2 --cni ycloud --ic-gateways 1 --prefix yx", "demo --keep", "kubeconfig spoke1", "node-exec"} {
		if !strings.Contains(s, want) {
			t.Errorf("explore lacks %q:\n%s", want, s)
		}
	}
	if s := Explore(lab.DefaultDir, true, cfg); strings.Contains(s, "--dir") || !strings.Contains(s, "still running") {
		t.Errorf("kept lab in the default dir:\n%s", s)
	}
}

func TestFedDeploymentsAndChecks(t *testing.T) {
	alloc := map[fedKey]netip.Prefix{
		{tenantA, "spoke1"}: netip.MustParsePrefix("10.100.0.0/24"), {tenantA, "spoke2"}: netip.MustParsePrefix("10.100.1.0/24"),
		{tenantB, "spoke1"}: netip.MustParsePrefix("10.100.0.0/24"), {tenantB, "spoke2"}: netip.MustParsePrefix("10.100.1.0/24"),
	}
	var pods []Pod
	for _, spoke := range []string{"spoke1", "spoke2"} {
		for _, d := range fedDeploymentsFor(spoke, []string{spoke + "-n1", spoke + "-n2"}, alloc) {
			ann := d.Spec.Template.Annotations
			pods = append(pods, Pod{Cluster: spoke, Namespace: Namespace, Name: d.Name + "-x", Deployment: d.Name,
				Node: d.Spec.Template.Spec.NodeSelector[corev1.LabelHostname], IP: ann[iaasv1.AnnotationVnicIp], Subnet: ann[iaasv1.AnnotationSubnet]})
		}
	}
	got := map[string]string{}
	for _, p := range pods {
		got[p.Deployment] = p.Cluster + " " + p.Subnet + " " + p.IP
	}
	want := map[string]string{
		"fed-a-1": "spoke1 tenant-a.vpc-a.web 10.100.0.10", "fed-a-3": "spoke1 tenant-a.vpc-a.web 10.100.0.11",
		"fed-a-2": "spoke2 tenant-a.vpc-a.web 10.100.1.10", "fed-b-1": "spoke1 tenant-b.vpc-b.web 10.100.0.10",
		"fed-b-2": "spoke2 tenant-b.vpc-b.web 10.100.1.10", "fed-b-3": "spoke2 tenant-b.vpc-b.web 10.100.1.12",
	}
	if !maps.Equal(got, want) {
		t.Fatalf("federated pods:\n got %v\nwant %v", got, want)
	}
	if d := fedDeploymentsFor("spoke2", []string{"spoke2-n1", "spoke2-n2"}, nil); len(d) != 0 {
		t.Fatalf("no allocation, no pods: got %d", len(d))
	}

	byName := map[string]*Pod{}
	for i := range pods {
		byName[pods[i].Name] = &pods[i]
	}
	specs := planFedChecks(pods)
	var reach, isolation, pings int
	for _, s := range specs {
		if s.fromPod.Cluster != s.cluster {
			t.Errorf("%s: runs in %s but the pod is in %s", s.name, s.cluster, s.fromPod.Cluster)
		}
		if s.ping {
			pings++
		}
		if s.wantHost == "" {
			isolation++
			// The target address must exist only in the other tenant.
			if strings.HasPrefix(s.fromPod.Deployment, "fed-a") == strings.Contains(s.toLabel, "fed-a") {
				t.Errorf("%s: isolation target %s is in the source's own tenant", s.name, s.toLabel)
			}
			continue
		}
		reach++
		if dst := byName[s.wantHost]; dst == nil || dst.Cluster == s.fromPod.Cluster || dst.IP != s.ip || s.fromPod.Deployment[:5] != s.wantHost[:5] {
			t.Errorf("%s: not a same-tenant cross-cluster check: %+v", s.name, s)
		}
	}
	if reach != 8 || isolation != 4 || pings != 6 {
		t.Fatalf("%d reach, %d isolation, %d ping checks; want 8, 4, 6", reach, isolation, pings)
	}
}
