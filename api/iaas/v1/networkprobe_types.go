/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProbeType is how a backend is checked.
// +kubebuilder:validation:Enum=TCP;UDP;ICMP;HTTP
type ProbeType string

const (
	// ProbeTCP succeeds when a TCP connection opens.
	ProbeTCP ProbeType = "TCP"
	// ProbeUDP succeeds unless an ICMP port-unreachable comes back.
	ProbeUDP ProbeType = "UDP"
	// ProbeICMP succeeds on an echo reply.
	ProbeICMP ProbeType = "ICMP"
	// ProbeHTTP succeeds on a 2xx or 3xx answer to GET httpPath.
	ProbeHTTP ProbeType = "HTTP"
)

// ProbeTemplate is how and how often to probe; shared by NetworkProbe and a YusurService's
// healthCheck (which stamps one NetworkProbe per backend from it).
//
// +kubebuilder:validation:XValidation:rule="!has(self.httpPath) || self.type == 'HTTP'",message="httpPath is only used with type HTTP",fieldPath=".httpPath"
// +kubebuilder:validation:XValidation:rule="!has(self.timeoutSeconds) || !has(self.intervalSeconds) || self.timeoutSeconds <= self.intervalSeconds",message="timeoutSeconds must not be greater than intervalSeconds",fieldPath=".timeoutSeconds"
type ProbeTemplate struct {
	// Type of probe.
	// +required
	Type ProbeType `json:"type"`

	// HTTPPath for HTTP probes; default "/".
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	HTTPPath string `json:"httpPath,omitempty"`

	// IntervalSeconds between probes; default 5.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3600
	IntervalSeconds int32 `json:"intervalSeconds,omitempty"`

	// TimeoutSeconds of one probe; default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=3600
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`

	// SuccessThreshold is the number of consecutive successes that make an unhealthy backend
	// healthy; default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	SuccessThreshold int32 `json:"successThreshold,omitempty"`

	// FailureThreshold is the number of consecutive failures that make a healthy backend
	// unhealthy; default 3.
	// +optional
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
}

// ProbeTarget is the backend a NetworkProbe checks.
type ProbeTarget struct {
	// IP of the backend.
	// +required
	IP IPAddress `json:"ip"`

	// Port probed (TCP, UDP, HTTP).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// Vpc the address is in; empty means the default VPC. The network-agent reaches tenant
	// VPCs through their localport.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Vpc string `json:"vpc,omitempty"`

	// VnicIp (same namespace) holding the address, when known.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	VnicIp string `json:"vnicIp,omitempty"`
}

// NetworkProbeSpec is the desired state of a NetworkProbe.
//
// The rules of ProbeTemplate apply here too: controller-gen merges an inlined struct's
// validations into this one.
//
// +kubebuilder:validation:XValidation:rule="self.type == 'ICMP' || has(self.target.port)",message="a TCP, UDP or HTTP probe needs target.port",fieldPath=".target.port"
type NetworkProbeSpec struct {
	// Target to probe.
	// +required
	Target ProbeTarget `json:"target"`

	ProbeTemplate `json:",inline"`

	// Node whose network-agent runs the probe (the backend's node: agents only probe local
	// pods). Selectable, so each agent watches only its own probes.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Node string `json:"node,omitempty"`

	// YusurService (same namespace) the probe was made for; empty for a probe a user created.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	YusurService string `json:"yusurService,omitempty"`
}

// NetworkProbeStatus is the observed state of a NetworkProbe, written by the network-agent.
type NetworkProbeStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (the probe is running).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Healthy is the verdict after the thresholds; false until the first success.
	// +optional
	Healthy bool `json:"healthy"`

	// LastProbeTime is when the last probe finished; unset means never probed.
	// +optional
	LastProbeTime *metav1.Time `json:"lastProbeTime,omitempty"`

	// LastTransitionTime is when Healthy last changed.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`

	// Message describes the last result ("connection refused", "HTTP 503").
	// +optional
	Message string `json:"message,omitempty"`

	// ConsecutiveSuccesses since the last failure.
	// +optional
	ConsecutiveSuccesses int32 `json:"consecutiveSuccesses,omitempty"`

	// ConsecutiveFailures since the last success.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`
}

// NetworkProbe is a health check of one backend (TCP, UDP, ICMP or HTTP), run by the
// network-agent on the backend's node, which can reach every VPC. A YusurService creates one
// per backend from its healthCheck and keeps only healthy backends in its endpoints.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=np,categories=ycloud
// +kubebuilder:selectablefield:JSONPath=`.spec.node`
// +kubebuilder:selectablefield:JSONPath=`.spec.yusurService`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="IP",type=string,JSONPath=`.spec.target.ip`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.target.port`
// +kubebuilder:printcolumn:name="VPC",type=string,JSONPath=`.spec.target.vpc`,priority=1
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.node`,priority=1
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.yusurService`,priority=1
// +kubebuilder:printcolumn:name="Healthy",type=boolean,JSONPath=`.status.healthy`
// +kubebuilder:printcolumn:name="LastProbe",type=date,JSONPath=`.status.lastProbeTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NetworkProbe struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec NetworkProbeSpec `json:"spec"`
	// +optional
	Status NetworkProbeStatus `json:"status,omitempty"`
}

// NetworkProbeList is a list of NetworkProbes.
//
// +kubebuilder:object:root=true
type NetworkProbeList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NetworkProbe `json:"items"`
}

func init() {
	register(&NetworkProbe{}, &NetworkProbeList{})
}
