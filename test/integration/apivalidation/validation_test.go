// Package apivalidation checks, against a real kube-apiserver with the generated CRDs
// installed, that the schema refuses bad input with an error naming the field, that
// immutable fields stay immutable, and that every sample in deploy/samples is accepted
// unchanged.
package apivalidation

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	federationv1alpha1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
	"github.com/ycloud-sdn/ycloud/test/framework"
)

// TestAPI starts one apiserver (with the OCM CRDs, for the samples' Placement) and runs every
// group of checks against it: starting it is most of the cost.
func TestAPI(t *testing.T) {
	c := framework.StartCluster(t, framework.Options{Name: "apivalidation", OCM: true})
	ctx := framework.Context(t, 5*time.Minute)
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-a"}}); err != nil {
		t.Fatalf("create namespace tenant-a: %v", err)
	}
	t.Run("ValidObjectsAccepted", func(t *testing.T) { testValidObjectsAccepted(t, c) })
	t.Run("InvalidObjectsRefused", func(t *testing.T) { testInvalidObjectsRefused(t, c) })
	t.Run("ImmutableFields", func(t *testing.T) { testImmutableFields(t, c) })
	t.Run("PlacementRefHasNoNamespace", func(t *testing.T) { testPlacementRefHasNoNamespace(t, c) })
	t.Run("Samples", func(t *testing.T) { testSamples(t, c) })
}

// The unmutated builders must pass; otherwise a refused case proves nothing.
func testValidObjectsAccepted(t *testing.T, c *framework.Cluster) {
	ctx := framework.Context(t, time.Minute)
	for _, o := range []client.Object{
		vpc(nil), subnet(nil), nic(nil), vnic(nil), vnicIP(nil), eip(nil), eipGateway(nil), nat(nil),
		snat(nil), securityGroup(nil), yusurService(nil), networkProbe(nil),
		federatedVpc(nil), federatedEipGateway(nil), federatedService(nil),
		// Variants the refused cases border on.
		subnet(func(s *iaasv1.SubnetSpec) {
			s.CIDRBlock, s.Gateway, s.ExcludeIPs, s.MTU = "fd00:1::/64", "", nil, ptr.To[int32](1280)
		}),
		subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = []iaasv1.IPRange{"10.0.0.9..10.0.0.9"} }),
		nic(func(s *iaasv1.NicSpec) { s.Type, s.Vnic = iaasv1.NicTypeShared, "" }),
		eip(func(s *iaasv1.EipSpec) { s.VnicIp, s.Vpc, s.Address, s.IPFamily = nil, "vpc1", "", iaasv1.IPv6 }),
		eipGateway(func(s *iaasv1.EipGatewaySpec) {
			s.Mode, s.Nodes, s.External.VlanID = iaasv1.EipGatewayDistributed, nil, 4094
		}),
		securityGroup(func(s *iaasv1.SecurityGroupSpec) {
			s.IngressRules[0].Protocol, s.IngressRules[0].PortRange = iaasv1.ProtocolUDP, &iaasv1.PortRange{Start: 65535}
		}),
		yusurService(func(s *iaasv1.YusurServiceSpec) {
			s.Type, s.Eip, s.Scope, s.Vpc, s.Vpcs = iaasv1.ServiceTypeClusterIP, "", iaasv1.ServiceScopeMultiVpc, "", []string{"vpc1", "vpc2"}
		}),
	} {
		if err := c.Client.Create(ctx, o, client.DryRunAll); err != nil {
			t.Errorf("valid %T %s refused: %v", o, o.GetName(), err)
		}
	}
}

type refusedCase struct {
	name string
	obj  client.Object
	// field is the path the apiserver must name (a cause's Field).
	field string
	// phrase must appear in that cause's message.
	phrase string
}

func refusedCases() []refusedCase {
	return []refusedCase{
		// Subnet: CIDR syntax, families, containment.
		{"subnet cidr prefix too long", subnet(func(s *iaasv1.SubnetSpec) { s.CIDRBlock, s.Gateway, s.ExcludeIPs = "10.0.0.0/33", "", nil }),
			"spec.cidrBlock", "must be one CIDR"},
		{"subnet ipv6 cidr prefix too long", subnet(func(s *iaasv1.SubnetSpec) { s.CIDRBlock, s.Gateway, s.ExcludeIPs = "fd00::/129", "", nil }),
			"spec.cidrBlock", "must be one CIDR"},
		{"subnet cidr with host bits", subnet(func(s *iaasv1.SubnetSpec) { s.CIDRBlock = "10.0.0.1/24,fd00::/120" }),
			"spec.cidrBlock", "must be a network address"},
		{"subnet dual-stack of one family", subnet(func(s *iaasv1.SubnetSpec) { s.CIDRBlock, s.Gateway, s.ExcludeIPs = "10.0.0.0/24,10.0.1.0/24", "", nil }),
			"spec.cidrBlock", "one IPv4 and one IPv6 CIDR"},
		{"subnet three cidrs", subnet(func(s *iaasv1.SubnetSpec) { s.CIDRBlock = "10.0.0.0/24,fd00::/120,fd01::/120" }),
			"spec.cidrBlock", "must be one CIDR"},
		{"subnet gateway outside cidr", subnet(func(s *iaasv1.SubnetSpec) { s.Gateway = "10.0.1.1" }),
			"spec.gateway", "gateway must lie inside cidrBlock"},
		{"subnet ipv6 gateway outside cidr", subnet(func(s *iaasv1.SubnetSpec) { s.Gateway = "10.0.0.1,fd01::1" }),
			"spec.gateway", "gateway must lie inside cidrBlock"},
		{"subnet gateway not an address", subnet(func(s *iaasv1.SubnetSpec) { s.Gateway = "10.0.0.300" }),
			"spec.gateway", "must be one IP address"},
		{"subnet two gateways of one family", subnet(func(s *iaasv1.SubnetSpec) { s.Gateway = "10.0.0.1,10.0.0.2" }),
			"spec.gateway", "one IPv4 and one IPv6 address"},
		{"subnet excludeIps outside cidr", subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = append(s.ExcludeIPs, "10.0.1.5") }),
			"spec.excludeIps", "must lie inside cidrBlock"},
		{"subnet excludeIps range end outside cidr", subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = []iaasv1.IPRange{"fd00::10..fd00::1:0"} }),
			"spec.excludeIps", "must lie inside cidrBlock"},
		{"subnet excludeIps reversed range", subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = []iaasv1.IPRange{"10.0.0.20..10.0.0.10"} }),
			"spec.excludeIps[0]", "start of a range must not be after its end"},
		{"subnet excludeIps dash range", subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = []iaasv1.IPRange{"10.0.0.5", "10.0.0.5-10.0.0.9"} }),
			"spec.excludeIps[1]", "must be an IP address or a range start..end"},
		{"subnet excludeIps mixed families", subnet(func(s *iaasv1.SubnetSpec) { s.ExcludeIPs = []iaasv1.IPRange{"10.0.0.5..fd00::5"} }),
			"spec.excludeIps[0]", "of the same family"},
		{"subnet ipv6 mtu below 1280", subnet(func(s *iaasv1.SubnetSpec) { s.MTU = ptr.To[int32](1200) }),
			"spec.mtu", "at least 1280"},
		{"subnet without vpc", subnet(func(s *iaasv1.SubnetSpec) { s.Vpc = "" }),
			"spec.vpc", "at least 1 chars long"},
		{"subnet allowSubnets while not private", subnet(func(s *iaasv1.SubnetSpec) { s.AllowSubnets = []iaasv1.CIDR{"10.1.0.0/16"} }),
			"spec.allowSubnets", "only used when private is true"},

		// Vpc routes.
		{"vpc route next hop of other family", vpc(func(s *iaasv1.VpcSpec) { s.StaticRoutes[0].NextHop = "fd00::1" }),
			"spec.staticRoutes[0].nextHop", "same IP family"},
		{"vpc reroute without next hop", vpc(func(s *iaasv1.VpcSpec) { s.PolicyRoutes[0].NextHopIP = "" }),
			"spec.policyRoutes[0].nextHopIP", "reroute needs nextHopIP"},

		// Nic, Vnic, VnicIp.
		{"nic unknown type", nic(func(s *iaasv1.NicSpec) { s.Type = "pf" }),
			"spec.type", "Unsupported value"},
		{"shared nic with its own vnic", nic(func(s *iaasv1.NicSpec) { s.Type = iaasv1.NicTypeShared }),
			"spec.vnic", "shared nic has no vnic"},
		{"nic bad mac", nic(func(s *iaasv1.NicSpec) { s.MAC = "0a:58:0a:00:05" }),
			"spec.mac", "should match"},
		{"vnic negative ingress rate", vnic(func(s *iaasv1.VnicSpec) { s.QoS.IngressRate = ptr.To[int32](-1) }),
			"spec.qos.ingressRate", "greater than or equal to 0"},
		{"vnicip two addresses of one family", vnicIP(func(s *iaasv1.VnicIpSpec) { s.IPAddress = "10.0.0.5,10.0.0.6" }),
			"spec.ipAddress", "one IPv4 and one IPv6 address"},

		// Eip and EipGateway.
		{"eip bad address", eip(func(s *iaasv1.EipSpec) { s.Address = "100.64.2.300" }),
			"spec.address", "valid IPv4 or IPv6 address"},
		{"eip bound twice", eip(func(s *iaasv1.EipSpec) { s.Vpc = "vpc1" }),
			"spec", "at most one of vnicIp, vpc and yusurService"},
		{"eip negative egress rate", eip(func(s *iaasv1.EipSpec) { s.QoS.EgressRate = ptr.To[int32](-5) }),
			"spec.qos.egressRate", "greater than or equal to 0"},
		{"eip address of other family", eip(func(s *iaasv1.EipSpec) { s.IPFamily = iaasv1.IPv6 }),
			"spec.ipFamily", "not of the requested ipFamily"},
		{"eipgateway vlan out of range", eipGateway(func(s *iaasv1.EipGatewaySpec) { s.External.VlanID = 4095 }),
			"spec.external.vlanID", "less than or equal to 4094"},
		{"eipgateway gateway outside cidr", eipGateway(func(s *iaasv1.EipGatewaySpec) { s.Gateway = "100.64.3.1" }),
			"spec.gateway", "gateway must lie inside cidrBlock"},
		{"eipgateway excludeIps outside cidr", eipGateway(func(s *iaasv1.EipGatewaySpec) { s.ExcludeIPs = []iaasv1.IPRange{"100.64.1.1..100.64.1.9"} }),
			"spec.excludeIps", "must lie inside cidrBlock"},
		{"centralized eipgateway without nodes", eipGateway(func(s *iaasv1.EipGatewaySpec) { s.Nodes = nil }),
			"spec.nodes", "needs nodes or nodeSelector"},

		// Nat and Snat.
		{"nat without vnicip", nat(func(s *iaasv1.NatSpec) { s.VnicIp = iaasv1.NamespacedObjectReference{Namespace: ns} }),
			"spec.vnicIp.name", "at least 1 chars long"},
		{"snat without vpc", snat(func(s *iaasv1.SnatSpec) { s.Vpc = "" }),
			"spec.vpc", "at least 1 chars long"},

		// SecurityGroup: priorities, protocol, ports, remote side.
		{"sg system priority", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].Priority = 95 }),
			"spec.ingressRules[0].priority", "90..100 are system rules reserved to the controller"},
		{"sg reserved priority", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.EgressRules[0].Priority = 85 }),
			"spec.egressRules[0].priority", "81..89 are reserved"},
		{"sg priority zero", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[1].Priority = 0 }),
			"spec.ingressRules[1].priority", "greater than or equal to 1"},
		{"sg unknown protocol", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].Protocol = "gre" }),
			"spec.ingressRules[0].protocol", "Unsupported value"},
		{"sg unknown action", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.EgressRules[0].Action = "accept" }),
			"spec.egressRules[0].action", "Unsupported value"},
		{"sg port range reversed", securityGroup(func(s *iaasv1.SecurityGroupSpec) {
			s.IngressRules[0].PortRange = &iaasv1.PortRange{Start: 443, End: 80}
		}),
			"spec.ingressRules[0].portRange", "start must not be greater than end"},
		{"sg port above 65535", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].PortRange.End = 70000 }),
			"spec.ingressRules[0].portRange.end", "less than or equal to 65535"},
		{"sg port zero", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].PortRange.Start = 0 }),
			"spec.ingressRules[0].portRange.start", "greater than or equal to 1"},
		{"sg ports with icmp", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].Protocol = iaasv1.ProtocolICMP }),
			"spec.ingressRules[0].portRange", "only allowed with protocol tcp, udp or sctp"},
		{"sg both remotes", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].RemoteSecurityGroup = "sg-other" }),
			"spec.ingressRules[0]", "exactly one of remoteAddress and remoteSecurityGroup"},
		{"sg remote of other ip version", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.EgressRules[0].IPVersion = iaasv1.SecurityGroupIPv4 }),
			"spec.egressRules[0].remoteAddress", "of the rule's ipVersion"},
		{"sg remote not an address", securityGroup(func(s *iaasv1.SecurityGroupSpec) { s.IngressRules[0].RemoteAddress = "10.16.0.0/16/1" }),
			"spec.ingressRules[0].remoteAddress", "must be an IP address or a CIDR"},

		// YusurService: type, scope rules, eip, ports.
		{"ysvc NodePort", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Type = "NodePort" }),
			"spec.type", "Unsupported value"},
		{"ysvc scope vpc without vpc", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Vpc = ""; s.Backends[0].Vpc = "" }),
			"spec.vpc", "scope vpc requires vpc"},
		{"ysvc multi-vpc with one vpc", yusurService(func(s *iaasv1.YusurServiceSpec) {
			s.Scope, s.Vpc, s.Vpcs = iaasv1.ServiceScopeMultiVpc, "", []string{"vpc1"}
		}),
			"spec.vpcs", "at least 2 VPCs"},
		{"ysvc vpcs with scope vpc", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Vpcs = []string{"vpc1", "vpc2"} }),
			"spec.vpcs", "only used with scope multi-vpc"},
		{"ysvc eip on ClusterIP", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Type = iaasv1.ServiceTypeClusterIP }),
			"spec.eip", "only allowed for type LoadBalancer"},
		{"ysvc port zero", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Ports[0].Port = 0 }),
			"spec.ports[0].port", "greater than or equal to 1"},
		{"ysvc target port out of range", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Ports[0].TargetPort = ptr.To(intstr.FromInt32(70000)) }),
			"spec.ports[0].targetPort", "port number 1..65535"},
		{"ysvc port protocol ICMP", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Ports[1].Protocol = "ICMP" }),
			"spec.ports[1].protocol", "Unsupported value"},
		{"ysvc unnamed port among several", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Ports[1].Name = "" }),
			"spec.ports", "every port needs a name"},
		{"ysvc duplicate port names", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Ports[1].Name = "iperf" }),
			"spec.ports", "port names must be unique"},
		{"ysvc bad clusterIP", yusurService(func(s *iaasv1.YusurServiceSpec) { s.ClusterIP = "10.96.0" }),
			"spec.clusterIP", "valid IPv4 or IPv6 address"},
		{"ysvc backend in another vpc", yusurService(func(s *iaasv1.YusurServiceSpec) { s.Backends[0].Vpc = "vpc9" }),
			"spec.backends", "backend's vpc must be the service's vpc"},

		// NetworkProbe.
		// 0 cannot be sent from Go (omitempty; the schema defaults it), so the bound is probed
		// with a negative value.
		{"probe interval negative", networkProbe(func(s *iaasv1.NetworkProbeSpec) { s.IntervalSeconds = -1 }),
			"spec.intervalSeconds", "greater than or equal to 1"},
		{"probe failure threshold negative", networkProbe(func(s *iaasv1.NetworkProbeSpec) { s.FailureThreshold = -1 }),
			"spec.failureThreshold", "greater than or equal to 1"},
		{"tcp probe without port", networkProbe(func(s *iaasv1.NetworkProbeSpec) { s.Target.Port = 0 }),
			"spec.target.port", "needs target.port"},
		{"probe timeout above interval", networkProbe(func(s *iaasv1.NetworkProbeSpec) { s.TimeoutSeconds = 10 }),
			"spec.timeoutSeconds", "must not be greater than intervalSeconds"},
		{"probe bad target ip", networkProbe(func(s *iaasv1.NetworkProbeSpec) { s.Target.IP = "fd00:::1" }),
			"spec.target.ip", "valid IPv4 or IPv6 address"},

		// Hub kinds.
		{"fvpc pinned subnet outside vpc", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) {
			s.Subnets[1].CIDRBlock, s.Subnets[1].Gateway, s.Subnets[1].ExcludeIPs = "10.101.0.0/24", "", nil
		}), "spec.subnets", "must lie inside the VPC cidrBlock"},
		{"fvpc overlapping subnets", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) {
			s.Subnets[2].CIDRBlock = "10.100.192.0/18"
		}), "spec.subnets", "must not overlap"},
		{"fvpc subnet neither pinned nor carved", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) { s.Subnets[0].PerClusterPrefixLength = nil }),
			"spec.subnets[0].perClusterPrefixLength", "either pinned"},
		{"fvpc piece larger than vpc", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) { s.Subnets[0].PerClusterPrefixLength = ptr.To[int32](8) }),
			"spec.subnets", "longer than the prefix of the VPC cidrBlock"},
		{"fvpc gateway outside pinned subnet", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) { s.Subnets[1].Gateway = "10.100.201.1" }),
			"spec.subnets[1].gateway", "gateway must lie inside cidrBlock"},
		{"fvpc sg system priority", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) { s.SecurityGroups[0].IngressRules[0].Priority = 97 }),
			"spec.securityGroups[0].ingressRules[0].priority", "reserved to the controller"},
		{"fvpc without placement", federatedVpc(func(s *federationv1alpha1.FederatedVpcSpec) { s.PlacementRef.Name = "" }),
			"spec.placementRef.name", "at least 1 chars long"},
		{"feipgw pool gateway outside cidr", federatedEipGateway(func(s *federationv1alpha1.FederatedEipGatewaySpec) { s.Pools[0].Gateway = "100.64.11.1" }),
			"spec.pools[0].gateway", "gateway must lie inside cidrBlock"},
		{"feipgw no pools", federatedEipGateway(func(s *federationv1alpha1.FederatedEipGatewaySpec) { s.Pools = []federationv1alpha1.EipPool{} }),
			"spec.pools", "at least 1 items"},
		{"fsvc eip on ClusterIP", federatedService(func(s *federationv1alpha1.FederatedServiceSpec) { s.Template.Type = iaasv1.ServiceTypeClusterIP }),
			"spec.eip", "only allowed when template.type is LoadBalancer"},
		{"fsvc template eip set", federatedService(func(s *federationv1alpha1.FederatedServiceSpec) { s.Template.Eip = "eip1" }),
			"spec.template.eip", "hub fills it"},
		{"fsvc template scope rules", federatedService(func(s *federationv1alpha1.FederatedServiceSpec) {
			s.Template.Scope, s.Template.Vpc, s.Template.Vpcs, s.Template.Backends = iaasv1.ServiceScopeMultiVpc, "", []string{"vpc-a"}, nil
		}), "spec.template.vpcs", "at least 2 VPCs"},
	}
}

func testInvalidObjectsRefused(t *testing.T, c *framework.Cluster) {
	cases := refusedCases()
	if len(cases) < 25 {
		t.Fatalf("only %d refused cases", len(cases))
	}
	ctx := framework.Context(t, 2*time.Minute)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Client.Create(ctx, tc.obj, client.DryRunAll)
			expectInvalid(t, err, tc.field, tc.phrase)
		})
	}
}

// expectInvalid asserts err is an Invalid error with a cause on field whose message holds
// phrase.
func expectInvalid(t *testing.T, err error, field, phrase string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refused at %s (%q)", field, phrase)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("error is not Invalid: %v", err)
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		t.Fatalf("no details in %v", err)
	}
	for _, cause := range status.Status().Details.Causes {
		if cause.Field == field && strings.Contains(cause.Message, phrase) {
			if !strings.Contains(err.Error(), field) {
				t.Errorf("message %q does not name %s", err.Error(), field)
			}
			t.Logf("refused: %v", err)
			return
		}
	}
	t.Errorf("no cause at %s containing %q; got: %v", field, phrase, err)
}

// Updates that change an immutable field are refused; setting an optional one for the first
// time is not.
func testImmutableFields(t *testing.T, c *framework.Cluster) {
	ctx := framework.Context(t, 2*time.Minute)
	cases := []struct {
		name   string
		obj    client.Object
		change func(client.Object)
		field  string
	}{
		{"subnet cidrBlock", subnet(nil), func(o client.Object) {
			s := o.(*iaasv1.Subnet)
			s.Spec.CIDRBlock, s.Spec.Gateway, s.Spec.ExcludeIPs = "10.0.0.0/23,fd00::/120", "", nil
		}, "spec.cidrBlock"},
		{"subnet vpc", subnet(nil), func(o client.Object) { o.(*iaasv1.Subnet).Spec.Vpc = "vpc2" }, "spec.vpc"},
		{"vnic subnet", vnic(nil), func(o client.Object) { o.(*iaasv1.Vnic).Spec.Subnet = "subnet2" }, "spec.subnet"},
		{"vnicip subnet", vnicIP(nil), func(o client.Object) { o.(*iaasv1.VnicIp).Spec.Subnet = "subnet2" }, "spec.subnet"},
		{"vnicip ipAddress changed", vnicIP(nil), func(o client.Object) { o.(*iaasv1.VnicIp).Spec.IPAddress = "10.0.0.6,fd00::5" }, "spec.ipAddress"},
		{"vnicip ipAddress removed", vnicIP(nil), func(o client.Object) { o.(*iaasv1.VnicIp).Spec.IPAddress = "" }, "spec.ipAddress"},
		{"eip address", eip(nil), func(o client.Object) { o.(*iaasv1.Eip).Spec.Address = "100.64.2.3" }, "spec.address"},
		{"eip gateway", eip(nil), func(o client.Object) { o.(*iaasv1.Eip).Spec.EipGateway = "eipgw2" }, "spec.eipGateway"},
		{"nat eip", nat(nil), func(o client.Object) { o.(*iaasv1.Nat).Spec.Eip = "eip2" }, "spec.eip"},
		{"ysvc clusterIP", yusurService(nil), func(o client.Object) { o.(*iaasv1.YusurService).Spec.ClusterIP = "10.96.0.11" }, "spec.clusterIP"},
		{"fvpc cidrBlock", federatedVpc(nil), func(o client.Object) { o.(*federationv1alpha1.FederatedVpc).Spec.CIDRBlock = "10.100.0.0/15" }, "spec.cidrBlock"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.obj
			o.SetName(strings.ToLower(o.GetName() + "-immutable-" + strings.ReplaceAll(tc.name, " ", "-")))
			if err := c.Client.Create(ctx, o); err != nil {
				t.Fatalf("create: %v", err)
			}
			t.Cleanup(func() { _ = c.Client.Delete(ctx, o) })
			tc.change(o)
			err := c.Client.Update(ctx, o)
			expectInvalid(t, err, tc.field, "immutable")
		})
	}

	// An unset ipAddress may be set once (the controller pins an allocation), then not again.
	t.Run("vnicip ipAddress set once", func(t *testing.T) {
		o := vnicIP(func(s *iaasv1.VnicIpSpec) { s.IPAddress = "" })
		o.SetName("vnicip-set-once")
		if err := c.Client.Create(ctx, o); err != nil {
			t.Fatalf("create: %v", err)
		}
		t.Cleanup(func() { _ = c.Client.Delete(ctx, o) })
		o.Spec.IPAddress = "10.0.0.7"
		if err := c.Client.Update(ctx, o); err != nil {
			t.Fatalf("first set of ipAddress refused: %v", err)
		}
		o.Spec.IPAddress = "10.0.0.8"
		expectInvalid(t, c.Client.Update(ctx, o), "spec.ipAddress", "immutable")
	})

	// Mutable fields stay mutable: a subnet's gateway and excludeIps may change.
	t.Run("subnet gateway mutable", func(t *testing.T) {
		o := subnet(nil)
		o.SetName("subnet-mutable")
		if err := c.Client.Create(ctx, o); err != nil {
			t.Fatalf("create: %v", err)
		}
		t.Cleanup(func() { _ = c.Client.Delete(ctx, o) })
		o.Spec.Gateway, o.Spec.ExcludeIPs = "10.0.0.254", []iaasv1.IPRange{"10.0.0.100..10.0.0.120"}
		if err := c.Client.Update(ctx, o); err != nil {
			t.Fatalf("update of mutable fields refused: %v", err)
		}
	})
}

// placementRef has no namespace: a strict client is told the field does not exist, and a
// lenient one has it pruned, so a tenant can never point at another tenant's Placement.
func testPlacementRefHasNoNamespace(t *testing.T, c *framework.Cluster) {
	ctx := framework.Context(t, time.Minute)
	build := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": federationv1alpha1.GroupVersion.String(),
			"kind":       "FederatedVpc",
			"metadata":   map[string]any{"name": name, "namespace": "tenant-a"},
			"spec": map[string]any{
				"cidrBlock":    "10.100.0.0/16",
				"placementRef": map[string]any{"name": "tenant-b-placement", "namespace": "tenant-b"},
			},
		}}
		return u
	}
	err := c.Client.Create(ctx, build("strict"), client.FieldValidation("Strict"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "spec.placementRef.namespace"`) {
		t.Fatalf("strict create with placementRef.namespace: got %v, want unknown field", err)
	}
	u := build("lenient")
	if err := c.Client.Create(ctx, u, client.FieldValidation("Ignore")); err != nil {
		t.Fatalf("lenient create: %v", err)
	}
	t.Cleanup(func() { _ = c.Client.Delete(ctx, u) })
	var got federationv1alpha1.FederatedVpc
	if err := c.Client.Get(ctx, client.ObjectKeyFromObject(u), &got); err != nil {
		t.Fatal(err)
	}
	raw := &unstructured.Unstructured{}
	raw.SetGroupVersionKind(federationv1alpha1.GroupVersion.WithKind("FederatedVpc"))
	if err := c.Client.Get(ctx, client.ObjectKeyFromObject(u), raw); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(raw.Object, "spec", "placementRef", "namespace"); found {
		t.Errorf("placementRef.namespace was stored: %v", raw.Object["spec"])
	}
	if got.Spec.PlacementRef.Name != "tenant-b-placement" {
		t.Errorf("placementRef.name = %q", got.Spec.PlacementRef.Name)
	}
}
