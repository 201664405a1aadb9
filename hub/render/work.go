package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	workv1 "github.com/ycloud-sdn/ycloud/api/ocm/work/v1"
	"github.com/ycloud-sdn/ycloud/hub/ipam"
)

// Labels and annotations the hub puts on its ManifestWorks (and the spoke objects in them).
// Label values are limited to 63 characters, so the exact owner is an annotation; the
// labels select, the annotation decides.
const (
	// LabelKind is the federated kind that owns the object ("FederatedVpc"). The hub caches
	// only ManifestWorks that carry it.
	LabelKind = "federation.iaas.yusur.io/kind"
	// LabelTenant is the tenant (hub namespace).
	LabelTenant = "federation.iaas.yusur.io/tenant"
	// LabelName is the federated object's name (hashed when longer than 63 characters).
	LabelName = "federation.iaas.yusur.io/name"
	// AnnotationOwner is "<tenant>/<name>" of the federated object, exactly.
	AnnotationOwner = "federation.iaas.yusur.io/owner"

	// KindFederatedVpc is LabelKind's value for FederatedVpc works.
	KindFederatedVpc = "FederatedVpc"
)

// Names of the statusFeedback values the hub asks for on every spoke Vpc and Subnet.
// Readiness is judged from ready plus the two generations: Ready=True describes the spoke
// object's current spec only when readyGeneration equals generation.
const (
	FeedbackReady           = "ready"
	FeedbackReason          = "reason"
	FeedbackMessage         = "message"
	FeedbackGeneration      = "generation"
	FeedbackReadyGeneration = "readyGeneration"
	FeedbackRouter          = "router"
	FeedbackLogicalSwitch   = "logicalSwitch"
	FeedbackGateway         = "gateway"
	FeedbackCIDRBlock       = "cidrBlock"
)

// Names of the statusFeedback values the hub asks for on every spoke Vpc: its OVN-IC link,
// from status.interconnect (written by ycloud-ic). They are absent until ycloud-ic links
// the VPC, and always absent on a spoke without ycloud-ic: a path that selects nothing is
// reported as no value, not as an error, so none of them can hold up readiness.
const (
	// FeedbackTransitSwitch is the transit switch the VPC router is attached to.
	FeedbackTransitSwitch = "transitSwitch"
	// FeedbackActiveGateway is the highest-priority gateway chassis. Feedback carries
	// scalars only, so of the list just its first entry is asked for. An absent list
	// gives no value; an empty one would make the agent's JSONPath fail with "index out of
	// bounds", which only sets the manifest's StatusFeedbackSynced=False (Applied and the
	// other values are unaffected), and ycloud-ic removes the list rather than empty it.
	FeedbackActiveGateway = "activeGateway"
	// FeedbackLearnedRoutes is the number of routes learned from other clusters.
	FeedbackLearnedRoutes = "learnedRoutes"
	// FeedbackAdvertisedRoutes is the number of routes this cluster advertises.
	FeedbackAdvertisedRoutes = "advertisedRoutes"
)

const readyCond = `.status.conditions[?(@.type=="Ready")]`

var commonFeedback = []workv1.JsonPath{
	{Name: FeedbackReady, Path: readyCond + ".status"},
	{Name: FeedbackReason, Path: readyCond + ".reason"},
	{Name: FeedbackMessage, Path: readyCond + ".message"},
	{Name: FeedbackReadyGeneration, Path: readyCond + ".observedGeneration"},
	{Name: FeedbackGeneration, Path: ".metadata.generation"},
}

const interconnect = ".status.interconnect"

var vpcFeedback = append(slices.Clone(commonFeedback),
	workv1.JsonPath{Name: FeedbackRouter, Path: ".status.router"},
	workv1.JsonPath{Name: FeedbackTransitSwitch, Path: interconnect + ".transitSwitch"},
	workv1.JsonPath{Name: FeedbackActiveGateway, Path: interconnect + ".gatewayChassis[0]"},
	workv1.JsonPath{Name: FeedbackLearnedRoutes, Path: interconnect + ".learnedRoutes"},
	workv1.JsonPath{Name: FeedbackAdvertisedRoutes, Path: interconnect + ".advertisedRoutes"},
)

var subnetFeedback = append(slices.Clone(commonFeedback),
	workv1.JsonPath{Name: FeedbackLogicalSwitch, Path: ".status.logicalSwitch"},
	workv1.JsonPath{Name: FeedbackGateway, Path: ".status.gateway"},
	workv1.JsonPath{Name: FeedbackCIDRBlock, Path: ".spec.cidrBlock"},
)

// SubnetPiece is one subnet as it goes to one cluster.
type SubnetPiece struct {
	// Name is the FederatedSubnet name.
	Name       string
	CIDRs      []netip.Prefix
	Gateways   []netip.Addr
	ExcludeIPs []iaasv1.IPRange
	Default    bool
}

// VpcWork is the content of one FederatedVpc's ManifestWork for one cluster.
type VpcWork struct {
	Cluster      string
	Tenant, Name string
	StaticRoutes []iaasv1.StaticRoute
	Transit      ipam.Transit
	Subnets      []SubnetPiece
	// ScrapeType is how the work agent collects feedback (Poll or Watch).
	ScrapeType workv1.FeedbackScrapeType
}

// Manifest identifies one object of a rendered work.
type Manifest struct {
	Kind, Resource, Name string
	// Subnet is the FederatedSubnet name for Subnet manifests.
	Subnet string
}

// Build renders the work: the spoke Vpc, then its Subnets by name, each with feedback rules
// and server-side apply (so the spoke controller's finalizers and status are never
// overwritten). Every field the ManifestWork CRD would default is set, so what the hub
// renders and what the apiserver returns compare equal. It also returns the manifests in
// order, for status aggregation.
func (v *VpcWork) Build() (*workv1.ManifestWork, []Manifest, error) {
	owner := v.Tenant + "/" + v.Name
	labels := map[string]string{LabelKind: KindFederatedVpc, LabelTenant: v.Tenant, LabelName: LabelValue(v.Name)}
	vpcName := VpcName(v.Tenant, v.Name)

	vpc := iaasv1.VpcSpec{
		StaticRoutes: v.StaticRoutes,
		Federation: &iaasv1.VpcFederation{
			Tenant: v.Tenant, FederatedVpc: v.Name,
			TransitSwitch: v.Transit.Switch, TransitSubnet: iaasv1.CIDR(v.Transit.Subnet.String()),
		},
	}
	objs := []object{{APIVersion: iaasv1.GroupVersion.String(), Kind: "Vpc", Metadata: objectMeta{Name: vpcName, Labels: labels}, Spec: vpc}}
	mans := []Manifest{{Kind: "Vpc", Resource: "vpcs", Name: vpcName}}

	pieces := slices.Clone(v.Subnets)
	slices.SortFunc(pieces, func(a, b SubnetPiece) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pieces {
		name := SubnetName(v.Tenant, v.Name, p.Name)
		spec := iaasv1.SubnetSpec{
			Vpc:        vpcName,
			CIDRBlock:  iaasv1.DualStackCIDR(ipam.JoinPrefixes(p.CIDRs)),
			Gateway:    iaasv1.DualStackIP(ipam.JoinAddrs(p.Gateways)),
			ExcludeIPs: ClipExcludes(p.ExcludeIPs, p.CIDRs),
			Default:    p.Default,
			Cluster:    v.Cluster,
		}
		objs = append(objs, object{APIVersion: iaasv1.GroupVersion.String(), Kind: "Subnet", Metadata: objectMeta{Name: name, Labels: labels}, Spec: spec})
		mans = append(mans, Manifest{Kind: "Subnet", Resource: "subnets", Name: name, Subnet: p.Name})
	}

	w := &workv1.ManifestWork{
		TypeMeta: metav1.TypeMeta{APIVersion: workv1.GroupVersion.String(), Kind: "ManifestWork"},
		ObjectMeta: metav1.ObjectMeta{
			Name: WorkName("vpc", v.Tenant, v.Name), Namespace: v.Cluster,
			Labels: labels, Annotations: map[string]string{AnnotationOwner: owner},
		},
		Spec: workv1.ManifestWorkSpec{
			DeleteOption: &workv1.DeleteOption{PropagationPolicy: workv1.DeletePropagationPolicyTypeForeground},
		},
	}
	size := 0
	for i, o := range objs {
		raw, err := canonicalJSON(o)
		if err != nil {
			return nil, nil, fmt.Errorf("render %s %q: %w", o.Kind, o.Metadata.Name, err)
		}
		size += len(raw)
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, runtime.RawExtension{Raw: raw})
		paths := vpcFeedback
		if mans[i].Kind == "Subnet" {
			paths = subnetFeedback
		}
		w.Spec.ManifestConfigs = append(w.Spec.ManifestConfigs, workv1.ManifestConfigOption{
			ResourceIdentifier: workv1.ResourceIdentifier{Group: iaasv1.GroupVersion.Group, Resource: mans[i].Resource, Name: mans[i].Name},
			FeedbackRules:      []workv1.FeedbackRule{{Type: workv1.JSONPathsType, JsonPaths: slices.Clone(paths)}},
			FeedbackScrapeType: v.ScrapeType,
			UpdateStrategy: &workv1.UpdateStrategy{
				Type:            workv1.UpdateStrategyTypeServerSideApply,
				ServerSideApply: &workv1.ServerSideApplyConfig{Force: true, FieldManager: workv1.DefaultFieldManager},
			},
		})
	}
	if size > workv1.MaxManifestsSizeBytes {
		return nil, nil, fmt.Errorf("manifestwork %s/%s: manifests take %d bytes, over the %d a hub accepts", w.Namespace, w.Name, size, workv1.MaxManifestsSizeBytes)
	}
	return w, mans, nil
}

// object is a spoke manifest with only the fields the hub sets: marshalling the typed
// Kubernetes structs would add "creationTimestamp": null and an empty status.
type object struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       any        `json:"spec"`
}

type objectMeta struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// canonicalJSON marshals v with object keys sorted at every level (the form the apiserver
// stores embedded manifests in), so byte comparison is semantic comparison.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Canonical(b)
}

// Canonical rewrites JSON with sorted keys and no insignificant space. Numbers keep their
// literal form.
func Canonical(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// SpecEqual reports whether two work specs are the same, comparing manifests by content
// rather than by byte layout.
func SpecEqual(a, b *workv1.ManifestWorkSpec) bool {
	ca, err1 := canonicalSpec(a)
	cb, err2 := canonicalSpec(b)
	return err1 == nil && err2 == nil && bytes.Equal(ca, cb)
}

func canonicalSpec(s *workv1.ManifestWorkSpec) ([]byte, error) {
	c := s.DeepCopy()
	for i, m := range c.Workload.Manifests {
		raw, err := Canonical(m.Raw)
		if err != nil {
			return nil, err
		}
		c.Workload.Manifests[i] = runtime.RawExtension{Raw: raw}
	}
	return json.Marshal(c)
}

// ClipExcludes keeps the parts of excludeIps that fall inside cidrs: a carved subnet's
// excludes apply to every piece, but a spoke Subnet only accepts addresses inside its own
// CIDR.
func ClipExcludes(ranges []iaasv1.IPRange, cidrs []netip.Prefix) []iaasv1.IPRange {
	var out []iaasv1.IPRange
	for _, r := range ranges {
		lo, hi, ok := parseRange(string(r))
		if !ok {
			continue
		}
		for _, c := range cidrs {
			if c.Addr().Is4() != lo.Is4() {
				continue
			}
			first, last := c.Masked().Addr(), lastAddr(c)
			if hi.Less(first) || last.Less(lo) {
				continue
			}
			a, b := maxAddr(lo, first), minAddr(hi, last)
			if a == b {
				out = append(out, iaasv1.IPRange(a.String()))
			} else {
				out = append(out, iaasv1.IPRange(a.String()+".."+b.String()))
			}
		}
	}
	return out
}

func parseRange(s string) (netip.Addr, netip.Addr, bool) {
	lo, hi, isRange := strings.Cut(s, "..")
	a, err := netip.ParseAddr(lo)
	if err != nil {
		return netip.Addr{}, netip.Addr{}, false
	}
	if !isRange {
		return a, a, true
	}
	b, err := netip.ParseAddr(hi)
	if err != nil || a.Is4() != b.Is4() || b.Less(a) {
		return netip.Addr{}, netip.Addr{}, false
	}
	return a, b, true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	host := p.Addr().BitLen() - p.Bits()
	for i := len(b) - 1; i >= 0 && host > 0; i-- {
		n := min(host, 8)
		b[i] |= byte(1<<n - 1)
		host -= n
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return a
	}
	return b
}
