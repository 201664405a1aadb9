package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/util/jsonpath"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
)

func TestNames(t *testing.T) {
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60)
	for _, tc := range []struct{ got, want string }{
		{VpcName("tenant-a", "vpc1"), "tenant-a.vpc1"},
		{SubnetName("tenant-a", "vpc1", "web"), "tenant-a.vpc1.web"},
		{WorkName("vpc", "tenant-a", "vpc1"), "ycloud-vpc-tenant-a-vpc1"},
		{TransitSwitchName("tenant-a", "vpc1"), "ts-tenant-a.vpc1"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	// Long names are shortened, stay valid, differ, and keep a readable prefix.
	n1, n2 := VpcName("t", long), VpcName("t", long+"x")
	for _, n := range []string{n1, n2, SubnetName(strings.Repeat("t", 63), long, strings.Repeat("s", 63)), TransitSwitchName("t", long)} {
		if len(n) > 63 || len(validation.IsDNS1123Subdomain(n)) > 0 {
			t.Errorf("%q: not a DNS subdomain of at most 63 characters: %v", n, validation.IsDNS1123Subdomain(n))
		}
	}
	if n1 == n2 || !strings.HasPrefix(n1, "t.aaaa") {
		t.Errorf("shortened names %q and %q", n1, n2)
	}
	if v := LabelValue(long); len(validation.IsValidLabelValue(v)) > 0 {
		t.Errorf("label value %q: %v", v, validation.IsValidLabelValue(v))
	}
	// Two tenants' vpc1, and names that only differ in where the dots are, never meet.
	seen := map[string]string{}
	for _, tc := range [][3]string{{"a", "b.c", "d"}, {"a", "b", "c-d"}, {"a-b", "c", "d"}, {"a", "b-c", "d"}, {"a", "b.c-d", "e"}, {"t1", "vpc1", "web"}, {"t2", "vpc1", "web"}} {
		n := SubnetName(tc[0], tc[1], tc[2])
		if o, dup := seen[n]; dup {
			t.Errorf("%v and %s both map to %q", tc, o, n)
		}
		seen[n] = fmt.Sprint(tc)
	}
}

func sampleWork() VpcWork {
	return VpcWork{
		Cluster: "cluster1", Tenant: "tenant-a", Name: "vpc1",
		StaticRoutes: []iaasv1.StaticRoute{{CIDR: "0.0.0.0/0", NextHop: "10.0.0.254", Policy: "dst"}},
		Transit:      ipam.Transit{Switch: "ts-tenant-a.vpc1", Subnet: netip.MustParsePrefix("169.254.0.0/28"), TunnelKey: ipam.TunnelKeyMin},
		Subnets: []SubnetPiece{
			{Name: "web", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24")}, Gateways: []netip.Addr{netip.MustParseAddr("10.0.1.1")},
				ExcludeIPs: []iaasv1.IPRange{"10.0.1.2..10.0.1.9", "10.0.2.5"}, Default: true},
			{Name: "app", CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}, Gateways: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		},
		ScrapeType: workv1.FeedbackPollScrapeType,
	}
}

func TestBuildIsDeterministicAndComplete(t *testing.T) {
	in := sampleWork()
	w1, mans, err := in.Build()
	if err != nil {
		t.Fatal(err)
	}
	in.Subnets[0], in.Subnets[1] = in.Subnets[1], in.Subnets[0] // input order must not matter
	w2, _, err := in.Build()
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(w1)
	b2, _ := json.Marshal(w2)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("two renders differ:\n%s\n%s", b1, b2)
	}
	if w1.Name != "ycloud-vpc-tenant-a-vpc1" || w1.Namespace != "cluster1" || w1.Annotations[AnnotationOwner] != "tenant-a/vpc1" ||
		w1.Labels[LabelKind] != KindFederatedVpc || w1.Spec.DeleteOption.PropagationPolicy != workv1.DeletePropagationPolicyTypeForeground {
		t.Fatalf("work metadata %+v spec.deleteOption %+v", w1.ObjectMeta, w1.Spec.DeleteOption)
	}
	wantMans := []Manifest{{"Vpc", "vpcs", "tenant-a.vpc1", ""}, {"Subnet", "subnets", "tenant-a.vpc1.app", "app"}, {"Subnet", "subnets", "tenant-a.vpc1.web", "web"}}
	if !slices.Equal(mans, wantMans) {
		t.Fatalf("manifests %v, want %v", mans, wantMans)
	}
	for i, m := range w1.Spec.Workload.Manifests {
		s := string(m.Raw)
		if strings.Contains(s, "status") || strings.Contains(s, "creationTimestamp") {
			t.Errorf("manifest %d carries fields the hub does not own: %s", i, s)
		}
		if c := w1.Spec.ManifestConfigs[i]; c.ResourceIdentifier.Name != mans[i].Name || c.ResourceIdentifier.Group != "iaas.yusur.io" ||
			c.UpdateStrategy.Type != workv1.UpdateStrategyTypeServerSideApply || c.FeedbackScrapeType != workv1.FeedbackPollScrapeType {
			t.Errorf("manifest config %d: %+v", i, c)
		}
	}
	var web map[string]any
	_ = json.Unmarshal(w1.Spec.Workload.Manifests[2].Raw, &web)
	spec := web["spec"].(map[string]any)
	if spec["vpc"] != "tenant-a.vpc1" || spec["cidrBlock"] != "10.0.1.0/24" || spec["gateway"] != "10.0.1.1" || spec["cluster"] != "cluster1" ||
		fmt.Sprint(spec["excludeIps"]) != "[10.0.1.2..10.0.1.9]" || spec["default"] != true {
		t.Fatalf("web subnet spec %v", spec)
	}
	var vpc map[string]any
	_ = json.Unmarshal(w1.Spec.Workload.Manifests[0].Raw, &vpc)
	fed := vpc["spec"].(map[string]any)["federation"].(map[string]any)
	if fed["transitSwitch"] != "ts-tenant-a.vpc1" || fed["transitSubnet"] != "169.254.0.0/28" || fed["tenant"] != "tenant-a" || fed["federatedVpc"] != "vpc1" {
		t.Fatalf("vpc federation %v", fed)
	}
}

// The Vpc's feedback asks for its interconnect link; Subnets have none. Each path must be
// one a Kubernetes JSONPath evaluator accepts and must select one scalar, so it is checked
// on a linked spoke Vpc (every value present) and an unlinked one (every value absent).
func TestFeedbackRules(t *testing.T) {
	in := sampleWork()
	w, mans, err := in.Build()
	if err != nil {
		t.Fatal(err)
	}
	paths := func(i int) map[string]string {
		out := map[string]string{}
		for _, r := range w.Spec.ManifestConfigs[i].FeedbackRules {
			if r.Type != workv1.JSONPathsType {
				t.Fatalf("manifest %d: feedback rule type %q", i, r.Type)
			}
			for _, p := range r.JsonPaths {
				if _, dup := out[p.Name]; dup {
					t.Fatalf("manifest %d: feedback name %q twice", i, p.Name)
				}
				out[p.Name] = p.Path
			}
		}
		return out
	}
	interconnect := map[string]string{
		FeedbackTransitSwitch:    ".status.interconnect.transitSwitch",
		FeedbackActiveGateway:    ".status.interconnect.gatewayChassis[0]",
		FeedbackLearnedRoutes:    ".status.interconnect.learnedRoutes",
		FeedbackAdvertisedRoutes: ".status.interconnect.advertisedRoutes",
	}
	vpcPaths := paths(0)
	if mans[0].Kind != "Vpc" || vpcPaths[FeedbackReady] == "" || vpcPaths[FeedbackRouter] != ".status.router" {
		t.Fatalf("vpc feedback %v", vpcPaths)
	}
	for name, want := range interconnect {
		if vpcPaths[name] != want {
			t.Errorf("vpc feedback %q = %q, want %q", name, vpcPaths[name], want)
		}
	}
	for i := 1; i < len(mans); i++ {
		for name := range interconnect {
			if p, ok := paths(i)[name]; ok {
				t.Errorf("%s %s asks for %s (%s)", mans[i].Kind, mans[i].Name, name, p)
			}
		}
	}

	spokeVpc := func(ic any) map[string]any {
		st := map[string]any{"router": "vpc-tenant-a.vpc1"}
		if ic != nil {
			st["interconnect"] = ic
		}
		return map[string]any{"metadata": map[string]any{"name": "tenant-a.vpc1", "generation": int64(1)}, "status": st}
	}
	for _, tc := range []struct {
		name string
		obj  map[string]any
		want map[string]any
	}{
		{name: "linked", obj: spokeVpc(map[string]any{"transitSwitch": "ts-tenant-a.vpc1", "gatewayChassis": []any{"gw2", "gw1"},
			"learnedRoutes": int64(3), "advertisedRoutes": int64(1)}),
			want: map[string]any{FeedbackTransitSwitch: "ts-tenant-a.vpc1", FeedbackActiveGateway: "gw2", FeedbackLearnedRoutes: int64(3), FeedbackAdvertisedRoutes: int64(1)}},
		// ycloud-ic's status of a VPC without gateway nodes: zero counts, nothing else.
		{name: "not linked", obj: spokeVpc(map[string]any{"learnedRoutes": int64(0), "advertisedRoutes": int64(0)}),
			want: map[string]any{FeedbackLearnedRoutes: int64(0), FeedbackAdvertisedRoutes: int64(0)}},
		{name: "not federated", obj: spokeVpc(nil), want: map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]any{}
			for name := range interconnect {
				jp := jsonpath.New(name).AllowMissingKeys(true)
				if err := jp.Parse("{" + vpcPaths[name] + "}"); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				res, err := jp.FindResults(tc.obj)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				switch {
				case len(res) > 1 || (len(res) == 1 && len(res[0]) > 1):
					t.Fatalf("%s selects several values: %v", name, res)
				case len(res) == 1 && len(res[0]) == 1:
					got[name] = res[0][0].Interface()
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("values %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSpecEqualIgnoresLayoutOnly(t *testing.T) {
	in := sampleWork()
	w, _, err := in.Build()
	if err != nil {
		t.Fatal(err)
	}
	// What an apiserver returns: the same content with keys in another order and spaces.
	stored := w.Spec.DeepCopy()
	var m map[string]any
	_ = json.Unmarshal(stored.Workload.Manifests[0].Raw, &m)
	pretty, _ := json.MarshalIndent(m, "", "  ")
	stored.Workload.Manifests[0].Raw = []byte(regexp.MustCompile(`"kind": "Vpc",`).ReplaceAllString(string(pretty), `"kind":"Vpc",`))
	if !SpecEqual(&w.Spec, stored) {
		t.Fatal("layout-only difference reported as a change")
	}
	in.Subnets[0].Default = false
	changed, _, _ := in.Build()
	if SpecEqual(&w.Spec, &changed.Spec) {
		t.Fatal("a real change compared equal")
	}
}

func TestBuildRefusesOversizedWork(t *testing.T) {
	in := sampleWork()
	for i := range 20000 {
		in.StaticRoutes = append(in.StaticRoutes, iaasv1.StaticRoute{CIDR: iaasv1.CIDR(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)), NextHop: "10.0.0.254"})
	}
	if _, _, err := in.Build(); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("oversized work: %v", err)
	}
}

func TestClipExcludes(t *testing.T) {
	cidrs := []netip.Prefix{netip.MustParsePrefix("10.0.1.0/24"), netip.MustParsePrefix("fd00::100/120")}
	got := ClipExcludes([]iaasv1.IPRange{"10.0.0.250..10.0.1.3", "10.0.1.9", "10.0.2.1", "10.0.1.250..10.0.2.9", "fd00::1ff..fd00::2ff", "junk"}, cidrs)
	want := []iaasv1.IPRange{"10.0.1.0..10.0.1.3", "10.0.1.9", "10.0.1.250..10.0.1.255", "fd00::1ff"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
