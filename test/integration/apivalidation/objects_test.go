package apivalidation

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	federationv1alpha1 "github.com/ycloud-sdn/ycloud/api/federation/v1alpha1"
	iaasv1 "github.com/ycloud-sdn/ycloud/api/iaas/v1"
)

// Valid objects, one builder per kind. Every refused case is one of these with a single
// mutation, and every builder's unmutated result is checked to be accepted, so a refusal can
// only come from the mutation.

const ns = "default"

func meta(name string, namespaced bool) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name}
	if namespaced {
		m.Namespace = ns
	}
	return m
}

func vpc(mut func(*iaasv1.VpcSpec)) *iaasv1.Vpc {
	o := &iaasv1.Vpc{ObjectMeta: meta("vpc-test", false), Spec: iaasv1.VpcSpec{
		StaticRoutes: []iaasv1.StaticRoute{{CIDR: "192.168.0.0/16", NextHop: "10.0.0.254"}},
		PolicyRoutes: []iaasv1.PolicyRoute{{Priority: 100, Match: "ip4.src == 10.0.0.0/24", Action: iaasv1.PolicyRouteReroute, NextHopIP: "10.0.0.253"}},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func subnet(mut func(*iaasv1.SubnetSpec)) *iaasv1.Subnet {
	o := &iaasv1.Subnet{ObjectMeta: meta("subnet-test", false), Spec: iaasv1.SubnetSpec{
		Vpc:        "vpc1",
		CIDRBlock:  "10.0.0.0/24,fd00::/120",
		Gateway:    "10.0.0.1,fd00::1",
		ExcludeIPs: []iaasv1.IPRange{"10.0.0.2..10.0.0.9", "fd00::2..fd00::9", "10.0.0.200"},
		MTU:        ptr.To[int32](1400),
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func nic(mut func(*iaasv1.NicSpec)) *iaasv1.Nic {
	o := &iaasv1.Nic{ObjectMeta: meta("pod-test.eth1", true), Spec: iaasv1.NicSpec{
		Type: iaasv1.NicTypeVF, Node: "node-a", Device: "pf0vf3", PodName: "pod-test", IfName: "eth1",
		Vnic: "pod-test.eth1", MAC: "0a:58:0a:00:00:05",
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func vnic(mut func(*iaasv1.VnicSpec)) *iaasv1.Vnic {
	o := &iaasv1.Vnic{ObjectMeta: meta("pod-test.eth1", true), Spec: iaasv1.VnicSpec{
		Subnet: "subnet1", Nic: "pod-test.eth1", SecurityGroups: []string{"sg-example"},
		QoS: &iaasv1.QoS{IngressRate: ptr.To[int32](500), EgressRate: ptr.To[int32](0)},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func vnicIP(mut func(*iaasv1.VnicIpSpec)) *iaasv1.VnicIp {
	o := &iaasv1.VnicIp{ObjectMeta: meta("vnicip-test", true), Spec: iaasv1.VnicIpSpec{
		Subnet: "subnet1", IPAddress: "10.0.0.5,fd00::5",
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func eip(mut func(*iaasv1.EipSpec)) *iaasv1.Eip {
	o := &iaasv1.Eip{ObjectMeta: meta("eip-test", false), Spec: iaasv1.EipSpec{
		EipGateway: "eipgw1", Address: "100.64.2.2", IPFamily: iaasv1.IPv4,
		VnicIp: &iaasv1.NamespacedObjectReference{Namespace: ns, Name: "vnicip-1"},
		QoS:    &iaasv1.QoS{IngressRate: ptr.To[int32](100)},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func eipGateway(mut func(*iaasv1.EipGatewaySpec)) *iaasv1.EipGateway {
	o := &iaasv1.EipGateway{ObjectMeta: meta("eipgw-test", false), Spec: iaasv1.EipGatewaySpec{
		Mode: iaasv1.EipGatewayCentralized, CIDRBlock: "100.64.2.0/24", Gateway: "100.64.2.1",
		ExcludeIPs: []iaasv1.IPRange{"100.64.2.200..100.64.2.254"},
		Nodes:      []iaasv1.GatewayNode{{Name: "node-a", Priority: 200}, {Name: "node-b", Priority: 100}},
		External:   iaasv1.ExternalNetwork{ProviderInterface: "eth1", VlanID: 100},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func nat(mut func(*iaasv1.NatSpec)) *iaasv1.Nat {
	o := &iaasv1.Nat{ObjectMeta: meta("nat-test", false), Spec: iaasv1.NatSpec{
		Eip: "eip1", VnicIp: iaasv1.NamespacedObjectReference{Namespace: ns, Name: "vnicip-1"},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func snat(mut func(*iaasv1.SnatSpec)) *iaasv1.Snat {
	o := &iaasv1.Snat{ObjectMeta: meta("snat-test", false), Spec: iaasv1.SnatSpec{
		Eip: "eip2", Vpc: "vpc1", Subnets: []string{"subnet2"},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func rule(priority int32) iaasv1.SecurityGroupRule {
	return iaasv1.SecurityGroupRule{
		Priority: priority, Action: iaasv1.SecurityGroupAllow, Protocol: iaasv1.ProtocolTCP,
		IPVersion: iaasv1.SecurityGroupIPv4, RemoteAddress: "10.16.0.0/16",
		PortRange: &iaasv1.PortRange{Start: 80, End: 443},
	}
}

func securityGroup(mut func(*iaasv1.SecurityGroupSpec)) *iaasv1.SecurityGroup {
	egress := rule(80)
	egress.Action = iaasv1.SecurityGroupDeny
	egress.IPVersion = iaasv1.SecurityGroupIPv6
	egress.RemoteAddress = "fd00::/64"
	o := &iaasv1.SecurityGroup{ObjectMeta: meta("sg-test", false), Spec: iaasv1.SecurityGroupSpec{
		AllowSameGroup: true,
		IngressRules:   []iaasv1.SecurityGroupRule{rule(1), {Priority: 2, Action: iaasv1.SecurityGroupAllow, Protocol: iaasv1.ProtocolICMP, RemoteSecurityGroup: "sg-other"}},
		EgressRules:    []iaasv1.SecurityGroupRule{egress},
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func yusurService(mut func(*iaasv1.YusurServiceSpec)) *iaasv1.YusurService {
	o := &iaasv1.YusurService{ObjectMeta: meta("ysvc-test", true), Spec: yusurServiceSpec()}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func yusurServiceSpec() iaasv1.YusurServiceSpec {
	return iaasv1.YusurServiceSpec{
		Type: iaasv1.ServiceTypeLoadBalancer, Scope: iaasv1.ServiceScopeVpc, Vpc: "vpc1", Eip: "eip1",
		ClusterIP: "10.96.0.10",
		Ports: []iaasv1.ServicePort{
			{Name: "iperf", Protocol: iaasv1.ServiceProtocolTCP, Port: 5001, TargetPort: ptr.To(intstr.FromInt32(5001))},
			{Name: "http", Protocol: iaasv1.ServiceProtocolTCP, Port: 80, TargetPort: ptr.To(intstr.FromString("http"))},
		},
		Selector: map[string]string{"svc": "svc1-ep"},
		Backends: []iaasv1.ServiceBackend{{Kind: iaasv1.BackendVnicIp, VnicIps: []string{"vnicip-1"}, Vpc: "vpc1"}},
		HealthCheck: &iaasv1.ServiceHealthCheck{ProbeTemplate: iaasv1.ProbeTemplate{
			Type: iaasv1.ProbeHTTP, HTTPPath: "/healthz", IntervalSeconds: 10, TimeoutSeconds: 2,
		}},
	}
}

func networkProbe(mut func(*iaasv1.NetworkProbeSpec)) *iaasv1.NetworkProbe {
	o := &iaasv1.NetworkProbe{ObjectMeta: meta("np-test", true), Spec: iaasv1.NetworkProbeSpec{
		Target:        iaasv1.ProbeTarget{IP: "10.0.1.10", Port: 5001, Vpc: "vpc1"},
		ProbeTemplate: iaasv1.ProbeTemplate{Type: iaasv1.ProbeTCP, IntervalSeconds: 5, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
		Node:          "node-a", YusurService: "ysvc1",
	}}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func federatedVpc(mut func(*federationv1alpha1.FederatedVpcSpec)) *federationv1alpha1.FederatedVpc {
	o := &federationv1alpha1.FederatedVpc{
		ObjectMeta: metav1.ObjectMeta{Name: "fvpc-test", Namespace: "tenant-a"},
		Spec: federationv1alpha1.FederatedVpcSpec{
			CIDRBlock:    "10.100.0.0/16",
			PlacementRef: federationv1alpha1.PlacementRef{Name: "tenant-a"},
			Subnets: []federationv1alpha1.FederatedSubnet{
				{Name: "web", PerClusterPrefixLength: ptr.To[int32](24)},
				{Name: "db", CIDRBlock: "10.100.200.0/24", Cluster: "spoke1", Gateway: "10.100.200.1", ExcludeIPs: []iaasv1.IPRange{"10.100.200.2..10.100.200.9"}},
				{Name: "cache", CIDRBlock: "10.100.128.0/20", PerClusterPrefixLength: ptr.To[int32](26)},
			},
			SecurityGroups: []federationv1alpha1.FederatedSecurityGroup{{Name: "web", SecurityGroupSpec: iaasv1.SecurityGroupSpec{IngressRules: []iaasv1.SecurityGroupRule{rule(10)}}}},
			StaticRoutes:   []iaasv1.StaticRoute{{CIDR: "0.0.0.0/0", NextHop: "10.100.200.254"}},
		},
	}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func federatedEipGateway(mut func(*federationv1alpha1.FederatedEipGatewaySpec)) *federationv1alpha1.FederatedEipGateway {
	o := &federationv1alpha1.FederatedEipGateway{
		ObjectMeta: metav1.ObjectMeta{Name: "feipgw-test", Namespace: "tenant-a"},
		Spec: federationv1alpha1.FederatedEipGatewaySpec{
			Mode:         iaasv1.EipGatewayDistributed,
			PlacementRef: federationv1alpha1.PlacementRef{Name: "tenant-a"},
			Pools: []federationv1alpha1.EipPool{
				{Name: "spoke1", Cluster: "spoke1", CIDRBlock: "100.64.10.0/24", Gateway: "100.64.10.1"},
				{Name: "shared", CIDRBlock: "100.64.20.0/24", ExcludeIPs: []iaasv1.IPRange{"100.64.20.1..100.64.20.9"}},
			},
		},
	}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}

func federatedService(mut func(*federationv1alpha1.FederatedServiceSpec)) *federationv1alpha1.FederatedService {
	tmpl := yusurServiceSpec()
	tmpl.Eip = ""
	o := &federationv1alpha1.FederatedService{
		ObjectMeta: metav1.ObjectMeta{Name: "fsvc-test", Namespace: "tenant-a"},
		Spec: federationv1alpha1.FederatedServiceSpec{
			Template:     tmpl,
			PlacementRef: federationv1alpha1.PlacementRef{Name: "tenant-a"},
			Eip:          &federationv1alpha1.FederatedServiceEip{EipGateway: "eipgw-a"},
		},
	}
	if mut != nil {
		mut(&o.Spec)
	}
	return o
}
