/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// YusurServiceType is how a service is reached.
// +kubebuilder:validation:Enum=ClusterIP;LoadBalancer
type YusurServiceType string

const (
	// ServiceTypeClusterIP is reachable inside the cluster (from its VPC(s) and from nodes).
	ServiceTypeClusterIP YusurServiceType = "ClusterIP"
	// ServiceTypeLoadBalancer is also reachable from outside through an EIP.
	ServiceTypeLoadBalancer YusurServiceType = "LoadBalancer"
)

// ServiceScope says which VPCs a service's backends live in.
// +kubebuilder:validation:Enum=vpc;multi-vpc
type ServiceScope string

const (
	// ServiceScopeVpc: backends in one VPC (spec.vpc); the load balancer sits on that VPC's
	// switches and router.
	ServiceScopeVpc ServiceScope = "vpc"
	// ServiceScopeMultiVpc: backends in several VPCs (spec.vpcs); the controller builds a
	// service-gateway router holding the load balancer, which also source-NATs to its own
	// address in each VPC so replies come back through it.
	ServiceScopeMultiVpc ServiceScope = "multi-vpc"
)

// ServiceProtocol is a layer-4 protocol of a service port.
// +kubebuilder:validation:Enum=TCP;UDP;SCTP
type ServiceProtocol string

const (
	ServiceProtocolTCP  ServiceProtocol = "TCP"
	ServiceProtocolUDP  ServiceProtocol = "UDP"
	ServiceProtocolSCTP ServiceProtocol = "SCTP"
)

// BackendKind is what a backend selector matches.
// +kubebuilder:validation:Enum=Pod;VM;BM;VnicIp
type BackendKind string

const (
	// BackendPod selects Pods by label; the endpoint is the pod's address.
	BackendPod BackendKind = "Pod"
	// BackendVM selects virtual machines (their launcher pods) by label.
	BackendVM BackendKind = "VM"
	// BackendBM selects bare-metal servers, represented by the VnicIps of their DPU ports, by
	// label.
	BackendBM BackendKind = "BM"
	// BackendVnicIp selects VnicIps by label or lists them by name.
	BackendVnicIp BackendKind = "VnicIp"
)

// SessionAffinity of a service.
// +kubebuilder:validation:Enum=None;ClientIP
type SessionAffinity string

const (
	SessionAffinityNone     SessionAffinity = "None"
	SessionAffinityClientIP SessionAffinity = "ClientIP"
)

// ServicePort is one port a service exposes.
type ServicePort struct {
	// Name of the port; required when there are several.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// Protocol; default TCP.
	// +optional
	// +kubebuilder:default=TCP
	Protocol ServiceProtocol `json:"protocol,omitempty"`

	// Port the service listens on.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`

	// TargetPort on the backends: a number, or the name of a container port (Pod backends);
	// default port. A name's full syntax (IANA service name) is left to the controller: an
	// int-or-string field cannot declare a maxLength, so a regular expression on it would be
	// priced for a megabytes-long string.
	// +optional
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : (self.size() >= 1 && self.size() <= 15)",message="targetPort must be a port number 1..65535 or a port name of at most 15 characters"
	TargetPort *intstr.IntOrString `json:"targetPort,omitempty"`
}

// ServiceBackend selects backends of one kind.
//
// +kubebuilder:validation:XValidation:rule="has(self.selector) || has(self.vnicIps)",message="a backend needs selector or vnicIps"
// +kubebuilder:validation:XValidation:rule="!has(self.vnicIps) || self.kind == 'VnicIp'",message="vnicIps is only used with kind VnicIp",fieldPath=".vnicIps"
type ServiceBackend struct {
	// Kind of backend.
	// +required
	Kind BackendKind `json:"kind"`

	// Selector matches objects of that kind in the service's namespace.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// VnicIps (same namespace) by name, for kind VnicIp.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	VnicIps []string `json:"vnicIps,omitempty"`

	// Vpc the backends are in, for a multi-vpc service; it must be one of spec.vpcs.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vpc string `json:"vpc,omitempty"`
}

// ServiceHealthCheck stamps one NetworkProbe per backend.
type ServiceHealthCheck struct {
	ProbeTemplate `json:",inline"`

	// Port probed; default each backend's target port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
}

// YusurServiceSpec is the desired state of a YusurService.
//
// +kubebuilder:validation:XValidation:rule="(has(self.scope) && self.scope != 'vpc') || has(self.vpc)",message="scope vpc requires vpc",fieldPath=".vpc"
// +kubebuilder:validation:XValidation:rule="!has(self.vpc) || !has(self.scope) || self.scope == 'vpc'",message="vpc is only used with scope vpc; a multi-vpc service lists its VPCs in vpcs",fieldPath=".vpc"
// +kubebuilder:validation:XValidation:rule="!has(self.scope) || self.scope != 'multi-vpc' || (has(self.vpcs) && self.vpcs.size() >= 2)",message="scope multi-vpc requires vpcs with at least 2 VPCs",fieldPath=".vpcs"
// +kubebuilder:validation:XValidation:rule="!has(self.vpcs) || (has(self.scope) && self.scope == 'multi-vpc')",message="vpcs is only used with scope multi-vpc",fieldPath=".vpcs"
// +kubebuilder:validation:XValidation:rule="!has(self.eip) || (has(self.type) && self.type == 'LoadBalancer')",message="eip is only allowed for type LoadBalancer",fieldPath=".eip"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.clusterIP) || (has(self.clusterIP) && self.clusterIP == oldSelf.clusterIP)",message="clusterIP is immutable once set",fieldPath=".clusterIP"
// +kubebuilder:validation:XValidation:rule="!has(self.sessionAffinityTimeoutSeconds) || (has(self.sessionAffinity) && self.sessionAffinity == 'ClientIP')",message="sessionAffinityTimeoutSeconds is only used with sessionAffinity ClientIP",fieldPath=".sessionAffinityTimeoutSeconds"
// +kubebuilder:validation:XValidation:rule="!has(self.backends) || self.backends.all(b, !has(b.vpc) || (has(self.vpc) && b.vpc == self.vpc) || (has(self.vpcs) && b.vpc in self.vpcs))",message="a backend's vpc must be the service's vpc or one of its vpcs",fieldPath=".backends"
type YusurServiceSpec struct {
	// Type is ClusterIP (default) or LoadBalancer.
	// +optional
	// +kubebuilder:default=ClusterIP
	Type YusurServiceType `json:"type,omitempty"`

	// Scope is vpc (default: backends in spec.vpc) or multi-vpc (backends in spec.vpcs).
	// +optional
	// +kubebuilder:default=vpc
	Scope ServiceScope `json:"scope,omitempty"`

	// Vpc of the backends, for scope vpc.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vpc string `json:"vpc,omitempty"`

	// Vpcs of the backends, for scope multi-vpc (at least two).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	Vpcs []string `json:"vpcs,omitempty"`

	// ClusterIP requested; empty means allocate one (see status.clusterIP). Immutable once
	// set.
	// +optional
	ClusterIP IPAddress `json:"clusterIP,omitempty"`

	// Eip (by name) exposing a LoadBalancer service outside; empty means allocate one from
	// the default EipGateway.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Eip string `json:"eip,omitempty"`

	// Ports exposed, at most 16: the apiserver prices targetPort's CEL rule for an
	// int-or-string value of unknown length, once per possible port, and 16 keeps that within
	// its budget.
	// +required
	// +listType=map
	// +listMapKey=port
	// +listMapKey=protocol
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.size() <= 1 || self.all(p, has(p.name))",message="every port needs a name when there are several"
	// +kubebuilder:validation:XValidation:rule="self.all(p, !has(p.name) || self.filter(q, has(q.name) && q.name == p.name).size() == 1)",message="port names must be unique"
	Ports []ServicePort `json:"ports"`

	// Selector picks Pod backends by label, as in a Kubernetes Service: shorthand for a
	// backend of kind Pod with these matchLabels.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Selector map[string]string `json:"selector,omitempty"`

	// Backends of other kinds (VM, BM, VnicIp) or with richer selectors.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Backends []ServiceBackend `json:"backends,omitempty"`

	// SessionAffinity is None (default) or ClientIP.
	// +optional
	SessionAffinity SessionAffinity `json:"sessionAffinity,omitempty"`

	// SessionAffinityTimeoutSeconds for ClientIP affinity; default 10800.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=86400
	SessionAffinityTimeoutSeconds *int32 `json:"sessionAffinityTimeoutSeconds,omitempty"`

	// HealthCheck probes every backend (one NetworkProbe each); only healthy backends
	// receive traffic. Unset means every selected backend is used.
	// +optional
	HealthCheck *ServiceHealthCheck `json:"healthCheck,omitempty"`
}

// YusurServiceStatus is the observed state of a YusurService.
type YusurServiceStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ClusterIP in use.
	// +optional
	ClusterIP string `json:"clusterIP,omitempty"`

	// EipAddress of a LoadBalancer service.
	// +optional
	EipAddress string `json:"eipAddress,omitempty"`

	// ServiceName is the Kubernetes Service (same namespace) the controller maintains.
	// +optional
	ServiceName string `json:"serviceName,omitempty"`

	// Router is the service-gateway router of a multi-vpc service.
	// +optional
	Router string `json:"router,omitempty"`

	// ReadyEndpoints counts healthy backends receiving traffic.
	// +optional
	ReadyEndpoints int32 `json:"readyEndpoints,omitempty"`

	// TotalEndpoints counts selected backends, healthy or not.
	// +optional
	TotalEndpoints int32 `json:"totalEndpoints,omitempty"`
}

// YusurService is a layer-4 service whose backends may be Pods, VMs, bare-metal servers or
// VnicIps, in one VPC or several, reached by a cluster IP or, for LoadBalancer, an EIP. The
// controller turns it into a Kubernetes Service and Endpoints (which the OVN load balancers
// follow) and into NetworkProbes for health.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ysvc,categories=ycloud
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Scope",type=string,JSONPath=`.spec.scope`
// +kubebuilder:printcolumn:name="VPC",type=string,JSONPath=`.spec.vpc`
// +kubebuilder:printcolumn:name="VPCs",type=string,JSONPath=`.spec.vpcs`,priority=1
// +kubebuilder:printcolumn:name="ClusterIP",type=string,JSONPath=`.status.clusterIP`
// +kubebuilder:printcolumn:name="EIP",type=string,JSONPath=`.status.eipAddress`
// +kubebuilder:printcolumn:name="Ports",type=string,JSONPath=`.spec.ports[*].port`
// +kubebuilder:printcolumn:name="Endpoints",type=integer,JSONPath=`.status.readyEndpoints`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type YusurService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec YusurServiceSpec `json:"spec"`
	// +optional
	Status YusurServiceStatus `json:"status,omitempty"`
}

// YusurServiceList is a list of YusurServices.
//
// +kubebuilder:object:root=true
type YusurServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []YusurService `json:"items"`
}

func init() {
	register(&YusurService{}, &YusurServiceList{})
}
